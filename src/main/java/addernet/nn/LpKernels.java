package addernet.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The forward of an adder layer under l_p annealing: Y[o][m] = -sum_k |C[k][m] - W[o][k]|^p, on
 * the same patch matrix layout as {@link PatchKernels}. Only the forward changes with p; the
 * backward keeps the AdderNet rules. At p = 1 the layers call their ordinary kernels, never these.
 */
final class LpKernels {
  private LpKernels() {}

  static double checkExponent(Operation op, double p) {
    if (!(p >= 1 && p <= 2)) {
      throw new IllegalArgumentException("the l_p exponent must be in [1, 2], got " + p);
    }
    if (op != Operation.ADDER && p != 1) {
      throw new IllegalArgumentException("only an adder layer has an l_p exponent");
    }
    return p;
  }

  /** {min, max} of a (both 0 when it is empty). */
  static float[] range(float[] a) {
    if (a.length == 0) {
      return new float[] {0f, 0f};
    }
    float lo = a[0];
    float hi = a[0];
    for (float v : a) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return new float[] {lo, hi};
  }

  /** Columns per unit of work: a vector's lanes, so no column's path depends on the split. */
  private static final int GROUP = 8;

  static void forward(
      float[] c, int k, int m, float[] w, int o, float[] y, float p, Workers workers) {
    int groups = (m + GROUP - 1) / GROUP;
    workers.forRange(
        groups,
        2,
        (long) k * m * o * 8,
        (from, to) -> {
          for (int g = from; g < to; g++) {
            int j0 = g * GROUP;
            int j1 = Math.min(m, j0 + GROUP);
            if (Operation.VECTOR && j1 - j0 == GROUP) {
              Vector.forward(c, k, m, w, o, y, p, j0);
            } else {
              plain(c, k, m, w, o, y, p, j0, j1);
            }
          }
        });
  }

  /** Columns [from, to), each sum in k order (the vector lanes sum in the same order). */
  static void plain(float[] c, int k, int m, float[] w, int o, float[] y, float p, int from, int to) {
    for (int j = from; j < to; j++) {
      for (int oo = 0; oo < o; oo++) {
        float s = 0;
        for (int kk = 0; kk < k; kk++) {
          s += (float) Math.pow(Math.abs(c[kk * m + j] - w[oo * k + kk]), p);
        }
        y[oo * m + j] = -s;
      }
    }
  }

  /** Kept apart so that the plain path never loads the vector API. */
  private static final class Vector {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;

    /** Columns [j, j + 8). */
    static void forward(float[] c, int k, int m, float[] w, int o, float[] y, float p, int j) {
      for (int oo = 0; oo < o; oo++) {
        FloatVector acc = FloatVector.zero(S);
        int w0 = oo * k;
        for (int kk = 0; kk < k; kk++) {
          FloatVector d = FloatVector.fromArray(S, c, kk * m + j).sub(w[w0 + kk]).abs();
          acc = acc.add(d.lanewise(VectorOperators.POW, p));
        }
        acc.neg().intoArray(y, oo * m + j);
      }
    }
  }
}
