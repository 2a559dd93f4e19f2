package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.train.TinyData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Results go to stdout, so that {@code > file} keeps them; progress and notes go to stderr. */
class ResultStreamsTest {
  @TempDir Path dir;

  @Test
  void trainPrintsItsAndThePkkdTeachersAccuracyOnStdoutAndEpochsOnStderr() throws IOException {
    Path data = dir.resolve("data");
    TinyData.writeIdx(data, TinyData.images("train", 200, 1), TinyData.images("test", 60, 2));
    Path spec = dir.resolve("tiny-adder.spec");
    Files.writeString(spec, TinyData.ADDER_SPEC);
    Path out = dir.resolve("run");
    CliRun.Outcome o = CliRun.run("train", "--model", spec.toString(), "--data", data.toString(), "--out",
        out.toString(), "--batch", "32", "--epochs", "1", "--pkkd", "--threads", "1", "--no-progress");
    assertEquals(0, o.code(), o.err());
    List<String> stdout = o.out().strip().lines().toList();
    assertTrue(stdout.stream().anyMatch(l -> l.startsWith("done: test accuracy ")), o.out());
    assertTrue(stdout.stream().anyMatch(l -> l.startsWith("the PKKD teacher") && l.contains("test accuracy")),
        "the teacher's accuracy is not on stdout:\n" + o.out() + "\nstderr:\n" + o.err());
    assertTrue(o.err().contains("epoch 1/1: "), o.err());
    assertFalse(o.err().contains("PKKD teacher"), o.err());
    assertFalse(o.out().contains("epoch 1/1: "), o.out());
  }
}
