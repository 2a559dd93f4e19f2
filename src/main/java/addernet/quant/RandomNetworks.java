package addernet.quant;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Small random quantized AdderNets for co-simulation: random input size, convolutions with random
 * kernels, strides, padding, channel counts and optional pooling, one or two fully-connected
 * layers, random data widths per layer and random requantization constants (positive and
 * negative multipliers, with and without ReLU), adder layers or (for the CNN twin) multiply
 * layers. Same seed, same network.
 */
public final class RandomNetworks {
  private RandomNetworks() {}

  public static IntNetwork create(long seed) {
    return create(seed, PeOp.ADDER);
  }

  /**
   * A random network whose layers all reduce with {@code op}: {@link PeOp#MAC} gives the CNN
   * twin's multiply layers, with requantization constants scaled to its (signed, much larger)
   * sums. The adder networks are the same as {@link #create(long)}'s for the same seed.
   */
  public static IntNetwork create(long seed, PeOp op) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int c = 1 + rnd.nextInt(3);
    int h = 4 + rnd.nextInt(9);
    int inC = c;
    int inH = h;
    int convs = 1 + rnd.nextInt(3);
    int fcs = 1 + rnd.nextInt(2);
    int total = convs + fcs;
    int[] bits = new int[total + 1];
    for (int i = 0; i < bits.length; i++) {
      bits[i] = 3 + rnd.nextInt(8);
    }
    List<IntLayer> layers = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      boolean fc = i >= convs || h < 2;
      int kernel;
      int stride;
      int pad;
      if (fc) {
        kernel = h;
        stride = 1;
        pad = 0;
      } else {
        kernel = 1 + rnd.nextInt(Math.min(3, h));
        stride = 1 + rnd.nextInt(2);
        pad = rnd.nextInt(Math.min(kernel, 2));
      }
      int out = i == total - 1 ? 2 + rnd.nextInt(9) : 1 + rnd.nextInt(10);
      int conv = (h + 2 * pad - kernel) / stride + 1;
      boolean pool = !fc && conv >= 4 && rnd.nextBoolean();
      boolean last = i == total - 1;
      int b = bits[i];
      int k = c * kernel * kernel;
      int[] w = new int[out * k];
      for (int q = 0; q < w.length; q++) {
        w[q] = rnd.nextInt(-(1 << (b - 1)), 1 << (b - 1));
      }
      int nextBits = last ? 0 : bits[i + 1];
      boolean relu = !last && rnd.nextInt(4) != 0;
      int hi = last ? (1 << 15) - 1 : (1 << (nextBits - 1)) - 1;
      int lo = relu ? 0 : last ? -(1 << 15) : -(1 << (nextBits - 1));
      double[] a = new double[out];
      double[] bias = new double[out];
      if (op == PeOp.ADDER) {
        // Adder sums lie in [-K 2^B, 0]; the bias brings the typical one back into range.
        double typical = (double) k * (1 << (b - 1));
        for (int t = 0; t < out; t++) {
          a[t] = (rnd.nextDouble() * 1.5 + 0.1) * hi / typical * (rnd.nextInt(5) == 0 ? -1 : 1);
          bias[t] = (rnd.nextDouble() * 2 + 0.2) * hi * Math.signum(a[t]);
        }
      } else {
        // Products of random signed operands cancel: MAC sums spread about sqrt(K) products
        // around 0, so the multiplier is scaled to that and the bias is small and of either sign.
        double typical = Math.sqrt(k) * (1 << (b - 1)) * (1 << (b - 1)) / 4;
        for (int t = 0; t < out; t++) {
          a[t] = (rnd.nextDouble() * 1.5 + 0.1) * hi / typical * (rnd.nextInt(5) == 0 ? -1 : 1);
          bias[t] = (rnd.nextDouble() - 0.3) * hi;
        }
      }
      Requant rq = Requant.fromAffine(a, bias, 10 + rnd.nextInt(9), 1 + rnd.nextInt(6), lo, hi);
      IntLayer layer =
          new IntLayer("layer" + i, op, fc, c, h, h, out, kernel, stride, pad, b, w, rq, pool);
      layers.add(layer);
      c = out;
      h = layer.outHeight();
      if (fc) {
        // After a fully-connected layer the tensor is c x 1 x 1; further layers are FC too.
        convs = Math.min(convs, i);
      }
    }
    String name = op == PeOp.ADDER ? "random-" + seed : "random-" + op.word() + "-" + seed;
    return new IntNetwork(name, inC, inH, inH, layers, 16);
  }

  /**
   * LeNet-5's shapes (conv 1->6 k5 + pool, conv 6->16 k5 + pool, conv 16->120 k4, fc 120->84,
   * fc 84->10) with random 8-bit weights and requantization: for measuring the hardware before a
   * trained model exists, and for tests that need the real network's geometry.
   */
  public static IntNetwork lenet5Shaped(long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int[][] shape = {{1, 28, 6, 5, 1}, {6, 12, 16, 5, 1}, {16, 4, 120, 4, 0}, {120, 1, 84, 1, 0}, {84, 1, 10, 1, 0}};
    List<IntLayer> layers = new ArrayList<>();
    for (int i = 0; i < shape.length; i++) {
      int[] s = shape[i];
      boolean last = i == shape.length - 1;
      int k = s[0] * s[3] * s[3];
      int[] w = new int[s[2] * k];
      for (int q = 0; q < w.length; q++) {
        w[q] = rnd.nextInt(-128, 128) / (1 + rnd.nextInt(4));
      }
      double[] a = new double[s[2]];
      double[] b = new double[s[2]];
      for (int t = 0; t < s[2]; t++) {
        a[t] = 127.0 / (k * 64.0) * (0.5 + rnd.nextDouble());
        b[t] = 127.0 * (1 + rnd.nextDouble());
      }
      Requant rq = Requant.fromAffine(a, b, 16, 4, last ? -32768 : 0, last ? 32767 : 127);
      layers.add(new IntLayer("layer" + i, i >= 3, s[0], s[1], s[1], s[2], s[3], 1, 0, 8, w, rq, s[4] == 1));
    }
    return new IntNetwork("lenet5-shaped-" + seed, 1, 28, 28, layers, 16);
  }

  /** {@code net} with every layer reducing by {@code op} instead: same shapes, weights, constants. */
  public static IntNetwork withOperation(IntNetwork net, PeOp op) {
    List<IntLayer> layers = new ArrayList<>();
    for (IntLayer l : net.layers()) {
      layers.add(new IntLayer(l.name(), op, l.fullyConnected(), l.inChannels(), l.inHeight(),
          l.inWidth(), l.outChannels(), l.kernel(), l.stride(), l.padding(), l.dataBits(),
          l.weights(), l.requant(), l.pool()));
    }
    return new IntNetwork(net.name(), net.inChannels(), net.inHeight(), net.inWidth(), layers,
        net.logitBits());
  }
}
