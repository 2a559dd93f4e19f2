package addernet.quant;

import java.util.ArrayList;
import java.util.List;

/**
 * A quantized AdderNet (or its CNN twin, whose layers multiply) as integers only: the bit-exact
 * reference that the generated hardware must match (numeric contract, sections 5 to 10). Every
 * node's output can be dumped.
 *
 * <p>A chain (sections 5 to 7) is built from its layers alone; its {@link #nodes} are then the
 * layers, each reading the one before. A network with branches (section 8) is built from its
 * nodes ({@link #graph}); {@link #layers} then lists the weighted layers in node order.
 *
 * @param inChannels channels of the input image
 * @param inHeight input height
 * @param inWidth input width
 * @param layers the weighted layers, in order; in a chain each one's output shape is the next one's input
 * @param logitBits width of the last layer's clamp, the integer logits
 * @param nodes every node in evaluation order, the last giving the logits
 */
public record IntNetwork(
    String name, int inChannels, int inHeight, int inWidth, List<IntLayer> layers, int logitBits,
    List<IntNode> nodes) {

  /** A chain of layers (sections 5 to 7). */
  public IntNetwork(String name, int inChannels, int inHeight, int inWidth, List<IntLayer> layers, int logitBits) {
    this(name, inChannels, inHeight, inWidth, layers, logitBits, null);
  }

  /** A network of nodes (section 8); its layers are those of its layer nodes. */
  public static IntNetwork graph(String name, int inChannels, int inHeight, int inWidth, List<IntNode> nodes,
      int logitBits) {
    List<IntLayer> layers = new ArrayList<>();
    for (IntNode n : nodes) {
      if (n.kind() == IntNode.Kind.LAYER) {
        layers.add(n.layer());
      }
    }
    return new IntNetwork(name, inChannels, inHeight, inWidth, layers, logitBits, nodes);
  }

  public IntNetwork {
    layers = List.copyOf(layers);
    if (layers.isEmpty()) {
      throw new IllegalArgumentException("a network needs at least one layer");
    }
    if (logitBits < 2 || logitBits > 32) {
      throw new IllegalArgumentException("logit bits must be in 2..32, got " + logitBits);
    }
    if (nodes == null) {
      checkChain(inChannels, inHeight, inWidth, layers);
      List<IntNode> chain = new ArrayList<>();
      for (int i = 0; i < layers.size(); i++) {
        int outBits = i + 1 < layers.size() ? layers.get(i + 1).dataBits() : logitBits;
        chain.add(IntNode.chainLayer(layers.get(i), i - 1, outBits));
      }
      nodes = List.copyOf(chain);
    } else {
      nodes = List.copyOf(nodes);
      checkGraph(inChannels, inHeight, inWidth, layers, nodes, logitBits);
    }
  }

  private static void checkChain(int inChannels, int inHeight, int inWidth, List<IntLayer> layers) {
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
  }

  /** The rules of contract section 8; the package reader checks them first with its own words. */
  private static void checkGraph(int inChannels, int inHeight, int inWidth, List<IntLayer> layers,
      List<IntNode> nodes, int logitBits) {
    if (nodes.isEmpty()) {
      throw new IllegalArgumentException("a network needs at least one node");
    }
    List<IntLayer> own = nodes.stream().filter(n -> n.kind() == IntNode.Kind.LAYER).map(IntNode::layer).toList();
    if (!own.equals(layers)) {
      throw new IllegalArgumentException("the layers must be those of the layer nodes, in node order");
    }
    int[] readers = new int[nodes.size()];
    for (int j = 0; j < nodes.size(); j++) {
      IntNode n = nodes.get(j);
      for (int i = 0; i < n.inputs().length; i++) {
        int src = n.input(i);
        if (src == IntNode.NETWORK_INPUT) {
          if (j != 0 || n.kind() != IntNode.Kind.LAYER) {
            throw new IllegalArgumentException(n.name() + ": only node 0, a layer, reads the network input");
          }
          IntLayer l = n.layer();
          if (l.inChannels() != inChannels || l.inHeight() != inHeight || l.inWidth() != inWidth) {
            throw new IllegalArgumentException(n.name() + ": expects input " + l.inChannels() + "x" + l.inHeight()
                + "x" + l.inWidth() + " but the network's input is " + inChannels + "x" + inHeight + "x" + inWidth);
          }
          continue;
        }
        if (src < 0 || src >= j) {
          throw new IllegalArgumentException(n.name() + ": reads node " + src + ", not an earlier node");
        }
        readers[src]++;
        IntNode from = nodes.get(src);
        if (from.signed() && (n.kind() != IntNode.Kind.ADD)) {
          throw new IllegalArgumentException(n.name() + ": reads the signed output of " + from.name()
              + " (only an add may)");
        }
        if (from.outBits() != n.dataBits()) {
          throw new IllegalArgumentException(n.name() + ": takes " + n.dataBits() + "-bit data, " + from.name()
              + " gives " + from.outBits() + " bits");
        }
        int c = n.kind() == IntNode.Kind.LAYER ? n.layer().inChannels() : n.channels();
        int h = n.kind() == IntNode.Kind.LAYER ? n.layer().inHeight()
            : n.kind() == IntNode.Kind.AVGPOOL ? n.height() * n.window() : n.height();
        int w = n.kind() == IntNode.Kind.LAYER ? n.layer().inWidth()
            : n.kind() == IntNode.Kind.AVGPOOL ? n.width() * n.window() : n.width();
        if (from.channels() != c || from.height() != h || from.width() != w) {
          throw new IllegalArgumentException(n.name() + ": expects input " + c + "x" + h + "x" + w + " but "
              + from.name() + " gives " + from.channels() + "x" + from.height() + "x" + from.width());
        }
      }
      if (n.kind() == IntNode.Kind.ADD && !nodes.get(n.input(0)).signed()) {
        throw new IllegalArgumentException(n.name() + ": an add's first input must be a signed layer output");
      }
    }
    IntNode last = nodes.get(nodes.size() - 1);
    if (!last.signed() || last.outBits() != logitBits) {
      throw new IllegalArgumentException(last.name() + ": the last node must be a layer without ReLU clamped to the "
          + logitBits + "-bit logits");
    }
    for (int j = 0; j + 1 < nodes.size(); j++) {
      if (nodes.get(j).signed() && readers[j] != 1) {
        throw new IllegalArgumentException(nodes.get(j).name() + ": a signed output is read by exactly one add, got "
            + readers[j] + " readers");
      }
    }
  }

  /** Whether every node is a layer reading the one before: the network of sections 5 to 7. */
  public boolean isChain() {
    for (int j = 0; j < nodes.size(); j++) {
      if (nodes.get(j).kind() != IntNode.Kind.LAYER || nodes.get(j).input(0) != j - 1) {
        return false;
      }
    }
    return true;
  }

  /** The input shift of section 5: pixels to the first layer's data range. */
  public int inputShift() {
    return inputShift(layers.get(0).dataBits());
  }

  public static int inputShift(int firstLayerBits) {
    return Math.max(0, 9 - firstLayerBits);
  }

  public int classes() {
    return nodes.get(nodes.size() - 1).outSize();
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
    int src = nodeOf(i).input(0);
    if (src == IntNode.NETWORK_INPUT) {
      return new long[] {0, 255 >> inputShift()};
    }
    IntNode from = nodes.get(src);
    if (from.kind() != IntNode.Kind.LAYER) {
      return new long[] {0, (1L << (from.outBits() - 1)) - 1}; // an add or pool clamps to [0, hi]
    }
    Requant prev = from.layer().requant();
    return new long[] {Math.min(0, prev.lo()), Math.max(0, prev.hi())};
  }

  /** The node of weighted layer {@code i}. */
  public IntNode nodeOf(int i) {
    IntLayer l = layers.get(i);
    for (IntNode n : nodes) {
      if (n.layer() == l) {
        return n;
      }
    }
    throw new IllegalStateException("layer " + i + " has no node");
  }

  /** Index in {@link #nodes} of weighted layer {@code i}. */
  public int nodeIndexOf(int i) {
    return nodes.indexOf(nodeOf(i));
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
   * Every node's output for one image: element 0 is the quantized input, element j + 1 the output
   * of node j (after requantization and pooling), channel-major. In a chain node j is layer j.
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
    List<int[]> out = new ArrayList<>(nodes.size() + 1);
    out.add(x);
    for (IntNode n : nodes) {
      int[] a = out.get(n.input(0) + 1);
      out.add(switch (n.kind()) {
        case LAYER -> forward(n.layer(), a);
        case ADD -> n.add(a, out.get(n.input(1) + 1));
        case AVGPOOL -> n.avgPool(a);
      });
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
