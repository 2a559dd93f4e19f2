package addernet.data;

import addernet.io.UserError;
import java.util.Arrays;

/**
 * How pixels become network inputs: x = (pixel / 255 - mean_c) / std_c for image channel c.
 * Either one pair for every channel (uniform, what grey images and the default use) or one pair
 * per channel (CIFAR-10's usual per-plane statistics). Stored in checkpoints because later stages
 * (quantization, hardware) must feed the network the same numbers.
 */
public final class Normalization {
  private final double[] mean;
  private final double[] std;

  /** One pair for every channel. */
  public Normalization(double mean, double std) {
    this(new double[] {mean}, new double[] {std});
  }

  private Normalization(double[] mean, double[] std) {
    if (mean.length != std.length || mean.length < 1) {
      throw new IllegalArgumentException(
          "normalization needs as many means as stds, at least one, got " + mean.length + " and " + std.length);
    }
    for (int c = 0; c < mean.length; c++) {
      if (!(std[c] > 0) || !Double.isFinite(std[c]) || !Double.isFinite(mean[c])) {
        throw new IllegalArgumentException(
            "normalization needs a finite mean and a finite std > 0, got " + mean[c] + ", " + std[c]
                + (mean.length > 1 ? " for channel " + c : ""));
      }
    }
    this.mean = mean.clone();
    this.std = std.clone();
  }

  /**
   * One pair per channel; arrays of length 1 give the uniform normalization, so a one-channel
   * network never has two spellings of the same thing.
   */
  public static Normalization perChannel(double[] mean, double[] std) {
    return new Normalization(mean, std);
  }

  /** True when one pair applies to every channel. */
  public boolean uniform() {
    return mean.length == 1;
  }

  /** Pairs stored: 1 when uniform, else the image's channels. */
  public int pairs() {
    return mean.length;
  }

  /** The mean of a uniform normalization; a per-channel one has no single mean. */
  public double mean() {
    requireUniform("a single mean");
    return mean[0];
  }

  /** The std of a uniform normalization. */
  public double std() {
    requireUniform("a single std");
    return std[0];
  }

  public double mean(int channel) {
    return mean[uniform() ? 0 : channel];
  }

  public double std(int channel) {
    return std[uniform() ? 0 : channel];
  }

  /** Uniform normalization applied to a pixel. */
  public float apply(int pixel) {
    return apply(0, pixel);
  }

  public float apply(int channel, int pixel) {
    int c = uniform() ? 0 : channel;
    return (float) ((pixel / 255.0 - mean[c]) / std[c]);
  }

  /**
   * Refuses a per-channel normalization for images of another channel count.
   *
   * @throws DataMismatchException naming both counts
   */
  public void requireChannels(String what, int channels) {
    if (!uniform() && mean.length != channels) {
      throw new DataMismatchException(
          what + ": the input normalization has " + mean.length + " per-channel pairs but the images have "
              + channels + " channel" + (channels == 1 ? "" : "s"));
    }
  }

  private void requireUniform(String what) {
    if (!uniform()) {
      throw new IllegalStateException("a per-channel normalization (" + this + ") has no " + what);
    }
  }

  /**
   * Reads the option text {@code MEAN,STD} (one pair for every channel) or
   * {@code M1,M2,...,Mc/S1,S2,...,Sc} (one pair per channel).
   *
   * @param option the option's name, for the error
   * @throws UserError naming the option, the text and what was expected
   */
  public static Normalization parse(String option, String text) {
    String expected = option + ": expected MEAN,STD (e.g. 0.2860,0.3530) or one pair per channel as"
        + " M1,M2,M3/S1,S2,S3 (every STD > 0), got '" + text + "'";
    try {
      if (!text.contains("/")) {
        String[] p = text.split(",", -1);
        if (p.length != 2) {
          throw new UserError(expected);
        }
        return new Normalization(number(p[0]), number(p[1]));
      }
      String[] halves = text.split("/", -1);
      if (halves.length != 2) {
        throw new UserError(expected);
      }
      double[] m = numbers(halves[0]);
      double[] s = numbers(halves[1]);
      if (m.length != s.length) {
        throw new UserError(option + ": " + m.length + " means but " + s.length + " stds in '" + text + "'");
      }
      return new Normalization(m, s);
    } catch (IllegalArgumentException e) {
      // NumberFormatException, or the constructor's refusal of a std <= 0 or a non-finite number.
      throw new UserError(expected, e);
    }
  }

  private static double[] numbers(String list) {
    String[] p = list.split(",", -1);
    double[] v = new double[p.length];
    for (int i = 0; i < p.length; i++) {
      v[i] = number(p[i]);
    }
    return v;
  }

  private static double number(String s) {
    return Double.parseDouble(s.strip());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Normalization n && Arrays.equals(mean, n.mean) && Arrays.equals(std, n.std);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
  }

  @Override
  public String toString() {
    if (uniform()) {
      return "mean " + mean[0] + ", std " + std[0];
    }
    return "means " + Arrays.toString(mean) + ", stds " + Arrays.toString(std);
  }
}
