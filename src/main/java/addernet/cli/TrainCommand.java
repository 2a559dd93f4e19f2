package addernet.cli;

import addernet.io.UserError;
import addernet.data.FashionMnist;
import addernet.data.ImageSet;
import addernet.data.Normalization;
import addernet.io.Outputs;
import addernet.nn.NetworkSpec;
import addernet.nn.Workers;
import addernet.train.Checkpoint;
import addernet.train.EpochMetrics;
import addernet.train.Recipe;
import addernet.train.Trainer;
import addernet.train.TrainingDivergedException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = {
      "Train a network from a spec on Fashion-MNIST; writes DIR/checkpoint.json (+ data file) and",
      "DIR/metrics.json after every epoch. Same seed => same result, whatever --threads.",
      "",
      "--recipe official sets the official AdderNet ResNet training's batch 256, learning rate",
      "0.1 and augmentation flip,shift=4 (random 4-pixel crop and flip); options given beside it win.",
      "The adaptive learning rate (--eta 0.2) scales each adder layer's weight gradient to norm",
      "eta * sqrt(k), as the official code's sqrt(numel)/5.",
      "",
      "--out must be a new or empty folder, or an earlier output of train: --resume continues it,",
      "--force starts it over. It is locked while training, so a second train into it is refused",
      "(docs/outputs.md)."
    })
final class TrainCommand implements Callable<Integer> {
  @Option(names = "--model", defaultValue = "lenet5-adder",
      description = "shipped model name or .spec file (default: ${DEFAULT-VALUE})")
  String model;

  @Option(names = "--recipe", defaultValue = "default", paramLabel = "default|official",
      description = "defaults for batch, learning rate and augmentation: ours (default) or the"
          + " official ResNet training's (256, 0.1, flip,shift=4)")
  String recipePreset;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec commandSpec;

  @Option(names = "--out", required = true, description = "output directory: new, empty, or an earlier output of train (see --resume, --force)")
  Path out;

  @Option(names = "--force", description = "start over in --out if it holds an earlier output of train (never anything else)")
  boolean force;

  @Option(names = "--epochs", defaultValue = "" + Recipe.DEFAULT_EPOCHS,
      description = "epochs (default: ${DEFAULT-VALUE})")
  int epochs;

  @Option(names = "--seed", defaultValue = "1", description = "seed for weights, shuffling, augmentation (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--batch", defaultValue = "" + Recipe.DEFAULT_BATCH, description = "batch size (default: ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--lr", defaultValue = "" + Recipe.DEFAULT_LEARNING_RATE,
      description = "peak learning rate of the cosine schedule (default: ${DEFAULT-VALUE})")
  double learningRate;

  @Option(names = "--momentum", defaultValue = "" + Recipe.DEFAULT_MOMENTUM, description = "SGD momentum (default: ${DEFAULT-VALUE})")
  double momentum;

  @Option(names = "--weight-decay", defaultValue = "" + Recipe.DEFAULT_WEIGHT_DECAY, description = "weight decay (default: ${DEFAULT-VALUE})")
  double weightDecay;

  @Option(names = "--eta", defaultValue = "" + Recipe.DEFAULT_ETA,
      description = "adder layers' adaptive learning-rate factor (default: ${DEFAULT-VALUE}, as the official code)")
  double eta;

  @Option(names = "--augment", defaultValue = Recipe.DEFAULT_AUGMENTATION,
      description = "none, flip, shift=N or flip,shift=N (default: ${DEFAULT-VALUE})")
  String augment;

  @Option(names = "--weight-clamp", defaultValue = "none",
      description = "keep adder weights in their inputs' range (AdderQuant's lossless clamp): none, project (clamp after every step) or reparam (forward and backward on the clamped weights) (default: ${DEFAULT-VALUE})")
  String weightClamp;

  @Option(names = "--input-shifts", defaultValue = "1",
      description = "1, or 3: the first layer sees x, 2x, 4x as input channels (the spec's input must have 3 channels; training only, the quantizer takes one-channel images) (default: ${DEFAULT-VALUE})")
  int inputShifts;

  @Option(names = "--lp-start", defaultValue = "1",
      description = "l_p annealing: adder layers compute -sum |x - w|^p, p falling linearly from this value (at most 2) to 1 (default: ${DEFAULT-VALUE}, off)")
  double lpStart;

  @Option(names = "--lp-epochs", defaultValue = "0",
      description = "epochs over which p falls to 1 (default: ${DEFAULT-VALUE}, the whole run)")
  int lpEpochs;

  @Option(names = "--pkkd",
      description = "kernel-based progressive distillation (PKKD): a CNN twin of the network trains alongside it from scratch as its teacher; layer features are matched through kernels, outputs by softened cross-entropy (docs/training-experiments.md)")
  boolean pkkd;

  @Option(names = "--pkkd-feature-weight",
      description = "with --pkkd: weight of the kernel feature-matching loss (default: " + Recipe.DEFAULT_PKKD_FEATURE_WEIGHT + ")")
  Double pkkdFeatureWeight;

