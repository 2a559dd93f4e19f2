package addernet.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RequantTest {
  private static long valueOf(int[] digits) {
    long m = 0;
    for (int t : digits) {
      m += Long.signum(t) * (1L << (Math.abs(t) - 1));
    }
    return m;
  }

  @Test
  void signedDigitsReconstructTheMultiplierExactlyWhenNoneAreCut() {
    SplittableRandom rnd = new SplittableRandom(2);
    for (int n = 0; n < 2000; n++) {
      long m = rnd.nextLong(-(1L << 30), 1L << 30);
      int[] d = Requant.signedDigits(m, 64);
      assertEquals(m, valueOf(d), "m=" + m);
      // Non-adjacent form: no two digits at neighbouring exponents, so at most ceil(31/2)+1.
      for (int i = 1; i < d.length; i++) {
        assertTrue(Math.abs(d[i - 1]) - Math.abs(d[i]) >= 2, "adjacent digits for m=" + m);
      }
    }
  }

  @Test
  void cuttingDigitsKeepsTheMostSignificantOnes() {
    int[] d = Requant.signedDigits(0b1011_0110_1101L, 2);
    assertEquals(2, d.length);
    long full = 0b1011_0110_1101L;
    assertTrue(Math.abs(full - valueOf(d)) < full / 4, "two digits should be within 25%");
  }

  @Test
  void applyIsFloorOfShiftedSumWithTheHalfInTheBias() {
    // a = 3/8, b = 0: q = round(3 acc / 8), half rounded up.
    Requant r = Requant.fromAffine(new double[] {0.375}, new double[] {0}, 8, 8, -1000, 1000);
    for (long acc = -50; acc <= 50; acc++) {
      long expect = Math.floorDiv(3 * acc * (1L << r.shift()) / 8 + (1L << (r.shift() - 1)), 1L << r.shift());
      assertEquals(expect, r.apply(0, acc), "acc=" + acc);
      assertEquals(Math.floor(0.375 * acc + 0.5), r.apply(0, acc), 1e-9, "acc=" + acc);
    }
  }

  @Test
  void applyClampsToTheLayerRange() {
    Requant r = Requant.fromAffine(new double[] {-0.5}, new double[] {10}, 10, 4, 0, 127);
    assertEquals(0, r.apply(0, 1000)); // -500 + 10 clamps at 0 (ReLU)
    assertEquals(127, r.apply(0, -1000)); // 510 clamps at 127
    assertEquals(20, r.apply(0, -20)); // 10 + 10
  }

  @Test
  void affineMapIsApproximatedWithinOneStepForTypicalBatchNormConstants() {
    SplittableRandom rnd = new SplittableRandom(9);
    double[] a = new double[64];
    double[] b = new double[64];
    for (int c = 0; c < a.length; c++) {
      a[c] = (rnd.nextDouble() - 0.3) * 0.01;
      b[c] = (rnd.nextDouble() - 0.5) * 100;
    }
    Requant r = Requant.fromAffine(a, b, 16, 6, -100_000, 100_000);
    for (int c = 0; c < a.length; c++) {
      for (long acc = -40_000; acc <= 0; acc += 997) {
        double ideal = a[c] * acc + b[c];
        assertEquals(ideal, r.apply(c, acc), 1.01, "c=" + c + " acc=" + acc);
      }
    }
  }

  @Test
  void malformedConstantsAreRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> new Requant(3, new int[][] {{0}}, new long[] {0}, 0, 1));
    assertThrows(IllegalArgumentException.class,
        () -> new Requant(3, new int[][] {{1}}, new long[] {0, 1}, 0, 1));
    assertThrows(IllegalArgumentException.class,
        () -> new Requant(3, new int[][] {{1}}, new long[] {0}, 2, 1));
    assertArrayEquals(new long[] {4}, new Requant(3, new int[][] {{1}}, new long[] {4}, 0, 1).bias());
  }
}
