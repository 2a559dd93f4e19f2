package addernet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.data.ImageSet;
import addernet.data.Normalization;
import addernet.nn.Conv2d;
import addernet.nn.Mode;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.Operation;
import addernet.nn.Shape;
import addernet.nn.Tensor;
import addernet.nn.Workers;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PKKD: a CNN twin trained alongside the adder net, features matched through kernels. */
class KernelDistillationTest {
  private static final ImageSet TRAIN = TinyData.images("train", 600, 1);
  private static final ImageSet TEST = TinyData.images("test", 200, 2);
  private static final NetworkSpec SPEC = NetworkSpec.parse("tiny-adder", TinyData.ADDER_SPEC);
  private static final Recipe PLAIN = new Recipe(2, 32, 0.1, 0.9, 5e-4, 0.2, 5, "flip,shift=1");

  private static float[][] weights(Network net) {
    return net.params().stream().map(p -> p.value().clone()).toArray(float[][]::new);
  }

  private static Trainer trained(NetworkSpec spec, Recipe recipe, Workers workers, int epochs) {
    Trainer t = Trainer.start(spec, recipe, TRAIN, TEST, workers);
    for (int e = 0; e < epochs; e++) {
      t.trainEpoch(Trainer.SILENT);
    }
    return t;
  }

  @Test
  void atWeightZeroTheStudentTrainsBitForBitAsWithoutPkkd() {
    try (Workers w = Workers.single()) {
      float[][] plain = weights(trained(SPEC, PLAIN, w, 1).network());
      Trainer withTeacher = trained(SPEC, PLAIN.withPkkd(0, 0, 4), w, 1);
      float[][] distilled = weights(withTeacher.network());
      for (int i = 0; i < plain.length; i++) {
        assertArrayEquals(plain[i], distilled[i], "param " + i);
      }
      // The teacher did train: it is not the network it started as.
      Network fresh = Network.build(SPEC.withOperation(Operation.MULTIPLY, "t"), PLAIN.seed());
      assertFalse(Arrays.equals(fresh.params().get(0).value(), withTeacher.teacher().params().get(0).value()));
    }
  }

  @Test
  void theTeacherIsTheCnnTwinTrainedByThePlainRecipeOnTheSameBatches() {
    try (Workers w = Workers.single()) {
      Trainer student = trained(SPEC, PLAIN.withPkkd(1, 1, 4), w, 1);
      Trainer cnn = trained(SPEC.withOperation(Operation.MULTIPLY, "tiny-cnn"), PLAIN, w, 1);
      float[][] a = weights(student.teacher());
      float[][] b = weights(cnn.network());
      for (int i = 0; i < a.length; i++) {
        assertArrayEquals(b[i], a[i], "teacher param " + i);
      }
    }
  }

  @Test
  void distillationChangesTheStudentAndIsDeterministicWhateverTheThreadCount() {
    Recipe pkkd = new Recipe(4, 32, 0.1, 0.9, 5e-4, 0.2, 5, "flip,shift=1").withPkkd(1, 1, 4);
    float[][] one;
    float[][] two;
    float[][] plain;
    Trainer t;
    try (Workers w1 = Workers.single(); Workers w2 = new Workers(2)) {
      t = trained(SPEC, pkkd, w1, 4);
      one = weights(t.network());
      two = weights(trained(SPEC, pkkd, w2, 4).network());
      plain = weights(trained(SPEC, PLAIN, w1, 2).network());
    }
    for (int i = 0; i < one.length; i++) {
      assertArrayEquals(one[i], two[i], "param " + i);
    }
    assertFalse(Arrays.equals(one[0], plain[0]), "the distillation must move the student");
    double acc = t.metrics().get(3).testAccuracy();
    assertTrue(acc > 0.9, "test accuracy " + acc);
  }

