package addernet.energy;

/**
 * Energy of one arithmetic operation in a given process, in picojoules, and how it scales with the
 * operand width.
 *
 * <p>Only two integer widths are published (8 and 32 bits), while our adds and multiplies are 4 to
 * 40 bits wide. Between and beyond them the energy follows the power law through the two published
 * points, {@code E(n) = E8 * (n / 8)^p} with {@code p = log(E32 / E8) / log 4}. That gives p = 0.87
 * for adds (about linear in width, as a ripple-carry adder's switched capacitance is) and p = 1.98
 * for multiplies (about quadratic, as an array multiplier's partial products are). This is an
 * assumption of this estimate, not a published figure.
 *
 * @param source where the figures come from, printed with every estimate
 * @param int8Add 8-bit integer add
 * @param int32Add 32-bit integer add
 * @param int8Multiply 8-bit integer multiply
 * @param int32Multiply 32-bit integer multiply
 * @param fp16Add 16-bit floating-point add
 * @param fp16Multiply 16-bit floating-point multiply
 * @param fp32Add 32-bit floating-point add
 * @param fp32Multiply 32-bit floating-point multiply
 */
public record OperationEnergy(
    String source,
    double int8Add,
    double int32Add,
    double int8Multiply,
    double int32Multiply,
    double fp16Add,
    double fp16Multiply,
    double fp32Add,
    double fp32Multiply) {

  /**
   * M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014, the 45 nm
   * table (0.9 V) that the AdderNet paper's energy argument also rests on. The primary slides were
   * not at hand when this was written; every figure was checked against two independent secondary
   * citations of that table (an open-source 45 nm energy model citing Horowitz for all eight values,
   * and published papers quoting the int8, int32 and FP32 rows), which agree.
   */
  public static final OperationEnergy HOROWITZ_45NM =
      new OperationEnergy(
          "M. Horowitz, \"Computing's energy problem (and what we can do about it)\", ISSCC 2014,"
              + " 45 nm, 0.9 V",
          0.03, 0.1, 0.2, 3.1, 0.4, 1.1, 0.9, 3.7);

  public OperationEnergy {
    double[] all = {int8Add, int32Add, int8Multiply, int32Multiply, fp16Add, fp16Multiply, fp32Add, fp32Multiply};
    for (double e : all) {
      if (!(e > 0) || !Double.isFinite(e)) {
        throw new IllegalArgumentException("operation energies must be positive and finite, got " + e);
      }
    }
    if (int32Add < int8Add || int32Multiply < int8Multiply) {
      throw new IllegalArgumentException("a 32-bit operation cannot cost less than an 8-bit one");
    }
  }

  /** An integer add (or subtract: the same carry chain) of {@code bits}-bit operands. */
  public double intAdd(int bits) {
    return widthScaled(int8Add, int32Add, bits);
  }

  /** An integer multiply of two {@code bits}-bit operands. */
  public double intMultiply(int bits) {
    return widthScaled(int8Multiply, int32Multiply, bits);
  }

  private static double widthScaled(double e8, double e32, int bits) {
    if (bits < 1 || bits > 64) {
      throw new IllegalArgumentException("operand width must be in 1..64 bits, got " + bits);
    }
    double p = Math.log(e32 / e8) / Math.log(4);
    return e8 * Math.pow(bits / 8.0, p);
  }
}
