package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cli.CliRun.Outcome;
import addernet.data.Normalization;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.train.Checkpoint;
import addernet.train.EpochMetrics;
import addernet.train.Recipe;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TINY_ADDER = String.join("\n",
      "input 1x8x8", "conv adder 1->4 kernel=3", "batchnorm", "relu", "maxpool 2",
      "flatten", "fc adder 36->10", "batchnorm");

  @TempDir Path tmp;

  /** A partial run: the adder net trained, quantized to 8 bits and synthesised; no CNN twin, no cosim. */
  private Path partialRun() throws IOException {
    Path run = Files.createDirectory(tmp.resolve("run"));
    Path adder = Files.createDirectory(run.resolve("lenet5-adder"));
    List<EpochMetrics> epochs = List.of(
        new EpochMetrics(1, 0.05, 0.9, 0.70, 0.8, 0.75, 1000, 10),
        new EpochMetrics(2, 0.03, 0.6, 0.80, 0.6, 0.81, 1000, 10),
        new EpochMetrics(3, 0.01, 0.5, 0.84, 0.5, 0.83, 1000, 10));
    Checkpoint.writeMetrics(adder.resolve("metrics.json"), epochs);
    Network net = Network.build(NetworkSpec.parse("lenet5-adder", TINY_ADDER), 3);
    // A checkpoint after epoch 3 carries one metrics entry per epoch, or its reader refuses it.
    new Checkpoint(net, new Normalization(0.286, 0.353), 3, Recipe.defaults(3, 1), epochs, Map.of()).save(adder);
    Files.writeString(run.resolve("quantize-8bit.json"), """
        {"network": "lenet5-adder", "bits": 8, "layer_bits": {}, "qat_epochs": 0, "test_images": 100,
         "float_accuracy": 0.83, "quantized_accuracy": 0.82}""");
    Files.writeString(run.resolve("synth-array.json"), """
        {"rtl": "array4x4", "target": "ice40", "runs": [
          {"design": "adder", "flow": "synth_ice40", "multiplier_cells": 0,
           "modules": {"(total)": {"luts": 300, "flip_flops": 200, "carries": 90, "block_rams": 0, "dsps": 0}},
           "pnr": {"device": "hx8k", "pkg": "ct256", "fmax_mhz": 123.4,
                   "utilisation": {"ICESTORM_LC": {"used": 400, "available": 7680}}}},
          {"design": "mac twin", "flow": "synth_ice40", "multiplier_cells": 16,
           "modules": {"(total)": {"luts": 1200, "flip_flops": 250, "carries": 120, "block_rams": 0, "dsps": 0}}}]}""");
    // A whole accelerator beside its MAC twin, LUT-only and with DSPs, not placed.
    Files.writeString(run.resolve("synth-accel.json"), """
        {"rtl": "accel8x8", "target": "ice40", "activation_bits_stored": 105472, "runs": [
          {"design": "adder", "flow": "synth_ice40 -top AcceleratorAxi -noflatten", "multiplier_cells": 0,
           "modules": {"(total)": {"luts": 7786, "flip_flops": 5039, "carries": 900, "block_rams": 134, "dsps": 0},
                       "Requantizer": {"luts": 1008, "flip_flops": 200, "carries": 90, "block_rams": 0, "dsps": 0}}},
          {"design": "mac twin", "flow": "synth_ice40 -top AcceleratorAxi -noflatten", "multiplier_cells": 64,
           "modules": {"(total)": {"luts": 23817, "flip_flops": 5927, "carries": 2000, "block_rams": 134, "dsps": 0},
                       "Requantizer": {"luts": 1260, "flip_flops": 230, "carries": 99, "block_rams": 0, "dsps": 0}}},
          {"design": "adder", "flow": "synth_ice40 -dsp -top AcceleratorAxi -noflatten", "multiplier_cells": 0,
           "modules": {"(total)": {"luts": 7779, "flip_flops": 5039, "carries": 900, "block_rams": 134, "dsps": 0}}},
          {"design": "mac twin", "flow": "synth_ice40 -dsp -top AcceleratorAxi -noflatten", "multiplier_cells": 64,
           "modules": {"(total)": {"luts": 8154, "flip_flops": 5927, "carries": 950, "block_rams": 134, "dsps": 64}}}]}""");
    return run;
  }

  private static List<String> imageSources(String html) {
    List<String> src = new ArrayList<>();
    Matcher m = Pattern.compile("<img src=\"([^\"]+)\"").matcher(html);
    while (m.find()) {
      src.add(m.group(1));
    }
    return src;
  }

  @Test
  void partialRunGivesAPageWhoseImagesExistAndNamesWhatIsMissing() throws IOException {
    Path run = partialRun();
    Outcome o = CliRun.run("report", "--run", run.toString());
    assertEquals(0, o.code(), o.err());
    Path report = run.resolve("report");
    String html = Files.readString(report.resolve("index.html"));

    List<String> images = imageSources(html);
    assertTrue(images.size() >= 5, "training, weights, accuracy, hardware and energy charts: " + images);
    for (String png : images) {
      assertFalse(png.contains("/") || png.contains(":"), "the page must use local PNGs beside it: " + png);
      assertTrue(Files.size(report.resolve(png)) > 1000, png + " is missing or empty");
    }
    assertFalse(html.contains("<script"), "no script on the page");
    assertTrue(html.contains("not in this run: expected cosim-*.json"), "missing cosim section not named");
    assertTrue(html.contains("not in this run: expected lenet5-cnn/metrics.json"), "missing twin not named");
    assertTrue(html.contains("not in this run: expected quantize-6bit.json"));

    JsonNode json = JSON.readTree(report.resolve("report.json").toFile());
    JsonNode sections = json.path("sections");
    assertEquals(3, sections.path("training").path("networks").path("lenet5-adder").size());
    assertFalse(sections.path("cosim").path("missing").isEmpty());
    assertTrue(html.contains("<td>123.4</td>"), "Fmax of the pnr entry shown");
    assertTrue(html.contains("<td>ct256</td>"), "package of the pnr entry shown");
    assertTrue(html.contains("<td>ICESTORM_LC 400/7680</td>"), "utilisation of the pnr entry shown");
    JsonNode ratio = sections.path("hardware").path("reports").get(1).path("adder_over_mac").get(0);
    assertEquals(300.0 / 1200.0, ratio.path("lut_ratio").asDouble(), 1e-12);
    assertEquals(200.0 / 250.0, ratio.path("ff_ratio").asDouble(), 1e-12);
    // Weights: one fitted row per weighted layer of the checkpoint (conv1, fc1).
    assertEquals(2, sections.path("weights").path("networks").path("lenet5-adder").path("layers").size());
    // Energy falls back to the spec and says that the package was expected.
    assertTrue(sections.path("energy").path("counted_from").asText().startsWith("spec"));
    assertTrue(html.contains("ESTIMATE"));

    assertTrue(o.out().contains("float 83.00%, 8-bit 82.00%"), o.out());
    // The summary leads with the whole accelerator, each flow's ratio, and shows the PE array under it.
    List<String> lines = List.of(o.out().split("\n"));
    int at = 0;
    while (at < lines.size() && !lines.get(at).startsWith("LUTs adder/MAC")) {
      at++;
    }
    assertTrue(at + 1 < lines.size(), o.out());
    assertTrue(lines.get(at).contains(String.format(java.util.Locale.ROOT,
        "whole accelerator %.3f LUT-only (adder 7786 LUTs + 0 DSP, MAC 23817 LUTs + 0 DSP); %.3f with DSPs"
            + " (adder 7779 LUTs + 0 DSP, MAC 8154 LUTs + 64 DSP) (synth-accel.json)", 7786.0 / 23817, 7779.0 / 8154)),
        lines.get(at));
    assertTrue(lines.get(at + 1).strip().equals(
        "PE array 0.250 LUT-only (adder 300 LUTs + 0 DSP, MAC 1200 LUTs + 0 DSP) (synth-array.json)"), lines.get(at + 1));
    // A report without place and route is the run's choice while another report has it.
    assertTrue(sections.path("hardware").path("missing").isEmpty(), sections.path("hardware").toString());
    assertTrue(o.out().contains("adder 123.4 MHz (hx8k)"), o.out());
    assertTrue(o.out().contains("RTL mismatches         not in this run"), o.out());
  }

  @Test
  void emptyRunFolderStillGivesAPageWithEverySectionMissing() throws IOException {
    Path run = Files.createDirectory(tmp.resolve("empty"));
    Path out = tmp.resolve("elsewhere");
    Outcome o = CliRun.run("report", "--run", run.toString(), "--out", out.toString());
    assertEquals(0, o.code(), o.err());
    String html = Files.readString(out.resolve("index.html"));
    for (String expected : List.of("lenet5-adder/metrics.json", "lenet5-cnn/checkpoint.json", "quantize-8bit.json",
        "synth-*.json", "cosim-*.json", "lenet5-adder-8bit/manifest.json")) {
      assertTrue(html.contains("not in this run: expected " + expected), expected);
    }
    for (String png : imageSources(html)) {
      assertTrue(Files.isRegularFile(out.resolve(png)), png);
    }
    assertFalse(Files.exists(run.resolve("report")), "--out was given: nothing written into the run");
  }

  @Test
  void missingRunFolderIsAUserErrorNamingIt() {
    Outcome o = CliRun.run("report", "--run", "/nonexistent/run");
    assertEquals(2, o.code());
    assertTrue(o.err().startsWith("error: --run /nonexistent/run is not a folder"), o.err());
    assertEquals(1, o.err().strip().lines().count(), o.err());
  }

  @Test
  void energyOfAnUnknownModelIsAUserError() {
    Outcome o = CliRun.run("energy", "--model", "no-such-net");
    assertEquals(2, o.code());
    assertTrue(o.err().startsWith("error: --model no-such-net"), o.err());
  }

  @Test
  void energyReportIsWrittenAsJsonWithSourceAndAssumptions() throws IOException {
    Path file = tmp.resolve("energy.json");
    Outcome o = CliRun.run("energy", "--model", "lenet5-adder", "--bits", "6", "--report", file.toString());
    assertEquals(0, o.code(), o.err());
    JsonNode j = JSON.readTree(file.toFile());
    assertTrue(j.path("source").asText().contains("Horowitz"));
    assertFalse(j.path("assumptions").isEmpty());
    assertEquals(6, j.path("layers").get(0).path("ops").path("data_bits").asInt());
    assertTrue(j.path("adder_over_cnn").asDouble() < 1);
    assertTrue(o.out().contains("ESTIMATE"), o.out());
  }
}
