package addernet.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.data.ImageSet;
import addernet.nn.Network;
import addernet.nn.Workers;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class QatTest {
  @Test
  void fineTuningEndsWithEveryWeightExactlyOnItsExportGrid() {
    ImageSet data = TinyNets.images(256, 10, 5);
    Network net = TinyNets.network(TinyNets.SPEC, 21, data);
    QuantConfig cfg = QuantConfig.withBits(5).withCalibrationImages(200);
    List<Double> losses = new ArrayList<>();
    try (Workers w = Workers.single()) {
      Scales s = Quantizer.calibrate(net, TinyNets.NORM, data, cfg, w);
      new Qat(net, TinyNets.NORM, s, cfg).run(
          new QatConfig(2, 32, 0.01, 0.9, 5e-4, 0.2, true, 1), data, w,
          (e, step, steps, loss, acc) -> losses.add(loss));
      List<FloatStage> stages = FloatStage.of(net);
      for (int i = 0; i < stages.size(); i++) {
        double[] r = Quantizer.onGrid(stages.get(i), i, s.input(i), 5, TinyNets.NORM);
        Quantizer.GridWeights g = Quantizer.toGrid(r, stages.get(i).outChannels(), 5);
        for (int j = 0; j < r.length; j++) {
          assertEquals(Math.rint(r[j]), r[j], 1e-3, "layer " + i + " weight " + j + " is off the grid");
        }
        for (double e : g.correction()) {
          assertEquals(0, e, 1e-3, "layer " + i + ": a weight is still beyond the grid");
        }
      }
    }
    assertEquals(2 * (256 / 32), losses.size(), "one progress report per step");
    assertTrue(losses.stream().allMatch(l -> Double.isFinite(l) && l > 0), losses.toString());
  }

  @Test
  void activationsAboveTheClipGetNoGradientAndAreHeldAtTheTop() {
    ImageSet data = TinyNets.images(64, 10, 5);
    Network net = TinyNets.network(TinyNets.SPEC, 22, data);
    QuantConfig cfg = QuantConfig.withBits(4);
    Scales s = new Scales(new double[] {Quantizer.firstScale(4), 0.5, 0.5}, 0.01);
    Qat q = new Qat(net, TinyNets.NORM, s, cfg);
    float[] x = {0f, 0.2f, 0.26f, 3.4f, 3.8f, 100f};
    float[] out = new float[x.length];
    float[] mask = q.fakeQuantizeActivations(1, x, out);
    // 4 bits: 0..7 steps of 0.5, so the top is 3.5.
    assertEquals(List.of(0f, 0f, 0.5f, 3.5f, 3.5f, 3.5f),
        List.of(out[0], out[1], out[2], out[3], out[4], out[5]));
    assertEquals(List.of(1f, 1f, 1f, 1f, 0f, 0f),
        List.of(mask[0], mask[1], mask[2], mask[3], mask[4], mask[5]));
  }
}
