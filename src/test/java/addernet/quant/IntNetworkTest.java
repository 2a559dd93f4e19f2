package addernet.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.quant.PeOp;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class IntNetworkTest {
  /** A requantization that passes the accumulator through unchanged (for checking products). */
  static Requant identity(int channels) {
    int[][] terms = new int[channels][];
    for (int c = 0; c < channels; c++) {
      terms[c] = new int[] {1};
    }
    return new Requant(0, terms, new long[channels], Integer.MIN_VALUE, Integer.MAX_VALUE);
  }

  static int[] randomInts(SplittableRandom rnd, int n, int bits) {
    int[] v = new int[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextInt(-(1 << (bits - 1)), 1 << (bits - 1));
    }
    return v;
  }

  @ParameterizedTest
  @EnumSource(PeOp.class)
  void convolutionEqualsThePeReductionOfItsIm2colMatrix(PeOp op) {
    SplittableRandom rnd = new SplittableRandom(4);
    int cin = 3, h = 7, w = 6, cout = 4, k = 3, stride = 2, pad = 1;
    IntLayer l = new IntLayer("c", op, false, cin, h, w, cout, k, stride, pad, 6,
        randomInts(rnd, cout * cin * k * k, 6), identity(cout), false);
    int[] in = randomInts(rnd, cin * h * w, 6);
    int[] out = IntNetwork.forward(l, in);

    int oh = l.convOutHeight(), ow = l.convOutWidth();
    int[][] x = new int[oh * ow][cin * k * k];
    for (int oy = 0; oy < oh; oy++) {
      for (int ox = 0; ox < ow; ox++) {
        for (int c = 0; c < cin; c++) {
          for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
              int iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
              x[oy * ow + ox][(c * k + ky) * k + kx] =
                  iy < 0 || iy >= h || ix < 0 || ix >= w ? 0 : in[(c * h + iy) * w + ix];
            }
          }
        }
      }
    }
    int[][] wm = new int[cin * k * k][cout];
    for (int t = 0; t < cout; t++) {
      for (int q = 0; q < cin * k * k; q++) {
        wm[q][t] = l.weights()[t * cin * k * k + q];
      }
    }
    long[][] ref = AdderMatmul.reduce(op, x, wm);
    for (int t = 0; t < cout; t++) {
      for (int p = 0; p < oh * ow; p++) {
        assertEquals(ref[p][t], out[t * oh * ow + p], "t=" + t + " p=" + p);
      }
    }
  }

  @Test
  void maxPoolTakesTheLargestOfEachTwoByTwoWindowAndDropsAnOddEdge() {
    int[] x = {
      1, 5, 2, 0, 9,
      3, 4, 8, 7, 9,
      6, 6, 6, 6, 9,
    };
    assertArrayEquals(new int[] {5, 8}, IntNetwork.maxPool(x, 1, 3, 5));
  }

  @Test
  void networkTraceHasTheInputAndEveryLayerAndEndsInTheLogits() {
    SplittableRandom rnd = new SplittableRandom(8);
    IntLayer conv = new IntLayer("conv", false, 1, 6, 6, 2, 3, 1, 0, 8,
        randomInts(rnd, 2 * 9, 8),
        Requant.fromAffine(new double[] {0.05, 0.04}, new double[] {60, 50}, 12, 4, 0, 127), true);
    IntLayer fc = new IntLayer("fc", true, 2, 2, 2, 3, 2, 1, 0, 8, randomInts(rnd, 3 * 8, 8),
        Requant.fromAffine(new double[] {0.5, 0.25, 1}, new double[] {0, 1, 2}, 12, 4, -32768, 32767),
        false);
    IntNetwork net = new IntNetwork("tiny", 1, 6, 6, List.of(conv, fc), 16);
    int[] pixels = new int[36];
    for (int i = 0; i < 36; i++) {
      pixels[i] = rnd.nextInt(256);
    }
    List<int[]> trace = net.trace(pixels);
    assertEquals(3, trace.size());
    assertEquals(pixels[7] >> 1, trace.get(0)[7]);
    assertEquals(8, trace.get(1).length);
    assertArrayEquals(trace.get(2), net.logits(pixels));
    assertEquals(3, net.classes());
    assertTrue(java.util.Arrays.stream(trace.get(1)).allMatch(v -> v >= 0 && v <= 127));
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 5, 8, 9, 12})
  void macAccumulatorWidthIsReachedByTheBrightestPixelAgainstTheMostNegativeWeight(int bits) {
    int k = 5;
    int[] weights = new int[k * k];
    java.util.Arrays.fill(weights, -(1 << (bits - 1)));
    IntLayer conv = new IntLayer("conv", PeOp.MULTIPLY, false, 1, 5, 5, 1, k, 1, 0, bits, weights,
        identity(1), false);
    IntNetwork net = new IntNetwork("worst", 1, 5, 5, List.of(conv), 16);
    int[] pixels = new int[25];
    java.util.Arrays.fill(pixels, 255);
    long[] acc = new long[1];
    IntNetwork.forward(conv, net.trace(pixels).get(0), (t, a) -> acc[0] = a);
    int accBits = net.accBits(0);
    long x = 255 >> net.inputShift();
    assertEquals(-25 * x * (1L << (bits - 1)), acc[0]);
    assertTrue(acc[0] >= -(1L << (accBits - 1)), "outside " + accBits + " bits: " + acc[0]);
    assertTrue(acc[0] < -(1L << (accBits - 2)), "a narrower accumulator would hold " + acc[0]);
  }

  @Test
  void inconsistentShapesAreNamedByLayer() {
    Requant relu = new Requant(0, new int[][] {{1}, {1}}, new long[2], 0, 127);
    IntLayer a = new IntLayer("first", false, 1, 6, 6, 2, 3, 1, 0, 8, new int[18], relu, false);
    IntLayer b = new IntLayer("second", true, 3, 4, 4, 1, 4, 1, 0, 8, new int[48], identity(1), false);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new IntNetwork("bad", 1, 6, 6, List.of(a, b), 16));
    assertTrue(e.getMessage().startsWith("second: expects input 3x4x4"), e.getMessage());
  }
}
