package addernet.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Checks every ordinary layer's hand-written backward pass against central finite differences of
 * L = sum(output * R) for a fixed random R, in double-checked float arithmetic.
 */
class FiniteDifferenceTest {
  private static final double EPS = 1e-2;

  private static float[] random(Random r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) r.nextGaussian();
    }
    return a;
  }

  private static double loss(Tensor out, float[] weights) {
    double s = 0;
    for (int i = 0; i < weights.length; i++) {
      s += (double) out.data()[i] * weights[i];
    }
    return s;
  }

  /** Compares dL/d(input) and dL/d(params) with finite differences. */
  private static void check(Layer layer, Tensor input, Random r, double tol) {
    Workers w = Workers.single();
    Tensor out = layer.forward(input, Mode.TRAIN, w);
    float[] rw = random(r, out.data().length);
    Tensor g = new Tensor(out.shape(), out.batch(), rw.clone());
    Tensor gx = layer.backward(g, true, w);
    float[] analyticInput = gx.data().clone();
    float[][] analyticParams = layer.params().stream().map(p -> p.grad().clone()).toArray(float[][]::new);
    Supplier<Double> l = () -> loss(layer.forward(input, Mode.TRAIN, w), rw);
    compare(input.data(), analyticInput, l, tol, layer.describe() + " input");
    for (int p = 0; p < analyticParams.length; p++) {
      compare(layer.params().get(p).value(), analyticParams[p], l, tol, layer.params().get(p).name());
    }
  }

  private static void compare(float[] values, float[] analytic, Supplier<Double> loss, double tol, String what) {
    for (int i = 0; i < values.length; i++) {
      float keep = values[i];
      values[i] = (float) (keep + EPS);
      double up = loss.get();
      values[i] = (float) (keep - EPS);
      double down = loss.get();
      values[i] = keep;
      double numeric = (up - down) / (2 * EPS);
      assertEquals(numeric, analytic[i], tol * Math.max(1, Math.abs(numeric)), what + " at " + i);
    }
  }

  @Test
  void convolutionWithStrideAndPaddingMatchesFiniteDifferences() {
    Random r = new Random(1);
    Shape in = new Shape(2, 6, 5);
    Conv2d conv = new Conv2d("c", Operation.MULTIPLY, in, 3, 3, 2, 1);
    conv.initialize(new java.util.SplittableRandom(1));
    check(conv, new Tensor(in, 2, random(r, in.size() * 2)), r, 2e-3);
  }

  @Test
  void fullyConnectedMatchesFiniteDifferences() {
    Random r = new Random(2);
    Dense d = new Dense("d", Operation.MULTIPLY, 6, 4);
    d.initialize(new java.util.SplittableRandom(2));
    check(d, new Tensor(new Shape(6, 1, 1), 3, random(r, 18)), r, 2e-3);
  }

  @Test
  void batchNormInTrainingModeMatchesFiniteDifferences() {
    Random r = new Random(3);
    Shape in = new Shape(3, 2, 2);
    BatchNorm bn = new BatchNorm("b", in);
    float[] gamma = bn.gamma().value();
    float[] beta = bn.beta().value();
    for (int c = 0; c < 3; c++) {
      gamma[c] = 0.5f + c;
      beta[c] = 0.1f * c;
    }
    check(bn, new Tensor(in, 3, random(r, in.size() * 3)), r, 5e-3);
  }

  @Test
  void reluAndMaxPoolMatchFiniteDifferencesAwayFromKinks() {
    Random r = new Random(4);
    Shape in = new Shape(2, 4, 4);
    float[] x = new float[in.size() * 2];
    // Distinct values at least 0.05 apart and away from 0, so +-EPS never crosses a kink.
    for (int i = 0; i < x.length; i++) {
      x[i] = (i - x.length / 2) * 0.05f + 0.025f;
    }
    for (int i = x.length - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      float t = x[i];
      x[i] = x[j];
      x[j] = t;
    }
    check(new Relu(in), new Tensor(in, 2, x.clone()), r, 1e-3);
    check(new MaxPool(in, 2), new Tensor(in, 2, x.clone()), r, 1e-3);
    check(new Flatten(in), new Tensor(in, 2, x.clone()), r, 1e-3);
  }

  @Test
  void softmaxCrossEntropyGradientMatchesFiniteDifferences() {
    Random r = new Random(5);
    Shape s = new Shape(4, 1, 1);
    Tensor scores = new Tensor(s, 3, random(r, 12));
    int[] labels = {2, 0, 3};
    Tensor g = new Tensor(s, 3);
    double l0 = SoftmaxCrossEntropy.evaluate(scores, labels, g).loss();
    assertTrue(l0 > 0);
    for (int i = 0; i < 12; i++) {
      float keep = scores.data()[i];
      scores.data()[i] = (float) (keep + EPS);
      double up = SoftmaxCrossEntropy.evaluate(scores, labels, null).loss();
      scores.data()[i] = (float) (keep - EPS);
      double down = SoftmaxCrossEntropy.evaluate(scores, labels, null).loss();
      scores.data()[i] = keep;
      assertEquals((up - down) / (2 * EPS), g.data()[i], 1e-3, "score " + i);
    }
  }

  @Test
  void batchNormInEvalModeUsesRunningStatistics() {
    Shape in = new Shape(2, 1, 1);
    BatchNorm bn = new BatchNorm("b", in);
    bn.runningMean()[0] = 1f;
    bn.runningVar()[0] = 4f;
    bn.runningMean()[1] = -2f;
    bn.runningVar()[1] = 0.25f;
    bn.gamma().value()[1] = 3f;
    bn.beta().value()[1] = 0.5f;
    Tensor x = new Tensor(in, 2, new float[] {3f, 5f, -2f, -1f});
    Tensor y = bn.forward(x, Mode.EVAL, Workers.single());
    double eps = bn.eps();
    assertEquals((3 - 1) / Math.sqrt(4 + eps), y.data()[0], 1e-5);
    assertEquals((5 - 1) / Math.sqrt(4 + eps), y.data()[1], 1e-5);
    assertEquals(0.5, y.data()[2], 1e-5);
    assertEquals(3 * (1 / Math.sqrt(0.25 + eps)) + 0.5, y.data()[3], 1e-4);
  }

  @Test
  void batchNormTrainingMovesRunningStatisticsWithUnbiasedVariance() {
    Shape in = new Shape(1, 1, 1);
    BatchNorm bn = new BatchNorm("b", in);
    bn.forward(new Tensor(in, 4, new float[] {1f, 2f, 3f, 6f}), Mode.TRAIN, Workers.single());
    // mean 3, unbiased variance 14/3; momentum 0.1 from (0, 1).
    assertEquals(0.3, bn.runningMean()[0], 1e-6);
    assertEquals(0.9 + 0.1 * 14.0 / 3, bn.runningVar()[0], 1e-5);
  }

  @Test
  void restartedRunningStatisticsTakeTheFirstBatchThenMoveByMomentum() {
    Shape in = new Shape(1, 1, 1);
    BatchNorm bn = new BatchNorm("b", in);
    bn.runningMean()[0] = -500f;
    bn.restartRunningStatistics();
    bn.forward(new Tensor(in, 4, new float[] {1f, 2f, 3f, 6f}), Mode.TRAIN, Workers.single());
    assertEquals(3.0, bn.runningMean()[0], 1e-6);
    assertEquals(14.0 / 3, bn.runningVar()[0], 1e-5);
    // mean 2, unbiased variance 2/3: from here on the usual momentum 0.1.
    bn.forward(new Tensor(in, 4, new float[] {1f, 2f, 2f, 3f}), Mode.TRAIN, Workers.single());
    assertEquals(0.9 * 3 + 0.1 * 2, bn.runningMean()[0], 1e-6);
    assertEquals(0.9 * 14.0 / 3 + 0.1 * 2.0 / 3, bn.runningVar()[0], 1e-5);
  }
}
