package addernet.nn;

import java.util.Arrays;

/**
 * The hot loops of every weighted layer, on a patch matrix C (K rows x M columns, one column per
 * output position of every image in the batch) and weights W (O x K).
 *
 * <p>Written as plain loops over float arrays whose innermost loop walks a contiguous row with
 * loop-invariant offsets, so C2 turns them into AVX2/AVX-512 code. Reductions along the innermost
 * loop are avoided: the JIT will not vectorize float sums, because vectorizing would reorder them.
 * Each output element belongs to one range part, so the sums stay in a fixed order.
 */
final class PatchKernels {
  /** Columns per block: a block of C rows and one row of Y stay in L1/L2 across the K loop. */
  private static final int COLUMN_BLOCK = 512;

  /** Columns of C^T per block in the weight gradient; the block is reused for every output row. */
  private static final int ROW_BLOCK = 64;

  private PatchKernels() {}

  /** Adder forward (paper eq. 2): Y[o][m] = -sum_k |C[k][m] - W[o][k]|. */
  static void adderForward(float[] c, int k, int m, float[] w, int o, float[] y, Workers workers) {
    workers.forRange(
        m,
        16,
        (long) k * m * o,
        (from, to) -> {
          for (int b0 = from; b0 < to; b0 += COLUMN_BLOCK) {
            int b1 = Math.min(to, b0 + COLUMN_BLOCK);
            for (int oo = 0; oo < o; oo++) {
              int yr = oo * m;
              Arrays.fill(y, yr + b0, yr + b1, 0f);
              for (int kk = 0; kk < k; kk++) {
                float wv = w[oo * k + kk];
                int cr = kk * m;
                for (int j = b0; j < b1; j++) {
                  y[yr + j] -= Math.abs(c[cr + j] - wv);
                }
              }
            }
          }
        });
  }

  /** Ordinary forward: Y[o][m] = sum_k C[k][m] * W[o][k]. */
  static void multiplyForward(
      float[] c, int k, int m, float[] w, int o, float[] y, Workers workers) {
    workers.forRange(
        m,
        16,
        (long) k * m * o,
        (from, to) -> {
          for (int b0 = from; b0 < to; b0 += COLUMN_BLOCK) {
            int b1 = Math.min(to, b0 + COLUMN_BLOCK);
            for (int oo = 0; oo < o; oo++) {
              int yr = oo * m;
              Arrays.fill(y, yr + b0, yr + b1, 0f);
              for (int kk = 0; kk < k; kk++) {
                float wv = w[oo * k + kk];
                int cr = kk * m;
                for (int j = b0; j < b1; j++) {
                  y[yr + j] += c[cr + j] * wv;
                }
              }
            }
          }
        });
  }

  /**
   * Adder input gradient (paper eq. 5, HardTanh): dC[k][m] = sum_o G[o][m] * clip(W[o][k] -
   * C[k][m], -1, 1).
   */
  static void adderPatchGradient(
      float[] c, int k, int m, float[] w, int o, float[] g, float[] gc, Workers workers) {
    workers.forRange(
        m,
        16,
        (long) k * m * o,
        (from, to) -> {
          for (int b0 = from; b0 < to; b0 += COLUMN_BLOCK) {
            int b1 = Math.min(to, b0 + COLUMN_BLOCK);
            for (int kk = 0; kk < k; kk++) {
              int cr = kk * m;
              Arrays.fill(gc, cr + b0, cr + b1, 0f);
              for (int oo = 0; oo < o; oo++) {
                float wv = w[oo * k + kk];
                int gr = oo * m;
                for (int j = b0; j < b1; j++) {
                  float d = Math.max(-1f, Math.min(1f, wv - c[cr + j]));
                  gc[cr + j] += g[gr + j] * d;
                }
              }
            }
          }
        });
  }

  /** Ordinary input gradient: dC[k][m] = sum_o G[o][m] * W[o][k]. */
  static void multiplyPatchGradient(
      float[] c, int k, int m, float[] w, int o, float[] g, float[] gc, Workers workers) {
    workers.forRange(
        m,
        16,
        (long) k * m * o,
        (from, to) -> {
          for (int b0 = from; b0 < to; b0 += COLUMN_BLOCK) {
            int b1 = Math.min(to, b0 + COLUMN_BLOCK);
            for (int kk = 0; kk < k; kk++) {
              int cr = kk * m;
              Arrays.fill(gc, cr + b0, cr + b1, 0f);
              for (int oo = 0; oo < o; oo++) {
                float wv = w[oo * k + kk];
                int gr = oo * m;
                for (int j = b0; j < b1; j++) {
                  gc[cr + j] += g[gr + j] * wv;
                }
              }
            }
          }
        });
  }

  /**
   * dW[o][k] = sum_m G[o][m] * C^T[m][k], from the transposed patches so that the innermost loop
   * runs along k (an axpy the JIT vectorizes) instead of summing along m.
   */
  static void weightGradient(
      float[] ct, int k, int m, float[] g, int o, float[] gw, Workers workers) {
    workers.forRange(
        o,
        1,
        (long) k * m * o,
        (from, to) -> {
          Arrays.fill(gw, from * k, to * k, 0f);
          for (int mb = 0; mb < m; mb += ROW_BLOCK) {
            int me = Math.min(m, mb + ROW_BLOCK);
            for (int oo = from; oo < to; oo++) {
              int wr = oo * k;
              int gr = oo * m;
              for (int mm = mb; mm < me; mm++) {
                float gv = g[gr + mm];
                int tr = mm * k;
                for (int kk = 0; kk < k; kk++) {
                  gw[wr + kk] += gv * ct[tr + kk];
                }
              }
            }
          }
        });
  }

  /**
   * Turns sum_m G[o][m] * C[k][m] into the adder weight gradient (paper eq. 4, the full-precision
   * difference X - F rather than its sign): sum_m G[o][m] * (C[k][m] - W[o][k]).
   */
  static void adderWeightCorrection(float[] g, int m, float[] w, int o, int k, float[] gw) {
    for (int oo = 0; oo < o; oo++) {
      double s = 0;
      for (int j = 0; j < m; j++) {
        s += g[oo * m + j];
      }
      float sf = (float) s;
      for (int kk = 0; kk < k; kk++) {
        gw[oo * k + kk] -= w[oo * k + kk] * sf;
      }
    }
  }

  static float[] transposed(float[] c, int k, int m, Workers workers) {
    float[] ct = new float[k * m];
    transpose(c, k, m, ct, workers);
    return ct;
  }

  /** C (K x M) to C^T (M x K), in tiles so both sides stay in cache. */
  static void transpose(float[] c, int k, int m, float[] ct, Workers workers) {
    final int tile = 32;
    workers.forRange(
        m,
        tile,
        (long) k * m,
        (from, to) -> {
          for (int m0 = from; m0 < to; m0 += tile) {
            int m1 = Math.min(to, m0 + tile);
            for (int k0 = 0; k0 < k; k0 += tile) {
              int k1 = Math.min(k, k0 + tile);
              for (int mm = m0; mm < m1; mm++) {
                for (int kk = k0; kk < k1; kk++) {
                  ct[mm * k + kk] = c[kk * m + mm];
                }
              }
            }
          }
        });
  }
}
