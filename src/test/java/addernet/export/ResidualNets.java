package addernet.export;

import addernet.quant.IntLayer;
import addernet.quant.IntNetwork;
import addernet.quant.IntNode;
import addernet.quant.Requant;
import addernet.quant.Scales;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** A small residual integer network with consistent scales, for package tests. */
public final class ResidualNets {
  private static final int B = 8;
  private static final int HI = (1 << (B - 1)) - 1;

  private ResidualNets() {}

  private static IntLayer layer(SplittableRandom rnd, String name, int inC, int inH, int outC, int kernel, int stride,
      int pad, boolean relu, int outBits) {
    int k = inC * kernel * kernel;
    int[] w = new int[outC * k];
    for (int i = 0; i < w.length; i++) {
      w[i] = rnd.nextInt(-40, 41);
    }
    // An adder accumulator is -sum |x - w|, about -k * 40; map that spread onto the output range.
    double[] a = new double[outC];
    double[] b = new double[outC];
    for (int c = 0; c < outC; c++) {
      a[c] = (0.5 + rnd.nextDouble()) * HI / (k * 30.0);
      b[c] = a[c] * k * 45 + rnd.nextDouble(-HI / 2.0, HI / 2.0);
    }
    int top = (1 << (outBits - 1)) - 1;
    Requant rq = Requant.fromAffine(a, b, 16, 6, relu ? 0 : -top - 1, top);
    return new IntLayer(name, false, inC, inH, inH, outC, kernel, stride, pad, B, w, rq, false);
  }

  /**
   * A ResNet-8 shaped integer net on 1x10x10: conv1, an identity block, a strided block with a
   * convolution shortcut, a global 4x4 pool, a 1x1 classifier.
   */
  public static IntNetwork residual(long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<IntNode> n = new ArrayList<>();
    n.add(IntNode.layer(layer(rnd, "conv1", 1, 10, 4, 3, 1, 0, true, B), -1, B)); // 0: 4x8x8
    n.add(IntNode.layer(layer(rnd, "b1_conv1", 4, 8, 4, 3, 1, 1, true, B), 0, B)); // 1
    n.add(IntNode.layer(layer(rnd, "b1_conv2", 4, 8, 4, 3, 1, 1, false, B), 1, B)); // 2: signed
    n.add(IntNode.add("b1_add", 2, 0, 4, 8, 8, B, 1)); // 3
    n.add(IntNode.layer(layer(rnd, "b2_conv1", 4, 8, 6, 3, 2, 1, true, B), 3, B)); // 4: 6x4x4
    n.add(IntNode.layer(layer(rnd, "b2_conv2", 6, 4, 6, 3, 1, 1, false, B), 4, B)); // 5
    n.add(IntNode.layer(layer(rnd, "b2_down", 4, 8, 6, 1, 2, 0, false, B), 3, B)); // 6
    n.add(IntNode.add("b2_add", 5, 6, 6, 4, 4, B, 0)); // 7
    n.add(IntNode.avgPool("pool", 7, 6, 4, 4, B, 4, IntNode.poolRequant(4, B, 16, 6))); // 8: 6x1x1
    n.add(IntNode.layer(layer(rnd, "fc", 6, 1, 5, 1, 1, 0, false, 16), 8, 16)); // 9: logits
    return IntNetwork.graph("res8", 1, 10, 10, n, 16);
  }

  /** Scales consistent with the nodes: each add's inputs on one scale, its output 2^shift above. */
  public static Scales scales() {
    double[] s = {0.05, 0.04, 0.05, 0.1, 0.03, 0.1, 0.1, 0.1, 0.1, 0.01};
    double[] in = {4.0 / 255, 0.05, 0.04, 0.1, 0.03, 0.1, 0.1};
    return new Scales(in, 0.01, s);
  }

}
