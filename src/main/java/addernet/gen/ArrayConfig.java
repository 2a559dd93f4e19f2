package addernet.gen;

import addernet.quant.PeOp;
import addernet.io.UserError;

/**
 * Everything that defines a bare PE array, validated at the door. The accumulator width is either
 * derived from the largest reduction length {@code maxK} the array will be asked to do, or given
 * and then checked against it, so no supported K can overflow silently (numeric contract,
 * section 3). Field names match the keys of {@code array.json} in a generated folder.
 */
public record ArrayConfig(int rows, int cols, int dataBits, int accBits, long maxK, PeOp op) {
  public static final int MIN_DATA_BITS = 2;
  public static final int MAX_DATA_BITS = 16;
  /** The harness moves accumulator values as 64-bit integers; 62 leaves headroom for sign tricks. */
  public static final int MAX_ACC_BITS = 62;
  /** Far beyond any layer we schedule (lenet5-adder's largest K is 256); keeps bounds arithmetic exact. */
  public static final long MAX_K = 1L << 24;
  /**
   * The largest array the generator elaborates (64 x 64). Its time grows faster than the PE count
   * (measured: 16 x 16 in 4 s, 32 x 32 in 13 s, 64 x 64 in 3 min, JVM and firtool well under
   * 1 GB), so a 128 x 128 array would take most of an hour and 1000 x 1000 never ends; see
   * docs/accelerator.md, "Limits".
   */
  public static final int MAX_PES = 4096;

  /** Which setting an {@link Invalid} is about, so that a command can name its own option. */
  public enum Setting {
    ROWS,
    COLS,
    /** Rows and columns together: too many PEs. */
    PES,
    DATA_BITS,
    MAX_K,
    ACC_BITS
  }

  /** A setting outside what the generator builds; the message says it in the array's terms. */
  public static final class Invalid extends UserError {
    private final Setting setting;

    Invalid(Setting setting, String message) {
      super(message);
      this.setting = setting;
    }

    public Setting setting() {
      return setting;
    }
  }

  public ArrayConfig {
    if (rows < 1) {
      throw new Invalid(Setting.ROWS, "PE rows must be a positive number, got " + rows);
    }
    if (cols < 1) {
      throw new Invalid(Setting.COLS, "PE columns must be a positive number, got " + cols);
    }
    checkPes(rows, cols, MAX_PES, "a bare array");
    if (dataBits < MIN_DATA_BITS || dataBits > MAX_DATA_BITS) {
      throw new Invalid(Setting.DATA_BITS,
          "the data width must be in " + MIN_DATA_BITS + ".." + MAX_DATA_BITS + " bits, got " + dataBits);
    }
    if (maxK < 1 || maxK > MAX_K) {
      throw new Invalid(Setting.MAX_K, "the largest reduction length K must be in 1.." + MAX_K + ", got " + maxK);
    }
    int needed;
    try {
      needed = op.accumulatorBits(dataBits, maxK);
    } catch (ArithmeticException overflow) {
      needed = Integer.MAX_VALUE;
    }
    if (needed > MAX_ACC_BITS) {
      throw new Invalid(Setting.MAX_K,
          "K = " + maxK + " with " + dataBits + "-bit data needs an accumulator wider than the"
              + " supported " + MAX_ACC_BITS + " bits");
    }
    if (accBits < needed) {
      throw new Invalid(Setting.ACC_BITS,
          "a " + accBits + "-bit accumulator is too narrow: " + op.word() + " sums of K=" + maxK + " "
              + dataBits + "-bit operands need " + needed + " bits");
    }
    if (accBits > MAX_ACC_BITS) {
      throw new Invalid(Setting.ACC_BITS, "the accumulator must be at most " + MAX_ACC_BITS + " bits, got " + accBits);
    }
  }

  /** Refuses an array of more than {@code max} PEs, naming the bound and why it is there. */
  static void checkPes(int rows, int cols, int max, String what) {
    long pes = (long) rows * cols;
    if (pes > max) {
      throw new Invalid(Setting.PES, String.format(
          "%d rows x %d columns is %,d PEs; the generator builds %s of at most %,d PEs (e.g."
              + " %d x %d), because elaboration time and memory grow faster than the PE count"
              + " (docs/accelerator.md, \"Limits\")",
          rows, cols, pes, what, max, (int) Math.sqrt(max), (int) Math.sqrt(max)));
    }
  }

  /** A config whose accumulator is exactly as wide as {@code maxK} requires. */
  public static ArrayConfig derived(int rows, int cols, int dataBits, long maxK, PeOp op) {
    checkPes(rows, cols, MAX_PES, "a bare array");
    if (dataBits < MIN_DATA_BITS || dataBits > MAX_DATA_BITS || maxK < 1 || maxK > MAX_K) {
      // Let the canonical constructor produce the message.
      return new ArrayConfig(rows, cols, dataBits, MAX_ACC_BITS, maxK, op);
    }
    return new ArrayConfig(rows, cols, dataBits, op.accumulatorBits(dataBits, maxK), maxK, op);
  }

  public int numPes() {
    return rows * cols;
  }

  public long minData() {
    return -(1L << (dataBits - 1));
  }

  public long maxData() {
    return (1L << (dataBits - 1)) - 1;
  }
}
