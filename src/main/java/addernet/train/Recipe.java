package addernet.train;

import addernet.data.Augmentation;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Everything that decides the result of a training run (the thread count does not: the kernels
 * sum in a fixed order whatever the split).
 *
 * @param eta the adder layers' adaptive learning-rate factor (paper eq. 13; 0.2 in the official
 *     code, which divides by 5)
 * @param weightClamp keeps adder weights in the range of their inputs (see {@link WeightClamp}):
 *     "none"; "project", clamped after every step; "reparam", each forward and backward runs on
 *     the clamped weights while the optimizer moves the unclamped ones (projected at every
 *     epoch's end, so a checkpoint holds the network that was evaluated)
 * @param inputShifts 1 (the image as it is) or 3: the first layer sees x, 2x and 4x as three input
 *     channels (shifts, free in hardware), so its adder filters can weight a pixel by 1, 2 or 4;
 *     the spec's input then has 3 channels. Training only: the quantizer and generator take
 *     one-channel images
 * @param lpStart the adder layers' forward is -sum |x - w|^p with p falling linearly from this
 *     value to 1 over {@code lpEpochs} (1: the plain adder layer throughout)
 * @param lpEpochs epochs over which p falls to 1 (0: the whole run)
 */
public record Recipe(
    @JsonProperty("epochs") int epochs,
    @JsonProperty("batch") int batch,
    @JsonProperty("learning_rate") double learningRate,
    @JsonProperty("momentum") double momentum,
    @JsonProperty("weight_decay") double weightDecay,
    @JsonProperty("eta") double eta,
    @JsonProperty("seed") long seed,
    @JsonProperty("augmentation") String augmentation,
    @JsonProperty("weight_clamp") String weightClamp,
    @JsonProperty("input_shifts") int inputShifts,
    @JsonProperty("lp_start") double lpStart,
    @JsonProperty("lp_epochs") int lpEpochs) {

  public static final int DEFAULT_EPOCHS = 30;
  public static final int DEFAULT_BATCH = 128;
  public static final double DEFAULT_LEARNING_RATE = 0.05;
  public static final double DEFAULT_MOMENTUM = 0.9;
  public static final double DEFAULT_WEIGHT_DECAY = 5e-4;
  public static final double DEFAULT_ETA = 0.2;
  public static final String DEFAULT_AUGMENTATION = "none";
  public static final java.util.List<String> CLAMPS = java.util.List.of("none", "project", "reparam");

  public Recipe {
    // Checkpoints written before these options existed have none of the three fields.
    if (inputShifts == 0) {
      inputShifts = 1;
    }
    if (lpStart == 0) {
      lpStart = 1;
    }
    if (weightClamp == null || !CLAMPS.contains(weightClamp)) {
      throw new IllegalArgumentException("weight clamp must be one of " + CLAMPS + ", got " + weightClamp);
    }
    check(inputShifts == 1 || inputShifts == 3, "input shifts", inputShifts, "{1, 3}");
    check(lpStart >= 1 && lpStart <= 2, "lp start", lpStart, "[1, 2]");
    check(lpEpochs >= 0 && lpEpochs <= epochs, "lp epochs", lpEpochs, "0..epochs");
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

  /** The plain recipe: no clamp, the image as it is, the plain adder layer throughout. */
  public Recipe(int epochs, int batch, double learningRate, double momentum, double weightDecay,
      double eta, long seed, String augmentation) {
    this(epochs, batch, learningRate, momentum, weightDecay, eta, seed, augmentation, "none", 1, 1, 0);
  }

  /**
   * The exponent p of the adder layers at a point of the run, {@code progress} in epochs from the
   * start (fractional within an epoch): lpStart at 0, falling linearly to exactly 1 at lpEpochs.
   */
  public double exponentAt(double progress) {
    if (lpStart == 1) {
      return 1;
    }
    int span = lpEpochs == 0 ? epochs : lpEpochs;
    double t = Math.min(1, Math.max(0, progress / span));
    return t >= 1 ? 1 : lpStart + (1 - lpStart) * t;
  }

  /** The factor of input channel copy {@code i} (0 .. inputShifts - 1): 1, 2, 4. */
  public static float shiftFactor(int i) {
    return 1 << i;
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

  public boolean clamps() {
    return !weightClamp.equals("none");
  }

  public Augmentation augment() {
    return Augmentation.parse(augmentation);
  }
}
