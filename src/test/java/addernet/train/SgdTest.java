package addernet.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import addernet.nn.Conv2d;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.Param;
import java.util.List;
import org.junit.jupiter.api.Test;

class SgdTest {
  @Test
  void adaptiveScaleGivesEveryAdderLayerTheNormEtaTimesRootOfItsSize() {
    float[] g = {3f, -4f, 0f, 12f};
    double factor = Sgd.adaptiveScale(g, 0.2);
    // ||g|| = 13, k = 4: factor = 0.2 * 2 / 13.
    assertEquals(0.2 * 2 / 13, factor, 1e-12);
    double norm = 0;
    for (float v : g) {
      norm += v * v;
    }
    assertEquals(0.2 * Math.sqrt(4), Math.sqrt(norm), 1e-6);
    assertEquals(3f * 0.4f / 13, g[0], 1e-7);
  }

  @Test
  void stepRescalesOnlyAdderWeightsThenAppliesMomentumAndWeightDecay() {
    NetworkSpec spec = NetworkSpec.parse("t", TinyData.ADDER_SPEC);
    Network net = Network.build(spec, 1);
    List<Param> params = net.params();
    Param adder = ((Conv2d) net.layers().get(0)).weight();
    Param gamma = params.get(1);
    float[] w0 = adder.value().clone();
    float[] g0 = gamma.value().clone();
    for (Param p : params) {
      java.util.Arrays.fill(p.grad(), 2f);
    }
    Sgd sgd = new Sgd(0.9, 0.01, 0.2);
    sgd.step(params, 0.5);
    // Adder gradient all 2s has norm 2 sqrt(k): rescaled to 0.2 sqrt(k) it is 0.2 everywhere.
    for (int i = 0; i < w0.length; i++) {
      assertEquals(w0[i] - 0.5 * (0.2 + 0.01 * w0[i]), adder.value()[i], 1e-6);
    }
    assertEquals(g0[0] - 0.5 * (2 + 0.01 * g0[0]), gamma.value()[0], 1e-6);
    // Second step: v = 0.9 v + d.
    float vPrev = (float) (2 + 0.01 * g0[0]);
    float w1 = gamma.value()[0];
    java.util.Arrays.fill(gamma.grad(), 1f);
    sgd.step(List.of(gamma), 0.5);
    assertEquals(w1 - 0.5 * (0.9 * vPrev + 1 + 0.01 * w1), gamma.value()[0], 1e-6);
  }

  @Test
  void cosineScheduleFallsFromBaseToZero() {
    CosineSchedule s = new CosineSchedule(0.1, 100);
    assertEquals(0.1, s.at(0), 1e-12);
    assertEquals(0.05, s.at(50), 1e-12);
    assertEquals(0.0, s.at(100), 1e-12);
  }
}
