package addernet.gen;

import addernet.quant.PeOp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.io.UserError;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

class AccumulatorBoundTest {
  /** The narrowest two's-complement width holding every value in [lo, hi], found by search. */
  private static int widthBySearch(BigInteger lo, BigInteger hi) {
    for (int n = 1; ; n++) {
      BigInteger min = BigInteger.ONE.shiftLeft(n - 1).negate();
      BigInteger max = BigInteger.ONE.shiftLeft(n - 1).subtract(BigInteger.ONE);
      if (min.compareTo(lo) <= 0 && max.compareTo(hi) >= 0) {
        return n;
      }
    }
  }

  @Test
  void adderAccumulatorIsTheNarrowestThatHoldsMinusKTimesTheLargestDistance() {
    for (int bits = 2; bits <= 16; bits++) {
      for (long k : new long[] {1, 2, 3, 7, 25, 150, 400, 1024, 4096, 100_000, 1L << 24}) {
        BigInteger worst =
            BigInteger.valueOf(k).multiply(BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE));
        int expected = widthBySearch(worst.negate(), BigInteger.ZERO);
        assertEquals(expected, PeOp.ADDER.accumulatorBits(bits, k), "bits=" + bits + " K=" + k);
      }
    }
  }

  @Test
  void macAccumulatorHoldsThePositiveProductOfTwoMostNegativeOperands() {
    for (int bits = 2; bits <= 16; bits++) {
      for (long k : new long[] {1, 2, 3, 25, 400, 4096, 1L << 24}) {
        BigInteger step = BigInteger.ONE.shiftLeft(2 * bits - 2);
        BigInteger max = BigInteger.valueOf(k).multiply(step);
        BigInteger minStep =
            BigInteger.ONE.shiftLeft(bits - 1).negate()
                .multiply(BigInteger.ONE.shiftLeft(bits - 1).subtract(BigInteger.ONE));
        int expected = widthBySearch(BigInteger.valueOf(k).multiply(minStep), max);
        assertEquals(expected, PeOp.MULTIPLY.accumulatorBits(bits, k), "bits=" + bits + " K=" + k);
      }
    }
  }

  @Test
  void macAccumulatorForReluActivationsHoldsKTimesTheLargestPositiveTimesTheMostNegative() {
    for (int bits = 2; bits <= 16; bits++) {
      long hi = (1L << (bits - 1)) - 1;
      for (long k : new long[] {1, 2, 3, 25, 256, 4096, 1L << 24}) {
        // x in [0, 2^(B-1) - 1], w signed: the sum runs from K * hi * -2^(B-1) to K * hi^2.
        BigInteger kk = BigInteger.valueOf(k);
        int expected = widthBySearch(
            kk.multiply(BigInteger.valueOf(hi * -(hi + 1))), kk.multiply(BigInteger.valueOf(hi * hi)));
        assertEquals(expected, PeOp.multiplyAccumulatorBits(k, 0, hi, -hi - 1, hi), "bits=" + bits + " K=" + k);
      }
    }
    // LeNet-5's largest reduction at 8 bits: one bit narrower than for any signed operands.
    assertEquals(23, PeOp.multiplyAccumulatorBits(256, 0, 127, -128, 127));
    assertEquals(24, PeOp.MULTIPLY.accumulatorBits(8, 256));
  }

  @Test
  void macAccumulatorOverTheFullSignedRangeIsTheArraysBound() {
    for (int bits = 2; bits <= 16; bits++) {
      long lo = -(1L << (bits - 1));
      long hi = -lo - 1;
      for (long k : new long[] {1, 7, 400, 1L << 20}) {
        assertEquals(PeOp.MULTIPLY.accumulatorBits(bits, k), PeOp.multiplyAccumulatorBits(k, lo, hi, lo, hi));
      }
    }
  }

  @Test
  void stepMatchesTheDefinitionOfEachOperation() {
    assertEquals(10 - 7, PeOp.ADDER.step(10, -3, 4));
    assertEquals(-255, PeOp.ADDER.step(0, -128, 127));
    assertEquals(10 - 12, PeOp.MULTIPLY.step(10, -3, 4));
    assertEquals(16384, PeOp.MULTIPLY.step(0, -128, -128));
  }

  @Test
  void configRefusesAnAccumulatorTooNarrowForMaxK() {
    int needed = PeOp.ADDER.accumulatorBits(8, 400);
    UserError e =
        assertThrows(UserError.class, () -> new ArrayConfig(8, 8, 8, needed - 1, 400, PeOp.ADDER));
    assertTrue(e.getMessage().contains("too narrow"), e.getMessage());
    assertTrue(e.getMessage().contains(Integer.toString(needed)), e.getMessage());
    assertEquals(needed, new ArrayConfig(8, 8, 8, needed, 400, PeOp.ADDER).accBits());
  }

  @Test
  void configRefusesSizesAndWidthsOutsideTheirRanges() {
    assertThrows(UserError.class, () -> ArrayConfig.derived(0, 8, 8, 16, PeOp.ADDER));
    assertThrows(UserError.class, () -> ArrayConfig.derived(8, -1, 8, 16, PeOp.ADDER));
    assertThrows(UserError.class, () -> ArrayConfig.derived(8, 8, 1, 16, PeOp.ADDER));
    assertThrows(UserError.class, () -> ArrayConfig.derived(8, 8, 17, 16, PeOp.ADDER));
    assertThrows(UserError.class, () -> ArrayConfig.derived(8, 8, 8, 0, PeOp.ADDER));
    assertThrows(
        UserError.class, () -> ArrayConfig.derived(8, 8, 8, ArrayConfig.MAX_K + 1, PeOp.ADDER));
  }
}
