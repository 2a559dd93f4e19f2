package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cli.CliRun.Outcome;
import addernet.data.Cifar10;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A colour residual net trains and evaluates on CIFAR-10 binary batches that the test writes. */
class CifarTrainingTest {
  @TempDir Path dir;

  /** Records whose class decides the dominant colour plane, so a small net can learn it. */
  private static byte[] batch(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] b = new byte[n * Cifar10.RECORD_BYTES];
    for (int i = 0; i < n; i++) {
      int label = r.nextInt(3);
      b[i * Cifar10.RECORD_BYTES] = (byte) label;
      for (int c = 0; c < 3; c++) {
        for (int p = 0; p < 1024; p++) {
          b[i * Cifar10.RECORD_BYTES + 1 + c * 1024 + p] = (byte) (c == label ? 150 + r.nextInt(100) : r.nextInt(100));
        }
      }
    }
    return b;
  }

  @Test
  void aColourResidualNetTrainsOnCifarBatchesAndEvaluates() throws Exception {
    Path data = Files.createDirectory(dir.resolve("cifar"));
    Files.write(data.resolve("data_batch_1.bin"), batch(256, 1));
    Files.write(data.resolve("data_batch_2.bin"), batch(128, 2));
    Files.write(data.resolve("test_batch.bin"), batch(96, 3));
    Path spec = Files.writeString(dir.resolve("rgb.spec"), String.join("\n",
        "input 3x32x32",
        "conv adder 3->4 kernel=3 stride=2 padding=1",
        "batchnorm",
        "relu",
        "block adder 4->4",
        "avgpool",
        "conv adder 4->10 kernel=1",
        "batchnorm"));
    Path out = dir.resolve("run");
    Outcome t = CliRun.run("train", "--model", spec.toString(), "--data", data.toString(), "--out", out.toString(),
        "--epochs", "3", "--batch", "32", "--lr", "0.1", "--no-progress", "--threads", "2");
    assertEquals(0, t.code(), t.err());
    JsonNode metrics = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
    double accuracy = metrics.get(2).path("test_accuracy").asDouble();
    // three classes told apart by colour: well above the third that guessing gets
    assertTrue(accuracy > 0.6, "test accuracy " + accuracy + " after 3 epochs: " + metrics);
    Outcome e = CliRun.run("evaluate", "--checkpoint", out.toString(), "--data", data.toString());
    assertEquals(0, e.code(), e.err());
    assertTrue(e.out().contains(String.format("test accuracy %.2f%% on 96 images", 100 * accuracy)), e.out());
  }

  @Test
  void perChannelNormalizationIsEachPlanesOwnStatisticsAndSurvivesTheCheckpoint() throws Exception {
    Path data = Files.createDirectory(dir.resolve("cifar"));
    byte[] train = batch(64, 4);
    Files.write(data.resolve("data_batch_1.bin"), train);
    Files.write(data.resolve("test_batch.bin"), batch(16, 5));
    Path spec = Files.writeString(dir.resolve("rgb.spec"), String.join("\n",
        "input 3x32x32", "conv multiply 3->4 kernel=3 stride=4 padding=1", "batchnorm", "relu",
        "avgpool", "conv multiply 4->10 kernel=1", "batchnorm"));
    Path out = dir.resolve("run");
    Outcome t = CliRun.run("train", "--model", spec.toString(), "--data", data.toString(), "--out", out.toString(),
        "--epochs", "1", "--batch", "16", "--normalize", "per-channel", "--no-progress", "--threads", "1");
    assertEquals(0, t.code(), t.err());
    JsonNode norm = new ObjectMapper().readTree(out.resolve("checkpoint.json").toFile()).get("input_normalization");
    for (int c = 0; c < 3; c++) {
      // the plane's statistics computed here from the records the test wrote
      double s = 0;
      double sq = 0;
      for (int i = 0; i < 64; i++) {
        for (int p = 0; p < 1024; p++) {
          double v = (train[i * Cifar10.RECORD_BYTES + 1 + c * 1024 + p] & 0xff) / 255.0;
          s += v;
          sq += v * v;
        }
      }
      double mean = s / (64 * 1024);
      double std = Math.sqrt(sq / (64 * 1024) - mean * mean);
      assertEquals(mean, norm.get("mean").get(c).asDouble(), 1e-9, "mean of plane " + c);
      assertEquals(std, norm.get("std").get(c).asDouble(), 1e-9, "std of plane " + c);
    }
    // the checkpoint reads back (evaluate loads it) and feeds the same per-channel numbers
    Outcome e = CliRun.run("evaluate", "--checkpoint", out.toString(), "--data", data.toString());
    assertEquals(0, e.code(), e.err());
    // export writes the pairs for the PyTorch side; quantize, which folds one pair, refuses them
    Path pt = dir.resolve("rgb.pt");
    Outcome x = CliRun.run("export", "--checkpoint", out.toString(), "--out", pt.toString());
    assertEquals(0, x.code(), x.err());
    assertTrue(Files.readString(dir.resolve("rgb.py")).contains("MEAN = [" + norm.get("mean").get(0).asDouble() + ", "),
        "per-channel means in the Python file");
    Outcome q = CliRun.run("quantize", "--checkpoint", out.toString(), "--data", data.toString(), "--bits", "8",
        "--out", dir.resolve("pkg").toString(), "--report", dir.resolve("q.json").toString(), "--no-progress");
    assertEquals(2, q.code(), q.err());
    assertTrue(q.err().contains("was trained with a per-channel input normalization"), q.err());
    assertTrue(!Files.exists(dir.resolve("pkg")), "nothing written");
    Outcome given = CliRun.run("train", "--model", spec.toString(), "--data", data.toString(), "--out",
        dir.resolve("two").toString(), "--epochs", "1", "--batch", "16", "--normalize", "0.5,0.5/0.25,0.25",
        "--no-progress");
    assertEquals(2, given.code(), given.out() + given.err());
    assertTrue(given.err().contains("2 per-channel pairs but the images have 3 channels"), given.err());
    assertTrue(!Files.exists(dir.resolve("two").resolve("checkpoint.json")), "nothing trained");
  }
}
