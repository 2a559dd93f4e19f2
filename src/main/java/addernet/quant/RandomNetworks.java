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

  /**
   * A small random residual network (numeric contract, sections 8 to 10) for co-simulation: a stem
   * convolution (sometimes max-pooled), one to three blocks, each an identity block or one with a
   * strided or widening 1x1 convolution shortcut, their nodes in either order the spec allows,
   * then a global average pool when the map holds 2^n values (else a fully-connected layer over
   * the map) and the classifier. One data width for the whole network, as an add needs.
   */
  public static IntNetwork residual(long seed, PeOp op) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int bits = 3 + rnd.nextInt(6);
    int inC = 1 + rnd.nextInt(3);
    int inH = 5 + rnd.nextInt(8);
    List<IntNode> nodes = new ArrayList<>();
    int c = 1 + rnd.nextInt(6);
    int stemK = rnd.nextBoolean() ? 3 : 1;
    boolean stemPool = inH >= 6 && rnd.nextInt(3) == 0;
    IntLayer stem = randomLayer(rnd, op, "stem", inC, inH, c, stemK, 1, stemK / 2, bits, bits, true, stemPool);
    nodes.add(IntNode.layer(stem, IntNode.NETWORK_INPUT, bits));
    int x = 0;
    int h = stem.outHeight();
    int blocks = 1 + rnd.nextInt(3);
    for (int b = 0; b < blocks; b++) {
      String n = "block" + b;
      boolean down = rnd.nextBoolean();
      int stride = down && h >= 3 && rnd.nextBoolean() ? 2 : 1;
      int outC = down ? 1 + rnd.nextInt(7) : c;
      int k = rnd.nextBoolean() ? 3 : 1;
      IntLayer conv1 = randomLayer(rnd, op, n + "_conv1", c, h, outC, k, stride, k / 2, bits, bits, true, false);
      int h1 = conv1.outHeight();
      int k2 = rnd.nextBoolean() ? 3 : 1;
      IntLayer conv2 = randomLayer(rnd, op, n + "_conv2", outC, h1, outC, k2, 1, k2 / 2, bits, bits, false, false);
      nodes.add(IntNode.layer(conv1, x, bits));
      int c1 = nodes.size() - 1;
      int shift = rnd.nextInt(3);
      if (!down) {
        nodes.add(IntNode.layer(conv2, c1, bits));
        int a = nodes.size() - 1;
        nodes.add(IntNode.add(n + "_add", a, x, outC, h1, h1, bits, shift)); // the signed branch first
      } else {
        IntLayer sc = randomLayer(rnd, op, n + "_down", c, h, outC, 1, stride, 0, bits, bits, false, false);
        int a;
        int s;
        if (rnd.nextBoolean()) {
          nodes.add(IntNode.layer(conv2, c1, bits));
          a = nodes.size() - 1;
          nodes.add(IntNode.layer(sc, x, bits));
          s = nodes.size() - 1;
        } else {
          nodes.add(IntNode.layer(sc, x, bits));
          s = nodes.size() - 1;
          nodes.add(IntNode.layer(conv2, c1, bits));
          a = nodes.size() - 1;
        }
        nodes.add(rnd.nextBoolean() ? IntNode.add(n + "_add", a, s, outC, h1, h1, bits, shift)
            : IntNode.add(n + "_add", s, a, outC, h1, h1, bits, shift));
      }
      x = nodes.size() - 1;
      c = outC;
      h = h1;
    }
    if (Integer.bitCount(h * h) == 1 && rnd.nextInt(4) != 0) {
      nodes.add(IntNode.avgPool("pool", x, c, h, h, bits, h, IntNode.poolRequant(h, bits, 16, 6)));
      x = nodes.size() - 1;
      h = 1;
    }
    int classes = 2 + rnd.nextInt(9);
    IntLayer fc = randomLayer(rnd, op, "fc", c, h, classes, h, 1, 0, bits, 16, false, false);
    nodes.add(IntNode.layer(fc, x, 16));
    String name = (op == PeOp.ADDER ? "random-residual-" : "random-residual-" + op.word() + "-") + seed;
    return IntNetwork.graph(name, inC, inH, inH, nodes, 16);
  }

  /** A layer with random weights and a requantization onto outBits, signed unless relu. */
  private static IntLayer randomLayer(SplittableRandom rnd, PeOp op, String name, int inC, int inH, int outC,
      int kernel, int stride, int pad, int bits, int outBits, boolean relu, boolean pool) {
    int k = inC * kernel * kernel;
    int[] w = new int[outC * k];
    for (int q = 0; q < w.length; q++) {
      w[q] = rnd.nextInt(-(1 << (bits - 1)), 1 << (bits - 1));
    }
    int hi = (1 << (outBits - 1)) - 1;
    int lo = relu ? 0 : -hi - 1;
    double[] a = new double[outC];
    double[] bias = new double[outC];
    double typical = op == PeOp.ADDER ? (double) k * (1 << (bits - 1))
        : Math.sqrt(k) * (1 << (bits - 1)) * (1 << (bits - 1)) / 4;
    for (int t = 0; t < outC; t++) {
      a[t] = (rnd.nextDouble() * 1.5 + 0.1) * hi / typical * (rnd.nextInt(5) == 0 ? -1 : 1);
      bias[t] = op == PeOp.ADDER ? (rnd.nextDouble() * 2 + 0.2) * hi * Math.signum(a[t]) * (relu ? 1 : 0.5)
          : (rnd.nextDouble() - 0.3) * hi;
    }
    Requant rq = Requant.fromAffine(a, bias, 10 + rnd.nextInt(9), 1 + rnd.nextInt(6), lo, hi);
    boolean fc = kernel == inH && pad == 0 && stride == 1 && kernel > 1;
    return new IntLayer(name, op, fc, inC, inH, inH, outC, kernel, stride, pad, bits, w, rq, pool);
  }
}
