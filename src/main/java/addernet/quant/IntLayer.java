package addernet.quant;


/**
 * One quantized layer as the hardware runs it (numeric contract, sections 6 and 7): an adder
 * convolution or fully-connected layer (or, for the CNN twin, a multiply one: {@code op} is the
 * PE operation that reduces it) on {@code dataBits}-bit integers, its requantization and an
 * optional 2x2 max-pool. A fully-connected layer is a convolution whose kernel covers the
 * whole input ({@code kernel == inHeight == inWidth}, no padding), which is also how its weights
 * are laid out ([t][c][ky][kx] equals [t][k] for the flattened input).
 */
public record IntLayer(
    String name,
    PeOp op,
    boolean fullyConnected,
    int inChannels,
    int inHeight,
    int inWidth,
    int outChannels,
    int kernel,
    int stride,
    int padding,
    int dataBits,
    int[] weights,
    Requant requant,
    boolean pool) {

  /** An adder layer, the AdderNet's own. */
  public IntLayer(
      String name, boolean fullyConnected, int inChannels, int inHeight, int inWidth,
      int outChannels, int kernel, int stride, int padding, int dataBits, int[] weights,
      Requant requant, boolean pool) {
    this(name, PeOp.ADDER, fullyConnected, inChannels, inHeight, inWidth, outChannels, kernel,
        stride, padding, dataBits, weights, requant, pool);
  }

  public IntLayer {
    if (op == null) {
      throw new IllegalArgumentException(name + ": the PE operation must be given");
    }
    if (inChannels < 1 || inHeight < 1 || inWidth < 1 || outChannels < 1) {
      throw new IllegalArgumentException(name + ": sizes must be positive");
    }
    if (kernel < 1 || stride < 1 || padding < 0) {
      throw new IllegalArgumentException(name + ": kernel and stride must be >= 1, padding >= 0");
    }
    if (convHeight(inHeight, kernel, stride, padding) < 1
        || convHeight(inWidth, kernel, stride, padding) < 1) {
      throw new IllegalArgumentException(
          name + ": kernel " + kernel + " does not fit a " + inHeight + "x" + inWidth + " input");
    }
    if (fullyConnected && (kernel != inHeight || kernel != inWidth || padding != 0 || stride != 1)) {
      throw new IllegalArgumentException(name + ": a fully-connected layer must cover its input");
    }
    if (dataBits < 2 || dataBits > 16) {
      throw new IllegalArgumentException(name + ": data bits must be in 2..16, got " + dataBits);
    }
    if (weights.length != outChannels * reduction(inChannels, kernel)) {
      throw new IllegalArgumentException(
          name + ": expected " + outChannels * reduction(inChannels, kernel) + " weights, got "
              + weights.length);
    }
    long lo = -(1L << (dataBits - 1));
    long hi = (1L << (dataBits - 1)) - 1;
    for (int i = 0; i < weights.length; i++) {
      if (weights[i] < lo || weights[i] > hi) {
        throw new IllegalArgumentException(
            name + ": weight " + i + " = " + weights[i] + " is outside " + dataBits + "-bit range");
      }
    }
    if (requant.channels() != outChannels) {
      throw new IllegalArgumentException(
          name + ": requantization has " + requant.channels() + " channels, layer has " + outChannels);
    }
    if (pool && (convHeight(inHeight, kernel, stride, padding) < 2
        || convHeight(inWidth, kernel, stride, padding) < 2)) {
      throw new IllegalArgumentException(name + ": output too small for a 2x2 max-pool");
    }
  }

  static int convHeight(int in, int kernel, int stride, int padding) {
    return (in + 2 * padding - kernel) / stride + 1;
  }

  static int reduction(int inChannels, int kernel) {
    return inChannels * kernel * kernel;
  }

  /** K: the length of each output's sum. */
  public int k() {
    return reduction(inChannels, kernel);
  }

  public int convOutHeight() {
    return convHeight(inHeight, kernel, stride, padding);
  }

  public int convOutWidth() {
    return convHeight(inWidth, kernel, stride, padding);
  }

  /** Height after the optional pool: the next layer's input height. */
  public int outHeight() {
    return pool ? convOutHeight() / 2 : convOutHeight();
  }

  public int outWidth() {
    return pool ? convOutWidth() / 2 : convOutWidth();
  }

  /** P per image: output positions before pooling. */
  public int positions() {
    return convOutHeight() * convOutWidth();
  }

  public int outSize() {
    return outChannels * outHeight() * outWidth();
  }

  /**
   * PE operations per image: |x - w| and its accumulation for an adder layer, x * w and its
   * accumulation for a multiply layer.
   */
  public long adderOps() {
    return (long) positions() * outChannels * k();
  }
}
