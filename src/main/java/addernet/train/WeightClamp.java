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
 * input, and the batch norm after the layer takes that constant into its running mean: the eval
 * network computes the same function, while its weights stay on the inputs' grid (what the
 * quantizer's shared scale needs) and the drifted weights stop dominating the adaptive learning
 * rate's per-layer norm.
 *
 * <p>Ranges: a layer that sees the image (only pooling or flattening before it) gets the exact
 * range of the normalized pixels, per shifted copy; every other adder layer the range of its input
 * in the batch just trained.
 */
final class WeightClamp {
  private WeightClamp() {}

  /** Checks that every adder layer of {@code net} has a batch norm right after it. */
  static void requireBatchNorms(Network net) {
    List<Layer> layers = net.layers();
    for (int i = 0; i < layers.size(); i++) {
      if (isAdder(layers.get(i)) && !(i + 1 < layers.size() && layers.get(i + 1) instanceof BatchNorm)) {
        throw new IllegalArgumentException(
            "the weight clamp folds its constant into the batch norm after each adder layer; layer "
                + i + " (" + layers.get(i).describe() + ") has none");
      }
    }
  }

  static boolean isAdder(Layer l) {
    return l instanceof Conv2d c && c.operation() == Operation.ADDER
        || l instanceof Dense d && d.operation() == Operation.ADDER;
  }

  /**
   * Clamps every adder layer's weights after a training step (its TRAIN forward gave the ranges)
   * and folds each channel's constant into the next batch norm's running mean.
   */
  static void apply(Network net, Normalization norm, int inputShifts) {
    List<Layer> layers = net.layers();
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
            lo[c] = f * norm.apply(0);
            hi[c] = f * norm.apply(255);
          }
        } else {
          float[] r = l instanceof Conv2d c ? c.trainedInputRange() : ((Dense) l).trainedInputRange();
          java.util.Arrays.fill(lo, r[0]);
          java.util.Arrays.fill(hi, r[1]);
        }
        float[] w = l instanceof Conv2d c ? c.weight().value() : ((Dense) l).weight().value();
        int out = l.outputShape().channels();
        // A conv's patch rows are (channel, ky, kx); an fc layer's input "channels" are its features.
        double[] excess = clamp(w, out, inputRowsPerChannel(l), lo, hi);
        float[] mean = ((BatchNorm) layers.get(i + 1)).runningMean();
        for (int o = 0; o < out; o++) {
          mean[o] = (float) (mean[o] + excess[o]);
        }
      }
      if (!(l instanceof MaxPool || l instanceof Flatten)) {
        seesImage = false;
      }
    }
  }

  /** Weights per output and input channel: kernel^2 for a conv, 1 for an fc layer (one per feature). */
  private static int inputRowsPerChannel(Layer l) {
    if (l instanceof Conv2d c) {
      return c.kernel() * c.kernel();
    }
    return 1;
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
