package addernet.quant;

import addernet.nn.Operation;

/**
 * The PE's operation as the numeric contract defines it (docs/numeric-contract.md, sections 2
 * and 3): the AdderNet PE or its multiply-accumulate twin, with each one's accumulator step and
 * worst-case bound. Its word ({@link #word}) is the one spelling in network specs, model packages,
 * accel.json, array.json and the Chisel generator's {@code PEOp}.
 */
public enum PeOp {
  /** acc - |a - b|. */
  ADDER("adder"),
  /** acc + a * b, the CNN twin. */
  MULTIPLY("multiply");

  private final String word;

  PeOp(String word) {
    this.word = word;
  }

  /** The operation's word on disk and in the generator. */
  public String word() {
    return word;
  }

  /** The operation {@code word} names, or an IllegalArgumentException naming the two words. */
  public static PeOp fromWord(String word) {
    for (PeOp op : values()) {
      if (op.word.equals(word)) {
        return op;
      }
    }
    throw new IllegalArgumentException(
        "unknown PE operation '" + word + "' (expected adder or multiply)");
  }

  /** The integer operation that runs a trained layer's float operation. */
  public static PeOp of(Operation op) {
    return switch (op) {
      case ADDER -> ADDER;
      case MULTIPLY -> MULTIPLY;
    };
  }

  /**
   * One accumulator step exactly as the PE does it (numeric contract, section 2). The sum never
   * leaves the accumulator's range when K is within the configured bound, so no wrapping is
   * modelled here.
   */
  public long step(long acc, int a, int b) {
    return this == ADDER ? acc - Math.abs((long) a - b) : acc + (long) a * b;
  }

  /**
   * The largest magnitude one step can add to the accumulator for signed {@code dataBits}-bit
   * operands: |a - b| <= 2^B - 1 for the adder, |a * b| <= 2^(2B-2) for the multiply.
   */
  public long maxStepMagnitude(int dataBits) {
    return this == ADDER ? (1L << dataBits) - 1 : 1L << (2 * dataBits - 2);
  }

  /**
   * The narrowest signed accumulator that holds every sum of {@code maxK} steps (numeric contract,
   * section 3): the adder's sums lie in [-K(2^B-1), 0], so 2^(n-1) >= K(2^B-1) suffices; the multiply's
   * reach +K*2^(2B-2), so 2^(n-1) - 1 >= K*2^(2B-2).
   */
  public int accumulatorBits(int dataBits, long maxK) {
    long worst = Math.multiplyExact(maxK, maxStepMagnitude(dataBits));
    long need = this == ADDER ? worst : worst + 1;
    int n = 1;
    while ((1L << (n - 1)) < need) {
      n++;
    }
    return n;
  }

  /**
   * The MAC's accumulator width when the operands are known to be narrower than "any signed
   * B-bit value" (numeric contract, section 3): activations in [aMin, aMax] (in a network they
   * are the input pixels or the previous layer's clamp, so after ReLU they are non-negative) and
   * weights in [bMin, bMax]. Each product lies between the smallest and largest corner product,
   * so the sum of K of them lies in [K p_min, K p_max]; the width is the narrowest signed one that
   * holds both ends.
   */
  public static int multiplyAccumulatorBits(long maxK, long aMin, long aMax, long bMin, long bMax) {
    if (aMin > aMax || bMin > bMax || maxK < 1) {
      throw new IllegalArgumentException(
          "empty operand range or K: a in [" + aMin + ", " + aMax + "], b in [" + bMin + ", "
              + bMax + "], K = " + maxK);
    }
    long[] corners = {aMin * bMin, aMin * bMax, aMax * bMin, aMax * bMax};
    long pMin = Math.min(0, Math.min(Math.min(corners[0], corners[1]), Math.min(corners[2], corners[3])));
    long pMax = Math.max(0, Math.max(Math.max(corners[0], corners[1]), Math.max(corners[2], corners[3])));
    long negative = Math.multiplyExact(maxK, -pMin); // 2^(n-1) >= this
    long positive = Math.addExact(Math.multiplyExact(maxK, pMax), 1); // 2^(n-1) >= this
    long need = Math.max(negative, positive);
    int n = 1;
    while ((1L << (n - 1)) < need) {
      n++;
    }
    return n;
  }
}
