package addernet.nn;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A 2-D convolution without bias (batch norm follows), either an adder layer or its ordinary
 * twin. Weights are laid out [out][in][ky][kx].
 *
 * <p>The input is unfolded into a patch matrix (im2col) with one column per output position of
 * every image in the batch, so that even a 1x1 output keeps the vector loops long.
 */
public final class Conv2d implements Layer {
  private final Operation operation;
  private final int inChannels;
  private final int outChannels;
  private final int kernel;
  private final int stride;
  private final int padding;
  private final Shape inputShape;
  private final Shape outputShape;
  private final Param weight;

  private float[] patches = new float[0];
  private float[] patchGrad = new float[0];
  private Tensor output;
  private Tensor inputGrad;
  private int trainedBatch;

  public Conv2d(
      String name,
      Operation operation,
      Shape inputShape,
      int outChannels,
      int kernel,
      int stride,
      int padding) {
    this.operation = operation;
    this.inChannels = inputShape.channels();
    this.outChannels = outChannels;
    this.kernel = kernel;
    this.stride = stride;
    this.padding = padding;
    this.inputShape = inputShape;
    int oh = (inputShape.height() + 2 * padding - kernel) / stride + 1;
    int ow = (inputShape.width() + 2 * padding - kernel) / stride + 1;
    this.outputShape = new Shape(outChannels, oh, ow);
    this.weight =
        new Param(
            name + ".weight",
            new float[outChannels * inChannels * kernel * kernel],
            operation == Operation.ADDER);
  }

  /**
   * Adder weights start as N(0, 1) like the official AdderNet code; ordinary weights as PyTorch's
   * default U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
   */
  void initialize(SplittableRandom random) {
    initializeWeights(weight.value(), operation, inChannels * kernel * kernel, random);
  }

  static void initializeWeights(float[] w, Operation op, int fanIn, SplittableRandom random) {
    double bound = 1.0 / Math.sqrt(fanIn);
    for (int i = 0; i < w.length; i++) {
      w[i] =
          op == Operation.ADDER
              ? (float) random.nextGaussian()
              : (float) ((2 * random.nextDouble() - 1) * bound);
    }
  }

  public Operation operation() {
    return operation;
  }

  public int inChannels() {
    return inChannels;
  }

  public int outChannels() {
    return outChannels;
  }

  public int kernel() {
    return kernel;
  }

  public int stride() {
    return stride;
  }

  public int padding() {
    return padding;
  }

  /** The weights, [out][in][ky][kx] row-major, live. */
  public Param weight() {
    return weight;
  }

  @Override
  public Shape inputShape() {
    return inputShape;
  }

  @Override
  public Shape outputShape() {
    return outputShape;
  }

  @Override
  public List<Param> params() {
    return List.of(weight);
  }

  @Override
  public String describe() {
    return "conv " + operation.keyword() + " " + inChannels + "->" + outChannels + " kernel="
        + kernel + (stride != 1 ? " stride=" + stride : "")
        + (padding != 0 ? " padding=" + padding : "");
  }

  private int rows() {
    return inChannels * kernel * kernel;
  }

  @Override
  public Tensor forward(Tensor input, Mode mode, Workers workers) {
    int batch = input.batch();
    int k = rows();
    int m = batch * outputShape.height() * outputShape.width();
    if (patches.length < k * m) {
      patches = new float[k * m];
    }
    if (output == null || !output.sameLayout(outputShape, batch)) {
      output = new Tensor(outputShape, batch);
    }
    unfold(input, workers);
    operation.forward(patches, k, m, weight.value(), outChannels, output.data(), workers);
    trainedBatch = mode == Mode.TRAIN ? batch : 0;
    return output;
  }

  @Override
  public Tensor backward(Tensor outputGradient, boolean needInputGradient, Workers workers) {
    int batch = outputGradient.batch();
    if (trainedBatch != batch) {
      throw new IllegalStateException(describe() + ": backward without a matching TRAIN forward");
    }
    int k = rows();
    int m = batch * outputShape.height() * outputShape.width();
    float[] g = outputGradient.data();
    operation.weightGradient(
        patches, k, m, weight.value(), outChannels, g, weight.grad(), workers);
    if (!needInputGradient) {
      return null;
    }
    if (patchGrad.length < k * m) {
      patchGrad = new float[k * m];
    }
    operation.patchGradient(patches, k, m, weight.value(), outChannels, g, patchGrad, workers);
    if (inputGrad == null || !inputGrad.sameLayout(inputShape, batch)) {
      inputGrad = new Tensor(inputShape, batch);
    }
    fold(inputGrad, workers);
    return inputGrad;
  }

