package addernet.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The 2x2 pool against its definition: each output is the window's maximum and its gradient goes
 * to the first maximum in row-major order. Inputs drawn from a few integers, so ties are common,
 * and an odd-sized input (the last row and column dropped), wide and narrow rows.
 */
class MaxPoolTest {
  private static int check(Shape in, int batch, long seed) {
    Random r = new Random(seed);
    float[] values = new float[in.size() * batch];
    for (int i = 0; i < values.length; i++) {
      values[i] = r.nextInt(3) - 1;
    }
    MaxPool pool = new MaxPool(in, 2);
    Tensor x = new Tensor(in, batch, values);
    Tensor y = pool.forward(x, Mode.TRAIN, Workers.single());
    Shape os = pool.outputShape();
    float[] g = AdderFormulaTest.random(r, os.size() * batch, 1);
    Tensor gx = pool.backward(new Tensor(os, batch, g.clone()), true, Workers.single());
    float[] expected = new float[values.length];
    int ties = 0;
    for (int c = 0; c < in.channels(); c++) {
      for (int n = 0; n < batch; n++) {
        for (int oy = 0; oy < os.height(); oy++) {
          for (int ox = 0; ox < os.width(); ox++) {
            float best = Float.NEGATIVE_INFINITY;
            int at = -1;
            int count = 0;
            for (int dy = 0; dy < 2; dy++) {
              for (int dx = 0; dx < 2; dx++) {
                float v = x.get(c, n, 2 * oy + dy, 2 * ox + dx);
                if (v > best) {
                  best = v;
                  at = ((c * batch + n) * in.height() + 2 * oy + dy) * in.width() + 2 * ox + dx;
                  count = 1;
                } else if (v == best) {
                  count++;
                }
              }
            }
            ties += count > 1 ? 1 : 0;
            assertEquals(best, y.get(c, n, oy, ox), "max at c=" + c + " n=" + n + " y=" + oy + " x=" + ox);
            expected[at] += g[((c * batch + n) * os.height() + oy) * os.width() + ox];
          }
        }
      }
    }
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], gx.data()[i], "gradient at " + i);
    }
    return ties;
  }

  @Test
  void maximumAndFirstArgmaxInRowMajorOrderOnWideRows() {
    int ties = check(new Shape(3, 24, 24), 5, 1);
    assertEquals(true, ties > 100, "the inputs must tie often, tied " + ties);
  }

  @Test
  void oddSizesDropTheLastRowAndColumn() {
    int ties = check(new Shape(2, 7, 9), 3, 2) + check(new Shape(2, 5, 21), 2, 3);
    assertEquals(true, ties > 20, "the inputs must tie often, tied " + ties);
  }

  @Test
  void narrowRowsNearTheEndOfTheArray() {
    check(new Shape(4, 8, 8), 3, 4);
    check(new Shape(1, 2, 2), 1, 5);
  }
}
