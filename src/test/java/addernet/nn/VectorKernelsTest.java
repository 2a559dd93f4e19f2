package addernet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The blocked, tiled vector kernels against the formulas evaluated directly in double, on a patch
 * matrix wide enough for several column tiles, an odd number of column vectors, a scalar tail and
 * an output count that is not a multiple of 4; and the same bits whatever the thread split.
 */
class VectorKernelsTest {
  private static final int K = 7;
  private static final int M = 2 * 1024 + 3 * 8 + 5;
  private static final int O = 6;

  private final Random random = new Random(7);
  private final float[] c = AdderFormulaTest.random(random, K * M, 1);
  // Wide weights, as after training: many lie outside the inputs' range, where HardTanh saturates.
  private final float[] w = AdderFormulaTest.random(random, O * K, 3);
  private final float[] g = AdderFormulaTest.random(random, O * M, 1);

  private float[] forward(boolean adder, Workers workers) {
    float[] y = new float[O * M];
    VectorKernels.forward(adder, c, K, M, w, O, y, workers);
    return y;
  }

  private float[] patchGradient(boolean adder, Workers workers) {
    float[] gc = new float[K * M];
    VectorKernels.patchGradient(adder, c, K, M, w, O, g, gc, workers);
    return gc;
  }

  private float[] weightGradient(boolean adder, Workers workers) {
    float[] gw = new float[O * K];
    VectorKernels.weightGradient(adder, c, K, M, w, O, g, gw, workers);
    return gw;
  }

  @Test
  void adderForwardIsNegativeL1DistanceInEveryColumn() {
    float[] y = forward(true, Workers.single());
    for (int o = 0; o < O; o++) {
      for (int j = 0; j < M; j++) {
        double s = 0;
        for (int k = 0; k < K; k++) {
          s += Math.abs((double) c[k * M + j] - w[o * K + k]);
        }
        assertEquals(-s, y[o * M + j], 1e-5 * (1 + Math.abs(s)), "Y[" + o + "][" + j + "]");
      }
    }
  }

  @Test
  void adderPatchGradientIsHardTanhOfWeightMinusInput() {
    float[] gc = patchGradient(true, Workers.single());
    for (int k = 0; k < K; k++) {
      for (int j = 0; j < M; j++) {
        double s = 0;
        for (int o = 0; o < O; o++) {
          double d = (double) w[o * K + k] - c[k * M + j];
          s += g[o * M + j] * Math.max(-1, Math.min(1, d));
        }
        assertEquals(s, gc[k * M + j], 1e-5 * (1 + Math.abs(s)), "dC[" + k + "][" + j + "]");
      }
    }
  }

  /**
   * The kernel sums G C^T and subtracts W * sum G afterwards; here the sum is taken term by term,
   * as the paper writes it, and G does not sum to zero (as it nearly does behind a batch norm), so
   * the correction is exercised at full size.
   */
  @Test
  void adderWeightGradientIsInputMinusWeightSummedOverColumns() {
    float[] gw = weightGradient(true, Workers.single());
    float[] block = new float[O * K];
    VectorKernels.weightGradientColumns(true, c, 0, M, K, M, w, O, g, 0, M, block, 0);
    for (int o = 0; o < O; o++) {
      for (int k = 0; k < K; k++) {
        double s = 0;
        double size = 0;
        for (int j = 0; j < M; j++) {
          double term = g[o * M + j] * ((double) c[k * M + j] - w[o * K + k]);
          s += term;
          size += Math.abs(term);
        }
        assertEquals(s, gw[o * K + k], 1e-6 * size, "dW[" + o + "][" + k + "]");
        assertEquals(gw[o * K + k], block[o * K + k], 0f, "columns form, dW[" + o + "][" + k + "]");
      }
    }
  }

  @Test
  void twinWeightGradientIsTheProductOfGradientAndPatches() {
    float[] gw = weightGradient(false, Workers.single());
    for (int o = 0; o < O; o++) {
      for (int k = 0; k < K; k++) {
        double s = 0;
        double size = 0;
        for (int j = 0; j < M; j++) {
          s += (double) g[o * M + j] * c[k * M + j];
          size += Math.abs((double) g[o * M + j] * c[k * M + j]);
        }
        assertEquals(s, gw[o * K + k], 1e-6 * size, "dW[" + o + "][" + k + "]");
      }
    }
  }

  @Test
  void twinKernelsAreTheMatrixProducts() {
    float[] y = forward(false, Workers.single());
    float[] gc = patchGradient(false, Workers.single());
    for (int j = 0; j < M; j++) {
      for (int o = 0; o < O; o++) {
        double s = 0;
        for (int k = 0; k < K; k++) {
          s += (double) c[k * M + j] * w[o * K + k];
        }
        assertEquals(s, y[o * M + j], 1e-5 * (1 + Math.abs(s)), "Y[" + o + "][" + j + "]");
      }
      for (int k = 0; k < K; k++) {
        double s = 0;
        for (int o = 0; o < O; o++) {
          s += (double) g[o * M + j] * w[o * K + k];
        }
        assertEquals(s, gc[k * M + j], 1e-5 * (1 + Math.abs(s)), "dC[" + k + "][" + j + "]");
      }
    }
  }

  @Test
  void everyThreadSplitGivesTheSameBits() {
    try (Workers two = new Workers(2); Workers three = new Workers(3)) {
      for (boolean adder : new boolean[] {true, false}) {
        float[] y = forward(adder, Workers.single());
        float[] gc = patchGradient(adder, Workers.single());
        float[] gw = weightGradient(adder, Workers.single());
        for (Workers split : new Workers[] {two, three}) {
          assertArrayEquals(gw, weightGradient(adder, split),
              "weight gradient, adder=" + adder + ", " + split.threads() + " threads");
          assertArrayEquals(y, forward(adder, split), "forward, adder=" + adder + ", " + split.threads() + " threads");
          assertArrayEquals(gc, patchGradient(adder, split),
              "input gradient, adder=" + adder + ", " + split.threads() + " threads");
        }
      }
    }
  }
}
