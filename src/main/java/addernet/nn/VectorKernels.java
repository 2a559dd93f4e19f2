package addernet.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The weighted-layer loops on the JDK vector API, register-blocked: each loaded vector of patch
 * values is used against 4 weights (forward), 4 patch rows (input gradient) or 2 x 4 weight
 * pairs (weight gradient) before it leaves the register file.
 *
 * <p>Every kernel comes in two forms: over a whole patch matrix, split across the workers, and
 * over a block of columns on the calling thread ({@code ...Columns}), for a convolution that
 * unfolds a few images at a time into a buffer that stays in cache. A block is addressed by an
 * offset and a row stride per array, so a block of C in a small buffer can meet the matching
 * columns of Y or G in the whole batch's tensor.
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
      workers.forRange(
          m, L, work, (from, to) -> adderForward(c, from, m, k, w, o, y, from, m, to - from));
    } else {
      workers.forRange(
          m, L, work, (from, to) -> product(w, k, 1, c, from, m, k, o, y, from, m, to - from));
    }
  }

  /**
   * {@link #forward} on {@code cols} columns: C[k][j] at c[cOff + k * cs + j], Y[o][j] at
   * y[yOff + o * ys + j].
   */
  static void forwardColumns(
      boolean adder, float[] c, int cOff, int cs, int k, int cols, float[] w, int o, float[] y,
      int yOff, int ys) {
    if (adder) {
      adderForward(c, cOff, cs, k, w, o, y, yOff, ys, cols);
    } else {
      product(w, k, 1, c, cOff, cs, k, o, y, yOff, ys, cols);
    }
  }

  /**
   * Two column vectors (a whole cache line of each patch row) by 4 outputs: 8 independent sums,
   * so the adds do not wait on each other's latency. Every path, the scalar tail included, does a
   * lane's additions in the same order, so a column's result does not depend on the thread split
   * or the column block it was computed in.
   */
  private static void adderForward(
      float[] c, int cOff, int cs, int k, float[] w, int o, float[] y, int yOff, int ys, int cols) {
    int j = 0;
    for (; j + 2 * L <= cols; j += 2 * L) {
      int ca = cOff + j;
      int cb = ca + L;
      int ya = yOff + j;
      int yb = ya + L;
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
          FloatVector cv = FloatVector.fromArray(S, c, kk * cs + ca);
          FloatVector dv = FloatVector.fromArray(S, c, kk * cs + cb);
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
        a0.neg().intoArray(y, oo * ys + ya);
        a1.neg().intoArray(y, (oo + 1) * ys + ya);
        a2.neg().intoArray(y, (oo + 2) * ys + ya);
        a3.neg().intoArray(y, (oo + 3) * ys + ya);
        b0.neg().intoArray(y, oo * ys + yb);
        b1.neg().intoArray(y, (oo + 1) * ys + yb);
        b2.neg().intoArray(y, (oo + 2) * ys + yb);
        b3.neg().intoArray(y, (oo + 3) * ys + yb);
      }
      for (; oo < o; oo++) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector b0 = a0;
        int w0 = oo * k;
        for (int kk = 0; kk < k; kk++) {
          float x0 = w[w0 + kk];
          a0 = a0.add(FloatVector.fromArray(S, c, kk * cs + ca).sub(x0).abs());
          b0 = b0.add(FloatVector.fromArray(S, c, kk * cs + cb).sub(x0).abs());
        }
        a0.neg().intoArray(y, oo * ys + ya);
        b0.neg().intoArray(y, oo * ys + yb);
      }
    }
    for (; j + L <= cols; j += L) {
      for (int oo = 0; oo < o; oo++) {
        FloatVector a0 = FloatVector.zero(S);
        int w0 = oo * k;
        for (int kk = 0; kk < k; kk++) {
          a0 = a0.add(FloatVector.fromArray(S, c, kk * cs + cOff + j).sub(w[w0 + kk]).abs());
        }
        a0.neg().intoArray(y, oo * ys + yOff + j);
      }
    }
    for (; j < cols; j++) {
      for (int oo = 0; oo < o; oo++) {
        float s = 0;
        for (int kk = 0; kk < k; kk++) {
          s += Math.abs(c[kk * cs + cOff + j] - w[oo * k + kk]);
        }
        y[oo * ys + yOff + j] = -s;
      }
    }
  }

  /**
   * The twin's two products in one loop: out[r][j] = sum_i A[r][i] * B[i][j] for i < n, where
   * A[r][i] = w[r * rowStride + i * innerStride], so W (forward: rowStride k, innerStride 1) and
   * its transpose (input gradient: 1, k) are read in place; B[i][j] at b[bOff + i * bs + j],
   * out[r][j] at out[outOff + r * os + j]. One column vector by 4 rows, each sum a chain of fused
   * multiply-adds.
   */
  private static void product(
      float[] w, int rowStride, int innerStride, float[] b, int bOff, int bs, int n, int rows,
      float[] out, int outOff, int os, int cols) {
    int j = 0;
    for (; j + L <= cols; j += L) {
      int bj = bOff + j;
      int oj = outOff + j;
      int r = 0;
      for (; r + 4 <= rows; r += 4) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int i = 0; i < n; i++) {
          FloatVector bv = FloatVector.fromArray(S, b, i * bs + bj);
          int wr = r * rowStride + i * innerStride;
          a0 = bv.fma(FloatVector.broadcast(S, w[wr]), a0);
          a1 = bv.fma(FloatVector.broadcast(S, w[wr + rowStride]), a1);
          a2 = bv.fma(FloatVector.broadcast(S, w[wr + 2 * rowStride]), a2);
          a3 = bv.fma(FloatVector.broadcast(S, w[wr + 3 * rowStride]), a3);
        }
        a0.intoArray(out, r * os + oj);
        a1.intoArray(out, (r + 1) * os + oj);
        a2.intoArray(out, (r + 2) * os + oj);
        a3.intoArray(out, (r + 3) * os + oj);
      }
      for (; r < rows; r++) {
        FloatVector a0 = FloatVector.zero(S);
        for (int i = 0; i < n; i++) {
          a0 = FloatVector.fromArray(S, b, i * bs + bj)
              .fma(FloatVector.broadcast(S, w[r * rowStride + i * innerStride]), a0);
        }
        a0.intoArray(out, r * os + oj);
      }
    }
    for (; j < cols; j++) {
      for (int r = 0; r < rows; r++) {
        float sum = 0;
        for (int i = 0; i < n; i++) {
          sum += b[i * bs + bOff + j] * w[r * rowStride + i * innerStride];
        }
        out[r * os + outOff + j] = sum;
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
      workers.forRange(
          m, L, work,
          (from, to) -> adderPatchGradient(c, from, m, k, w, o, g, from, m, gc, to - from));
    } else {
      workers.forRange(
          m, L, work, (from, to) -> product(w, 1, k, g, from, m, o, k, gc, from, m, to - from));
    }
  }

  /**
   * {@link #patchGradient} on {@code cols} columns: C[k][j] at c[cOff + k * cs + j] and dC[k][j]
   * at the same index of gc, G[o][j] at g[gOff + o * gs + j].
   */
  static void patchGradientColumns(
      boolean adder, float[] c, int cOff, int cs, int k, int cols, float[] w, int o, float[] g,
      int gOff, int gs, float[] gc) {
    if (adder) {
      adderPatchGradient(c, cOff, cs, k, w, o, g, gOff, gs, gc, cols);
    } else {
      product(w, 1, k, g, gOff, gs, o, k, gc, cOff, cs, cols);
    }
  }

  /**
   * Columns go in tiles of {@link #TILE}, each finished 4 patch rows at a time: the patch rows
   * lie a whole batch apart in memory, and sweeping all k of them for every column vector touched
   * a new page per row, missing the TLB on nearly every load.
   */
  private static void adderPatchGradient(
      float[] c, int cOff, int cs, int k, float[] w, int o, float[] g, int gOff, int gs,
      float[] gc, int cols) {
    // W + 1 and W - 1 once per call: in the loop, each would be a scalar add and a broadcast
    // from a register, which competes with the vector adds for the same execution port, while a
    // broadcast straight from memory only needs a load.
    float[] shifted = Scratch.mine().third(2 * o * k);
    for (int i = 0; i < o * k; i++) {
      shifted[2 * i] = w[i] + 1f;
      shifted[2 * i + 1] = w[i] - 1f;
    }
    int vectorEnd = cols / L * L;
    for (int t0 = 0; t0 < vectorEnd; t0 += TILE) {
      int t1 = Math.min(vectorEnd, t0 + TILE);
      int kk = 0;
      for (; kk + 4 <= k; kk += 4) {
        int r0 = kk * cs + cOff;
        for (int j = t0; j < t1; j += L) {
          FloatVector a0 = FloatVector.zero(S);
          FloatVector a1 = a0;
          FloatVector a2 = a0;
          FloatVector a3 = a0;
          FloatVector c0 = FloatVector.fromArray(S, c, r0 + j).neg();
          FloatVector c1 = FloatVector.fromArray(S, c, r0 + cs + j).neg();
          FloatVector c2 = FloatVector.fromArray(S, c, r0 + 2 * cs + j).neg();
          FloatVector c3 = FloatVector.fromArray(S, c, r0 + 3 * cs + j).neg();
          for (int oo = 0; oo < o; oo++) {
            FloatVector gv = FloatVector.fromArray(S, g, oo * gs + gOff + j);
            int wr = 2 * (oo * k + kk);
            a0 = gv.fma(twiceHardTanh(c0, shifted[wr], shifted[wr + 1]), a0);
            a1 = gv.fma(twiceHardTanh(c1, shifted[wr + 2], shifted[wr + 3]), a1);
            a2 = gv.fma(twiceHardTanh(c2, shifted[wr + 4], shifted[wr + 5]), a2);
            a3 = gv.fma(twiceHardTanh(c3, shifted[wr + 6], shifted[wr + 7]), a3);
          }
          a0.mul(0.5f).intoArray(gc, r0 + j);
          a1.mul(0.5f).intoArray(gc, r0 + cs + j);
          a2.mul(0.5f).intoArray(gc, r0 + 2 * cs + j);
          a3.mul(0.5f).intoArray(gc, r0 + 3 * cs + j);
        }
      }
      for (; kk < k; kk++) {
        int r0 = kk * cs + cOff;
        for (int j = t0; j < t1; j += L) {
          FloatVector c0 = FloatVector.fromArray(S, c, r0 + j).neg();
          FloatVector a0 = FloatVector.zero(S);
          for (int oo = 0; oo < o; oo++) {
            int wr = 2 * (oo * k + kk);
            a0 = FloatVector.fromArray(S, g, oo * gs + gOff + j)
                .fma(twiceHardTanh(c0, shifted[wr], shifted[wr + 1]), a0);
          }
          a0.mul(0.5f).intoArray(gc, r0 + j);
        }
      }
    }
    for (int j = vectorEnd; j < cols; j++) {
      for (int kk = 0; kk < k; kk++) {
        float x = c[kk * cs + cOff + j];
        float s = 0;
        for (int oo = 0; oo < o; oo++) {
          float wv = w[oo * k + kk];
          s += g[oo * gs + gOff + j] * (Math.abs((wv + 1f) - x) - Math.abs((wv - 1f) - x));
        }
        gc[kk * cs + cOff + j] = s * 0.5f;
      }
    }
  }

  /**
   * 2 HardTanh(W - X) (paper eq. 5) as |W + 1 - X| - |W - 1 - X|, given -X, W + 1 and W - 1. The vector API's
   * max and min must order -0.0 below 0.0 and pass NaN on, which costs a compare and blends per
   * lane on x86; adds and abs are one instruction each. The two forms agree to rounding (about
   * 1e-7 of |W| + 1).
   */
  private static FloatVector twiceHardTanh(FloatVector negX, float wPlus1, float wMinus1) {
    return negX.add(wPlus1).abs().sub(negX.add(wMinus1).abs());
  }

  /**
   * dW[o][k] = sum_m G[o][m] * (C[k][m] - W[o][k]) for the adder (paper eq. 4, full precision),
   * sum_m G[o][m] * C[k][m] for the twin. Split over k so each weight is summed by one thread.
   *
   * <p>The adder's sum is taken as the twin's product minus W[o][k] * sum_m G[o][m], so both nets
   * run the same loop of one fused multiply-add per weight use; the subtraction inside the loop
   * ran it at 0.4 of that speed (8 against 19 to 21 billion weight uses a second on one AMD core,
   * LeNet-5's shapes). The correction is small: a batch norm follows every adder layer, and its
   * input gradient sums to about zero over the batch in every channel.
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
        (kFrom, kTo) -> weightGradient(adder, c, 0, m, k, m, w, o, g, 0, m, gw, 0, kFrom, kTo));
  }

  /**
   * {@link #weightGradient} over {@code cols} columns, on the calling thread, into gw[gwOff + o *
   * k + k']: C[k][j] at c[cOff + k * cs + j], G[o][j] at g[gOff + o * gs + j].
   */
  static void weightGradientColumns(
      boolean adder, float[] c, int cOff, int cs, int k, int cols, float[] w, int o, float[] g,
      int gOff, int gs, float[] gw, int gwOff) {
    weightGradient(adder, c, cOff, cs, k, cols, w, o, g, gOff, gs, gw, gwOff, 0, k);
  }

  private static void weightGradient(
      boolean adder, float[] c, int cOff, int cs, int k, int cols, float[] w, int o, float[] g,
      int gOff, int gs, float[] gw, int gwOff, int kFrom, int kTo) {
    for (int oo = 0; oo < o; oo++) {
      for (int kk = kFrom; kk < kTo; kk++) {
        gw[gwOff + oo * k + kk] = 0f;
      }
    }
    for (int j0 = 0; j0 < cols; j0 += CHUNK) {
      int j1 = Math.min(cols, j0 + CHUNK);
      int kk = kFrom;
      for (; kk + 4 <= kTo; kk += 4) {
        int oo = 0;
        for (; oo + 2 <= o; oo += 2) {
          block2x4(c, cOff, cs, k, g, gOff, gs, gw, gwOff, oo, kk, j0, j1);
        }
        for (; oo < o; oo++) {
          for (int q = kk; q < kk + 4; q++) {
            single(c, cOff, cs, k, g, gOff, gs, gw, gwOff, oo, q, j0, j1);
          }
        }
      }
      for (; kk < kTo; kk++) {
        for (int oo = 0; oo < o; oo++) {
          single(c, cOff, cs, k, g, gOff, gs, gw, gwOff, oo, kk, j0, j1);
        }
      }
    }
    if (adder) {
      for (int oo = 0; oo < o; oo++) {
        float gSum = (float) sum(g, oo * gs + gOff, oo * gs + gOff + cols);
        for (int kk = kFrom; kk < kTo; kk++) {
          gw[gwOff + oo * k + kk] -= w[oo * k + kk] * gSum;
        }
      }
    }
  }

  /** sum_j G[o][j] * C[k][j] for 2 outputs by 4 patch rows over columns [j0, j1), added into gw. */
  private static void block2x4(
      float[] c, int cOff, int cs, int k, float[] g, int gOff, int gs, float[] gw, int gwOff,
      int oo, int kk, int j0, int j1) {
    FloatVector a00 = FloatVector.zero(S);
    FloatVector a01 = a00;
    FloatVector a02 = a00;
    FloatVector a03 = a00;
    FloatVector a10 = a00;
    FloatVector a11 = a00;
    FloatVector a12 = a00;
    FloatVector a13 = a00;
    int g0r = oo * gs + gOff;
    int g1r = g0r + gs;
    int c0r = kk * cs + cOff;
    int c1r = c0r + cs;
    int c2r = c1r + cs;
    int c3r = c2r + cs;
    int j = j0;
    for (; j + L <= j1; j += L) {
      FloatVector g0 = FloatVector.fromArray(S, g, g0r + j);
      FloatVector g1 = FloatVector.fromArray(S, g, g1r + j);
      FloatVector c0 = FloatVector.fromArray(S, c, c0r + j);
      FloatVector c1 = FloatVector.fromArray(S, c, c1r + j);
      FloatVector c2 = FloatVector.fromArray(S, c, c2r + j);
      FloatVector c3 = FloatVector.fromArray(S, c, c3r + j);
      a00 = g0.fma(c0, a00);
      a01 = g0.fma(c1, a01);
      a02 = g0.fma(c2, a02);
      a03 = g0.fma(c3, a03);
      a10 = g1.fma(c0, a10);
      a11 = g1.fma(c1, a11);
      a12 = g1.fma(c2, a12);
      a13 = g1.fma(c3, a13);
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
      r00 += g0 * c[c0r + j];
      r01 += g0 * c[c1r + j];
      r02 += g0 * c[c2r + j];
      r03 += g0 * c[c3r + j];
      r10 += g1 * c[c0r + j];
      r11 += g1 * c[c1r + j];
      r12 += g1 * c[c2r + j];
      r13 += g1 * c[c3r + j];
    }
    int w0 = gwOff + oo * k + kk;
    int w1 = w0 + k;
    gw[w0] += r00;
    gw[w0 + 1] += r01;
    gw[w0 + 2] += r02;
    gw[w0 + 3] += r03;
    gw[w1] += r10;
    gw[w1 + 1] += r11;
    gw[w1 + 2] += r12;
    gw[w1 + 3] += r13;
  }

  private static void single(
      float[] c, int cOff, int cs, int k, float[] g, int gOff, int gs, float[] gw, int gwOff,
      int oo, int kk, int j0, int j1) {
    int gr = oo * gs + gOff;
    int cr = kk * cs + cOff;
    FloatVector a = FloatVector.zero(S);
    int j = j0;
    for (; j + L <= j1; j += L) {
      a = FloatVector.fromArray(S, g, gr + j).fma(FloatVector.fromArray(S, c, cr + j), a);
    }
    float r = a.reduceLanes(VectorOperators.ADD);
    for (; j < j1; j++) {
      r += g[gr + j] * c[cr + j];
    }
    gw[gwOff + oo * k + kk] += r;
  }

  /** dst[d..d+n) = src[s..s+n), for the short rows of an unfold (8 to 24 floats in LeNet). */
  static void copy(float[] src, int s, float[] dst, int d, int n) {
    int i = 0;
    for (; i + L <= n; i += L) {
      FloatVector.fromArray(S, src, s + i).intoArray(dst, d + i);
    }
    for (; i < n; i++) {
      dst[d + i] = src[s + i];
    }
  }

  /** dst[d..d+n) += src[s..s+n), for the short rows of a fold. */
  static void addInto(float[] src, int s, float[] dst, int d, int n) {
    int i = 0;
    for (; i + L <= n; i += L) {
      FloatVector.fromArray(S, dst, d + i).add(FloatVector.fromArray(S, src, s + i)).intoArray(dst, d + i);
    }
    for (; i < n; i++) {
      dst[d + i] += src[s + i];
    }
  }

  /**
   * One output row of a 2x2, stride-2 max pool: y[yOff + ox] and its argmax (an index into x)
   * for the windows whose top-left corner is x[top + 2 ox]. The winner is the first maximum in
   * row-major order, as in {@link MaxPool}'s scalar loop. Windows start at every column here, the
   * odd ones included, so that the loads are plain vectors and the choices blends instead of
   * unpredictable branches (a scalar 2x2 pool mispredicts about half its compares on
   * activations); the even columns are then picked out. {@code tmp} holds 4 ow + 2 L floats.
   */
  static void maxPool2Row(
      float[] x, int top, int w, int ow, float[] y, int yOff, int[] arg, float[] tmp) {
    int span = 2 * ow - 1;
    int r = (span + L - 1) / L * L;
    int i = 0;
    if (top + span + w + L <= x.length) {
      FloatVector one = FloatVector.broadcast(S, 1f);
      FloatVector down = FloatVector.broadcast(S, w);
      FloatVector downRight = FloatVector.broadcast(S, w + 1f);
      FloatVector zero = FloatVector.zero(S);
      for (; i < span; i += L) {
        int p = top + i;
        FloatVector a = FloatVector.fromArray(S, x, p);
        FloatVector b = FloatVector.fromArray(S, x, p + 1);
        FloatVector c = FloatVector.fromArray(S, x, p + w);
        FloatVector d = FloatVector.fromArray(S, x, p + w + 1);
        var right = b.compare(VectorOperators.GT, a);
        var bottomRight = d.compare(VectorOperators.GT, c);
        FloatVector topV = a.blend(b, right);
        FloatVector bottomV = c.blend(d, bottomRight);
        var lower = bottomV.compare(VectorOperators.GT, topV);
        topV.blend(bottomV, lower).intoArray(tmp, i);
        zero.blend(one, right).blend(down.blend(downRight, bottomRight), lower).intoArray(tmp, r + i);
      }
      for (int ox = 0; ox < ow; ox++) {
        y[yOff + ox] = tmp[2 * ox];
        arg[yOff + ox] = top + 2 * ox + (int) tmp[r + 2 * ox];
      }
      return;
    }
    for (int ox = 0; ox < ow; ox++) {
      MaxPool.window2(x, top + 2 * ox, w, y, arg, yOff + ox);
    }
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

  /**
   * {@link #dot}(dy', xh) and {@link #sum}(dy') in one pass, where dy' is dy with zeros where
   * y <= 0 (a ReLU's gradient) when y is given, else dy itself. The same lanes and chunks as the
   * two separate sums, so the same bits as running a ReLU's backward first.
   */
  static void dotAndSum(float[] dy, float[] xh, float[] y, int from, int to, double[] out) {
    double dot = 0;
    double sum = 0;
    FloatVector zero = FloatVector.zero(S);
    for (int c0 = from; c0 < to; c0 += SUM_CHUNK) {
      int c1 = Math.min(to, c0 + SUM_CHUNK);
      FloatVector accDot = zero;
      FloatVector accSum = zero;
      int i = c0;
      for (; i + L <= c1; i += L) {
        FloatVector d = FloatVector.fromArray(S, dy, i);
        if (y != null) {
          d = d.blend(zero, FloatVector.fromArray(S, y, i).compare(VectorOperators.LE, 0f));
        }
        accDot = d.fma(FloatVector.fromArray(S, xh, i), accDot);
        accSum = accSum.add(d);
      }
      double partDot = accDot.reduceLanes(VectorOperators.ADD);
      double partSum = accSum.reduceLanes(VectorOperators.ADD);
      for (; i < c1; i++) {
        float d = y == null || y[i] > 0f ? dy[i] : 0f;
        partDot += d * xh[i];
        partSum += d;
      }
      dot += partDot;
      sum += partSum;
    }
    out[0] = dot;
    out[1] = sum;
  }

  /**
   * Batch norm's input gradient dx = k (dy' - mb - xh mg), dy' as in {@link #dotAndSum}; the
   * same operations in the same order as the scalar loop (no fused multiply-add), so the same
   * bits. As a scalar loop the ReLU's select became a branch, mispredicted on half the values.
   */
  static void batchNormInputGradient(
      float[] dy, float[] xh, float[] y, float k, float mb, float mg, float[] dx, int from, int to) {
    FloatVector zero = FloatVector.zero(S);
    int i = from;
    for (; i + L <= to; i += L) {
      FloatVector d = FloatVector.fromArray(S, dy, i);
      if (y != null) {
        d = d.blend(zero, FloatVector.fromArray(S, y, i).compare(VectorOperators.LE, 0f));
      }
      d.sub(mb).sub(FloatVector.fromArray(S, xh, i).mul(mg)).mul(k).intoArray(dx, i);
    }
    for (; i < to; i++) {
      float d = y == null || y[i] > 0f ? dy[i] : 0f;
      dx[i] = k * (d - mb - xh[i] * mg);
    }
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
