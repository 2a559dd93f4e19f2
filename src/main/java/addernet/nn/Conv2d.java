package addernet.nn;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A 2-D convolution without bias (batch norm follows), either an adder layer or its ordinary
 * twin. Weights are laid out [out][in][ky][kx].
 *
 * <p>The input is unfolded into a patch matrix (im2col) with one column per output position of
 * every image in the batch, so that even a 1x1 output keeps the vector loops long. Where that
 * matrix would outgrow the cache, a few images are unfolded at a time instead ({@link
 * #blockImages}).
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
  private int trainedBlock;
  private Tensor input;
  private float[] partials = new float[0];
  private double exponent = 1;

  // Null unless the network is being profiled (Network#time).
  private PhaseClock clock;

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

  /**
   * Sets p of an adder layer's forward -sum |x - w|^p (l_p annealing; 1, the default, is the
   * plain adder layer). The backward keeps the AdderNet rules whatever p is: weight gradient X - F,
   * input gradient HardTanh(F - X).
   */
  public void setExponent(double p) {
    exponent = LpKernels.checkExponent(operation, p);
  }

  public double exponent() {
    return exponent;
  }

  /** Reports this layer's phases as node {@code node} to {@code timer}; null stops it. */
  void time(LayerTimer timer, int node) {
    clock = timer == null ? null : new PhaseClock(timer, node);
  }

  /** The clock's reading when profiling, else 0 (no reading taken). */
  private static long now(PhaseClock clock) {
    return clock == null ? 0 : System.nanoTime();
  }

  /** {min, max} of the input of the last TRAIN forward (for the weight clamp). */
  public float[] trainedInputRange() {
    if (input == null) {
      throw new IllegalStateException(describe() + ": no TRAIN forward to take the input range of");
    }
    return LpKernels.range(input.data());
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

  /**
   * Floats per unfolded block of images: 512 KB, and as much again for its gradient, so both stay
   * in L2 from the moment they are written to their last read. Measured on the Intel kind of
   * machine (2 MiB of L2 per core), LeNet-5 adder net, 2 threads: 2^14 .. 2^19 floats gave
   * 10,100, 10,100, 10,500, 11,200, 9,800 and 8,400 images/s. Not measured on the AMD kind (1 MiB
   * of L2), where the backward's two buffers fill the L2 exactly.
   */
  static final int BLOCK_FLOATS = 1 << 17;

  /**
   * Floats added to every row of an unfolded block (one cache line). A block of one image of
   * 32 x 32 outputs (ResNet-20's first stage) has rows of exactly 4 KiB, which puts the same
   * column of every row into one set of the L1 cache. Measured on the AMD kind of machine (1 MiB of L2),
   * a 16->16 3x3 adder layer of ResNet-20 at batch 128, best of 10 passes, three alternating
   * runs on a loaded machine: forward 28.2, 26.3, 33.4 ms without, 28.3, 21.9, 28.6 ms with; the
   * backward (with the gathered gradient rows below) 81.0, 77.3, 79.2 against 81.4, 78.4, 86.5 ms,
   * no difference beyond the noise.
   */
  static final int ROW_PAD = 16;

  // A block's output gradient rows, gathered per thread for the input gradient.
  private static final ThreadLocal<float[][]> GRADIENT_BLOCK =
      ThreadLocal.withInitial(() -> new float[][] {new float[0]});

  private static float[] gradientBlock(int size) {
    float[][] holder = GRADIENT_BLOCK.get();
    if (holder[0].length < size) {
      holder[0] = new float[size];
    }
    return holder[0];
  }

  /** Images per block when set by a test, else -1: {@link #blockImages} decides. */
  private int forcedBlockImages = -1;

  /**
   * Sets the images per unfolded block (0: the whole batch at once), for tests that must reach
   * the blocked path with small tensors. Ignored without the vector kernels.
   */
  void forceBlockImages(int images) {
    forcedBlockImages = images;
  }

  /**
   * Images unfolded at a time, or 0 to unfold the whole batch at once. Blocks only pay where the
   * whole batch's patch matrix would not fit in cache (LeNet's first two layers: 7 and 5 MB),
   * and they need the vector kernels, which can address a block inside the batch's tensors. The
   * size depends on the layer and the batch only, never on the thread count, so the weight
   * gradient's sums have the same blocks, and the same bits, on any number of threads.
   */
  int blockImages(int batch) {
    if (!Operation.VECTOR) {
      return 0;
    }
    if (forcedBlockImages >= 0) {
      return Math.min(batch, forcedBlockImages);
    }
    long perImage = (long) rows() * outputShape.height() * outputShape.width();
    if (perImage * batch <= BLOCK_FLOATS) {
      return 0;
    }
    return (int) Math.max(1, Math.min(batch, BLOCK_FLOATS / perImage));
  }

  @Override
  public Tensor forward(Tensor input, Mode mode, Workers workers) {
    int batch = input.batch();
    int k = rows();
    int ohw = outputShape.height() * outputShape.width();
    int m = batch * ohw;
    if (output == null || !output.sameLayout(outputShape, batch)) {
      output = new Tensor(outputShape, batch);
    }
    // An l_p forward has no blocked kernel: it unfolds the whole batch.
    int block = exponent == 1 ? blockImages(batch) : 0;
    float[] w = weight.value();
    float[] y = output.data();
    PhaseClock clock = this.clock;
    if (clock != null) {
      clock.begin();
    }
    if (block == 0) {
      if (patches.length < k * m) {
        patches = new float[k * m];
      }
      float[] x = input.data();
      long t = now(clock);
      workers.forRange(
          k, 1, (long) k * m, (from, to) -> unfold(x, batch, 0, batch, patches, m, from, to));
      if (clock != null) {
        t = clock.lap(LayerTimer.Phase.UNFOLD, t);
      }
      if (exponent == 1) {
        operation.forward(patches, k, m, w, outChannels, y, workers);
      } else {
        LpKernels.forward(patches, k, m, w, outChannels, y, (float) exponent, workers);
      }
      if (clock != null) {
        clock.lap(LayerTimer.Phase.FORWARD_KERNEL, t);
      }
    } else {
      float[] x = input.data();
      int blocks = (batch + block - 1) / block;
      workers.forRange(
          blocks,
          1,
          (long) k * m * outChannels,
          (from, to) -> {
            float[] c = Scratch.mine().first(k * (block * ohw + ROW_PAD));
            for (int b = from; b < to; b++) {
              int n0 = b * block;
              int n1 = Math.min(batch, n0 + block);
              int cols = (n1 - n0) * ohw;
              int cs = cols + ROW_PAD;
              long t = now(clock);
              unfold(x, batch, n0, n1, c, cs, 0, k);
              if (clock != null) {
                t = clock.lap(LayerTimer.Phase.UNFOLD, t);
              }
              operation.forwardColumns(c, 0, cs, k, cols, w, outChannels, y, n0 * ohw, m);
              if (clock != null) {
                clock.lap(LayerTimer.Phase.FORWARD_KERNEL, t);
              }
            }
          });
    }
    if (clock != null) {
      clock.end();
    }
    trainedBatch = mode == Mode.TRAIN ? batch : 0;
    trainedBlock = block;
    this.input = mode == Mode.TRAIN ? input : null;
    return output;
  }

  @Override
  public Tensor backward(Tensor outputGradient, boolean needInputGradient, Workers workers) {
    int batch = outputGradient.batch();
    if (trainedBatch != batch) {
      throw new IllegalStateException(describe() + ": backward without a matching TRAIN forward");
    }
    int k = rows();
    int ohw = outputShape.height() * outputShape.width();
    int m = batch * ohw;
    float[] g = outputGradient.data();
    float[] w = weight.value();
    if (needInputGradient && (inputGrad == null || !inputGrad.sameLayout(inputShape, batch))) {
      inputGrad = new Tensor(inputShape, batch);
    }
    PhaseClock clock = this.clock;
    if (clock != null) {
      clock.begin();
    }
    if (trainedBlock == 0) {
      long t = now(clock);
      operation.weightGradient(patches, k, m, w, outChannels, g, weight.grad(), workers);
      if (clock != null) {
        t = clock.lap(LayerTimer.Phase.WEIGHT_GRADIENT, t);
      }
      if (!needInputGradient) {
        if (clock != null) {
          clock.end();
        }
        return null;
      }
      if (patchGrad.length < k * m) {
        patchGrad = new float[k * m];
      }
      operation.patchGradient(patches, k, m, w, outChannels, g, patchGrad, workers);
      if (clock != null) {
        t = clock.lap(LayerTimer.Phase.INPUT_GRADIENT, t);
      }
      float[] gx = inputGrad.data();
      workers.forRange(
          batch, 1, (long) k * m, (from, to) -> fold(patchGrad, m, 0, from, to, gx));
      if (clock != null) {
        clock.lap(LayerTimer.Phase.FOLD, t);
        clock.end();
      }
      return inputGrad;
    }
    // Per block: unfold again from the input (cheaper than keeping the whole patch matrix, which
    // would leave the cache between forward and backward), its share of the weight gradient,
    // its patch gradient, and the fold into its own images' input gradient.
    int block = trainedBlock;
    int blocks = (batch + block - 1) / block;
    int ok = outChannels * k;
    if (partials.length < blocks * ok) {
      partials = new float[blocks * ok];
    }
    float[] part = partials;
    float[] x = input.data();
    float[] gx = needInputGradient ? inputGrad.data() : null;
    workers.forRange(
        blocks,
        1,
        (needInputGradient ? 2L : 1L) * k * m * outChannels,
        (from, to) -> {
          Scratch scratch = Scratch.mine();
          float[] c = scratch.first(k * (block * ohw + ROW_PAD));
          float[] gc = needInputGradient ? scratch.second(k * (block * ohw + ROW_PAD)) : null;
          float[] gb = needInputGradient ? gradientBlock(outChannels * (block * ohw + ROW_PAD)) : null;
          for (int b = from; b < to; b++) {
            int n0 = b * block;
            int n1 = Math.min(batch, n0 + block);
            int cols = (n1 - n0) * ohw;
            int cs = cols + ROW_PAD;
            long t = now(clock);
            unfold(x, batch, n0, n1, c, cs, 0, k);
            if (clock != null) {
              t = clock.lap(LayerTimer.Phase.UNFOLD, t);
            }
            operation.weightGradientColumns(
                c, 0, cs, k, cols, w, outChannels, g, n0 * ohw, m, part, b * ok);
            if (clock != null) {
              t = clock.lap(LayerTimer.Phase.WEIGHT_GRADIENT, t);
            }
            if (gx != null) {
              // The block's output gradient rows lie a whole batch apart in G (a multiple of
              // 4 KiB for a batch of 32 x 32 maps); the input gradient reads all of them for every
              // patch row, so they are gathered next to each other at the padded row length.
              for (int oo = 0; oo < outChannels; oo++) {
                System.arraycopy(g, oo * m + n0 * ohw, gb, oo * cs, cols);
              }
              operation.patchGradientColumns(c, 0, cs, k, cols, w, outChannels, gb, 0, cs, gc);
              if (clock != null) {
                t = clock.lap(LayerTimer.Phase.INPUT_GRADIENT, t);
              }
              fold(gc, cs, n0, n0, n1, gx);
              if (clock != null) {
                clock.lap(LayerTimer.Phase.FOLD, t);
              }
            }
          }
        });
    long sums = now(clock);
    // The blocks' shares summed in block order, so the thread split cannot change the bits.
    float[] gw = weight.grad();
    workers.forRange(
        ok,
        64,
        (long) blocks * ok,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            float s = 0f;
            for (int b = 0; b < blocks; b++) {
              s += part[b * ok + i];
            }
            gw[i] = s;
          }
        });
    if (clock != null) {
      clock.lap(LayerTimer.Phase.WEIGHT_GRADIENT, sums);
      clock.end();
    }
    return needInputGradient ? inputGrad : null;
  }

  /**
   * im2col for images [n0, n1) and patch rows [rowFrom, rowTo): row (c, ky, kx), column (n - n0,
   * oy, ox) at c[row * cs + column]; zero where the kernel hangs over the padding.
   */
  private void unfold(
      float[] x, int batch, int n0, int n1, float[] c, int cs, int rowFrom, int rowTo) {
    int h = inputShape.height();
    int w = inputShape.width();
    int oh = outputShape.height();
    int ow = outputShape.width();
    for (int row = rowFrom; row < rowTo; row++) {
      int ci = row / (kernel * kernel);
      int ky = row / kernel % kernel;
      int kx = row % kernel;
      int lo = firstInside(kx, w);
      int hi = endInside(kx, w, ow);
      for (int n = n0; n < n1; n++) {
        int src = (ci * batch + n) * h * w;
        int dst = row * cs + (n - n0) * oh * ow;
        if (padding == 0 && stride == 1) {
          // Every window lies inside the image: one move per output row, nothing to check.
          int s = src + ky * w + kx;
          for (int oy = 0; oy < oh; oy++) {
            copy(x, s + oy * w, c, dst + oy * ow, ow);
          }
          continue;
        }
        for (int oy = 0; oy < oh; oy++) {
          int iy = oy * stride + ky - padding;
          int d = dst + oy * ow;
          if (iy < 0 || iy >= h) {
            Arrays.fill(c, d, d + ow, 0f);
            continue;
          }
          int s = src + iy * w + kx - padding;
          // Most rows lie fully inside the image; skip the (empty) fills there.
          if (lo > 0) {
            Arrays.fill(c, d, d + lo, 0f);
          }
          if (hi < ow) {
            Arrays.fill(c, d + Math.max(lo, hi), d + ow, 0f);
          }
          if (stride == 1) {
            if (hi > lo) {
              copy(x, s + lo, c, d + lo, hi - lo);
            }
          } else {
            for (int ox = lo; ox < hi; ox++) {
              c[d + ox] = x[s + ox * stride];
            }
          }
        }
      }
    }
  }

  /**
   * Rows of an unfold are short (8 to 24 floats in LeNet): there arraycopy's call and a scalar
   * loop both cost more than the copy, a vector move does not.
   */
  private static void copy(float[] src, int s, float[] dst, int d, int n) {
    if (Operation.VECTOR) {
      VectorKernels.copy(src, s, dst, d, n);
    } else {
      System.arraycopy(src, s, dst, d, n);
    }
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

  /**
   * col2im for images [from, to): zeroes their input gradient, then adds every patch gradient
   * back onto the input position it was copied from. The patch gradient's column (n - n0, oy, ox)
   * sits at gc[row * gs + column].
   */
  private void fold(float[] gc, int gs, int n0, int from, int to, float[] gx) {
    int batch = gx.length / inputShape.size();
    int h = inputShape.height();
    int w = inputShape.width();
    int oh = outputShape.height();
    int ow = outputShape.width();
    int rows = rows();
    for (int ci = 0; ci < inChannels; ci++) {
      for (int n = from; n < to; n++) {
        Arrays.fill(gx, (ci * batch + n) * h * w, (ci * batch + n + 1) * h * w, 0f);
      }
    }
    for (int row = 0; row < rows; row++) {
      int ci = row / (kernel * kernel);
      int ky = row / kernel % kernel;
      int kx = row % kernel;
      int lo = firstInside(kx, w);
      int hi = endInside(kx, w, ow);
      for (int n = from; n < to; n++) {
        int dst = (ci * batch + n) * h * w;
        int src = row * gs + (n - n0) * oh * ow;
        if (padding == 0 && stride == 1 && Operation.VECTOR) {
          int d = dst + ky * w + kx;
          for (int oy = 0; oy < oh; oy++) {
            VectorKernels.addInto(gc, src + oy * ow, gx, d + oy * w, ow);
          }
          continue;
        }
        for (int oy = 0; oy < oh; oy++) {
          int iy = oy * stride + ky - padding;
          if (iy < 0 || iy >= h) {
            continue;
          }
          int d = dst + iy * w + kx - padding;
          int s = src + oy * ow;
          if (stride == 1) {
            if (Operation.VECTOR) {
              VectorKernels.addInto(gc, s + lo, gx, d + lo, hi - lo);
            } else {
              for (int ox = lo; ox < hi; ox++) {
                gx[d + ox] += gc[s + ox];
              }
            }
          } else {
            for (int ox = lo; ox < hi; ox++) {
              gx[d + ox * stride] += gc[s + ox];
            }
          }
        }
      }
    }
  }
}
