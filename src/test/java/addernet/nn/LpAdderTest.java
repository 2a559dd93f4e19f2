package addernet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The l_p forward of an adder layer (l_p annealing) against its formula and the plain layer. */
class LpAdderTest {
  private static final Shape IN = new Shape(2, 7, 7);
  private static final int OUT = 5;
  private static final int K = 3;
  // 5 x 5 outputs x 3 images = 75 columns: not a multiple of the 8 vector lanes.
  private static final int BATCH = 3;

  private static Conv2d conv(Random r) {
    Conv2d c = new Conv2d("t", Operation.ADDER, IN, OUT, K, 1, 0);
    float[] w = AdderFormulaTest.random(r, c.weight().value().length, 1);
    System.arraycopy(w, 0, c.weight().value(), 0, w.length);
    return c;
  }

  @Test
  void forwardIsNegativeSumOfPthPowersOfDistances() {
    Random r = new Random(3);
    Conv2d conv = conv(r);
    Tensor x = new Tensor(IN, BATCH, AdderFormulaTest.random(r, IN.size() * BATCH, 1));
    double p = 1.6;
    conv.setExponent(p);
    Tensor y = conv.forward(x, Mode.EVAL, Workers.single());
    float[] w = conv.weight().value();
    for (int n = 0; n < BATCH; n++) {
      for (int o = 0; o < OUT; o++) {
        for (int oy = 0; oy < 5; oy++) {
          for (int ox = 0; ox < 5; ox++) {
            double s = 0;
            for (int c = 0; c < IN.channels(); c++) {
              for (int ky = 0; ky < K; ky++) {
                for (int kx = 0; kx < K; kx++) {
                  double d = x.get(c, n, oy + ky, ox + kx) - w[((o * IN.channels() + c) * K + ky) * K + kx];
                  s += Math.pow(Math.abs(d), p);
                }
              }
            }
            assertEquals(-s, y.get(o, n, oy, ox), 1e-4 * Math.max(1, s), "o " + o + " n " + n);
          }
        }
      }
    }
  }

  @Test
  void annealingEndIsThePlainAdderLayerForwardAndBackward() {
    Random r = new Random(5);
    Conv2d annealed = conv(r);
    Conv2d plain = new Conv2d("t", Operation.ADDER, IN, OUT, K, 1, 0);
    System.arraycopy(annealed.weight().value(), 0, plain.weight().value(), 0, plain.weight().value().length);
    Tensor x = new Tensor(IN, BATCH, AdderFormulaTest.random(r, IN.size() * BATCH, 1));
    Tensor g = new Tensor(new Shape(OUT, 5, 5), BATCH, AdderFormulaTest.random(r, OUT * 25 * BATCH, 1));
    annealed.setExponent(1.7);
    annealed.forward(x, Mode.TRAIN, Workers.single());
    annealed.setExponent(1);
    float[] ya = annealed.forward(x, Mode.TRAIN, Workers.single()).data().clone();
    float[] yp = plain.forward(x, Mode.TRAIN, Workers.single()).data().clone();
    assertArrayEquals(yp, ya);
    float[] gxa = annealed.backward(g, true, Workers.single()).data().clone();
    float[] gxp = plain.backward(g, true, Workers.single()).data().clone();
    assertArrayEquals(gxp, gxa);
    assertArrayEquals(plain.weight().grad(), annealed.weight().grad());
  }

  @Test
  void backwardKeepsTheAdderRulesWhateverP() {
    Random r = new Random(6);
    Conv2d a = conv(r);
    Tensor x = new Tensor(IN, BATCH, AdderFormulaTest.random(r, IN.size() * BATCH, 1));
    Tensor g = new Tensor(new Shape(OUT, 5, 5), BATCH, AdderFormulaTest.random(r, OUT * 25 * BATCH, 1));
    a.forward(x, Mode.TRAIN, Workers.single());
    float[] gx1 = a.backward(g, true, Workers.single()).data().clone();
    float[] gw1 = a.weight().grad().clone();
    a.setExponent(2);
    a.forward(x, Mode.TRAIN, Workers.single());
    float[] gx2 = a.backward(g, true, Workers.single()).data().clone();
    // Same bits: X - F and HardTanh(F - X) do not depend on p (the forward alone anneals).
    assertArrayEquals(gx1, gx2);
    assertArrayEquals(gw1, a.weight().grad());
  }

  @Test
  void threadCountDoesNotChangeTheBits() {
    Random r = new Random(7);
    Dense one = new Dense("d", Operation.ADDER, 37, 6);
    Dense two = new Dense("d", Operation.ADDER, 37, 6);
    float[] w = AdderFormulaTest.random(r, 37 * 6, 1);
    System.arraycopy(w, 0, one.weight().value(), 0, w.length);
    System.arraycopy(w, 0, two.weight().value(), 0, w.length);
    one.setExponent(1.3);
    two.setExponent(1.3);
    Tensor x = new Tensor(new Shape(37, 1, 1), 203, AdderFormulaTest.random(r, 37 * 203, 2));
    float[] y1 = one.forward(x, Mode.EVAL, Workers.single()).data().clone();
    try (Workers ws = new Workers(2)) {
      assertArrayEquals(y1, two.forward(x, Mode.EVAL, ws).data());
    }
  }

  @Test
  void exponentOutsideOneToTwoOrOnAMultiplyLayerIsRefused() {
    Conv2d c = new Conv2d("t", Operation.ADDER, IN, OUT, K, 1, 0);
    assertThrows(IllegalArgumentException.class, () -> c.setExponent(0.5));
    assertThrows(IllegalArgumentException.class, () -> c.setExponent(2.5));
    Dense m = new Dense("d", Operation.MULTIPLY, 4, 2);
    assertThrows(IllegalArgumentException.class, () -> m.setExponent(1.5));
  }

  @Test
  void pthPowerIsAccurateFromTinyToLargeDistances() {
    int cols = 4000;
    float[] x = new float[cols];
    for (int j = 0; j < cols; j++) {
      x[j] = (float) (Math.pow(10, -7 + 9.0 * j / cols) * (j % 2 == 0 ? 1 : -1));
    }
    x[17] = 0f;
    for (double p : new double[] {1.0001, 1.37, 1.5, 1.99, 2.0}) {
      Dense d = new Dense("d", Operation.ADDER, 1, 1);
      d.weight().value()[0] = 0f;
      d.setExponent(p);
      float[] y = d.forward(new Tensor(new Shape(1, 1, 1), cols, x), Mode.EVAL, Workers.single()).data();
      for (int j = 0; j < cols; j++) {
        double want = Math.pow(Math.abs(x[j]), p);
        assertEquals(-want, y[j], 1e-5 * want + 1e-30, "p " + p + " x " + x[j]);
      }
    }
  }
}
