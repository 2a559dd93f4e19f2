package addernet.train;

import addernet.data.Normalization;
import addernet.nn.BatchNorm;
import addernet.nn.Conv2d;
import addernet.nn.Dense;
import addernet.nn.Flatten;
import addernet.nn.Layer;
import addernet.nn.MaxPool;
import addernet.nn.Network;
import addernet.nn.Operation;
import java.util.List;

/**
 * The lossless weight clamp (AdderQuant, NeurIPS 2022). For an input x in [a, b] and a weight w >
 * b, |x - w| = |x - b| + (w - b); for w < a, |x - w| = |x - a| + (a - w). So clamping a weight
 * into its input's range adds the same constant to every output of its channel, whatever the
 * input: a batch norm after the layer takes it into its running mean ({@link #apply}), and a
 * batch norm in training mode removes it by itself. The weights then stay on their inputs' grid
 * (what a shared-scale quantizer needs), and drifted weights, whose |x - w| is large, stop
 * dominating the adaptive learning rate's per-layer norm.
 *
 * <p>During training no constant is folded: the running statistics follow the weights the
 * forward passes ran with, clamped or not, as they follow every other update. {@link #apply}
 * (clamp and fold at once) is for a network whose statistics were gathered unclamped.
 *
 * <p>Ranges: a layer that sees the image (only pooling or flattening before it) gets the exact
 * range of the normalized pixels, per shifted copy; every other adder layer the range of its input
 * in a training batch (the last TRAIN forward).
 */
final class WeightClamp {
  private WeightClamp() {}

  static boolean isAdder(Layer l) {
    return l instanceof Conv2d c && c.operation() == Operation.ADDER
        || l instanceof Dense d && d.operation() == Operation.ADDER;
  }

  private static float[] weights(Layer l) {
    return l instanceof Conv2d c ? c.weight().value() : ((Dense) l).weight().value();
  }

  /**
   * Per layer index, {lo, hi} per input channel of every adder layer: exact for the layers that
   * see the image; from the last TRAIN forward for the others when {@code afterForward}, else
   * null (unknown: not clamped).
   */
  static float[][][] ranges(Network net, Normalization norm, int inputShifts, boolean afterForward) {
    List<Layer> layers = net.layers();
    float[][][] out = new float[layers.size()][][];
    boolean seesImage = true;
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      if (isAdder(l)) {
        int channels = l.inputShape().channels();
        float[] lo = new float[channels];
        float[] hi = new float[channels];
        if (seesImage) {
          int perCopy = channels / inputShifts;
          for (int c = 0; c < channels; c++) {
            float f = Recipe.shiftFactor(c / perCopy);
            // Channel c is image channel c mod perCopy of copy c / perCopy; a channel's extremes
            // are pixels 0 and 255 through its own normalization.
            lo[c] = f * norm.apply(c % perCopy, 0);
            hi[c] = f * norm.apply(c % perCopy, 255);
          }
          out[i] = new float[][] {lo, hi};
        } else if (afterForward) {
          float[] r = l instanceof Conv2d c ? c.trainedInputRange() : ((Dense) l).trainedInputRange();
          java.util.Arrays.fill(lo, r[0]);
          java.util.Arrays.fill(hi, r[1]);
          out[i] = new float[][] {lo, hi};
        }
      }
      if (!(l instanceof MaxPool || l instanceof Flatten)) {
        seesImage = false;
      }
    }
    return out;
  }

  /** Clamps every adder layer with a known range; per layer index its channels' excess, or null. */
  static double[][] clamp(Network net, float[][][] ranges) {
    List<Layer> layers = net.layers();
    double[][] excess = new double[layers.size()][];
    for (int i = 0; i < layers.size(); i++) {
      if (ranges[i] != null) {
        Layer l = layers.get(i);
        // A conv's patch rows are (channel, ky, kx); an fc layer's input "channels" are its features.
        int per = l instanceof Conv2d c ? c.kernel() * c.kernel() : 1;
        excess[i] = clamp(weights(l), l.outputShape().channels(), per, ranges[i][0], ranges[i][1]);
      }
    }
    return excess;
  }

  /** Every adder layer's weights, copied (for {@link #restore}), in layer order; null elsewhere. */
  static float[][] save(Network net) {
    List<Layer> layers = net.layers();
    float[][] saved = new float[layers.size()][];
    for (int i = 0; i < layers.size(); i++) {
      if (isAdder(layers.get(i))) {
        saved[i] = weights(layers.get(i)).clone();
      }
    }
    return saved;
  }

  static void restore(Network net, float[][] saved) {
    for (int i = 0; i < saved.length; i++) {
      if (saved[i] != null) {
        float[] w = weights(net.layers().get(i));
        System.arraycopy(saved[i], 0, w, 0, w.length);
      }
    }
  }

  /**
   * Clamps every adder layer into the ranges of its last TRAIN forward (exact ones for the image)
   * and folds each channel's constant into the next batch norm's running mean: the eval network
   * computes the same function for every input inside the ranges.
   */
  static void apply(Network net, Normalization norm, int inputShifts) {
    List<Layer> layers = net.layers();
    for (int i = 0; i < layers.size(); i++) {
      if (isAdder(layers.get(i)) && !(i + 1 < layers.size() && layers.get(i + 1) instanceof BatchNorm)) {
        throw new IllegalArgumentException(
            "the clamp's constant goes into the batch norm after each adder layer; layer "
                + i + " (" + layers.get(i).describe() + ") has none");
      }
    }
    double[][] excess = clamp(net, ranges(net, norm, inputShifts, true));
    for (int i = 0; i < layers.size(); i++) {
      if (excess[i] != null) {
        float[] mean = ((BatchNorm) layers.get(i + 1)).runningMean();
        for (int o = 0; o < mean.length; o++) {
          mean[o] = (float) (mean[o] + excess[i][o]);
        }
      }
    }
  }

  /**
   * Clamps weights W (out x K, weight index k of input channel k / per, channel ranges [lo, hi])
   * and returns per output channel the sum of what was cut off, the amount its -sum |x - w| rises
   * by for every input inside the ranges.
   */
  static double[] clamp(float[] w, int out, int per, float[] lo, float[] hi) {
    int k = w.length / out;
    double[] excess = new double[out];
    for (int o = 0; o < out; o++) {
      double e = 0;
      for (int kk = 0; kk < k; kk++) {
        int c = kk / per;
        float v = w[o * k + kk];
        if (v > hi[c]) {
          e += (double) v - hi[c];
          w[o * k + kk] = hi[c];
        } else if (v < lo[c]) {
          e += (double) lo[c] - v;
          w[o * k + kk] = lo[c];
        }
      }
      excess[o] = e;
    }
    return excess;
  }
}
