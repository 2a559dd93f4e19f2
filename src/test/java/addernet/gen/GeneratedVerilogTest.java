package addernet.gen;

import addernet.quant.PeOp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cosim.Verilator;
import addernet.synth.Yosys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import addernet.quant.RandomNetworks;

class GeneratedVerilogTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "{0}x{1} {3}, {2}-bit")
  @CsvSource({"1, 1, 2, adder", "8, 8, 8, adder", "3, 7, 16, adder", "4, 4, 8, multiply"})
  void generatedVerilogPassesVerilatorLintWithAllWarnings(int rows, int cols, int bits, String op) {
    ArrayConfig cfg = ArrayConfig.derived(rows, cols, bits, 400, PeOp.fromWord(op));
    Path out = tmp.resolve("rtl");
    ArrayGenerator.generate(cfg, out);
    var m = ArrayGenerator.read(out);
    assertEquals(cfg, m.config());
    assertEquals("", Verilator.lint(out, m.sources(), m.top()));
  }

  @Test
  void generatedVerilogHasNoWaiversInIt() throws Exception {
    Path out = tmp.resolve("rtl");
    ArrayGenerator.generate(ArrayConfig.derived(2, 2, 8, 16, PeOp.ADDER), out);
    for (String s : ArrayGenerator.read(out).sources()) {
      String text = Files.readString(out.resolve(s));
      assertTrue(!text.contains("lint_off") && !text.contains("verilator "), s + " carries a waiver");
    }
  }

  @Test
  void yosysSynthesisesTheAdderArrayWithoutAnyMultiplier() {
    Path out = tmp.resolve("adder");
    ArrayGenerator.generate(ArrayConfig.derived(4, 4, 8, 400, PeOp.ADDER), out);
    var m = ArrayGenerator.read(out);
    Map<String, Integer> words = Yosys.wordLevelCells(out, m.sources(), m.top());
    assertTrue(words.getOrDefault("$alu", 0) + words.getOrDefault("$sub", 0)
        + words.getOrDefault("$add", 0) > 0, "no adders found: " + words);
    assertEquals(0, words.getOrDefault("$mul", 0), "multiplier in the adder array: " + words);
    Map<String, Integer> gates = Yosys.synthesizedCells(out, m.sources(), m.top());
    assertTrue(gates.keySet().stream().anyMatch(c -> c.contains("DFF")), "no flip-flops: " + gates);
  }

  @Test
  void multiplierCheckSeesTheMacTwinsMultipliers() {
    Path out = tmp.resolve("mac");
    ArrayGenerator.generate(ArrayConfig.derived(2, 3, 8, 100, PeOp.MULTIPLY), out);
    var m = ArrayGenerator.read(out);
    assertEquals(6, Yosys.wordLevelCells(out, m.sources(), m.top()).getOrDefault("$mul", 0));
  }

  @ParameterizedTest(name = "random network {0}")
  @ValueSource(longs = {101, 303, 15})
  void acceleratorPassesVerilatorLintWithAllWarnings(long seed) {
    Path out = tmp.resolve("accel");
    var net = RandomNetworks.create(seed);
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 8, 8, 2), out);
    var m = AccelManifest.read(out);
    assertEquals("", Verilator.lint(out, m.sources(), m.top()));
  }

  /** Odd shapes, without the trace port, each weight memory: nothing dangles when bits go unused. */
  @ParameterizedTest(name = "{0}x{1}, batch {2}, {3} weights, no trace")
  @org.junit.jupiter.params.provider.CsvSource({"3,5,4,spram", "1,7,1,stream", "5,3,6,rom", "8,8,8,rom"})
  void acceleratorsWithoutTheTracePortPassLintWithAllWarnings(int rows, int cols, int batch, String weights) {
    Path out = tmp.resolve("notrace");
    var opt = new AcceleratorGenerator.Options(rows, cols, batch, false, WeightMemory.fromWord(weights),
        Control.AXI);
    AcceleratorGenerator.generate(RandomNetworks.lenet5Shaped(1), opt, out);
    var m = AccelManifest.read(out);
    assertEquals("", Verilator.lint(out, m.sources(), m.top()));
  }

  @Test
  void lenetShapedAcceleratorPassesVerilatorLintWithAllWarnings() {
    Path out = tmp.resolve("lenet");
    AcceleratorGenerator.generate(
        RandomNetworks.lenet5Shaped(1), AcceleratorGenerator.Options.of(8, 8, 8), out);
    var m = AccelManifest.read(out);
    assertEquals("", Verilator.lint(out, m.sources(), m.top()));
  }

  @Test
  void acceleratorHasNoMultiplierAndInfersNoDspBlockOnIce40OrXilinx() {
    Path out = tmp.resolve("accel");
    var net = RandomNetworks.create(1);
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 3, 2, 2), out);
    var m = AccelManifest.read(out);
    Map<String, Integer> words = Yosys.wordLevelCells(out, m.sources(), m.top());
    assertEquals(0, words.getOrDefault("$mul", 0), "multiplier in the accelerator: " + words);
    Map<String, Integer> ice40 = Yosys.synthesizedCells(out, m.sources(), m.top(), Yosys.Target.ICE40);
    assertTrue(ice40.getOrDefault("SB_LUT4", 0) > 100, "no real logic: " + ice40);
    assertEquals(0, ice40.getOrDefault("SB_MAC16", 0), "iCE40 DSP inferred: " + ice40);
    Map<String, Integer> xc7 = Yosys.synthesizedCells(out, m.sources(), m.top(), Yosys.Target.XC7);
    assertTrue(xc7.keySet().stream().anyMatch(c -> c.startsWith("LUT")), "no LUTs: " + xc7);
    assertTrue(
        xc7.keySet().stream().noneMatch(c -> c.startsWith("DSP48")), "Xilinx DSP inferred: " + xc7);
  }

  @Test
  void macAcceleratorHasOneMultiplierPerPeAndUsesIce40DspBlocks() {
    Path out = tmp.resolve("mac-accel");
    var net = RandomNetworks.create(1, PeOp.MULTIPLY);
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 3, 2, 2), out);
    var m = AccelManifest.read(out);
    Map<String, Integer> words = Yosys.wordLevelCells(out, m.sources(), m.top());
    assertEquals(m.rows() * m.cols(), words.getOrDefault("$mul", 0), words.toString());
    Map<String, Integer> ice40 = Yosys.synthesizedCells(out, m.sources(), m.top(), Yosys.Target.ICE40);
    // At least one DSP block per PE (wide accumulators can take more than one).
    assertTrue(ice40.getOrDefault("SB_MAC16", 0) >= m.rows() * m.cols(), ice40.toString());
  }

  @Test
  void accelFolderGeneratedAgainFromItsManifestAndRomsIsTheSameVerilog() throws Exception {
    Path out = tmp.resolve("accel");
    var net = RandomNetworks.create(303);
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 3, 4, 2), out);
    Path again = tmp.resolve("again");
    AcceleratorGenerator.twin(out, PeOp.ADDER, again);
    var m = AccelManifest.read(out);
    // The same manifest; its file hashes differ only in tb/, which a twin (no network) lacks.
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var first = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(out.resolve(AcceleratorGenerator.CONFIG_FILE).toFile());
    var second = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(again.resolve(AcceleratorGenerator.CONFIG_FILE).toFile());
    var firstFiles = (com.fasterxml.jackson.databind.node.ObjectNode) first.remove(FolderFiles.FIELD);
    var secondFiles = (com.fasterxml.jackson.databind.node.ObjectNode) second.remove(FolderFiles.FIELD);
    assertEquals(first, second);
    firstFiles.remove(iterable(firstFiles.fieldNames()).stream().filter(n -> n.startsWith("tb/")).toList());
    assertEquals(firstFiles, secondFiles);
    for (String f : m.sources()) {
      assertEquals(Files.readString(out.resolve(f)), Files.readString(again.resolve(f)), f);
    }
    for (String f : m.memFiles()) {
      assertEquals(Files.readString(out.resolve(f)), Files.readString(again.resolve(f)), f);
    }
    Path twin = tmp.resolve("twin");
    AcceleratorGenerator.twin(out, PeOp.MULTIPLY, twin);
    var t = AccelManifest.read(twin);
    assertEquals(PeOp.MULTIPLY, t.peOp());
    assertEquals(AcceleratorGenerator.config(RandomNetworks.withOperation(net, PeOp.MULTIPLY),
        AcceleratorGenerator.Options.of(m.rows(), m.cols(), m.batch())).accBits(), t.accBits());
    assertEquals(m.issueCyclesPerBatch(), t.issueCyclesPerBatch());
    // The same weights; the requantization table's bias field is as wide as the MAC's wider
    // accumulator needs, so only its width differs.
    for (String f : m.memFiles().subList(0, m.cols())) {
      assertEquals(Files.readString(out.resolve(f)), Files.readString(twin.resolve(f)), f);
    }
  }

  @Test
  void dspCheckSeesTheMacTwinsMultipliersOnIce40() {
    Path out = tmp.resolve("mac");
    ArrayGenerator.generate(ArrayConfig.derived(2, 2, 8, 100, PeOp.MULTIPLY), out);
    var m = ArrayGenerator.read(out);
    Map<String, Integer> ice40 = Yosys.synthesizedCells(out, m.sources(), m.top(), Yosys.Target.ICE40);
    assertEquals(4, ice40.getOrDefault("SB_MAC16", 0), ice40.toString());
  }

  private static <T> java.util.List<T> iterable(java.util.Iterator<T> it) {
    java.util.List<T> out = new java.util.ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }
}
