package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cli.CliRun.Outcome;
import addernet.gen.AcceleratorGenerator;
import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.quant.IntNetwork;
import addernet.quant.PeOp;
import addernet.quant.RandomNetworks;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * synth --target asic on the CMOS gate model and on a Liberty library the test writes: every
 * module's figures add up to the whole design's, the flip-flops hold at least the registers the
 * design must have, memories stay out of the logic, and bad input is refused by name.
 */
class AsicSynthTest {
  @TempDir Path tmp;

  /** Four logic cells and a flip-flop, each with an area and one timing arc per input. */
  static String liberty() {
    StringBuilder b = new StringBuilder("library(test) {\n  delay_model : table_lookup;\n  time_unit : \"1ns\";\n"
        + "  capacitive_load_unit (1,pf);\n");
    String[][] cells = {{"BUF", "1.0", "A", "A", "0.06"}, {"INV", "1.0", "A", "A'", "0.05"},
        {"NAND2", "1.5", "A B", "(A*B)'", "0.08"}, {"NOR2", "1.5", "A B", "(A+B)'", "0.10"}};
    for (String[] c : cells) {
      b.append("  cell(").append(c[0]).append(") { area : ").append(c[1]).append(";\n");
      for (String pin : c[2].split(" ")) {
        b.append("    pin(").append(pin).append(") { direction : input; capacitance : 0.01; }\n");
      }
      b.append("    pin(Y) { direction : output; function : \"").append(c[3]).append("\";\n");
      for (String pin : c[2].split(" ")) {
        b.append(arc(pin, c[4], ""));
      }
      b.append("    }\n  }\n");
    }
    b.append("  cell(DFF) { area : 6.0;\n    ff(IQ, IQN) { clocked_on : \"C\"; next_state : \"D\"; }\n"
        + "    pin(C) { direction : input; clock : true; capacitance : 0.01; }\n"
        + "    pin(D) { direction : input; capacitance : 0.01; }\n"
        + "    pin(Q) { direction : output; function : \"IQ\";\n" + arc("C", "0.2", " timing_type : rising_edge;")
        + "    }\n  }\n}\n");
    return b.toString();
  }

  private static String arc(String pin, String ns, String extra) {
    return "      timing() { related_pin : \"" + pin + "\";" + extra + " cell_rise(scalar) { values(\"" + ns
        + "\"); } cell_fall(scalar) { values(\"" + ns + "\"); } rise_transition(scalar) { values(\"0.02\"); }"
        + " fall_transition(scalar) { values(\"0.02\"); } }\n";
  }

