package addernet.train;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One epoch's figures as written to metrics.json. {@code imagesPerSecond} counts training
 * images over training time; {@code seconds} is the whole epoch including evaluation.
 */
public record EpochMetrics(
    @JsonProperty("epoch") int epoch,
    @JsonProperty("learning_rate") double learningRate,
    @JsonProperty("train_loss") double trainLoss,
    @JsonProperty("train_accuracy") double trainAccuracy,
    @JsonProperty("test_loss") double testLoss,
    @JsonProperty("test_accuracy") double testAccuracy,
    @JsonProperty("images_per_second") double imagesPerSecond,
    @JsonProperty("seconds") double seconds) {}