  @Option(names = "--pkkd-output-weight",
      description = "with --pkkd: weight of the softened-output loss (default: " + Recipe.DEFAULT_PKKD_OUTPUT_WEIGHT + ")")
  Double pkkdOutputWeight;

  @Option(names = "--pkkd-temperature",
      description = "with --pkkd: temperature of the softened outputs (default: " + Recipe.DEFAULT_PKKD_TEMPERATURE + ")")
  Double pkkdTemperature;

  @Option(names = "--threads", description = "worker threads (default: all cores)")
  Integer threads;

  @Option(names = "--data", description = "directory with the Fashion-MNIST IDX files (default: " + "/usr/share/datasets/fashion-mnist)")
  Path data;

  @Option(names = "--train-limit", description = "use only the first N training images (quick runs)")
  Integer trainLimit;

  @Option(names = "--normalize", paramLabel = "MEAN,STD|M1,..,Mc/S1,..,Sc|per-channel",
      description = "input = (pixel / 255 - mean) / std: one pair for every channel, one pair per channel,"
          + " or per-channel: each channel's own statistics over the training images (default: one pair,"
          + " the mean and std of all training pixels; mean 0 when the first layer zero-pads, so that"
          + " its padding is pixel 0 as in hardware). The quantizer folds a per-channel mean into any"
          + " first layer, a per-channel std only into a multiplying one")
  String normalize;

  @Option(names = "--resume", description = "continue the checkpoint in --out with its own recipe")
  boolean resume;

  @Option(names = "--no-progress", description = "no progress bar, one line per epoch only (the default when the output is not a terminal)")
  boolean noProgress;

  @Override
  public Integer call() {
    PrintStream err = System.err;
    if (trainLimit != null && trainLimit < 1) {
      throw new UserError("--train-limit must be at least 1 (a number of training images), got " + trainLimit);
    }
    if (resume && force) {
      throw new UserError("--resume continues the run in --out and --force starts it over; give one of them");
    }
    if (resume && normalize != null) {
      throw new UserError("--normalize: a resumed run keeps the input normalization it was started with;"
          + " leave --normalize out with --resume");
    }
    Normalization given = normalize == null || normalize.equals("per-channel")
        ? null : Normalization.parse("--normalize", normalize);
    if (resume && !Checkpoint.exists(out)) {
      throw new UserError("--resume: no checkpoint in " + out);
    }
    Path dataDir = data == null ? FashionMnist.DEFAULT_DIR : data;
    List<Path> inputs = new ArrayList<>(List.of(dataDir));
    if (CliInputs.specFile(model) != null) {
      inputs.add(CliInputs.specFile(model));
    }
    // Claimed (and locked for the whole run) before any data is read: a bad --out costs nothing.
    try (Outputs outputs = Outputs.begin("train", force, inputs);
        Workers workers = setting(
            () -> new Workers(threads == null ? Runtime.getRuntime().availableProcessors() : threads))) {
      outputs.folderInPlace("--out", out, resume);
      FashionMnist.Split split = addernet.data.DataFolder.read(dataDir);
      ImageSet train = trainLimit == null ? split.train() : split.train().head(trainLimit);
      NetworkSpec spec = NetworkSpec.resolve(model);
      Trainer trainer;
      if (resume) {
        Checkpoint ck = Checkpoint.load(out);
        if (!ck.network().name().equals(spec.name()) || !ck.network().spec().text().equals(spec.text())) {
          throw new UserError(
              "the checkpoint in " + out + " is of network '" + ck.network().name() + "', not of '"
                  + spec.name() + "' as given by --model" + (ck.network().name().equals(spec.name()) ? " (its spec differs)" : ""));
        }
        if (ck.epoch() >= ck.recipe().epochs()) {
          throw new UserError(out + " has already trained all " + ck.recipe().epochs() + " epochs of its recipe");
        }
        err.printf("resuming %s after epoch %d of %d (recipe from the checkpoint)%n",
            spec.name(), ck.epoch(), ck.recipe().epochs());
        trainer = setting(() -> Trainer.resume(ck, train, split.test(), workers));
      } else {
        applyPreset();
        Recipe recipe = setting(() -> new Recipe(epochs, batch, learningRate, momentum, weightDecay, eta, seed,
            augment, weightClamp, inputShifts, lpStart, lpEpochs));
        if (pkkd) {
          Recipe plain = recipe;
          recipe = setting(() -> plain.withPkkd(
              pkkdFeatureWeight == null ? Recipe.DEFAULT_PKKD_FEATURE_WEIGHT : pkkdFeatureWeight,
              pkkdOutputWeight == null ? Recipe.DEFAULT_PKKD_OUTPUT_WEIGHT : pkkdOutputWeight,
              pkkdTemperature == null ? Recipe.DEFAULT_PKKD_TEMPERATURE : pkkdTemperature));
        } else if (pkkdFeatureWeight != null || pkkdOutputWeight != null || pkkdTemperature != null) {
          throw new UserError("--pkkd-feature-weight, --pkkd-output-weight and --pkkd-temperature need --pkkd");
        }
        Recipe chosen = recipe;
        Normalization norm = given != null ? given
            : normalize != null ? train.channelStatistics() : Trainer.defaultNormalization(spec, train);
        norm.requireChannels("--normalize", spec.input().channels());
        trainer = setting(() -> Trainer.start(spec, chosen, train, split.test(), norm, workers));
      }
      err.printf("training %s on %d images (%d steps of %d per epoch), %d thread%s, %s kernels%n",
          spec.name(), train.count(), trainer.stepsPerEpoch(), trainer.recipe().batch(), workers.threads(),
          workers.threads() == 1 ? "" : "s", addernet.nn.Operation.VECTOR ? "vector-API" : "plain-Java");
      try {
        // A log file or CI gets one line per epoch, not a bar redrawn with carriage returns.
        trainer.run(out, noProgress || System.console() == null ? new Lines(err) : new Bar(err));
      } catch (TrainingDivergedException e) {
        throw new UserError(e.getMessage() + "; stopped. "
            + (Checkpoint.exists(out) ? "The last good checkpoint (epoch " + trainer.epochsDone() + ") is in " + out
                : "No checkpoint was written yet") + "; try a lower --lr");
      }
      outputs.commit();
      EpochMetrics last = trainer.metrics().get(trainer.metrics().size() - 1);
      if (trainer.teacher() != null) {
        double[] t = Trainer.evaluate(trainer.teacher(), trainer.testImages(), trainer.checkpoint().normalization(), workers);
        // A result, reported nowhere else (the teacher is not saved): stdout, beside the net's own.
        System.out.printf("the PKKD teacher (CNN twin, not saved): test accuracy %.2f%%%n", 100 * t[1]);
      }
      System.out.printf("done: test accuracy %.2f%%; checkpoint and metrics.json in %s%n", 100 * last.testAccuracy(), out);
      return 0;
    } catch (IOException e) {
      throw new UserError("cannot write to " + out + ": " + e.getMessage(), e);
    }
  }

