package addernet.train;

import addernet.data.Augmentation;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Everything that decides the result of a training run (the thread count does not: the kernels
 * sum in a fixed order whatever the split).
 *
 * @param eta the adder layers' adaptive learning-rate factor (paper eq. 13; 0.2 in the official
 *     code, which divides by 5)
 */
public record Recipe(
    @JsonProperty("epochs") int epochs,
    @JsonProperty("batch") int batch,
    @JsonProperty("learning_rate") double learningRate,
    @JsonProperty("momentum") double momentum,
    @JsonProperty("weight_decay") double weightDecay,
    @JsonProperty("eta") double eta,
    @JsonProperty("seed") long seed,
    @JsonProperty("augmentation") String augmentation) {

  public static final int DEFAULT_EPOCHS = 30;
  public static final int DEFAULT_BATCH = 128;
  public static final double DEFAULT_LEARNING_RATE = 0.05;
  public static final double DEFAULT_MOMENTUM = 0.9;
  public static final double DEFAULT_WEIGHT_DECAY = 5e-4;
  public static final double DEFAULT_ETA = 0.2;
  public static final String DEFAULT_AUGMENTATION = "none";

  public Recipe {
    check(epochs >= 1 && epochs <= 10_000, "epochs", epochs, "1..10000");
    check(batch >= 2 && batch <= 65_536, "batch", batch, "2..65536");
    check(learningRate > 0 && learningRate <= 10, "learning rate", learningRate, "(0, 10]");
    check(momentum >= 0 && momentum < 1, "momentum", momentum, "[0, 1)");
    check(weightDecay >= 0 && weightDecay < 1, "weight decay", weightDecay, "[0, 1)");
    check(eta > 0 && eta <= 100, "eta", eta, "(0, 100]");
    if (augmentation == null) {
      throw new IllegalArgumentException("augmentation must be given (none, flip, shift=N or flip,shift=N)");
    }
    Augmentation.parse(augmentation);
  }

  private static void check(boolean ok, String what, Object value, String range) {
    if (!ok) {
      throw new IllegalArgumentException(what + " must be in " + range + ", got " + value);
    }
  }

  public static Recipe defaults(int epochs, long seed) {
    return new Recipe(
        epochs, DEFAULT_BATCH, DEFAULT_LEARNING_RATE, DEFAULT_MOMENTUM, DEFAULT_WEIGHT_DECAY,
        DEFAULT_ETA, seed, DEFAULT_AUGMENTATION);
  }

  public Augmentation augment() {
    return Augmentation.parse(augmentation);
  }
}
