package addernet.quant;


/**
 * The adder "matrix product" at the core of every adder convolution (after im2col) and adder
 * fully-connected layer: out[p][t] = -sum_k |x[p][k] - w[k][t]|. The integer form is the
 * reference the hardware must match bit for bit.
 */
public final class AdderMatmul {
  private AdderMatmul() {}

  /** Float form, as the trained network computes it. */
  public static float[][] multiply(float[][] x, float[][] w) {
    int p = x.length;
    int k = w.length;
    int t = k == 0 ? 0 : w[0].length;
    float[][] out = new float[p][t];
    for (int i = 0; i < p; i++) {
      checkInner(x[i].length, k);
      for (int j = 0; j < t; j++) {
        float s = 0;
        for (int q = 0; q < k; q++) {
          s -= Math.abs(x[i][q] - w[q][j]);
        }
        out[i][j] = s;
      }
    }
    return out;
  }

  /** Integer form, for the adder PE. */
  public static long[][] multiply(int[][] x, int[][] w) {
    return reduce(PeOp.ADDER, x, w);
  }

  /**
   * The same reduction for either PE operation (the MAC twin gives an ordinary integer matrix
   * product), accumulated exactly as the PE steps through k.
   */
  public static long[][] reduce(PeOp op, int[][] x, int[][] w) {
    int p = x.length;
    int k = w.length;
    int t = k == 0 ? 0 : w[0].length;
    long[][] out = new long[p][t];
    for (int i = 0; i < p; i++) {
      checkInner(x[i].length, k);
      for (int j = 0; j < t; j++) {
        long acc = 0;
        for (int q = 0; q < k; q++) {
          acc = op.step(acc, x[i][q], w[q][j]);
        }
        out[i][j] = acc;
      }
    }
    return out;
  }

  private static void checkInner(int xCols, int wRows) {
    if (xCols != wRows) {
      throw new IllegalArgumentException(
          "inner dimensions differ: x has " + xCols + " columns, w has " + wRows + " rows");
    }
  }
}