  /** im2col: row (c, ky, kx), column (n, oy, ox); zero where the kernel hangs over the padding. */
  private void unfold(Tensor input, Workers workers) {
    int batch = input.batch();
    int h = inputShape.height();
    int w = inputShape.width();
    int oh = outputShape.height();
    int ow = outputShape.width();
    int m = batch * oh * ow;
    float[] x = input.data();
    float[] c = patches;
    workers.forRange(
        rows(),
        1,
        (long) rows() * m,
        (from, to) -> {
          for (int row = from; row < to; row++) {
            int ci = row / (kernel * kernel);
            int ky = row / kernel % kernel;
            int kx = row % kernel;
            for (int n = 0; n < batch; n++) {
              int src = (ci * batch + n) * h * w;
              int dst = row * m + n * oh * ow;
              for (int oy = 0; oy < oh; oy++) {
                int iy = oy * stride + ky - padding;
                int d = dst + oy * ow;
                if (iy < 0 || iy >= h) {
                  Arrays.fill(c, d, d + ow, 0f);
                  continue;
                }
                int s = src + iy * w + kx - padding;
                int lo = firstInside(kx, w);
                int hi = endInside(kx, w, ow);
                // Most rows lie fully inside the image; skip the (empty) fills there.
                if (lo > 0) {
                  Arrays.fill(c, d, d + lo, 0f);
                }
                if (hi < ow) {
                  Arrays.fill(c, d + Math.max(lo, hi), d + ow, 0f);
                }
                if (stride == 1) {
                  if (hi > lo) {
                    System.arraycopy(x, s + lo, c, d + lo, hi - lo);
                  }
                } else {
                  for (int ox = lo; ox < hi; ox++) {
                    c[d + ox] = x[s + ox * stride];
                  }
                }
              }
            }
          }
        });
  }

  /** The first output column whose input column ox * stride + kx - padding is >= 0. */
  private int firstInside(int kx, int w) {
    int need = padding - kx;
    return need <= 0 ? 0 : (need + stride - 1) / stride;
  }

  /** One past the last output column whose input column is < w (at most ow). */
  private int endInside(int kx, int w, int ow) {
    int limit = w - 1 - kx + padding;
    return limit < 0 ? 0 : Math.min(ow, limit / stride + 1);
  }

  /** col2im: adds every patch gradient back onto the input position it was copied from. */
  private void fold(Tensor target, Workers workers) {
    int batch = target.batch();
    int h = inputShape.height();
    int w = inputShape.width();
    int oh = outputShape.height();
    int ow = outputShape.width();
    int m = batch * oh * ow;
    float[] gx = target.data();
    float[] gc = patchGrad;
    int rows = rows();
    workers.forRange(
        batch,
        1,
        (long) rows * m,
        (from, to) -> {
          for (int ci = 0; ci < inChannels; ci++) {
            for (int n = from; n < to; n++) {
              Arrays.fill(gx, (ci * batch + n) * h * w, (ci * batch + n + 1) * h * w, 0f);
            }
          }
          for (int row = 0; row < rows; row++) {
            int ci = row / (kernel * kernel);
            int ky = row / kernel % kernel;
            int kx = row % kernel;
            for (int n = from; n < to; n++) {
              int dst = (ci * batch + n) * h * w;
              int src = row * m + n * oh * ow;
              for (int oy = 0; oy < oh; oy++) {
                int iy = oy * stride + ky - padding;
                if (iy < 0 || iy >= h) {
                  continue;
                }
                int d = dst + iy * w + kx - padding;
                int s = src + oy * ow;
                int lo = firstInside(kx, w);
                int hi = endInside(kx, w, ow);
                if (stride == 1) {
                  for (int ox = lo; ox < hi; ox++) {
                    gx[d + ox] += gc[s + ox];
                  }
                } else {
                  for (int ox = lo; ox < hi; ox++) {
                    gx[d + ox * stride] += gc[s + ox];
                  }
                }
              }
            }
          }
        });
  }
}