  @Test
  void featureLossGradientMatchesFiniteDifferences() {
    Random r = new Random(3);
    int channels = 3;
    int cols = 5;
    float[] y = new float[channels * cols];
    float[] target = new float[y.length];
    for (int e = 0; e < y.length; e++) {
      y[e] = -1 - 4 * r.nextFloat(); // adder outputs are minus a distance
      target[e] = r.nextFloat();
    }
    float[] map = new float[channels * (channels + 1)];
    for (int e = 0; e < map.length; e++) {
      map[e] = (float) r.nextGaussian();
    }
    float[] yGrad = new float[y.length];
    float[] mapGrad = new float[map.length];
    double loss = KernelDistillation.matchLaplacian(y, channels, 2, target, map, 0.7, yGrad, mapGrad);
    assertTrue(loss > 0);
    // The kernel's width (the batch's mean distance) is held constant in the gradient, so the
    // finite difference is taken at a fixed width: shift y and rescale to keep its mean.
    float[] ignoreY = new float[y.length];
    float[] ignoreMap = new float[map.length];
    double h = 1e-3;
    for (int e = 0; e < map.length; e++) {
      float keep = map[e];
      map[e] = (float) (keep + h);
      double up = KernelDistillation.matchLaplacian(y, channels, 2, target, map, 0.7, ignoreY, ignoreMap);
      map[e] = (float) (keep - h);
      double down = KernelDistillation.matchLaplacian(y, channels, 2, target, map, 0.7, ignoreY, ignoreMap);
      map[e] = keep;
      // The map's gradient is that of the mean over features: the sum's over images / features.
      assertEquals((up - down) / (2 * h) * 2 / y.length, mapGrad[e], 2e-4, "map entry " + e);
    }
    // For y: perturb one entry and its opposite partner by the same amount, so the mean (the
    // width) stays put; the difference quotient is then yGrad[a] - yGrad[b].
    for (int a = 0; a + 1 < y.length; a += 2) {
      int b = a + 1;
      float ka = y[a];
      float kb = y[b];
      y[a] = (float) (ka + h);
      y[b] = (float) (kb - h);
      double up = KernelDistillation.matchLaplacian(y, channels, 2, target, map, 0.7, ignoreY, ignoreMap);
      y[a] = (float) (ka - h);
      y[b] = (float) (kb + h);
      double down = KernelDistillation.matchLaplacian(y, channels, 2, target, map, 0.7, ignoreY, ignoreMap);
      y[a] = ka;
      y[b] = kb;
      assertEquals((up - down) / (2 * h), yGrad[a] - yGrad[b], 1e-2, "entries " + a + ", " + b);
    }
  }

  @Test
  void gaussianFeaturesAreTheKernelOfTheSquaredDistanceOfPatchAndFilter() {
    Random r = new Random(4);
    Shape in = new Shape(2, 4, 4);
    Conv2d conv = new Conv2d("c", Operation.MULTIPLY, in, 3, 3, 1, 1);
    float[] w = conv.weight().value();
    for (int e = 0; e < w.length; e++) {
      w[e] = (float) r.nextGaussian();
    }
    float[] x = new float[in.size() * 2];
    for (int e = 0; e < x.length; e++) {
      x[e] = (float) r.nextGaussian();
    }
    Tensor input = new Tensor(in, 2, x);
    Tensor out = conv.forward(input, Mode.EVAL, Workers.single());
    float[] k = KernelDistillation.gaussianFeatures(conv, input, out);
    // Direct squared distances, zero padding counted as zeros of the patch.
    double[] d2 = new double[k.length];
    double sum = 0;
    for (int o = 0; o < 3; o++) {
      for (int n = 0; n < 2; n++) {
        for (int oy = 0; oy < 4; oy++) {
          for (int ox = 0; ox < 4; ox++) {
            double s = 0;
            for (int c = 0; c < 2; c++) {
              for (int ky = 0; ky < 3; ky++) {
                for (int kx = 0; kx < 3; kx++) {
                  int iy = oy - 1 + ky;
                  int ix = ox - 1 + kx;
                  double v = iy < 0 || iy >= 4 || ix < 0 || ix >= 4 ? 0 : input.get(c, n, iy, ix);
                  double d = v - w[((o * 2 + c) * 3 + ky) * 3 + kx];
                  s += d * d;
                }
              }
            }
            d2[((o * 2 + n) * 4 + oy) * 4 + ox] = s;
            sum += s;
          }
        }
      }
    }
    double width = sum / d2.length;
    for (int e = 0; e < k.length; e++) {
      assertEquals(Math.exp(-d2[e] / width), k[e], 1e-4, "feature " + e);
    }
  }

  @Test
  void recipeRejectsPkkdSettingsWithoutPkkdAndAPkkdRunIsNotResumed(@TempDir Path dir) throws Exception {
    assertThrows(IllegalArgumentException.class,
        () -> new Recipe(2, 32, 0.1, 0.9, 5e-4, 0.2, 5, "none", "none", 1, 1, 0, false, 1, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> PLAIN.withPkkd(1, 1, 0));
    Recipe pkkd = PLAIN.withPkkd(1, 1, 4);
    new Checkpoint(Network.build(SPEC, 1), new Normalization(0.3, 0.3), 1, pkkd, List.of(
        new EpochMetrics(1, 0.1, 1, 0.5, 1, 0.5, 100, 1)), Map.of()).save(dir);
    Checkpoint ck = Checkpoint.load(dir);
    assertEquals(pkkd, ck.recipe());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Trainer.resume(ck, TRAIN, TEST, Workers.single()));
    assertTrue(e.getMessage().contains("PKKD"), e.getMessage());
  }
}
