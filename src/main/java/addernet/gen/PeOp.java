package addernet.gen;

/**
 * The PE's operation, mirrored from the Chisel generator's {@code PEOp}: the AdderNet PE or its
 * multiply-accumulate twin. Each knows its own worst-case accumulator bound (numeric contract,
 * section 3).
 */
public enum PeOp {
  /** acc - |a - b|. */
  ADDER("adder"),
  /** acc + a * b, the CNN twin. */
  MAC("mac");

  private final String id;

  PeOp(String id) {
    this.id = id;
  }

  public String id() {
    return id;
  }

  public static PeOp fromId(String id) {
    for (PeOp op : values()) {
      if (op.id.equals(id)) {
        return op;
      }
    }
    throw new IllegalArgumentException("unknown PE operation '" + id + "' (expected adder or mac)");
  }

  /**
   * The largest magnitude one step can add to the accumulator for signed {@code dataBits}-bit
   * operands: |a - b| <= 2^B - 1 for the adder, |a * b| <= 2^(2B-2) for the MAC.
   */
  /**
   * One accumulator step exactly as the PE does it (numeric contract, section 2). The sum never
   * leaves the accumulator's range when K is within the configured bound, so no wrapping is
   * modelled here.
   */
  public long step(long acc, int a, int b) {
    return this == ADDER ? acc - Math.abs((long) a - b) : acc + (long) a * b;
  }

  public long maxStepMagnitude(int dataBits) {
    return this == ADDER ? (1L << dataBits) - 1 : 1L << (2 * dataBits - 2);
  }

  /**
   * The narrowest signed accumulator that holds every sum of {@code maxK} steps (numeric contract,
   * section 3): the adder's sums lie in [-K(2^B-1), 0], so 2^(n-1) >= K(2^B-1) suffices; the MAC's
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
}
