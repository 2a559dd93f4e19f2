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
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report page built from what quantize, synth and cosim really write, not from JSON written
 * by hand: a key that the writer and the report spell differently shows here as an empty cell.
 */
class RealOutputsReportTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  private static Outcome ok(String... args) {
    Outcome o = CliRun.run(args);
    assertEquals(0, o.code(), String.join(" ", args) + "\n" + o.err());
    return o;
  }

  @Test
  void theReportShowsTheFiguresTheCommandsWrote() throws IOException {
    assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "Fashion-MNIST is not installed");
    Path run = Files.createDirectory(tmp.resolve("run"));

    Path ck = tmp.resolve("ck");
    Network net = Network.build(NetworkSpec.resolve("model/tiny-adder.spec"), 3);
    new Checkpoint(net, new Normalization(0.286, 0.353), 0, Recipe.defaults(1, 1), List.of(), Map.of()).save(ck);
    Path quantize = run.resolve("quantize-8bit.json");
    ok("quantize", "--checkpoint", ck.toString(), "--bits", "8", "--train-limit", "64", "--calibration-images", "32",
        "--images", "40", "--golden", "1", "--threads", "1", "--no-progress",
        "--out", run.resolve("tiny-adder-8bit").toString(), "--report", quantize.toString());

    Path rtl = tmp.resolve("array");
    ok("generate", "--rows", "2", "--cols", "2", "--out", rtl.toString());
    Path synth = run.resolve("synth-array.json");
    ok("synth", "--rtl", rtl.toString(), "--target", "ice40", "--mac-twin", "--report", synth.toString());
    Path cosim = run.resolve("cosim-array.json");
    ok("cosim", "--rtl", rtl.toString(), "--random", "20", "--seed", "3", "--report", cosim.toString());

    Outcome o = ok("report", "--run", run.toString());
    Path page = run.resolve("report");
    String html = Files.readString(page.resolve("index.html"));
    JsonNode sections = JSON.readTree(page.resolve("report.json").toFile()).path("sections");

    // quantize: the accuracies and the width, as written
    JsonNode q = JSON.readTree(quantize.toFile());
    JsonNode qr = sections.path("quantization").path("reports").get(0);
    assertEquals("tiny-adder", qr.path("network").asText());
    assertEquals(8, qr.path("bits").asInt());
    assertEquals(40, qr.path("test_images").asInt());
    assertEquals(q.path("float_accuracy").asDouble(), qr.path("float_accuracy").asDouble());
    assertEquals(q.path("quantized_accuracy").asDouble(), qr.path("post_training_accuracy").asDouble());
    assertTrue(o.out().contains(String.format(Locale.ROOT, "8-bit %.2f%%", 100 * q.path("quantized_accuracy").asDouble())),
        o.out());

    // synth: resources, the adder/MAC ratio and place and route with its package
    JsonNode s = JSON.readTree(synth.toFile());
    JsonNode adder = s.path("runs").get(0);
    assertEquals("adder", adder.path("design").asText());
    JsonNode pnr = adder.path("pnr");
    assertTrue(pnr.path("device").isTextual() && pnr.path("pkg").isTextual(), "synth placed and routed: " + pnr);
    assertTrue(html.contains("<td>" + pnr.path("device").asText() + "</td><td>" + pnr.path("pkg").asText()
        + "</td><td>" + String.format(Locale.ROOT, "%.1f", pnr.path("fmax_mhz").asDouble()) + "</td>"),
        "the place-and-route row shows the device, package and Fmax synth wrote");
    String lc = "ICESTORM_LC " + pnr.path("utilisation").path("ICESTORM_LC").path("used").asInt() + "/"
        + pnr.path("utilisation").path("ICESTORM_LC").path("available").asInt();
    assertTrue(html.contains(lc), "utilisation " + lc + " on the page");
    JsonNode hr = sections.path("hardware").path("reports").get(0);
    assertEquals(s.path("runs").size(), hr.path("runs").size());
    assertEquals(pnr.path("pkg").asText(), hr.path("runs").get(0).path("pnr").path("pkg").asText());
    JsonNode total = hr.path("adder_over_mac").findParents("module").stream()
        .filter(x -> x.path("module").asText().equals("(total)")).findFirst().orElseThrow();
    String flow = total.path("flow").asText();
    assertEquals(s.path("adder_over_mac_luts").path(flow + " (total)").asDouble(), total.path("lut_ratio").asDouble(),
        1e-12);
    assertTrue(sections.path("hardware").path("missing").isEmpty(), sections.path("hardware").toString());

    // cosim: the values compared and the mismatches
    JsonNode c = JSON.readTree(cosim.toFile());
    JsonNode cr = sections.path("cosim").path("reports").get(0);
    assertTrue(c.path("compared").asLong() > 0, c.toString());
    assertEquals(c.path("compared").asLong(), cr.path("compared").asLong());
    assertEquals(c.path("tiles").asInt(), cr.path("tiles").asInt());
    assertTrue(html.contains("<td>2x2 bare array, " + c.path("data_bits").asInt() + "-bit</td><td>20 tiles</td><td>"
        + c.path("compared").asLong() + "</td><td>0</td>"), "the cosim row shows what cosim wrote");
    assertTrue(o.out().contains("cosim-array.json 0 of " + c.path("compared").asLong()), o.out());
    assertFalse(html.contains("could not read"), "every report of the commands parses");
  }

  @Test
  void aRandomNetworksCampaignIsReportedWithItsFigures() throws IOException {
    Path run = Files.createDirectory(tmp.resolve("run"));
    Path cosim = run.resolve("cosim-networks.json");
    Outcome c = ok("cosim", "--random-networks", "1", "--seed", "7", "--keep", tmp.resolve("kept").toString(),
        "--report", cosim.toString());
    assertTrue(c.out().contains("1 random networks"), c.out());
    JsonNode r = JSON.readTree(cosim.toFile());
    assertEquals(1, r.path("networks").asInt());
    assertEquals(0, r.path("failed").asInt());
    assertTrue(r.path("compared").asLong() > 0, r.toString());
    assertFalse(Files.exists(tmp.resolve("kept")), "nothing kept when every network passes");

    ok("report", "--run", run.toString());
    String html = Files.readString(run.resolve("report/index.html"));
    assertTrue(html.contains("<td>1 random networks</td><td>0 of 1 failed</td><td>" + r.path("compared").asLong()
        + "</td><td>0</td>"), "the campaign's row shows what cosim wrote");
  }
}