  @Test
  void aBareArrayAndItsMacTwinMapOntoGatesAndCellsWithFiguresThatAddUp() throws Exception {
    Path rtl = tmp.resolve("array");
    ArrayGenerator.generate(new ArrayConfig(2, 2, 8, PeOp.ADDER.accumulatorBits(8, 64), 64, PeOp.ADDER), rtl);
    Path lib = Files.writeString(tmp.resolve("test.lib"), liberty());
    Path report = tmp.resolve("asic.json");
    Outcome o = CliRun.run("synth", "--rtl", rtl.toString(), "--target", "asic", "--mac-twin", "--liberty",
        lib.toString(), "--report", report.toString());
    assertEquals(0, o.code(), o.err());
    JsonNode r = new ObjectMapper().readTree(report.toFile());
    assertEquals(2, r.path("runs").size());
    int perFlop = r.path("transistors_per_flip_flop").asInt();
    int[] accBits = {PeOp.ADDER.accumulatorBits(8, 64), PeOp.MULTIPLY.accumulatorBits(8, 64)};
    double[] pe = new double[2];
    for (int i = 0; i < 2; i++) {
      JsonNode run = r.path("runs").get(i);
      JsonNode total = run.path("modules").path("(total)");
      long transistors = 0;
      long flops = 0;
      double area = 0;
      for (Iterator<Map.Entry<String, JsonNode>> it = run.path("modules").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> m = it.next();
        JsonNode f = m.getValue();
        assertEquals(f.path("logic_transistors").asLong() + perFlop * f.path("flip_flops").asLong(),
            f.path("transistors").asLong(), m.getKey());
        if (!m.getKey().equals("(total)")) {
          long n = f.path("instances").asLong();
          transistors += n * f.path("logic_transistors").asLong();
          flops += n * f.path("flip_flops").asLong();
          area += n * f.path("area").asDouble(0);
        }
      }
      // The whole design is its modules' instances, nothing more and nothing lost.
      assertEquals(total.path("logic_transistors").asLong(), transistors, run.toString());
      assertEquals(total.path("flip_flops").asLong(), flops, run.toString());
      assertEquals(total.path("area").asDouble(), area, 1e-6 * area, run.toString());
      // Each PE keeps its accumulator and the two operands it passes on.
      JsonNode p = run.path("modules").path("PE");
      assertEquals(4, p.path("instances").asLong(), run.toString());
      assertTrue(p.path("flip_flops").asLong() >= accBits[i] + 2 * 8, p.toString());
      // Every flip-flop is a Liberty DFF of area 6, and the gates come on top.
      assertTrue(p.path("area").asDouble() > 6.0 * p.path("flip_flops").asLong(), p.toString());
      assertTrue(run.path("longest_path_ps").asDouble() > 0, run.toString());
      assertEquals(0, run.path("memory_bits").asLong());
      pe[i] = p.path("transistors").asDouble();
    }
    assertEquals(pe[0] / pe[1], r.path("adder_over_mac").path("transistors PE").asDouble(), 1e-12);
    assertTrue(pe[0] < pe[1], "the adder PE is smaller than the MAC PE: " + r.path("adder_over_mac"));
    assertTrue(o.out().contains("adder/MAC, whole design (memories apart): transistors "), o.out());
  }

  @Test
  void anAcceleratorsMemoriesStayBlackBoxesCountedInBits() throws Exception {
    IntNetwork net = RandomNetworks.create(5);
    Path rtl = tmp.resolve("accel");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 2), rtl);
    Path report = tmp.resolve("asic.json");
    Outcome o = CliRun.run("synth", "--rtl", rtl.toString(), "--target", "asic", "--report", report.toString());
    assertEquals(0, o.code(), o.err());
    JsonNode run = new ObjectMapper().readTree(report.toFile()).path("runs").get(0);
    JsonNode accel = new ObjectMapper().readTree(rtl.resolve("accel.json").toFile());
    // The activation buffers alone hold what accel.json says they store; weights and tables add to it.
    assertTrue(run.path("memory_bits").asLong() > accel.path("activationBitsStored").asLong(), run.toString());
    assertTrue(run.path("memory_instances").path("LaneRam").asLong() >= 2, run.toString());
    assertTrue(run.path("memory_instances").path("Rom").asLong() >= 2, run.toString());
    assertTrue(run.path("modules").has("Requantizer"), run.toString());
    assertFalse(run.path("modules").has("Rom"), "a memory is not mapped to gates: " + run);
  }

  @Test
  void badInputIsRefusedByNameBeforeAnySynthesis() throws Exception {
    Path rtl = tmp.resolve("array");
    ArrayGenerator.generate(new ArrayConfig(2, 2, 8, PeOp.ADDER.accumulatorBits(8, 64), 64, PeOp.ADDER), rtl);
    Path broken = Files.writeString(tmp.resolve("broken.lib"), "library(x) { cell(A) { area : ; \n");
    Outcome o = CliRun.run("synth", "--rtl", rtl.toString(), "--target", "asic", "--liberty", broken.toString());
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().contains("--liberty " + broken + ": yosys cannot read it: ERROR:"), o.err());
    Path lib = Files.writeString(tmp.resolve("test.lib"), liberty());
    o = CliRun.run("synth", "--rtl", rtl.toString(), "--target", "ice40", "--liberty", lib.toString());
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().contains("--liberty maps onto standard cells; it goes with --target asic, not ice40"), o.err());
    o = CliRun.run("synth", "--rtl", rtl.toString(), "--target", "asic", "--liberty", tmp.resolve("none.lib").toString());
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().contains("is not a file"), o.err());
  }
}
