package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import addernet.data.FashionMnist;
import addernet.data.Normalization;
import addernet.export.ModelPackage;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.train.Checkpoint;
import addernet.train.Recipe;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import addernet.cli.CliRun.Outcome;

class QuantizeCommandTest {
  @TempDir Path tmp;

  private static Outcome run(String... args) {
    return CliRun.run(args);
  }

  @Test
  void helpExplainsTheOptionsWithExamples() {
    Outcome o = run("quantize", "--help");
    assertEquals(0, o.code());
    for (String s : List.of("--checkpoint", "--bits", "--qat-epochs", "--layer-bits", "--report", "Examples")) {
      assertTrue(o.out().contains(s), "help lacks " + s + ":\n" + o.out());
    }
  }

  @Test
  void missingCheckpointIsOneLineWithExitTwo() {
    Outcome o = run("quantize", "--checkpoint", tmp.resolve("none").toString(), "--out",
        tmp.resolve("pkg").toString(), "--report", tmp.resolve("r.json").toString());
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().startsWith("error: ") && o.err().contains("no checkpoint"), o.err());
    assertEquals(1, o.err().strip().lines().count(), o.err());
  }

  @Test
  void widthOutsideFourToSixteenIsRefusedAtTheDoor() {
    Outcome o = run("quantize", "--checkpoint", tmp.toString(), "--bits", "3", "--out",
        tmp.resolve("pkg").toString(), "--report", tmp.resolve("r.json").toString());
    assertEquals(2, o.code());
    assertEquals("error: bits must be in 4..16, got 3", o.err().strip());
  }

  @Test
  void outputWhoseFolderDoesNotExistIsRefusedBeforeAnyWork() {
    Outcome o = run("quantize", "--checkpoint", tmp.toString(), "--out",
        tmp.resolve("no/such/pkg").toString(), "--report", tmp.resolve("r.json").toString());
    assertEquals(2, o.code());
    assertTrue(o.err().startsWith("error: --out ") && o.err().contains("parent folder does not exist"), o.err());
  }

  @Test
  void quantizeWritesAReadablePackageAndAReportWithBothAccuracies() throws Exception {
    assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "Fashion-MNIST is not installed");
    NetworkSpec spec = NetworkSpec.resolve("lenet5-adder");
    Network net = Network.build(spec, 3);
    Path ck = tmp.resolve("ck");
    new Checkpoint(net, new Normalization(0.286, 0.353), 0, Recipe.defaults(1, 1), List.of(), Map.of())
        .save(ck);
    Path pkg = tmp.resolve("pkg");
    Path report = tmp.resolve("report.json");
    Outcome o = run("quantize", "--checkpoint", ck.toString(), "--bits", "6", "--layer-bits", "fc2=8",
        "--qat-epochs", "1", "--train-limit", "256", "--calibration-images", "128", "--images", "100",
        "--golden", "2", "--threads", "1", "--no-progress", "--out", pkg.toString(), "--report", report.toString());
    assertEquals(0, o.code(), o.err());
    JsonNode r = new ObjectMapper().readTree(report.toFile());
    for (String f : List.of("float_accuracy", "quantized_accuracy", "post_training_accuracy")) {
      assertTrue(r.path(f).isNumber() && r.path(f).asDouble() >= 0 && r.path(f).asDouble() <= 1, f + " in " + r);
    }
    ModelPackage p = ModelPackage.read(pkg);
    assertEquals(5, p.network().layers().size());
    assertEquals(8, p.network().layers().get(4).dataBits());
    assertEquals(6, p.network().layers().get(0).dataBits());
    assertEquals(2, p.golden().count());
  }

  @Test
  void cnnTwinCheckpointGivesAPackageOfMultiplyLayersWithTheirOwnWeightScales() throws Exception {
    assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "Fashion-MNIST is not installed");
    Network net = Network.build(NetworkSpec.resolve("lenet5-cnn"), 3);
    Path ck = tmp.resolve("ck");
    new Checkpoint(net, new Normalization(0.286, 0.353), 0, Recipe.defaults(1, 1), List.of(), Map.of())
        .save(ck);
    Path pkg = tmp.resolve("pkg");
    Path report = tmp.resolve("report.json");
    Outcome o = run("quantize", "--checkpoint", ck.toString(), "--bits", "8", "--train-limit", "256",
        "--calibration-images", "128", "--images", "100", "--golden", "2", "--threads", "1",
        "--no-progress", "--out", pkg.toString(), "--report", report.toString());
    assertEquals(0, o.code(), o.err());
    ModelPackage p = ModelPackage.read(pkg);
    assertTrue(p.network().layers().stream().allMatch(l -> l.op() == addernet.quant.PeOp.MULTIPLY));
    JsonNode layer = new ObjectMapper().readTree(report.toFile()).path("layers").get(1);
    assertEquals("multiply", layer.path("operation").asText());
    assertTrue(layer.path("weight_scale").asDouble() != layer.path("scale").asDouble(), layer.toString());
    o = run("quantize", "--checkpoint", ck.toString(), "--qat-epochs", "1", "--train-limit", "256",
        "--calibration-images", "128", "--images", "100", "--threads", "1", "--no-progress",
        "--out", tmp.resolve("qat").toString(), "--report", tmp.resolve("q.json").toString());
    assertEquals(2, o.code());
    assertTrue(o.err().contains("conv1 is a multiply layer"), o.err());
  }
}
