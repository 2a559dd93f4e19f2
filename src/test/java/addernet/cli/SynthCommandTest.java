package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cli.CliRun.Outcome;
import addernet.gen.AcceleratorGenerator;
import addernet.quant.PeOp;
import addernet.quant.IntNetwork;
import addernet.quant.RandomNetworks;
import addernet.synth.VerilogInstances;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** synth on whole accelerators: the MAC twin beside the adder design, and a CNN twin's folder. */
class SynthCommandTest {
  @TempDir Path tmp;

  private final IntNetwork net = RandomNetworks.create(5);
  private final AcceleratorGenerator.Options opt = AcceleratorGenerator.fit(net, 2, 2, 2);

  @Test
  void acceleratorMacTwinAndCnnTwinAreSynthesisedBesideTheAdderDesign() throws IOException {
    Path adder = tmp.resolve("adder");
    Path cnn = tmp.resolve("cnn");
    AcceleratorGenerator.generate(net, opt, adder);
    AcceleratorGenerator.generate(RandomNetworks.withOperation(net, PeOp.MULTIPLY), opt, cnn);
    Path report = tmp.resolve("synth.json");
    Outcome o = CliRun.run("synth", "--rtl", adder.toString(), "--target", "generic", "--mac-twin",
        "--twin-rtl", cnn.toString(), "--report", report.toString());
    assertEquals(0, o.code(), o.err());
    JsonNode r = new ObjectMapper().readTree(report.toFile());
    List<String> designs = new ArrayList<>();
    List<Integer> muls = new ArrayList<>();
    for (JsonNode run : r.path("runs")) {
      designs.add(run.path("design").asText());
      muls.add(run.path("multiplier_cells").asInt(-1));
      assertTrue(run.path("modules").has("(total)"), run.toString());
      assertTrue(run.path("modules").has("Requantizer"), run.toString());
    }
    int pes = opt.rows() * opt.cols();
    assertEquals(List.of("adder", "mac twin", "mac cnn"), designs);
    assertEquals(List.of(0, pes, pes), muls);
    List<String> summary = summary(o.out());
    assertTrue(summary.get(0).startsWith("adder/MAC LUTs, whole accelerator: "), o.out());
    assertTrue(summary.get(1).startsWith("adder/MAC vs cnn LUTs, whole accelerator: "), o.out());
    assertTrue(summary.get(0).contains("(adder " + r.path("whole_design").get(0).path("adder_luts").asInt()
        + " LUTs + 0 DSP, MAC " + r.path("whole_design").get(0).path("mac_luts").asInt() + " LUTs"), summary.get(0));
    assertEquals(List.of("mac twin", "mac cnn"),
        r.path("whole_design").findValuesAsText("versus"));
    assertTrue(o.out().contains("adder/MAC LUTs, Requantizer"), o.out());
  }

  /** The lines after synth's progress lines (which end in "..."), blank ones left out. */
  private static List<String> summary(String out) {
    List<String> lines = List.of(out.split("\n"));
    int first = 0;
    while (first < lines.size() && (lines.get(first).endsWith("...") || lines.get(first).isBlank())) {
      first++;
    }
    return lines.subList(first, lines.size()).stream().filter(l -> !l.isBlank()).toList();
  }

  @Test
  void tinyAcceleratorOnIce40NamesModulesReadablyWithInstancesAndCountsItsMemoryBits() throws IOException {
    Path rtl = tmp.resolve("tiny");
    Outcome g = CliRun.run("generate", "--model", "model/tiny-adder-8bit", "--rows", "2", "--cols", "2",
        "--no-trace", "--out", rtl.toString());
    assertEquals(0, g.code(), g.err());
    Path report = tmp.resolve("synth.json");
    Outcome o = CliRun.run("synth", "--rtl", rtl.toString(), "--target", "ice40", "--no-pnr",
        "--report", report.toString());
    assertEquals(0, o.code(), o.err());
    String json = Files.readString(report);
    assertFalse(o.out().contains("$paramod") || json.contains("$paramod"), o.out());
    assertTrue(summary(o.out()).get(0).startsWith("whole accelerator: "), o.out());

    JsonNode accel = new ObjectMapper().readTree(rtl.resolve(AcceleratorGenerator.CONFIG_FILE).toFile());
    List<String> sources = new ArrayList<>();
    accel.path("sources").forEach(n -> sources.add(n.asText()));
    Map<String, Long> memories = VerilogInstances.memories(rtl, sources, accel.path("top").asText());
    long bits = 0;
    for (Map.Entry<String, Long> e : memories.entrySet()) {
      String[] dxw = e.getKey().split(" ")[1].split("x");
      bits += e.getValue() * Long.parseLong(dxw[0]) * Long.parseLong(dxw[1]);
    }
    assertTrue(bits > 0, memories.toString());
    JsonNode r = new ObjectMapper().readTree(json);
    for (JsonNode run : r.path("runs")) {
      assertEquals(bits, run.path("memory_bits").asLong(), run.path("flow").asText());
      JsonNode modules = run.path("modules");
      assertEquals(modules.path("(total)").path("block_rams").asLong() * 4096, run.path("block_ram_bits").asLong());
      Map<String, Long> reported = new java.util.TreeMap<>();
      modules.forEach(m -> {
        if (List.of("Ram", "Rom").contains(m.path("module").asText())) {
          reported.merge(m.path("module").asText() + " " + m.path("parameters").path("DEPTH").asLong() + "x"
              + m.path("parameters").path("WIDTH").asLong(), m.path("instances").asLong(), Long::sum);
        }
      });
      assertEquals(memories, reported, "instances of each memory shape, " + run.path("flow").asText());
      modules.fields().forEachRemaining(e -> assertEquals(e.getKey(), e.getValue().path("name").asText()));
    }
    assertTrue(o.out().contains("memory: the Ram and Rom instances hold " + bits + " bits; "), o.out());
    for (String f : List.of("activationBitsNeeded", "activationBitsStored", "requantizers")) {
      String snake = f.replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT);
      assertEquals(accel.path(f).toString(), r.path(snake).toString(), "the report copies accel.json's " + f);
    }
  }

  @Test
  void cnnTwinOfAnotherArrayShapeIsRefusedBeforeSynthesis() {
    Path adder = tmp.resolve("adder");
    Path cnn = tmp.resolve("cnn");
    AcceleratorGenerator.generate(net, opt, adder);
    AcceleratorGenerator.generate(RandomNetworks.withOperation(net, PeOp.MULTIPLY),
        AcceleratorGenerator.Options.of(1, opt.cols(), opt.batch()), cnn); // another row count
    Outcome o = CliRun.run("synth", "--rtl", adder.toString(), "--twin-rtl", cnn.toString());
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().contains("generate both alike"), o.err());
    o = CliRun.run("synth", "--rtl", adder.toString(), "--twin-rtl", adder.toString());
    assertTrue(o.err().contains("has adder PEs"), o.err());
  }
}