  static String summary(EpochMetrics m, int epochs) {
    return String.format("epoch %d/%d: train loss %.4f, train acc %.2f%%, test acc %.2f%%, %.0f img/s, %.1f s",
        m.epoch(), epochs, m.trainLoss(), 100 * m.trainAccuracy(), 100 * m.testAccuracy(), m.imagesPerSecond(), m.seconds());
  }

  /** One line per epoch (logs, CI). */
  /** --recipe official: its batch, learning rate and augmentation where no option gives them. */
  private void applyPreset() {
    switch (recipePreset) {
      case "default" -> { }
      case "official" -> {
        picocli.CommandLine.ParseResult given = commandSpec.commandLine().getParseResult();
        if (!given.hasMatchedOption("--batch")) {
          batch = 256;
        }
        if (!given.hasMatchedOption("--lr")) {
          learningRate = 0.1;
        }
        if (!given.hasMatchedOption("--augment")) {
          augment = "flip,shift=4";
        }
      }
      default -> throw new UserError("--recipe must be default or official, got '" + recipePreset + "'");
    }
  }

  private static class Lines implements Trainer.Progress {
    final PrintStream err;
    int epochs;

    Lines(PrintStream err) {
      this.err = err;
    }

    @Override
    public void epochStarted(int epoch, int epochs, int steps) {
      this.epochs = epochs;
    }

    @Override
    public void epochDone(EpochMetrics m) {
      err.println(summary(m, epochs));
    }
  }

  /** A progress bar per epoch with running loss, accuracy and images/s. */
  private static final class Bar extends Lines {
    private ProgressBar bar;
    private long lastUpdate;

    Bar(PrintStream err) {
      super(err);
    }

    @Override
    public void epochStarted(int epoch, int epochs, int steps) {
      super.epochStarted(epoch, epochs, steps);
      bar = new ProgressBarBuilder()
          .setTaskName("epoch " + epoch + "/" + epochs)
          .setInitialMax(steps)
          .setStyle(ProgressBarStyle.ASCII)
          .setUpdateIntervalMillis(500)
          .setConsumer(new ConsoleProgressBarConsumer(err))
          .build();
    }

    @Override
    public void stepDone(int step, double loss, double accuracy, double imagesPerSecond) {
      long now = System.nanoTime();
      if (now - lastUpdate > 200_000_000L) {
        bar.setExtraMessage(String.format(" loss %.3f acc %.1f%% %.0f img/s", loss, 100 * accuracy, imagesPerSecond));
        lastUpdate = now;
      }
      bar.stepTo(step);
    }

    @Override
    public void epochDone(EpochMetrics m) {
      bar.close();
      super.epochDone(m);
    }
  }

  /**
   * A recipe, thread count or training set-up that the library refuses: the user's to change.
   * Only these calls are trusted to mean that by an IllegalArgumentException; from training
   * itself one is a bug and keeps its trace.
   */
  private static <T> T setting(Supplier<T> make) {
    try {
      return make.get();
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    }
  }
}
