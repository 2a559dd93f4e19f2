package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.train.TinyData;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
  @TempDir Path dir;
  Path data;
  Path spec;

  @BeforeEach
  void tinyDataAndSpec() throws IOException {
    data = dir.resolve("data");
    TinyData.writeIdx(data, TinyData.images("train", 300, 1), TinyData.images("test", 100, 2));
    spec = dir.resolve("tiny-adder.spec");
    Files.writeString(spec, TinyData.ADDER_SPEC);
  }

  /** Runs the launcher in-process; returns exit code and what it printed to stderr. */
  private static Object[] run(String... args) {
    CliRun.Outcome o = CliRun.run(args);
    return new Object[] {o.code(), o.err()};
  }

  private Object[] train(Path out, String... more) {
    String[] base = {"train", "--model", spec.toString(), "--data", data.toString(), "--out", out.toString(),
        "--batch", "32", "--no-progress"};
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return run(all);
  }

  @Test
  void trainWritesCheckpointAndPerEpochMetrics() throws IOException {
    Path out = dir.resolve("run");
    Object[] r = train(out, "--epochs", "2");
    assertEquals(0, r[0], (String) r[1]);
    JsonNode m = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
    assertEquals(2, m.size());
    for (String key : new String[] {"epoch", "train_loss", "train_accuracy", "test_accuracy", "images_per_second", "seconds"}) {
      assertTrue(m.get(1).has(key), "metrics.json lacks " + key);
    }
    assertEquals(2, m.get(1).get("epoch").asInt());
    assertTrue(Files.exists(out.resolve("checkpoint.json")));
  }

  @Test
  void existingCheckpointIsNotOverwrittenWithoutResume() {
    Path out = dir.resolve("run");
    assertEquals(0, train(out, "--epochs", "1")[0]);
    Object[] r = train(out, "--epochs", "1");
    assertEquals(2, r[0]);
    assertTrue(((String) r[1]).contains("holds an earlier output of 'addernet train'; pass --force to replace it (or --resume"), (String) r[1]);
  }

  @Test
  void resumingWithAnotherNetworkIsRefused() throws IOException {
    Path out = dir.resolve("run");
    assertEquals(0, train(out, "--epochs", "2")[0]);
    Path other = dir.resolve("tiny-cnn.spec");
    Files.writeString(other, TinyData.ADDER_SPEC.replace(" adder ", " multiply "));
    Object[] r = run("train", "--model", other.toString(), "--data", data.toString(), "--out", out.toString(), "--resume");
    assertEquals(2, r[0]);
    assertTrue(((String) r[1]).contains("is of network 'tiny-adder', not of 'tiny-cnn'"), (String) r[1]);
  }

  @Test
  void corruptDataFileGivesOneLineError() throws IOException {
    Path img = data.resolve("train-images-idx3-ubyte.gz");
    byte[] b = Files.readAllBytes(img);
    Files.write(img, java.util.Arrays.copyOf(b, b.length - 20));
    Object[] r = train(dir.resolve("run"), "--epochs", "1");
    assertEquals(2, r[0]);
    String err = ((String) r[1]).strip();
    assertTrue(err.startsWith("error: ") && err.contains("train-images-idx3-ubyte.gz"), err);
    assertEquals(1, err.lines().count(), err);
  }

  @Test
  void inconsistentSpecGivesOneLineErrorNamingTheLayer() throws IOException {
    Files.writeString(spec, TinyData.ADDER_SPEC.replace("fc adder 4->3", "fc adder 5->3"));
    Object[] r = train(dir.resolve("run"), "--epochs", "1");
    assertEquals(2, r[0]);
    assertTrue(((String) r[1]).contains("line 10 (fc adder 5->3)"), (String) r[1]);
  }

  @Test
  void benchTrainReportsBothTheNetworkAndItsTwin() throws IOException {
    Path report = dir.resolve("bench.json");
    Object[] r = run("bench", "train", "--model", spec.toString(), "--data", data.toString(), "--batch", "16",
        "--warmup-seconds", "0", "--rounds", "1", "--round-steps", "2", "--report", report.toString());
    assertEquals(0, r[0], (String) r[1]);
    JsonNode j = new ObjectMapper().readTree(report.toFile());
    assertTrue(j.get("images_per_second").get("tiny-adder").asDouble() > 0);
    assertTrue(j.get("images_per_second").get("tiny-cnn").asDouble() > 0);
    // With one round each, the ratio is exactly the ratio of the two rounds' rates.
    double adder = j.get("results").get(0).get("rounds_images_per_second").get(0).asDouble();
    double cnn = j.get("results").get(1).get("rounds_images_per_second").get(0).asDouble();
    assertEquals(adder / cnn, j.get("ratio_to_twin").asDouble(), 1e-9);
  }
}
