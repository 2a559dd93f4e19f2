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
 * The stage that runs only chains of layers (quantize) refuses a residual network in one line
 * that names the first branching node, and writes nothing; export takes it.
 */
class BranchingNetworkRefusalsTest {
  @TempDir Path tmp;
  Path ck;

  @BeforeEach
  void residualCheckpoint() throws Exception {
    NetworkSpec spec = NetworkSpec.parse("r4", String.join("\n",
        "input 1x28x28",
        "conv adder 1->4 kernel=3 padding=1",
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
    Outcome o = CliRun.run("export", "--torch", ck.toString(), "--out", pt.toString());
    assertEquals(0, o.code(), o.err());
    assertTrue(Files.exists(pt));
    assertTrue(Files.readString(tmp.resolve("r4.py")).contains("class Network(nn.Module)"));
  }

  @Test
  void quantizeRefusesAResidualNetNamingTheAdd() {
    assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "Fashion-MNIST is not installed");
    Path pkg = tmp.resolve("pkg");
    Path report = tmp.resolve("q.json");
    Outcome o = CliRun.run("quantize", "--checkpoint", ck.toString(), "--test-limit", "20", "--train-limit", "64",
        "--calibration-images", "32", "--no-progress", "--out", pkg.toString(), "--report", report.toString());
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().contains("error: r4 line 5 (layer1.0.add): quantization takes a chain"), o.err());
    assertFalse(Files.exists(pkg));
    assertFalse(Files.exists(report));
  }
}
