package addernet.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Pins the adder layer to the AdderNet paper's formulas, evaluated directly on small tensors. */
class AdderFormulaTest {
  private static final Shape IN = new Shape(3, 7, 6);
  private static final int OUT = 5;
  private static final int K = 3;
  private static final int STRIDE = 2;
  private static final int PAD = 1;
  private static final int BATCH = 3;

  static float[] random(Random r, int n, double scale) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextGaussian() * scale);
    }
    return a;
  }

  /** X at (c, n, y, x) with zero padding outside the image. */
  private static double x(Tensor t, int c, int n, int y, int x) {
    if (y < 0 || x < 0 || y >= t.shape().height() || x >= t.shape().width()) {
      return 0;
    }
    return t.get(c, n, y, x);
  }

  private static double f(Conv2d conv, int o, int c, int ky, int kx) {
    return conv.weight().value()[((o * IN.channels() + c) * K + ky) * K + kx];
  }

  private Conv2d layer(Random r) {
    Conv2d conv = new Conv2d("t", Operation.ADDER, IN, OUT, K, STRIDE, PAD);
    System.arraycopy(random(r, conv.weight().value().length, 1), 0, conv.weight().value(), 0,
        conv.weight().value().length);
    return conv;
  }

  @Test
  void forwardIsNegativeSumOfAbsoluteDifferencesWithStrideAndPadding() {
    Random r = new Random(1);
    Conv2d conv = layer(r);
    Tensor x = new Tensor(IN, BATCH, random(r, IN.size() * BATCH, 1));
    Tensor y = conv.forward(x, Mode.EVAL, Workers.single());
    Shape os = conv.outputShape();
    assertEquals(new Shape(OUT, 4, 3), os);
    for (int o = 0; o < OUT; o++) {
      for (int n = 0; n < BATCH; n++) {
        for (int oy = 0; oy < os.height(); oy++) {
          for (int ox = 0; ox < os.width(); ox++) {
            double s = 0;
            for (int c = 0; c < IN.channels(); c++) {
              for (int ky = 0; ky < K; ky++) {
                for (int kx = 0; kx < K; kx++) {
                  s += Math.abs(x(x, c, n, oy * STRIDE + ky - PAD, ox * STRIDE + kx - PAD) - f(conv, o, c, ky, kx));
                }
              }
            }
            assertEquals(-s, y.get(o, n, oy, ox), 1e-4, "Y at o=" + o + " n=" + n + " y=" + oy + " x=" + ox);
          }
        }
      }
    }
  }

  @Test
  void weightGradientIsFullPrecisionDifferenceOfInputAndWeight() {
    Random r = new Random(2);
    Conv2d conv = layer(r);
    Tensor x = new Tensor(IN, BATCH, random(r, IN.size() * BATCH, 1));
    conv.forward(x, Mode.TRAIN, Workers.single());
    Shape os = conv.outputShape();
    Tensor g = new Tensor(os, BATCH, random(r, os.size() * BATCH, 1));
    conv.backward(g, true, Workers.single());
    float[] gw = conv.weight().grad();
    for (int o = 0; o < OUT; o++) {
      for (int c = 0; c < IN.channels(); c++) {
        for (int ky = 0; ky < K; ky++) {
          for (int kx = 0; kx < K; kx++) {
            double s = 0;
            for (int n = 0; n < BATCH; n++) {
              for (int oy = 0; oy < os.height(); oy++) {
                for (int ox = 0; ox < os.width(); ox++) {
                  // dY/dF = X - F (paper eq. 4), not sgn(X - F).
                  s += g.get(o, n, oy, ox)
                      * (x(x, c, n, oy * STRIDE + ky - PAD, ox * STRIDE + kx - PAD) - f(conv, o, c, ky, kx));
                }
              }
            }
            assertEquals(s, gw[((o * IN.channels() + c) * K + ky) * K + kx], 1e-4);
          }
        }
      }
    }
  }

  @Test
  void inputGradientIsHardTanhOfWeightMinusInput() {
    Random r = new Random(3);
    Conv2d conv = layer(r);
    // Inputs spread wide so that many differences fall outside [-1, 1] and get clipped.
    Tensor x = new Tensor(IN, BATCH, random(r, IN.size() * BATCH, 2));
    conv.forward(x, Mode.TRAIN, Workers.single());
    Shape os = conv.outputShape();
    Tensor g = new Tensor(os, BATCH, random(r, os.size() * BATCH, 1));
    Tensor gx = conv.backward(g, true, Workers.single());
    double[] expected = new double[IN.size() * BATCH];
    int clipped = 0;
    for (int o = 0; o < OUT; o++) {
      for (int n = 0; n < BATCH; n++) {
        for (int oy = 0; oy < os.height(); oy++) {
          for (int ox = 0; ox < os.width(); ox++) {
            for (int c = 0; c < IN.channels(); c++) {
              for (int ky = 0; ky < K; ky++) {
                for (int kx = 0; kx < K; kx++) {
                  int iy = oy * STRIDE + ky - PAD;
                  int ix = ox * STRIDE + kx - PAD;
                  if (iy < 0 || ix < 0 || iy >= IN.height() || ix >= IN.width()) {
                    continue;
                  }
                  double d = f(conv, o, c, ky, kx) - x(x, c, n, iy, ix);
                  if (Math.abs(d) > 1) {
                    clipped++;
                  }
                  double hardTanh = Math.max(-1, Math.min(1, d));
                  expected[((c * BATCH + n) * IN.height() + iy) * IN.width() + ix] += g.get(o, n, oy, ox) * hardTanh;
                }
              }
            }
          }
        }
      }
    }
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], gx.data()[i], 1e-4, "dX at " + i);
    }
    assertEquals(true, clipped > 100, "the test must exercise clipping, clipped only " + clipped);
  }

  @Test
  void firstLayerSkipsInputGradient() {
    Random r = new Random(4);
    Conv2d conv = layer(r);
    conv.forward(new Tensor(IN, BATCH, random(r, IN.size() * BATCH, 1)), Mode.TRAIN, Workers.single());
    Shape os = conv.outputShape();
    assertNull(conv.backward(new Tensor(os, BATCH, random(r, os.size() * BATCH, 1)), false, Workers.single()));
  }

  @Test
  void denseAdderFollowsTheSameThreeFormulas() {
    Random r = new Random(5);
    int in = 7;
    int out = 4;
    int batch = 5;
    Dense d = new Dense("t", Operation.ADDER, in, out);
    float[] w = d.weight().value();
    System.arraycopy(random(r, w.length, 1), 0, w, 0, w.length);
    Tensor x = new Tensor(new Shape(in, 1, 1), batch, random(r, in * batch, 1.5));
    Tensor y = d.forward(x, Mode.TRAIN, Workers.single());
    for (int o = 0; o < out; o++) {
      for (int n = 0; n < batch; n++) {
        double s = 0;
        for (int k = 0; k < in; k++) {
          s += Math.abs(x.get(k, n, 0, 0) - w[o * in + k]);
        }
        assertEquals(-s, y.get(o, n, 0, 0), 1e-5);
      }
    }
    Tensor g = new Tensor(new Shape(out, 1, 1), batch, random(r, out * batch, 1));
    Tensor gx = d.backward(g, true, Workers.single());
    for (int o = 0; o < out; o++) {
      for (int k = 0; k < in; k++) {
        double s = 0;
        for (int n = 0; n < batch; n++) {
          s += g.get(o, n, 0, 0) * (x.get(k, n, 0, 0) - w[o * in + k]);
        }
        assertEquals(s, d.weight().grad()[o * in + k], 1e-5);
      }
    }
    for (int k = 0; k < in; k++) {
      for (int n = 0; n < batch; n++) {
        double s = 0;
        for (int o = 0; o < out; o++) {
          s += g.get(o, n, 0, 0) * Math.max(-1, Math.min(1, w[o * in + k] - x.get(k, n, 0, 0)));
        }
        assertEquals(s, gx.get(k, n, 0, 0), 1e-5);
      }
    }
  }

  @Test
  void vectorAndPlainKernelsAgreeOnOddSizes() {
    Random r = new Random(6);
    int k = 27;
    int m = 203;
    int o = 7;
    float[] c = random(r, k * m, 1.5);
    float[] w = random(r, o * k, 1);
    float[] g = random(r, o * m, 1);
    for (boolean adder : new boolean[] {true, false}) {
      Operation op = adder ? Operation.ADDER : Operation.MULTIPLY;
      Workers two = new Workers(2);
      float[] yv = new float[o * m];
      float[] yp = new float[o * m];
      VectorKernels.forward(adder, c, k, m, w, o, yv, two);
      if (adder) {
        PatchKernels.adderForward(c, k, m, w, o, yp, Workers.single());
      } else {
        PatchKernels.multiplyForward(c, k, m, w, o, yp, Workers.single());
      }
      assertArrayClose(yp, yv, 1e-4f, op + " forward");
      float[] gv = new float[k * m];
      float[] gp = new float[k * m];
      VectorKernels.patchGradient(adder, c, k, m, w, o, g, gv, two);
      if (adder) {
        PatchKernels.adderPatchGradient(c, k, m, w, o, g, gp, Workers.single());
      } else {
        PatchKernels.multiplyPatchGradient(c, k, m, w, o, g, gp, Workers.single());
      }
      assertArrayClose(gp, gv, 1e-4f, op + " input gradient");
      float[] wv = new float[o * k];
      float[] wp = new float[o * k];
      VectorKernels.weightGradient(adder, c, k, m, w, o, g, wv, two);
      PatchKernels.weightGradient(PatchKernels.transposed(c, k, m, Workers.single()), k, m, g, o, wp, Workers.single());
      if (adder) {
        PatchKernels.adderWeightCorrection(g, m, w, o, k, wp);
      }
      assertArrayClose(wp, wv, 1e-3f, op + " weight gradient");
      two.close();
    }
  }

  static void assertArrayClose(float[] expected, float[] actual, float tol, String what) {
    assertEquals(expected.length, actual.length, what + " length");
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], tol * Math.max(1, Math.abs(expected[i])), what + " at " + i);
    }
  }
}
