package addernet.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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

    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;

    /**
     * Columns [j, j + 8). JDK 17's vector POW is a scalar call per lane (about 35 times slower
     * than the plain adder layer), so |d|^p is 2^(p log2 |d|) from two polynomials: log2 of the
     * mantissa on [1, 2) (degree 6, absolute error 2e-6) and 2^f on [-1/2, 1/2] (degree 5, relative
     * error 1e-7), with the exponent bits moved directly; |d| = 0 gives at most 2^-126.
     */
    static void forward(float[] c, int k, int m, float[] w, int o, float[] y, float p, int j) {
      for (int oo = 0; oo < o; oo++) {
        FloatVector acc = FloatVector.zero(S);
        int w0 = oo * k;
        for (int kk = 0; kk < k; kk++) {
          FloatVector d = FloatVector.fromArray(S, c, kk * m + j).sub(w[w0 + kk]).abs();
          acc = acc.add(pow(d, p));
        }
        acc.neg().intoArray(y, oo * m + j);
      }
    }

    static FloatVector pow(FloatVector d, float p) {
      IntVector bits = d.reinterpretAsInts();
      // The exponent as a float without I2F (slow too): n | 2^23's bits is the float 2^23 + n.
      FloatVector e = bits.lanewise(VectorOperators.ASHR, 23).or(0x4B000000).reinterpretAsFloats()
          .sub(0x1p23f + 127f);
      FloatVector t = bits.and(0x7FFFFF).or(0x3F800000).reinterpretAsFloats().sub(1f);
      FloatVector log = t.fma(-0.02512376964660257f, 0.11930087977070958f)
          .fma(t, FloatVector.broadcast(S, -0.27462756193887955f))
          .fma(t, FloatVector.broadcast(S, 0.4555302716987405f))
          .fma(t, FloatVector.broadcast(S, -0.7175589762878302f))
          .fma(t, FloatVector.broadcast(S, 1.4424754747183717f))
          .fma(t, FloatVector.broadcast(S, 2.11724769914172e-06f))
          .add(e);
      // 2^v: v + 127 lies in [1, 253], so adding 2^23 rounds it to an integer in the mantissa's
      // low bits, which is then the biased exponent (F2I conversion is no intrinsic in JDK 17:
      // about 25 ns a vector), and f = v - round(v) is in [-1/2, 1/2].
      FloatVector v = log.mul(p).max(-126f).min(126f).add(127f);
      FloatVector r0 = v.add(0x1p23f);
      IntVector n = r0.reinterpretAsInts().sub(0x4B000000);
      FloatVector f = v.sub(r0.sub(0x1p23f));
      FloatVector two = f.fma(0.001340044171356396f, 0.009676046752285462f)
          .fma(f, FloatVector.broadcast(S, 0.05550327190339919f))
          .fma(f, FloatVector.broadcast(S, 0.24022107174810248f))
          .fma(f, FloatVector.broadcast(S, 0.693147206721807f))
          .fma(f, FloatVector.broadcast(S, 1.0000000755330614f));
      FloatVector r = two.reinterpretAsInts().add(n.sub(127).lanewise(VectorOperators.LSHL, 23))
          .reinterpretAsFloats();
      // d = 0 (exponent field 0) comes out as 2^-126 or less: a zero for any sum it joins.
      return r;
    }
  }
}
