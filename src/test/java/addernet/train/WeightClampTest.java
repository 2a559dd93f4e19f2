package addernet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.data.ImageSet;
import addernet.data.Normalization;
import addernet.nn.BatchNorm;
import addernet.nn.Conv2d;
import addernet.nn.Dense;
import addernet.nn.Layer;
import addernet.nn.Mode;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.Operation;
import addernet.nn.Shape;
import addernet.nn.Tensor;
import addernet.nn.Workers;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The lossless weight clamp, the shifted input copies and l_p annealing as training options. */
class WeightClampTest {
  private static final ImageSet TRAIN = TinyData.images("train", 600, 1);
  private static final ImageSet TEST = TinyData.images("test", 200, 2);

  private static float[] uniform(Random r, int n, float lo, float hi) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = lo + (hi - lo) * r.nextFloat();
    }
    return a;
  }

  @Test
  void clampedLayerDiffersFromTheUnclampedByExactlyTheFoldedConstant() {
    Random r = new Random(11);
    Shape in = new Shape(2, 6, 6);
    Conv2d conv = new Conv2d("c", Operation.ADDER, in, 4, 3, 1, 0);
    float[] w = conv.weight().value();
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (3 * r.nextGaussian()); // many weights beyond the inputs' [-1, 2]
    }
    float[] lo = {-1f, -1f};
    float[] hi = {2f, 2f};
    Tensor x = new Tensor(in, 5, uniform(r, in.size() * 5, -1f, 2f));
    float[] before = conv.forward(x, Mode.EVAL, Workers.single()).data().clone();
    double[] excess = WeightClamp.clamp(w, 4, 9, lo, hi);
    float[] after = conv.forward(x, Mode.EVAL, Workers.single()).data().clone();
    int perChannel = before.length / 4;
    for (int o = 0; o < 4; o++) {
      assertTrue(excess[o] > 1, "channel " + o + " had weights outside the range: " + excess[o]);
      for (int j = o * perChannel; j < (o + 1) * perChannel; j++) {
        assertEquals(excess[o], after[j] - before[j], 1e-4 * Math.abs(before[j]), "output " + j);
      }
    }
    for (float v : w) {
      assertTrue(v >= -1f && v <= 2f, "weight " + v + " left outside the range");
    }
  }

  /** First layer adder (its range is the pixels' exact range), the rest multiplying. */
  private static final String FIRST_ADDER = String.join("\n",
      "input 3x8x8", "conv adder 3->4 kernel=3", "batchnorm", "relu", "flatten",
      "fc multiply 144->3", "batchnorm");

  @Test
  void foldedConstantLeavesTheEvalNetworkUnchanged() {
    Network net = Network.build(NetworkSpec.parse("first-adder", FIRST_ADDER), 4);
    Conv2d conv = (Conv2d) net.layers().get(0);
    Random r = new Random(12);
    float[] w = conv.weight().value();
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (4 * r.nextGaussian());
    }
    BatchNorm bn = (BatchNorm) net.layers().get(1);
    for (int c = 0; c < 4; c++) {
      bn.runningMean()[c] = -40 + c;
      bn.runningVar()[c] = 30 + c;
    }
    Normalization norm = new Normalization(0.3, 0.35);
    int n = 50;
    float[] plain = new float[n * 64];
    int[] labels = new int[n];
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    TRAIN.fill(order, 0, n, norm, addernet.data.Augmentation.NONE, null, plain, labels);
    float[] images = new float[n * 3 * 64];
    Trainer.expand(plain, n, 64, 3, images);
    Tensor x = Tensor.fromImages(net.inputShape(), n, images);
    float[] before = net.forward(x, Mode.EVAL, Workers.single()).data().clone();
    float[] weightsBefore = w.clone();
    WeightClamp.apply(net, norm, 3);
    assertNotEquals(java.util.Arrays.toString(weightsBefore), java.util.Arrays.toString(w));
    float[] after = net.forward(x, Mode.EVAL, Workers.single()).data();
    for (int i = 0; i < before.length; i++) {
      assertEquals(before[i], after[i], 1e-3 * Math.max(1, Math.abs(before[i])), "score " + i);
    }
    // Copy j (weights 9 j .. 9 j + 8 of each filter) is clamped to 2^j times the pixels' range.
    for (int i = 0; i < w.length; i++) {
      float f = 1 << (i / 9 % 3);
      assertTrue(w[i] >= f * norm.apply(0) - 1e-6 && w[i] <= f * norm.apply(255) + 1e-6, "weight " + i);
    }
  }

  @Test
  void shiftedCopiesAreOneTwoAndFourTimesTheImage() {
    float[] plain = {1f, -2f, 0.5f, 3f};
    float[] out = new float[12];
    Trainer.expand(plain, 2, 2, 3, out);
    assertArrayEquals(new float[] {1f, -2f, 2f, -4f, 4f, -8f, 0.5f, 3f, 1f, 6f, 2f, 12f}, out);
  }

  @Test
  void annealedExponentFallsFromStartToExactlyOne() {
    Recipe r = new Recipe(10, 32, 0.1, 0.9, 5e-4, 0.2, 1, "none", "none", 1, 2.0, 4);
    assertEquals(2.0, r.exponentAt(0));
    assertEquals(1.5, r.exponentAt(2), 1e-12);
    assertEquals(1.0, r.exponentAt(4));
    assertEquals(1.0, r.exponentAt(9.5));
    assertEquals(1.0, new Recipe(10, 32, 0.1, 0.9, 5e-4, 0.2, 1, "none").exponentAt(0));
    assertThrows(IllegalArgumentException.class,
        () -> new Recipe(10, 32, 0.1, 0.9, 5e-4, 0.2, 1, "none", "none", 2, 1, 0));
    assertThrows(IllegalArgumentException.class,
        () -> new Recipe(10, 32, 0.1, 0.9, 5e-4, 0.2, 1, "none", "none", 1, 2.5, 0));
    assertThrows(IllegalArgumentException.class,
        () -> new Recipe(10, 32, 0.1, 0.9, 5e-4, 0.2, 1, "none", "clip", 1, 1, 0));
  }

  private static final String TINY_SHIFTED = TinyData.ADDER_SPEC
      .replace("input 1x8x8", "input 3x8x8").replace("conv adder 1->3", "conv adder 3->3");

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"project", "reparam"})
  void allOptionsTogetherStayDeterministicAcrossThreadCountsAndKeepWeightsInRange(String clamp) {
    NetworkSpec spec = NetworkSpec.parse("tiny-shifted", TINY_SHIFTED);
    Recipe recipe = new Recipe(2, 32, 0.1, 0.9, 5e-4, 0.2, 9, "none", clamp, 3, 2.0, 1);
    Trainer a;
    Trainer b;
    try (Workers one = Workers.single(); Workers two = new Workers(2)) {
      a = Trainer.start(spec, recipe, TRAIN, TEST, one);
      a.trainEpoch(Trainer.SILENT);
      EpochMetrics last = a.trainEpoch(Trainer.SILENT);
      assertTrue(last.testAccuracy() > 0.8, "test accuracy " + last.testAccuracy());
      b = Trainer.start(spec, recipe, TRAIN, TEST, two);
      b.trainEpoch(Trainer.SILENT);
      b.trainEpoch(Trainer.SILENT);
    }
    for (int i = 0; i < a.network().params().size(); i++) {
      assertArrayEquals(a.network().params().get(i).value(), b.network().params().get(i).value(), "param " + i);
    }
    // After the annealing's last epoch every adder layer is the plain one again.
    for (Layer l : a.network().layers()) {
      if (l instanceof Conv2d c) {
        assertEquals(1.0, c.exponent());
      } else if (l instanceof Dense d) {
        assertEquals(1.0, d.exponent());
      }
    }
    Normalization norm = a.checkpoint().normalization();
    float[] w = ((Conv2d) a.network().layers().get(0)).weight().value();
    for (int i = 0; i < w.length; i++) {
      float f = 1 << (i / 9 % 3);
      assertTrue(w[i] >= f * norm.apply(0) - 1e-6 && w[i] <= f * norm.apply(255) + 1e-6, "weight " + i);
    }
  }

  @Test
  void foldNeedsABatchNormAfterEveryAdderLayer() {
    NetworkSpec spec = NetworkSpec.parse("no-bn", String.join("\n",
        "input 1x8x8", "conv adder 1->3 kernel=3", "relu", "flatten", "fc adder 108->3", "batchnorm"));
    Network net = Network.build(spec, 1);
    assertThrows(IllegalArgumentException.class,
        () -> WeightClamp.apply(net, new Normalization(0.3, 0.3), 1));
  }

  @Test
  void checkpointWithoutTheNewRecipeFieldsReadsAsThePlainRecipe(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    NetworkSpec spec = NetworkSpec.parse("tiny-adder", TinyData.ADDER_SPEC);
    Recipe plain = new Recipe(1, 32, 0.1, 0.9, 5e-4, 0.2, 1, "none");
    new Checkpoint(Network.build(spec, 1), new Normalization(0.3, 0.3), 0, plain, java.util.List.of(),
        java.util.Map.of()).save(dir);
    java.nio.file.Path json = dir.resolve("checkpoint.json");
    String text = java.nio.file.Files.readString(json);
    String old = text.replaceAll(",\\s*\"(weight_clamp|input_shifts|lp_start|lp_epochs)\"\\s*:\\s*[^,}]+", "");
    assertNotEquals(text, old);
    assertTrue(!old.contains("lp_start"), old);
    java.nio.file.Files.writeString(json, old);
    assertEquals(plain, Checkpoint.load(dir).recipe());
  }
}
