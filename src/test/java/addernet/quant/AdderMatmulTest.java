package addernet.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import addernet.quant.PeOp;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AdderMatmulTest {
  @Test
  void integerProductIsTheNegativeL1DistanceOfRowAndColumn() {
    int[][] x = {{1, -2, 3}, {0, 5, -7}};
    int[][] w = {{2, 0}, {-2, 4}, {1, -1}};
    long[][] out = AdderMatmul.multiply(x, w);
    // row 0 vs col 0: |1-2| + |-2+2| + |3-1| = 3; vs col 1: 1 + 6 + 4 = 11
    // row 1 vs col 0: 2 + 7 + 8 = 17;             vs col 1: 0 + 1 + 6 = 7
    assertArrayEquals(new long[] {-3, -11}, out[0]);
    assertArrayEquals(new long[] {-17, -7}, out[1]);
  }

  @Test
  void floatAndIntegerFormsAgreeOnIntegerValuedInputs() {
    SplittableRandom rnd = new SplittableRandom(5);
    int[][] x = new int[4][9];
    int[][] w = new int[9][3];
    float[][] xf = new float[4][9];
    float[][] wf = new float[9][3];
    for (int i = 0; i < 4; i++) {
      for (int k = 0; k < 9; k++) {
        x[i][k] = rnd.nextInt(-100, 100);
        xf[i][k] = x[i][k];
      }
    }
    for (int k = 0; k < 9; k++) {
      for (int j = 0; j < 3; j++) {
        w[k][j] = rnd.nextInt(-100, 100);
        wf[k][j] = w[k][j];
      }
    }
    long[][] li = AdderMatmul.multiply(x, w);
    float[][] lf = AdderMatmul.multiply(xf, wf);
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 3; j++) {
        assertEquals(li[i][j], (long) lf[i][j]);
      }
    }
  }

  @Test
  void macReductionIsTheOrdinaryMatrixProduct() {
    int[][] x = {{1, 2}, {-3, 4}};
    int[][] w = {{5, -6}, {7, 8}};
    long[][] out = AdderMatmul.reduce(PeOp.MULTIPLY, x, w);
    assertArrayEquals(new long[] {19, 10}, out[0]);
    assertArrayEquals(new long[] {13, 50}, out[1]);
  }

  @Test
  void mismatchedInnerDimensionsAreRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> AdderMatmul.multiply(new int[][] {{1, 2}}, new int[][] {{1}}));
  }
}
