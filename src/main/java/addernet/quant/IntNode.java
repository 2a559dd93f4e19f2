package addernet.quant;

import java.util.Arrays;

/**
 * One node of an integer network with branches (numeric contract, section 8): a weighted {@link
 * IntLayer}, a residual add (section 9) or an average pool (section 10). Its inputs are indices of
 * earlier nodes, or {@link #NETWORK_INPUT}.
 *
 * @param kind what the node computes
 * @param name hardware-facing name (the file names of its golden vectors and weights)
 * @param inputs the nodes it reads: one, or two for an add
 * @param layer the layer of a {@link Kind#LAYER} node, else null
 * @param channels output channels
 * @param height output height
 * @param width output width
 * @param dataBits width B of the node's input data
 * @param outBits width of its output: the clamp of a layer, B for an add and a pool
 * @param shift the add's right shift (section 9), else 0
 * @param window the pool's window k (section 10), else 0
 * @param poolRequant the pool's requantization, one channel (section 10), else null
 */
public record IntNode(
    Kind kind, String name, int[] inputs, IntLayer layer, int channels, int height, int width,
    int dataBits, int outBits, int shift, int window, Requant poolRequant) {

  /** The node kinds of contract section 8, by the word the model package uses. */
  public enum Kind {
    LAYER("layer"),
    ADD("add"),
    AVGPOOL("avgpool");

    private final String word;

    Kind(String word) {
      this.word = word;
    }

    public String word() {
      return word;
    }
  }

  /** Where {@link #inputs} points for the network's input. */
  public static final int NETWORK_INPUT = -1;

  public IntNode {
    inputs = inputs.clone();
    if (inputs.length != (kind == Kind.ADD ? 2 : 1)) {
      throw new IllegalArgumentException(name + ": a " + kind.word() + " node reads "
          + (kind == Kind.ADD ? "two nodes" : "one node") + ", got " + inputs.length);
    }
    if (outBits < 2 || outBits > 32 || dataBits < 2 || dataBits > 16) {
      throw new IllegalArgumentException(name + ": widths out of range");
    }
  }

  @Override
  public int[] inputs() {
    return inputs.clone();
  }

  public int input(int i) {
    return inputs[i];
  }

  /** A layer node; its output width is that of its clamp. */
  public static IntNode layer(IntLayer l, int input, int outBits) {
    Requant r = l.requant();
    long hi = (1L << (outBits - 1)) - 1;
    if (r.hi() != hi || (r.lo() != 0 && r.lo() != -hi - 1)) {
      throw new IllegalArgumentException(l.name() + ": requantization clamps to [" + r.lo() + ", " + r.hi()
          + "], not " + outBits + "-bit data (non-negative after ReLU, signed otherwise)");
    }
    return chainLayer(l, input, outBits);
  }

  /**
   * A layer of a chain, whose clamp need only lie inside the next layer's data (section 7), as
   * {@link IntNetwork}'s chain constructor has always accepted.
   */
  static IntNode chainLayer(IntLayer l, int input, int outBits) {
    return new IntNode(Kind.LAYER, l.name(), new int[] {input}, l, l.outChannels(), l.outHeight(),
        l.outWidth(), l.dataBits(), outBits, 0, 0, null);
  }

  /** A residual add of two B-bit tensors of shape c x h x w (section 9). */
  public static IntNode add(String name, int a, int b, int c, int h, int w, int bits, int shift) {
    if (shift < 0 || shift > bits) {
      throw new IllegalArgumentException(name + ": add shift must be in 0.." + bits + ", got " + shift);
    }
    return new IntNode(Kind.ADD, name, new int[] {a, b}, null, c, h, w, bits, bits, shift, 0, null);
  }

  /** An average pool of k x k windows over a B-bit c x h x w input (section 10). */
  public static IntNode avgPool(String name, int input, int c, int h, int w, int bits, int k, Requant rq) {
    if (k < 1 || h % k != 0 || w % k != 0) {
      throw new IllegalArgumentException(name + ": a " + k + "x" + k + " window does not tile the " + h + "x" + w + " map");
    }
    if (rq.channels() != 1 || rq.lo() != 0 || rq.hi() != (1 << (bits - 1)) - 1) {
      throw new IllegalArgumentException(name + ": an average pool's requantization has one channel and clamps to [0, "
          + ((1 << (bits - 1)) - 1) + "]");
    }
    return new IntNode(Kind.AVGPOOL, name, new int[] {input}, null, c, h / k, w / k, bits, bits, 0, k, rq);
  }

  /**
   * The pool requantization of section 10: for k^2 = 2^n exactly (sum + 2^(n-1)) >> n; otherwise
   * round(2^S / k^2) in at most {@code maxTerms} signed digits, S giving it {@code precisionBits}
   * significant bits.
   */
  public static Requant poolRequant(int k, int bits, int precisionBits, int maxTerms) {
    int area = k * k;
    int hi = (1 << (bits - 1)) - 1;
    if (Integer.bitCount(area) == 1) {
      int n = Integer.numberOfTrailingZeros(area);
      return new Requant(n, new int[][] {{1}}, new long[] {n > 0 ? 1L << (n - 1) : 0}, 0, hi);
    }
    return Requant.fromAffine(new double[] {1.0 / area}, new double[] {0}, precisionBits, maxTerms, 0, hi);
  }

  /** Whether the output can be negative: a layer without ReLU. */
  public boolean signed() {
    return kind == Kind.LAYER && layer.requant().lo() < 0;
  }

  public int outSize() {
    return channels * height * width;
  }

  /** Width of a pool's window sum: the smallest A with 2^(A-1) > k^2 (2^(B-1) - 1). */
  public int poolSumBits() {
    long max = (long) window * window * ((1L << (dataBits - 1)) - 1);
    int a = 1;
    while ((1L << (a - 1)) <= max) {
      a++;
    }
    return a;
  }

  /** The add of section 9 on two tensors of this node's shape. */
  public int[] add(int[] a, int[] b) {
    int hi = (1 << (dataBits - 1)) - 1;
    int r = shift > 0 ? 1 << (shift - 1) : 0;
    int[] q = new int[a.length];
    for (int i = 0; i < q.length; i++) {
      q[i] = Math.max(0, Math.min(hi, (a[i] + b[i] + r) >> shift));
    }
    return q;
  }

  /** The average pool of section 10 on its input tensor. */
  public int[] avgPool(int[] x) {
    int k = window;
    int ih = height * k;
    int iw = width * k;
    int[] q = new int[outSize()];
    for (int c = 0; c < channels; c++) {
      for (int oy = 0; oy < height; oy++) {
        for (int ox = 0; ox < width; ox++) {
          long sum = 0;
          for (int dy = 0; dy < k; dy++) {
            int row = (c * ih + oy * k + dy) * iw + ox * k;
            for (int dx = 0; dx < k; dx++) {
              sum += x[row + dx];
            }
          }
          q[(c * height + oy) * width + ox] = poolRequant.apply(0, sum);
        }
      }
    }
    return q;
  }

  @Override
  public String toString() {
    return kind.word() + " " + name + " <- " + Arrays.toString(inputs);
  }
}
