package addernet.quant;

import java.util.ArrayList;
import java.util.List;

/**
 * A quantized AdderNet (or its CNN twin, whose layers multiply) as integers only: the bit-exact
 * reference that the generated hardware must match (numeric contract, sections 5 to 7). Every
 * layer's output can be dumped.
 *
 * @param inChannels channels of the input image
 * @param inHeight input height
 * @param inWidth input width
 * @param layers the layers, in order; each one's output shape is the next one's input
 * @param logitBits width of the last layer's clamp, the integer logits
 */
public record IntNetwork(
    String name, int inChannels, int inHeight, int inWidth, List<IntLayer> layers, int logitBits) {

  public IntNetwork {
    layers = List.copyOf(layers);
    if (layers.isEmpty()) {
      throw new IllegalArgumentException("a network needs at least one layer");
    }
    int c = inChannels;
    int h = inHeight;
    int w = inWidth;
    for (int i = 0; i < layers.size(); i++) {
      IntLayer l = layers.get(i);
      if (l.inChannels() != c || l.inHeight() != h || l.inWidth() != w) {
        throw new IllegalArgumentException(
            l.name() + ": expects input " + l.inChannels() + "x" + l.inHeight() + "x" + l.inWidth()
                + " but the previous layer gives " + c + "x" + h + "x" + w);
      }
      if (i + 1 < layers.size()) {
        int nextBits = layers.get(i + 1).dataBits();
        long max = (1L << (nextBits - 1)) - 1;
        long min = -(1L << (nextBits - 1));
        if (l.requant().hi() > max || l.requant().lo() < min) {
          throw new IllegalArgumentException(
              l.name() + ": requantization clamps to [" + l.requant().lo() + ", " + l.requant().hi()
                  + "], outside the next layer's " + nextBits + "-bit data");
        }
      }
      c = l.outChannels();
      h = l.outHeight();
      w = l.outWidth();
    }
    if (logitBits < 2 || logitBits > 32) {
      throw new IllegalArgumentException("logit bits must be in 2..32, got " + logitBits);
    }
  }

  /** The input shift of section 5: pixels to the first layer's data range. */
  public int inputShift() {
    return inputShift(layers.get(0).dataBits());
  }

  public static int inputShift(int firstLayerBits) {
    return Math.max(0, 9 - firstLayerBits);
  }

  public int classes() {
    return layers.get(layers.size() - 1).outSize();
  }

  /**
   * Accumulator width of layer {@code i} by the bound of section 3. The adder's bound holds for
   * any signed operands; the MAC's uses the operands as they are in the network: the layer's
   * input range (see {@link #inputRange}) times its signed weights.
   */
  public int accBits(int i) {
    IntLayer l = layers.get(i);
    if (l.op() == PeOp.ADDER) {
      return PeOp.ADDER.accumulatorBits(l.dataBits(), l.k());
    }
    long[] x = inputRange(i);
    long wMax = (1L << (l.dataBits() - 1)) - 1;
    return PeOp.multiplyAccumulatorBits(l.k(), x[0], x[1], -wMax - 1, wMax);
  }

  /**
   * The values layer {@code i}'s input can take, {lo, hi}: the shifted pixels [0, 255 >>
   * input_shift] for the first layer (section 5), the previous layer's clamp for the others
   * (max-pool picks one of its values), widened to hold 0 for zero padding. After ReLU that is
   * [0, 2^(B-1) - 1].
   */
  public long[] inputRange(int i) {
    if (i == 0) {
      return new long[] {0, 255 >> inputShift()};
    }
    Requant prev = layers.get(i - 1).requant();
    return new long[] {Math.min(0, prev.lo()), Math.max(0, prev.hi())};
  }

  public long adderOpsPerImage() {
    return layers.stream().mapToLong(IntLayer::adderOps).sum();
  }

  /** Integer logits of one image of raw pixels (0..255, channel-major). */
  public int[] logits(int[] pixels) {
    List<int[]> all = trace(pixels);
    return all.get(all.size() - 1);
  }

  /**
   * Every layer's output for one image: element 0 is the quantized input, element i + 1 the output
   * of layer i (after requantization and pooling), channel-major.
   */
  public List<int[]> trace(int[] pixels) {
    if (pixels.length != inChannels * inHeight * inWidth) {
      throw new IllegalArgumentException(
          "image has " + pixels.length + " pixels, expected " + inChannels * inHeight * inWidth);
    }
    int shift = inputShift();
    int[] x = new int[pixels.length];
    for (int i = 0; i < x.length; i++) {
      if (pixels[i] < 0 || pixels[i] > 255) {
        throw new IllegalArgumentException("pixel " + i + " = " + pixels[i] + " is not in 0..255");
      }
      x[i] = pixels[i] >> shift;
    }
    List<int[]> out = new ArrayList<>(layers.size() + 1);
    out.add(x);
    for (IntLayer l : layers) {
      x = forward(l, x);
      out.add(x);
    }
    return out;
  }

  /** Sees every finished accumulator of a layer (before requantization), for bound checks. */
  @FunctionalInterface
  public interface AccumulatorObserver {
    void accept(int channel, long acc);
  }

  private static final AccumulatorObserver NO_OBSERVER = (c, a) -> {};

  /** One layer: the product of section 6, requantization, then the optional pool. */
  public static int[] forward(IntLayer l, int[] in) {
    return forward(l, in, NO_OBSERVER);
  }

  /**
   * {@link #forward(IntLayer, int[])} that also shows each output's final accumulator to {@code
   * observer}. An adder sum only decreases from 0, so the final value is also the partial sum of
   * largest magnitude: checking it checks every step of the accumulation. A MAC sum can go up and
   * down, but each of its partial sums of j <= K steps lies within j times the per-step extremes,
   * inside the same bound.
   */
  public static int[] forward(IntLayer l, int[] in, AccumulatorObserver observer) {
    int oh = l.convOutHeight();
    int ow = l.convOutWidth();
    int k = l.kernel();
    int[] w = l.weights();
    int[] conv = new int[l.outChannels() * oh * ow];
    boolean mac = l.op() == PeOp.MULTIPLY;
    for (int t = 0; t < l.outChannels(); t++) {
      int wBase = t * l.k();
      for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
          long acc = 0;
          int wi = wBase;
          for (int c = 0; c < l.inChannels(); c++) {
            for (int ky = 0; ky < k; ky++) {
              int iy = oy * l.stride() + ky - l.padding();
              for (int kx = 0; kx < k; kx++, wi++) {
                int ix = ox * l.stride() + kx - l.padding();
                boolean inside = iy >= 0 && iy < l.inHeight() && ix >= 0 && ix < l.inWidth();
                int xv = inside ? in[(c * l.inHeight() + iy) * l.inWidth() + ix] : 0;
                // Contract section 2: the PE operation, adder or the CNN twin's multiply.
                acc = mac ? acc + (long) xv * w[wi] : acc - Math.abs(xv - w[wi]);
              }
            }
          }
          observer.accept(t, acc);
          conv[(t * oh + oy) * ow + ox] = l.requant().apply(t, acc);
        }
      }
    }
    return l.pool() ? maxPool(conv, l.outChannels(), oh, ow) : conv;
  }

  static int[] maxPool(int[] x, int channels, int h, int w) {
    int ph = h / 2;
    int pw = w / 2;
    int[] out = new int[channels * ph * pw];
    for (int c = 0; c < channels; c++) {
      for (int y = 0; y < ph; y++) {
        for (int z = 0; z < pw; z++) {
          int base = (c * h + 2 * y) * w + 2 * z;
          out[(c * ph + y) * pw + z] =
              Math.max(Math.max(x[base], x[base + 1]), Math.max(x[base + w], x[base + w + 1]));
        }
      }
    }
    return out;
  }
}
