package addernet.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The add (contract section 9) and the average pool (section 10) against the formulas of the
 * contract's text, evaluated here independently: exact integers, floor division, then the clamp.
 */
class ResidualContractTest {
  /** floor(v / 2^n): the contract's {@code >>}, written as a division. */
  private static long floorShift(long v, int n) {
    return Math.floorDiv(v, 1L << n);
  }

  private static long clamp(long v, long lo, long hi) {
    return v < lo ? lo : v > hi ? hi : v;
  }

  @Test
  void addIsTheExactSumRoundedHalfUpByTheShiftThenReluAndClamp() {
    SplittableRandom rnd = new SplittableRandom(1);
    for (int bits : new int[] {4, 8, 12}) {
      int hi = (1 << (bits - 1)) - 1;
      for (int shift = 0; shift <= bits; shift++) {
        IntNode add = IntNode.add("a", 0, 1, 3, 5, 7, bits, shift);
        int[] a = new int[105];
        int[] b = new int[105];
        for (int i = 0; i < a.length; i++) {
          // Extremes included: the main branch signed, the shortcut either signed or non-negative.
          a[i] = i == 0 ? -hi - 1 : i == 1 ? hi : rnd.nextInt(-hi - 1, hi + 1);
          b[i] = i == 0 ? -hi - 1 : i == 1 ? hi : rnd.nextInt(-hi - 1, hi + 1);
        }
        int[] q = add.add(a, b);
        for (int i = 0; i < a.length; i++) {
          long v = (long) a[i] + b[i];
          long r = shift > 0 ? 1L << (shift - 1) : 0;
          assertEquals(clamp(floorShift(v + r, shift), 0, hi), q[i],
              "B=" + bits + " shift=" + shift + " a=" + a[i] + " b=" + b[i]);
        }
      }
    }
  }

  @Test
  void addOfHalfwayValuesRoundsUp() {
    IntNode add = IntNode.add("a", 0, 1, 1, 1, 4, 8, 2);
    // (1 + 1 + 2) >> 2 = 1: 2 / 4 = 0.5 rounds up; 5 / 4 -> 1; 6 / 4 = 1.5 -> 2; -3 + 0 -> 0 (ReLU).
    assertEquals(java.util.List.of(1, 1, 2, 0), java.util.Arrays.stream(
        add.add(new int[] {1, 4, 3, -3}, new int[] {1, 1, 3, 0})).boxed().toList());
  }

  @Test
  void powerOfTwoPoolIsTheMeanRoundedHalfUp() {
    SplittableRandom rnd = new SplittableRandom(2);
    int bits = 8;
    int k = 8; // 64 = 2^6: (sum + 32) >> 6
    Requant rq = IntNode.poolRequant(k, bits, 16, 6);
    IntNode pool = IntNode.avgPool("p", 0, 3, 16, 8, bits, k, rq);
    int[] x = new int[3 * 16 * 8];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextInt(0, 128);
    }
    int[] q = pool.avgPool(x);
    assertEquals(3 * 2 * 1, q.length);
    for (int c = 0; c < 3; c++) {
      for (int oy = 0; oy < 2; oy++) {
        long sum = 0;
        for (int y = oy * 8; y < oy * 8 + 8; y++) {
          for (int xx = 0; xx < 8; xx++) {
            sum += x[(c * 16 + y) * 8 + xx];
          }
        }
        assertEquals(floorShift(sum + 32, 6), q[c * 2 + oy], "channel " + c + " window " + oy);
      }
    }
  }

  @Test
  void otherPoolsAreTheMeanWithinHalfAStepForEverySum() {
    for (int k : new int[] {3, 5, 7}) {
      int bits = 8;
      int hi = (1 << (bits - 1)) - 1;
      Requant rq = IntNode.poolRequant(k, bits, 16, 6);
      IntNode pool = IntNode.avgPool("p", 0, 1, k, k, bits, k, rq);
      int area = k * k;
      // Every window sum the input can give, spread over the k x k values.
      for (int sum = 0; sum <= area * hi; sum++) {
        int[] x = new int[area];
        for (int i = 0; i < area; i++) {
          x[i] = sum / area + (i < sum % area ? 1 : 0);
        }
        int q = pool.avgPool(x)[0];
        double mean = (double) sum / area;
        assertTrue(Math.abs(q - mean) <= 0.5 + 1e-3, "k=" + k + " sum=" + sum + " gives " + q + ", mean " + mean);
        assertTrue(q >= 0 && q <= hi);
      }
    }
  }

  @Test
  void poolWindowThatDoesNotTileTheMapIsRefused() {
    Requant rq = IntNode.poolRequant(3, 8, 16, 6);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> IntNode.avgPool("p", 0, 1, 8, 8, 8, 3, rq));
    assertTrue(e.getMessage().contains("does not tile"), e.getMessage());
  }

  @Test
  void graphWhoseNodeReadsForwardOrASignedOutputIsRefused() {
    Requant relu = new Requant(0, new int[][] {{1}}, new long[] {0}, 0, 127);
    Requant signed = new Requant(0, new int[][] {{1}}, new long[] {0}, -32768, 32767);
    IntLayer a = new IntLayer("a", true, 1, 1, 1, 1, 1, 1, 0, 8, new int[] {0}, relu, false);
    IntLayer b = new IntLayer("b", true, 1, 1, 1, 1, 1, 1, 0, 8, new int[] {0}, signed, false);
    IllegalArgumentException forward = assertThrows(IllegalArgumentException.class, () -> IntNetwork.graph("g", 1, 1, 1,
        java.util.List.of(IntNode.layer(a, 1, 8), IntNode.layer(b, 0, 16)), 16));
    assertTrue(forward.getMessage().contains("reads node 1, not an earlier node"), forward.getMessage());
    IntLayer s8 = new IntLayer("s", true, 1, 1, 1, 1, 1, 1, 0, 8, new int[] {0},
        new Requant(0, new int[][] {{1}}, new long[] {0}, -128, 127), false);
    IllegalArgumentException fromSigned = assertThrows(IllegalArgumentException.class, () -> IntNetwork.graph("g", 1, 1,
        1, java.util.List.of(IntNode.layer(s8, -1, 8), IntNode.layer(b, 0, 16)), 16));
    assertTrue(fromSigned.getMessage().contains("only an add may"), fromSigned.getMessage());
  }
}
