package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import addernet.cli.CliRun.Outcome;
import addernet.data.FashionMnist;
import addernet.data.Normalization;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.train.Checkpoint;
import addernet.train.Recipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A residual network runs through export, quantize and evaluate; the stages that run only chains
 * of layers (QAT, the accelerator) refuse it in one line that names the first node they cannot
 * run, and write nothing.
 */
class BranchingNetworkRefusalsTest {
  @TempDir Path tmp;
  Path ck;

  @BeforeEach
  void residualCheckpoint() throws Exception {
    NetworkSpec spec = NetworkSpec.parse("r4", String.join("\n",
        "input 1x28x28",
        // No padding: the hardware pads with raw pixel 0, the float net with the normalized 0.
        "conv adder 1->4 kernel=3",
        "batchnorm",
        "relu",
        "block adder 4->4",
        "avgpool",
        "conv adder 4->10 kernel=1",
        "batchnorm"));
    ck = tmp.resolve("ck");
    new Checkpoint(Network.build(spec, 1), new Normalization(0.286, 0.353), 0, Recipe.defaults(1, 1),
        List.of(), Map.of()).save(ck);
  }

  @Test
  void exportWritesAResidualNetAsAGraphModule() throws Exception {
    // Export runs graphs (docs/torch.md, "Residual networks"); only quantization refuses them.
    Path pt = tmp.resolve("r4.pt");
    Outcome o = CliRun.run("export", "--checkpoint", ck.toString(), "--out", pt.toString());
    assertEquals(0, o.code(), o.err());
    assertTrue(Files.exists(pt));
    assertTrue(Files.readString(tmp.resolve("r4.py")).contains("class Network(nn.Module)"));
  }

  @Test
  void quantizeWritesAVersionTwoPackageThatEvaluateRunsAndGenerateRefusesForItsPool() throws Exception {
    assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "Fashion-MNIST is not installed");
    Path pkg = tmp.resolve("pkg");
    Path report = tmp.resolve("q.json");
    Outcome o = CliRun.run("quantize", "--checkpoint", ck.toString(), "--images", "20", "--train-limit", "64",
        "--calibration-images", "32", "--golden", "4", "--no-progress", "--out", pkg.toString(), "--report",
        report.toString());
    assertEquals(0, o.code(), o.err());
    assertEquals(2, new com.fasterxml.jackson.databind.ObjectMapper().readTree(pkg.resolve("manifest.json").toFile())
        .get("version").intValue());
    Outcome ev = CliRun.run("evaluate", "--model", pkg.toString(), "--images", "20");
    assertEquals(0, ev.code(), ev.err());
    assertTrue(ev.out().contains("r4 (integer reference): test accuracy"), ev.out());
    Path accel = tmp.resolve("accel");
    Outcome gen = CliRun.run("generate", "--model", pkg.toString(), "--rows", "2", "--cols", "2", "--out", accel.toString());
    // The net's 26 x 26 map holds no 2^n values, so its global average pool is not a shift.
    assertEquals(2, gen.code(), gen.err());
    assertEquals(1, gen.err().strip().lines().count(), gen.err());
    assertTrue(gen.err().contains("the accelerator cannot run node 4 (layers_10), an average pool of 26x26 windows"),
        gen.err());
    assertFalse(Files.exists(accel));
  }

  @Test
  void quantizationAwareFineTuningRefusesAResidualNet() {
    assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "Fashion-MNIST is not installed");
    Path pkg = tmp.resolve("pkg");
    Outcome o = CliRun.run("quantize", "--checkpoint", ck.toString(), "--images", "20", "--train-limit", "64",
        "--calibration-images", "32", "--qat-epochs", "1", "--no-progress", "--out", pkg.toString(), "--report",
        tmp.resolve("q.json").toString());
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().contains("error: r4: quantization-aware fine-tuning (--qat-epochs) runs chains of layers only"),
        o.err());
    assertFalse(Files.exists(pkg));
    assertFalse(Files.exists(tmp.resolve("q.json")));
  }
}
