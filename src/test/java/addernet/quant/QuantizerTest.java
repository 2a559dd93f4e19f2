package addernet.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.data.ImageSet;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.Workers;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QuantizerTest {
  private static final ImageSet DATA = TinyNets.images(300, 10, 3);

  /** Largest |int logit * scale - float logit| over images, relative to the largest float logit. */
  private static double relativeLogitError(Network net, int bits) {
    QuantConfig cfg = QuantConfig.withBits(bits).withCalibrationImages(200);
    Scales s;
    try (Workers w = Workers.single()) {
      s = Quantizer.calibrate(net, TinyNets.NORM, DATA, cfg, w);
    }
    IntNetwork q = Quantizer.quantize(net, TinyNets.NORM, s, cfg);
    double worst = 0;
    double range = 0;
    for (int i = 200; i < 300; i++) {
      float[] f = TinyNets.floatLogits(net, DATA, i);
      int[] l = q.logits(IntEval.pixels(DATA, i));
      for (int c = 0; c < f.length; c++) {
        worst = Math.max(worst, Math.abs(l[c] * s.logit() - f[c]));
        range = Math.max(range, Math.abs(f[c]));
      }
    }
    return worst / range;
  }

  @Test
  void integerLogitsTrackTheFloatNetworkAndTightenWithMoreBits() {
    Network net = TinyNets.network(TinyNets.SPEC, 11, DATA);
    double e12 = relativeLogitError(net, 12);
    double e8 = relativeLogitError(net, 8);
    // From 9 bits up the first layer's weights sit on the pixel grid (1/255, contract section 5),
    // so their rounding sets a floor that more bits do not lower; the batch norms of a random
    // network amplify it more than a trained one's do.
    assertTrue(e12 < 0.04, "12-bit logits off by " + e12 + " of their range");
    assertTrue(e8 < 0.10, "8-bit logits off by " + e8 + " of their range");
    assertTrue(e12 < e8, "more bits should not be worse: 12-bit " + e12 + ", 8-bit " + e8);
  }

  @Test
  void cnnTwinIntegerLogitsTrackItsFloatNetworkAndTightenWithMoreBits() {
    Network net = TinyNets.network(TinyNets.SPEC.replace("adder", "multiply"), 11, DATA);
    double e12 = relativeLogitError(net, 12);
    double e8 = relativeLogitError(net, 8);
    IntNetwork q = Quantizer.quantize(net, TinyNets.NORM,
        new Scales(new double[] {Quantizer.firstScale(8), 0.05, 0.05}, 0.01), QuantConfig.withBits(8));
    assertTrue(q.layers().stream().allMatch(l -> l.op() == addernet.quant.PeOp.MULTIPLY), q.layers().toString());
    assertTrue(e12 < 0.04, "12-bit logits off by " + e12 + " of their range");
    assertTrue(e8 < 0.10, "8-bit logits off by " + e8 + " of their range");
    assertTrue(e12 < e8, "more bits should not be worse: 12-bit " + e12 + ", 8-bit " + e8);
  }

  @Test
  void weightsFarOutsideTheGridAreCompensatedExactly() {
    Network net = TinyNets.network(TinyNets.SPEC, 12, DATA);
    double before = relativeLogitError(net, 12);
    // Push a third of conv2's weights far beyond any activation, both ways, then let BN see it.
    float[] w = FloatStage.of(net).get(1).weights();
    for (int i = 0; i < w.length; i += 3) {
      w[i] = i % 2 == 0 ? 50f : -50f;
    }
    Network moved = TinyNets.network(TinyNets.SPEC, 12, DATA);
    System.arraycopy(w, 0, FloatStage.of(moved).get(1).weights(), 0, w.length);
    moved = settle(moved);
    double after = relativeLogitError(moved, 12);
    assertTrue(after < 0.04, "clipped weights cost " + after + " of the logit range (was " + before + ")");
  }

  @Test
  void clippingCorrectionIsExactForEveryActivationInsideTheGrid() {
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(6);
    int bits = 5;
    int hi = 15;
    double[] r = new double[40];
    for (int i = 0; i < r.length; i++) {
      r[i] = rnd.nextInt(-200, 200); // integer-valued, so only clipping (no rounding) differs
    }
    Quantizer.GridWeights g = Quantizer.toGrid(r, 2, bits);
    for (int x = 0; x <= hi; x++) {
      for (int c = 0; c < 2; c++) {
        double exact = 0;
        long onGrid = 0;
        for (int k = 0; k < 20; k++) {
          exact += Math.abs(x - r[c * 20 + k]);
          onGrid += Math.abs(x - g.q()[c * 20 + k]);
        }
        assertEquals(exact, onGrid + g.correction()[c], 1e-9, "x=" + x + " c=" + c);
      }
    }
  }

  private static Network settle(Network net) {
    try (Workers w = Workers.single()) {
      for (int pass = 0; pass < 60; pass++) {
        float[] x = FloatPass.normalized(DATA, (pass * 64) % 200, 64, TinyNets.NORM);
        net.forward(addernet.nn.Tensor.fromImages(net.inputShape(), 64, x), addernet.nn.Mode.TRAIN, w);
      }
    }
    return net;
  }

  @Test
  void firstLayerScaleIsTheContractsInputShift() {
    for (int b = 4; b <= 16; b++) {
      assertEquals(Math.pow(2, Math.max(0, 9 - b)) / 255, Quantizer.firstScale(b), 1e-15, "B=" + b);
    }
    Network net = TinyNets.network(TinyNets.SPEC, 13, DATA);
    try (Workers w = Workers.single()) {
      Scales s = Quantizer.calibrate(net, TinyNets.NORM, DATA, QuantConfig.withBits(6), w);
      assertEquals(8.0 / 255, s.input(0), 1e-15);
    }
  }

  @Test
  void layerBitsOverridesApplyByNameAndUnknownNamesAreRefused() {
    Network net = TinyNets.network(TinyNets.SPEC, 14, DATA);
    QuantConfig cfg = QuantConfig.withBits(8).withLayerBits(Map.of("conv2", 5)).withCalibrationImages(100);
    Scales s;
    try (Workers w = Workers.single()) {
      s = Quantizer.calibrate(net, TinyNets.NORM, DATA, cfg, w);
    }
    IntNetwork q = Quantizer.quantize(net, TinyNets.NORM, s, cfg);
    assertEquals(8, q.layers().get(0).dataBits());
    assertEquals(5, q.layers().get(1).dataBits());
    assertEquals(15, q.layers().get(0).requant().hi(), "conv1 clamps to conv2's 5-bit range");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Quantizer.quantize(
        net, TinyNets.NORM, s, cfg.withLayerBits(Map.of("conv9", 6))));
    assertTrue(e.getMessage().contains("conv9") && e.getMessage().contains("conv1"), e.getMessage());
  }

  @Test
  void fullyConnectedLayersCoverTheirWholeInputAndConv3IsAOneByOneConvolution() {
    Network net = TinyNets.network(TinyNets.SPEC, 15, DATA);
    IntNetwork q = Quantizer.quantize(net, TinyNets.NORM,
        new Scales(new double[] {Quantizer.firstScale(8), 0.1, 0.1}, 0.01), QuantConfig.defaults());
    IntLayer conv2 = q.layers().get(1);
    IntLayer fc = q.layers().get(2);
    assertEquals(false, conv2.fullyConnected());
    assertEquals(1, conv2.outHeight());
    assertEquals(true, fc.fullyConnected());
    assertEquals(1, fc.kernel());
    assertEquals(6, fc.k());
    assertEquals(-(1 << 15), fc.requant().lo(), "the logits are clamped to 16 bits");
  }

  @Test
  void missingBatchNormIsRefusedByLayer() {
    IllegalArgumentException e;
    Network noBn = Network.build(NetworkSpec.parse("nobn",
        "input 1x6x6\nconv adder 1->2 kernel=3\nrelu\nflatten\nfc adder 32->3\nbatchnorm"), 1);
    e = assertThrows(IllegalArgumentException.class, () -> FloatStage.of(noBn));
    assertTrue(e.getMessage().contains("without batch norm"), e.getMessage());
  }

  @Test
  void lenetSplitsIntoFiveAdderStagesWithConv3AsAFullWindowConvolution() {
    Network net = Network.build(NetworkSpec.resolve("lenet5-adder"), 1);
    java.util.List<FloatStage> st = FloatStage.of(net);
    assertEquals(java.util.List.of("conv1", "conv2", "conv3", "fc1", "fc2"),
        st.stream().map(FloatStage::name).toList());
    assertEquals(java.util.List.of(true, true, false, false, false),
        st.stream().map(FloatStage::pool).toList());
    assertEquals(java.util.List.of(25, 150, 256, 120, 84),
        st.stream().map(FloatStage::reduction).toList());
    assertEquals(4, st.get(2).kernel());
    assertEquals(false, st.get(2).fullyConnected());
    assertEquals(1, st.get(3).kernel(), "fc1 after flattening 120x1x1");
    assertEquals(false, st.get(4).relu(), "the logits have no ReLU");
  }

  @Test
  void configRejectsWidthsOutsideFourToSixteen() {
    assertThrows(IllegalArgumentException.class, () -> QuantConfig.withBits(3));
    assertThrows(IllegalArgumentException.class, () -> QuantConfig.withBits(17));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> QuantConfig.defaults().withLayerBits(Map.of("fc1", 2)));
    assertTrue(e.getMessage().contains("fc1"), e.getMessage());
  }

  @Test
  void mseClipIgnoresARareOutlierThatTheMaximumWouldChase() {
    float[] x = new float[10_001];
    for (int i = 0; i < 10_000; i++) {
      x[i] = (i % 100) / 100f; // uniform on [0, 1)
    }
    x[10_000] = 5f;
    double clip = Quantizer.mseClip(x, 5, 15);
    assertTrue(clip < 2, "clip " + clip + " should stay near the bulk, not at the outlier");
    assertTrue(clip > 0.8, "clip " + clip + " should not cut into the bulk");
  }
}
