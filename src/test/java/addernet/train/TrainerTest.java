package addernet.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.data.ImageSet;
import addernet.nn.BatchNorm;
import addernet.nn.Conv2d;
import addernet.nn.Layer;
import addernet.nn.Mode;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.Param;
import addernet.nn.Tensor;
import addernet.nn.Workers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
  @TempDir Path dir;

  private static final ImageSet TRAIN = TinyData.images("train", 600, 1);
  private static final ImageSet TEST = TinyData.images("test", 200, 2);
  private static final NetworkSpec SPEC = NetworkSpec.parse("tiny-adder", TinyData.ADDER_SPEC);

  private static Recipe recipe(int epochs, long seed) {
    return new Recipe(epochs, 32, 0.1, 0.9, 5e-4, 0.2, seed, "flip,shift=1");
  }

  private static float[][] weights(Network net) {
    return net.params().stream().map(p -> p.value().clone()).toArray(float[][]::new);
  }

  @Test
  void sameSeedGivesTheSameWeightsWhateverTheThreadCount() {
    float[][] a;
    float[][] b;
    float[][] c;
    try (Workers one = Workers.single(); Workers two = new Workers(2)) {
      Trainer t1 = Trainer.start(SPEC, recipe(2, 7), TRAIN, TEST, one);
      t1.trainEpoch(Trainer.SILENT);
      a = weights(t1.network());
      Trainer t2 = Trainer.start(SPEC, recipe(2, 7), TRAIN, TEST, two);
      t2.trainEpoch(Trainer.SILENT);
      b = weights(t2.network());
      Trainer t3 = Trainer.start(SPEC, recipe(2, 8), TRAIN, TEST, two);
      t3.trainEpoch(Trainer.SILENT);
      c = weights(t3.network());
    }
    for (int i = 0; i < a.length; i++) {
      assertArrayEquals(a[i], b[i], "param " + i);
    }
    assertFalse(java.util.Arrays.equals(a[0], c[0]), "another seed must give other weights");
  }

  @Test
  void tinyAdderNetLearnsItsTask() {
    try (Workers w = new Workers(2)) {
      Trainer t = Trainer.start(SPEC, recipe(3, 1), TRAIN, TEST, w);
      EpochMetrics first = t.trainEpoch(Trainer.SILENT);
      t.trainEpoch(Trainer.SILENT);
      EpochMetrics last = t.trainEpoch(Trainer.SILENT);
      assertTrue(last.testAccuracy() > 0.9, "test accuracy " + last.testAccuracy());
      assertTrue(last.trainLoss() < first.trainLoss());
    }
  }

  @Test
  void checkpointRoundTripRestoresWeightsStatisticsMomentumAndMetrics() throws IOException {
    try (Workers w = new Workers(2)) {
      Trainer t = Trainer.start(SPEC, recipe(2, 3), TRAIN, TEST, w);
      t.run(dir, Trainer.SILENT);
      Checkpoint ck = Checkpoint.load(dir);
      assertEquals(2, ck.epoch());
      assertEquals(t.recipe(), ck.recipe());
      assertEquals(t.metrics(), ck.metrics());
      assertArrayEquals(flatten(weights(t.network())), flatten(weights(ck.network())));
      List<Layer> a = t.network().layers();
      List<Layer> b = ck.network().layers();
      BatchNorm bnA = (BatchNorm) a.get(1);
      BatchNorm bnB = (BatchNorm) b.get(1);
      assertArrayEquals(bnA.runningMean(), bnB.runningMean());
      assertArrayEquals(bnA.runningVar(), bnB.runningVar());
      assertEquals(t.network().params().size(), ck.momentum().size());
      // The loaded network predicts exactly as the trained one (eval mode, used by quantization).
      float[] images = new float[10 * 64];
      for (int i = 0; i < images.length; i++) {
        images[i] = (float) Math.sin(i);
      }
      Tensor x = Tensor.fromImages(SPEC.input(), 10, images);
      float[] sa = t.network().forward(x, Mode.EVAL, w).data().clone();
      float[] sb = ck.network().forward(x, Mode.EVAL, w).data().clone();
      assertArrayEquals(sa, sb);
      assertTrue(Files.exists(dir.resolve("metrics.json")));
      assertEquals(List.of("checkpoint-epoch2.bin", "checkpoint.json", "metrics.json"),
          Files.list(dir).map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  private static float[] flatten(float[][] a) {
    int n = 0;
    for (float[] x : a) {
      n += x.length;
    }
    float[] out = new float[n];
    int at = 0;
    for (float[] x : a) {
      System.arraycopy(x, 0, out, at, x.length);
      at += x.length;
    }
    return out;
  }

  @Test
  void resumedRunEndsExactlyWhereTheUninterruptedRunEnds() throws IOException {
    try (Workers w = new Workers(2)) {
      Trainer straight = Trainer.start(SPEC, recipe(3, 5), TRAIN, TEST, w);
      straight.run(dir.resolve("straight"), Trainer.SILENT);

      Trainer first = Trainer.start(SPEC, recipe(3, 5), TRAIN, TEST, w);
      first.trainEpoch(Trainer.SILENT);
      first.checkpoint().save(dir.resolve("split"));
      Trainer resumed = Trainer.resume(Checkpoint.load(dir.resolve("split")), TRAIN, TEST, w);
      resumed.run(dir.resolve("split"), Trainer.SILENT);

      assertArrayEquals(flatten(weights(straight.network())), flatten(weights(resumed.network())));
      assertEquals(straight.metrics().get(2).testAccuracy(), resumed.metrics().get(2).testAccuracy());
    }
  }

  @Test
  void damagedDataFileIsDetected() throws IOException {
    try (Workers w = Workers.single()) {
      Trainer t = Trainer.start(SPEC, recipe(1, 3), TRAIN, TEST, w);
      t.run(dir, Trainer.SILENT);
    }
    Path data = dir.resolve("checkpoint-epoch1.bin");
    byte[] b = Files.readAllBytes(data);
    b[17] ^= 0x40;
    Files.write(data, b);
    String m = assertThrows(CheckpointException.class, () -> Checkpoint.load(dir)).getMessage();
    assertTrue(m.contains("damaged"), m);
    Files.delete(data);
    m = assertThrows(CheckpointException.class, () -> Checkpoint.load(dir)).getMessage();
    assertTrue(m.contains("missing"), m);
  }

  @Test
  void nonFiniteLossStopsTrainingAndKeepsTheLastGoodCheckpoint() throws IOException {
    try (Workers w = Workers.single()) {
      Trainer t = Trainer.start(SPEC, recipe(3, 3), TRAIN, TEST, w);
      t.trainEpoch(Trainer.SILENT);
      t.checkpoint().save(dir);
      Param p = ((Conv2d) t.network().layers().get(0)).weight();
      p.value()[0] = Float.NaN;
      String m = assertThrows(TrainingDivergedException.class, () -> t.run(dir, Trainer.SILENT)).getMessage();
      assertTrue(m.contains("NaN") && m.contains("epoch 2"), m);
      assertEquals(1, Checkpoint.load(dir).epoch());
    }
  }

  @Test
  void trainingRefusesLabelsBeyondTheClassesAndImagesOfAnotherSize() {
    byte[] labels = TEST.labels().clone();
    labels[5] = 3;
    ImageSet badLabel = new ImageSet("test", TEST.count(), 8, 8, TEST.pixels(), labels);
    ImageSet wide = new ImageSet("test", 2, 8, 9, new byte[144], new byte[2]);
    try (Workers w = Workers.single()) {
      String m = assertThrows(addernet.data.DataMismatchException.class,
          () -> Trainer.start(SPEC, recipe(1, 1), TRAIN, badLabel, w)).getMessage();
      assertTrue(m.contains("label 3 of test image 5") && m.contains("3 classes"), m);
      m = assertThrows(addernet.data.DataMismatchException.class,
          () -> Trainer.start(SPEC, recipe(1, 1), TRAIN, wide, w)).getMessage();
      assertTrue(m.contains("1x8x9") && m.contains("1x8x8"), m);
    }
  }

  @Test
  void checkpointEpochOutsideItsRecipeIsRefused() throws IOException {
    try (Workers w = Workers.single()) {
      Trainer t = Trainer.start(SPEC, recipe(2, 3), TRAIN, TEST, w);
      t.trainEpoch(Trainer.SILENT);
      t.checkpoint().save(dir);
    }
    Path manifest = dir.resolve(Checkpoint.MANIFEST);
    String json = Files.readString(manifest);
    Files.writeString(manifest, json.replace("\"epoch\" : 1,", "\"epoch\" : -5,"));
    String m = assertThrows(CheckpointException.class, () -> Checkpoint.load(dir)).getMessage();
    assertTrue(m.contains("epoch: must be an integer in 0..2 (the recipe's epochs), got -5"), m);
  }
}
