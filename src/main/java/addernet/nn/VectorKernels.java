package addernet.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The weighted-layer loops on the JDK vector API, register-blocked: each loaded vector of patch
 * values is used against 4 weights (forward), 4 patch rows (input gradient) or 2 x 4 weight
 * pairs (weight gradient) before it leaves the register file.
 *
 * <p>256-bit vectors on purpose: on the JDK 17 we measured, 512-bit species (and any species
 * while MaxVectorSize is 64) ran about 7x slower than 256-bit ones with -XX:MaxVectorSize=32,
 * which the launcher and the tests therefore pass. Layout as in {@link PatchKernels}.
 */
final class VectorKernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
  private static final int L = S.length();

  /** Columns per weight-gradient chunk, so a chunk of C and G rows stays in L2. */
  private static final int CHUNK = 2048;

  /** Columns per tile of the input-gradient kernel: a page of each patch row. */
  private static final int TILE = 1024;

  private VectorKernels() {}

  /**
   * Y[o][j] = -sum_k |C[k][j] - W[o][k]| for the adder (paper eq. 2), sum_k C[k][j] * W[o][k] for
   * the twin. The two are separate loops so that each gets its own compiled code and profile:
   * with one lambda for both, two of three benchmark runs trained the twin at half speed.
   */
  static void forward(
      boolean adder, float[] c, int k, int m, float[] w, int o, float[] y, Workers workers) {
    long work = (long) k * m * o;
    if (adder) {
      workers.forRange(m, L, work, (from, to) -> adderForward(c, k, m, w, o, y, from, to));
    } else {
      workers.forRange(m, L, work, (from, to) -> product(w, k, 1, c, k, m, o, y, from, to));
    }
  }

  /**
   * Two column vectors (a whole cache line of each patch row) by 4 outputs: 8 independent sums,
   * so the adds do not wait on each other's latency. Every path, the scalar tail included, does a
   * lane's additions in the same order, so a column's result does not depend on the thread split.
   */
  private static void adderForward(
      float[] c, int k, int m, float[] w, int o, float[] y, int from, int to) {
    int j = from;
    for (; j + 2 * L <= to; j += 2 * L) {
      int jb = j + L;
      int oo = 0;
      for (; oo + 4 <= o; oo += 4) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        int w0 = oo * k;
        for (int kk = 0; kk < k; kk++) {
          FloatVector cv = FloatVector.fromArray(S, c, kk * m + j);
          FloatVector dv = FloatVector.fromArray(S, c, kk * m + jb);
          float x0 = w[w0 + kk];
          float x1 = w[w0 + k + kk];
          float x2 = w[w0 + 2 * k + kk];
          float x3 = w[w0 + 3 * k + kk];
          a0 = a0.add(cv.sub(x0).abs());
          a1 = a1.add(cv.sub(x1).abs());
          a2 = a2.add(cv.sub(x2).abs());
          a3 = a3.add(cv.sub(x3).abs());
          b0 = b0.add(dv.sub(x0).abs());
          b1 = b1.add(dv.sub(x1).abs());
          b2 = b2.add(dv.sub(x2).abs());
          b3 = b3.add(dv.sub(x3).abs());
        }
        a0.neg().intoArray(y, oo * m + j);
        a1.neg().intoArray(y, (oo + 1) * m + j);
        a2.neg().intoArray(y, (oo + 2) * m + j);
        a3.neg().intoArray(y, (oo + 3) * m + j);
        b0.neg().intoArray(y, oo * m + jb);
        b1.neg().intoArray(y, (oo + 1) * m + jb);
        b2.neg().intoArray(y, (oo + 2) * m + jb);
        b3.neg().intoArray(y, (oo + 3) * m + jb);
      }
      for (; oo < o; oo++) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector b0 = a0;
        int w0 = oo * k;
        for (int kk = 0; kk < k; kk++) {
          float x0 = w[w0 + kk];
          a0 = a0.add(FloatVector.fromArray(S, c, kk * m + j).sub(x0).abs());
          b0 = b0.add(FloatVector.fromArray(S, c, kk * m + jb).sub(x0).abs());
        }
        a0.neg().intoArray(y, oo * m + j);
        b0.neg().intoArray(y, oo * m + jb);
      }
    }
    for (; j + L <= to; j += L) {
      for (int oo = 0; oo < o; oo++) {
        FloatVector a0 = FloatVector.zero(S);
        int w0 = oo * k;
        for (int kk = 0; kk < k; kk++) {
          a0 = a0.add(FloatVector.fromArray(S, c, kk * m + j).sub(w[w0 + kk]).abs());
        }
        a0.neg().intoArray(y, oo * m + j);
      }
    }
    for (; j < to; j++) {
      for (int oo = 0; oo < o; oo++) {
        float s = 0;
        for (int kk = 0; kk < k; kk++) {
          s += Math.abs(c[kk * m + j] - w[oo * k + kk]);
        }
        y[oo * m + j] = -s;
      }
    }
  }

  /**
   * The twin's two products in one loop: out[r][j] = sum_i A[r][i] * B[i][j] for i < n, where
   * A[r][i] = w[r * rowStride + i * innerStride], so W (forward: rowStride k, innerStride 1) and
   * its transpose (input gradient: 1, k) are read in place. One column vector by 4 rows, each sum
   * a chain of fused multiply-adds.
   */
  private static void product(
      float[] w, int rowStride, int innerStride, float[] b, int n, int m, int rows, float[] out,
      int from, int to) {
    int j = from;
    for (; j + L <= to; j += L) {
      int r = 0;
      for (; r + 4 <= rows; r += 4) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int i = 0; i < n; i++) {
          FloatVector bv = FloatVector.fromArray(S, b, i * m + j);
          int wr = r * rowStride + i * innerStride;
          a0 = bv.fma(FloatVector.broadcast(S, w[wr]), a0);
          a1 = bv.fma(FloatVector.broadcast(S, w[wr + rowStride]), a1);
          a2 = bv.fma(FloatVector.broadcast(S, w[wr + 2 * rowStride]), a2);
          a3 = bv.fma(FloatVector.broadcast(S, w[wr + 3 * rowStride]), a3);
        }
        a0.intoArray(out, r * m + j);
        a1.intoArray(out, (r + 1) * m + j);
        a2.intoArray(out, (r + 2) * m + j);
        a3.intoArray(out, (r + 3) * m + j);
      }
      for (; r < rows; r++) {
        FloatVector a0 = FloatVector.zero(S);
        for (int i = 0; i < n; i++) {
          a0 = FloatVector.fromArray(S, b, i * m + j)
              .fma(FloatVector.broadcast(S, w[r * rowStride + i * innerStride]), a0);
        }
        a0.intoArray(out, r * m + j);
      }
    }
    for (; j < to; j++) {
      for (int r = 0; r < rows; r++) {
        float sum = 0;
        for (int i = 0; i < n; i++) {
          sum += b[i * m + j] * w[r * rowStride + i * innerStride];
        }
        out[r * m + j] = sum;
      }
    }
  }

  /**
   * dC[k][j] = sum_o G[o][j] * HardTanh(W[o][k] - C[k][j]) for the adder (paper eq. 5), sum_o
   * G[o][j] * W[o][k] for the twin; separate loops, as in {@link #forward}.
   */
  static void patchGradient(
      boolean adder,
      float[] c,
      int k,
      int m,
      float[] w,
      int o,
      float[] g,
      float[] gc,
      Workers workers) {
    long work = (long) k * m * o;
    if (adder) {
      workers.forRange(m, L, work, (from, to) -> adderPatchGradient(c, k, m, w, o, g, gc, from, to));
    } else {
      workers.forRange(m, L, work, (from, to) -> product(w, 1, k, g, o, m, k, gc, from, to));
    }
  }

  /**
   * Columns go in tiles of {@link #TILE}, each finished 4 patch rows at a time: the patch rows
   * lie a whole batch apart in memory, and sweeping all k of them for every column vector touched
   * a new page per row, missing the TLB on nearly every load.
   */
  private static void adderPatchGradient(
      float[] c, int k, int m, float[] w, int o, float[] g, float[] gc, int from, int to) {
    int vectorEnd = from + (to - from) / L * L;
    for (int t0 = from; t0 < vectorEnd; t0 += TILE) {
      int t1 = Math.min(vectorEnd, t0 + TILE);
      int kk = 0;
      for (; kk + 4 <= k; kk += 4) {
        for (int j = t0; j < t1; j += L) {
          FloatVector a0 = FloatVector.zero(S);
          FloatVector a1 = a0;
          FloatVector a2 = a0;
          FloatVector a3 = a0;
          FloatVector c0 = FloatVector.fromArray(S, c, kk * m + j).neg();
          FloatVector c1 = FloatVector.fromArray(S, c, (kk + 1) * m + j).neg();
          FloatVector c2 = FloatVector.fromArray(S, c, (kk + 2) * m + j).neg();
          FloatVector c3 = FloatVector.fromArray(S, c, (kk + 3) * m + j).neg();
          for (int oo = 0; oo < o; oo++) {
            FloatVector gv = FloatVector.fromArray(S, g, oo * m + j);
            int wr = oo * k + kk;
            a0 = gv.fma(twiceHardTanh(c0, w[wr]), a0);
            a1 = gv.fma(twiceHardTanh(c1, w[wr + 1]), a1);
            a2 = gv.fma(twiceHardTanh(c2, w[wr + 2]), a2);
            a3 = gv.fma(twiceHardTanh(c3, w[wr + 3]), a3);
          }
          a0.mul(0.5f).intoArray(gc, kk * m + j);
          a1.mul(0.5f).intoArray(gc, (kk + 1) * m + j);
          a2.mul(0.5f).intoArray(gc, (kk + 2) * m + j);
          a3.mul(0.5f).intoArray(gc, (kk + 3) * m + j);
        }
      }
      for (; kk < k; kk++) {
        for (int j = t0; j < t1; j += L) {
          FloatVector c0 = FloatVector.fromArray(S, c, kk * m + j).neg();
          FloatVector a0 = FloatVector.zero(S);
          for (int oo = 0; oo < o; oo++) {
            a0 = FloatVector.fromArray(S, g, oo * m + j).fma(twiceHardTanh(c0, w[oo * k + kk]), a0);
          }
          a0.mul(0.5f).intoArray(gc, kk * m + j);
        }
      }
    }
    for (int j = vectorEnd; j < to; j++) {
      for (int kk = 0; kk < k; kk++) {
        float x = c[kk * m + j];
        float s = 0;
        for (int oo = 0; oo < o; oo++) {
          float wv = w[oo * k + kk];
          s += g[oo * m + j] * (Math.abs((wv + 1f) - x) - Math.abs((wv - 1f) - x));
        }
        gc[kk * m + j] = s * 0.5f;
      }
    }
  }

  /**
   * 2 HardTanh(W - X) (paper eq. 5) as |W + 1 - X| - |W - 1 - X|, given -X. The vector API's
   * max and min must order -0.0 below 0.0 and pass NaN on, which costs a compare and blends per
   * lane on x86; adds and abs are one instruction each. The two forms agree to rounding (about
   * 1e-7 of |W| + 1).
   */
  private static FloatVector twiceHardTanh(FloatVector negX, float w) {
    return negX.add(w + 1f).abs().sub(negX.add(w - 1f).abs());
  }

  /**
   * dW[o][k] = sum_m G[o][m] * (C[k][m] - W[o][k]) for the adder (paper eq. 4, full precision),
   * sum_m G[o][m] * C[k][m] for the twin. Split over k so each weight is summed by one thread.
   */
  static void weightGradient(
      boolean adder,
      float[] c,
      int k,
      int m,
      float[] w,
      int o,
      float[] g,
      float[] gw,
      Workers workers) {
    workers.forRange(
        k,
        4,
        (long) k * m * o,
        (kFrom, kTo) -> {
          for (int oo = 0; oo < o; oo++) {
            for (int kk = kFrom; kk < kTo; kk++) {
              gw[oo * k + kk] = 0f;
            }
          }
          for (int j0 = 0; j0 < m; j0 += CHUNK) {
            int j1 = Math.min(m, j0 + CHUNK);
            int kk = kFrom;
            for (; kk + 4 <= kTo; kk += 4) {
              int oo = 0;
              for (; oo + 2 <= o; oo += 2) {
                block2x4(adder, c, k, m, w, g, gw, oo, kk, j0, j1);
              }
              for (; oo < o; oo++) {
                for (int q = kk; q < kk + 4; q++) {
                  single(adder, c, k, m, w, g, gw, oo, q, j0, j1);
                }
              }
            }
            for (; kk < kTo; kk++) {
              for (int oo = 0; oo < o; oo++) {
                single(adder, c, k, m, w, g, gw, oo, kk, j0, j1);
              }
            }
          }
        });
  }

  private static void block2x4(
      boolean adder,
      float[] c,
      int k,
      int m,
      float[] w,
      float[] g,
      float[] gw,
      int oo,
      int kk,
      int j0,
      int j1) {
    float s = adder ? 1f : 0f;
    float w00 = s * w[oo * k + kk];
    float w01 = s * w[oo * k + kk + 1];
    float w02 = s * w[oo * k + kk + 2];
    float w03 = s * w[oo * k + kk + 3];
    float w10 = s * w[(oo + 1) * k + kk];
    float w11 = s * w[(oo + 1) * k + kk + 1];
    float w12 = s * w[(oo + 1) * k + kk + 2];
    float w13 = s * w[(oo + 1) * k + kk + 3];
    FloatVector a00 = FloatVector.zero(S);
    FloatVector a01 = a00;
    FloatVector a02 = a00;
    FloatVector a03 = a00;
    FloatVector a10 = a00;
    FloatVector a11 = a00;
    FloatVector a12 = a00;
    FloatVector a13 = a00;
    int g0r = oo * m;
    int g1r = g0r + m;
    int c0r = kk * m;
    int c1r = c0r + m;
    int c2r = c1r + m;
    int c3r = c2r + m;
    int j = j0;
    for (; j + L <= j1; j += L) {
      FloatVector g0 = FloatVector.fromArray(S, g, g0r + j);
      FloatVector g1 = FloatVector.fromArray(S, g, g1r + j);
      FloatVector c0 = FloatVector.fromArray(S, c, c0r + j);
      FloatVector c1 = FloatVector.fromArray(S, c, c1r + j);
      FloatVector c2 = FloatVector.fromArray(S, c, c2r + j);
      FloatVector c3 = FloatVector.fromArray(S, c, c3r + j);
      a00 = g0.fma(c0.sub(w00), a00);
      a01 = g0.fma(c1.sub(w01), a01);
      a02 = g0.fma(c2.sub(w02), a02);
      a03 = g0.fma(c3.sub(w03), a03);
      a10 = g1.fma(c0.sub(w10), a10);
      a11 = g1.fma(c1.sub(w11), a11);
      a12 = g1.fma(c2.sub(w12), a12);
      a13 = g1.fma(c3.sub(w13), a13);
    }
    float r00 = a00.reduceLanes(VectorOperators.ADD);
    float r01 = a01.reduceLanes(VectorOperators.ADD);
    float r02 = a02.reduceLanes(VectorOperators.ADD);
    float r03 = a03.reduceLanes(VectorOperators.ADD);
    float r10 = a10.reduceLanes(VectorOperators.ADD);
    float r11 = a11.reduceLanes(VectorOperators.ADD);
    float r12 = a12.reduceLanes(VectorOperators.ADD);
    float r13 = a13.reduceLanes(VectorOperators.ADD);
    for (; j < j1; j++) {
      float g0 = g[g0r + j];
      float g1 = g[g1r + j];
      r00 += g0 * (c[c0r + j] - w00);
      r01 += g0 * (c[c1r + j] - w01);
      r02 += g0 * (c[c2r + j] - w02);
      r03 += g0 * (c[c3r + j] - w03);
      r10 += g1 * (c[c0r + j] - w10);
      r11 += g1 * (c[c1r + j] - w11);
      r12 += g1 * (c[c2r + j] - w12);
      r13 += g1 * (c[c3r + j] - w13);
    }
    gw[oo * k + kk] += r00;
    gw[oo * k + kk + 1] += r01;
    gw[oo * k + kk + 2] += r02;
    gw[oo * k + kk + 3] += r03;
    gw[(oo + 1) * k + kk] += r10;
    gw[(oo + 1) * k + kk + 1] += r11;
    gw[(oo + 1) * k + kk + 2] += r12;
    gw[(oo + 1) * k + kk + 3] += r13;
  }

  private static void single(
      boolean adder,
      float[] c,
      int k,
      int m,
      float[] w,
      float[] g,
      float[] gw,
      int oo,
      int kk,
      int j0,
      int j1) {
    float wv = adder ? w[oo * k + kk] : 0f;
    FloatVector a = FloatVector.zero(S);
    int j = j0;
    for (; j + L <= j1; j += L) {
      FloatVector gv = FloatVector.fromArray(S, g, oo * m + j);
      a = gv.fma(FloatVector.fromArray(S, c, kk * m + j).sub(wv), a);
    }
    float r = a.reduceLanes(VectorOperators.ADD);
    for (; j < j1; j++) {
      r += g[oo * m + j] * (c[kk * m + j] - wv);
    }
    gw[oo * k + kk] += r;
  }

  /** dx = dy where the ReLU output is positive, else 0 (the plain ternary loop does not vectorize). */
  static void reluGradient(float[] y, float[] dy, float[] dx, int from, int to) {
    int i = from;
    FloatVector zero = FloatVector.zero(S);
    for (; i + L <= to; i += L) {
      FloatVector yv = FloatVector.fromArray(S, y, i);
      FloatVector.fromArray(S, dy, i)
          .blend(zero, yv.compare(VectorOperators.LE, 0f))
          .intoArray(dx, i);
    }
    for (; i < to; i++) {
      dx[i] = y[i] > 0f ? dy[i] : 0f;
    }
  }

  /** Elements summed in float lanes before the partial sum moves to double. */
  private static final int SUM_CHUNK = 4096;

  /** sum of a[from..to), in float lanes per chunk and double across chunks. */
  static double sum(float[] a, int from, int to) {
    double total = 0;
    for (int c0 = from; c0 < to; c0 += SUM_CHUNK) {
      int c1 = Math.min(to, c0 + SUM_CHUNK);
      FloatVector acc = FloatVector.zero(S);
      int i = c0;
      for (; i + L <= c1; i += L) {
        acc = acc.add(FloatVector.fromArray(S, a, i));
      }
      double part = acc.reduceLanes(VectorOperators.ADD);
      for (; i < c1; i++) {
        part += a[i];
      }
      total += part;
    }
    return total;
  }

  /** sum of (a[i] - mean)^2 over [from, to). */
  static double squaredDeviation(float[] a, int from, int to, float mean) {
    double total = 0;
    for (int c0 = from; c0 < to; c0 += SUM_CHUNK) {
      int c1 = Math.min(to, c0 + SUM_CHUNK);
      FloatVector acc = FloatVector.zero(S);
      int i = c0;
      for (; i + L <= c1; i += L) {
        FloatVector d = FloatVector.fromArray(S, a, i).sub(mean);
        acc = d.fma(d, acc);
      }
      double part = acc.reduceLanes(VectorOperators.ADD);
      for (; i < c1; i++) {
        double d = a[i] - mean;
        part += d * d;
      }
      total += part;
    }
    return total;
  }

  /** sum of a[i] * b[i] over [from, to). */
  static double dot(float[] a, float[] b, int from, int to) {
    double total = 0;
    for (int c0 = from; c0 < to; c0 += SUM_CHUNK) {
      int c1 = Math.min(to, c0 + SUM_CHUNK);
      FloatVector acc = FloatVector.zero(S);
      int i = c0;
      for (; i + L <= c1; i += L) {
        acc = FloatVector.fromArray(S, a, i).fma(FloatVector.fromArray(S, b, i), acc);
      }
      double part = acc.reduceLanes(VectorOperators.ADD);
      for (; i < c1; i++) {
        part += a[i] * b[i];
      }
      total += part;
    }
    return total;
  }
}
