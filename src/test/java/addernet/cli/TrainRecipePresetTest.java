package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cli.CliRun.Outcome;
import addernet.train.Checkpoint;
import addernet.train.Recipe;
import addernet.train.TinyData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --recipe official fills in the official ResNet training's settings that no option gives. */
class TrainRecipePresetTest {
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

  private Recipe trained(String... more) {
    Path out = dir.resolve("run" + more.length);
    String[] base = {"train", "--model", spec.toString(), "--data", data.toString(), "--out", out.toString(),
        "--epochs", "1", "--no-progress", "--recipe", "official"};
    String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(more))
        .toArray(String[]::new);
    Outcome o = CliRun.run(all);
    assertEquals(0, o.code(), o.err());
    return Checkpoint.load(out).recipe();
  }

  @Test
  void officialSetsBatchLearningRateAndCropAndFlip() {
    Recipe r = trained();
    assertEquals(256, r.batch());
    assertEquals(0.1, r.learningRate());
    assertEquals("flip,shift=4", r.augmentation());
    assertEquals(Recipe.DEFAULT_ETA, r.eta());
  }

  @Test
  void anOptionGivenBesideItWins() {
    Recipe r = trained("--batch", "64", "--lr", "0.02");
    assertEquals(64, r.batch());
    assertEquals(0.02, r.learningRate());
    assertEquals("flip,shift=4", r.augmentation());
  }

  @Test
  void anUnknownRecipeIsRefused() {
    Outcome o = CliRun.run("train", "--model", spec.toString(), "--data", data.toString(), "--out",
        dir.resolve("x").toString(), "--recipe", "fast");
    assertEquals(2, o.code());
    assertTrue(o.err().startsWith("error: --recipe must be default or official, got 'fast'"), o.err());
  }
}
