package addernet.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Reading yosys' stat listing: every cell line counts, whatever its name looks like. */
class YosysStatTest {
  private static final String ROM0 = "$paramod$0724dbfe4c373913a616afaffb3785f307603e4f\\Rom";
  private static final String ROM1 = "$paramod$f8b1cf5edc24d839ffc5dc6b83f03e49058fa804\\Rom";
  private static final String RAM = "$paramod$f144433fd2ce466e17d56a26f849ab5b1b18f382\\Ram";
  private static final String LOGITS = "$paramod\\Ram\\DEPTH=s32'00000000000000000000000000001010\\WIDTH=s32'00000000000000000000000000100000";

  // An excerpt of yosys 0.23's stat for a module that instantiates parameterised black boxes,
  // whose names sort before the SB_ cells.
  private static final String ACCELERATOR =
      String.join(
          "\n",
          "=== Accelerator ===",
          "",
          "   Number of wires:               1422",
          "   Number of cells:               5083",
          "     " + ROM0 + "      1",
          "     " + ROM1 + "      1",
          "     " + RAM + "      8",
          "     " + LOGITS + "      2",
          "     Mesh                            1",
          "     Requantizer                     2",
          "     SB_CARRY                     1203",
          "     SB_DFF                        308",
          "     SB_DFFESR                     580",
          "     SB_LUT4                      2604",
          "",
          "=== Mesh ===",
          "",
          "   Number of cells:                  4",
          "     PE                              4",
          "",
          "=== PE ===",
          "",
          "   Number of cells:                  2",
          "     SB_LUT4                         2",
          "",
          "=== Requantizer ===",
          "",
          "   Number of cells:                  3",
          "     SB_LUT4                         3",
          "",
          "=== " + RAM + " ===",
          "",
          "   Number of cells:                  5",
          "     SB_LUT4                         1",
          "     SB_RAM40_4K                     4",
          "",
          "=== " + LOGITS + " ===",
          "",
          "   Number of cells:                  1",
          "     SB_RAM40_4K                     1",
          "",
          "=== " + ROM0 + " ===",
          "",
          "   Number of cells:                  3",
          "     SB_RAM40_4K                     3",
          "",
          "=== " + ROM1 + " ===",
          "",
          "   Number of cells:                  3",
          "     SB_RAM40_4K                     3",
          "");

  // What write_json -compat-int writes for those modules once their cells are deleted (the
  // hash-named modules carry their Verilog name and parameters; the technology cells are black
  // boxes). The logits Ram has no entry, so its name is all there is to read.
  private static final String MODULES_JSON = """
      {"modules": {
        "%s": {"attributes": {"hdlname": "\\\\Rom"}, "parameter_default_values": {"ADDR": 11, "DEPTH": 1315, "FILE": "weights_col0.mem", "WIDTH": 8}},
        "%s": {"attributes": {"hdlname": "\\\\Rom"}, "parameter_default_values": {"ADDR": 11, "DEPTH": 1315, "FILE": "weights_col1.mem", "WIDTH": 8}},
        "%s": {"attributes": {"hdlname": "\\\\Ram"}, "parameter_default_values": {"ADDR": 11, "DEPTH": 1568, "WIDTH": 8}},
        "Accelerator": {"attributes": {"top": 1}, "parameter_default_values": {}},
        "Mesh": {"attributes": {}}, "PE": {"attributes": {}}, "Requantizer": {"attributes": {}},
        "SB_LUT4": {"attributes": {"blackbox": 1}, "parameter_default_values": {"LUT_INIT": 0}}
      }}
      """.formatted(ROM0.replace("\\", "\\\\"), ROM1.replace("\\", "\\\\"), RAM.replace("\\", "\\\\"));

  private static Design design() {
    Map<String, Map<String, Integer>> cells = Yosys.parseModules(ACCELERATOR);
    return Design.of(new Yosys.Hierarchy(cells, ModuleInfo.parseJson(MODULES_JSON)), "Accelerator");
  }

  @Test
  void cellsAfterAParameterisedModuleNameAreStillCounted() {
    Map<String, Map<String, Integer>> modules = Yosys.parseModules(ACCELERATOR);
    Resources acc = Resources.of(modules.get("Accelerator"));
    assertEquals(2604, acc.luts());
    assertEquals(308 + 580, acc.flipFlops());
    assertEquals(1203, acc.carries());
    assertEquals(8, modules.get("Accelerator").get(RAM));
    assertEquals(Map.of("PE", 4), modules.get("Mesh"));
  }

  @Test
  void parameterisedModulesAreNamedByVerilogNameAndDepthByWidthWithoutAHash() {
    Set<String> names = design().modules().keySet();
    assertEquals(Set.of("Accelerator", "Mesh", "PE", "Requantizer", "Ram 1568x8", "Ram 10x32",
        "Rom 1315x8 FILE=weights_col0.mem", "Rom 1315x8 FILE=weights_col1.mem"), names);
    names.forEach(n -> assertFalse(n.contains("$paramod") || n.contains("\\"), n));
  }

  @Test
  void aModuleNamedWithItsParametersIsReadWithoutTheJson() {
    ModuleInfo m = ModuleInfo.ofName(LOGITS);
    assertEquals("Ram", m.module());
    assertEquals(Map.of("DEPTH", 10L, "WIDTH", 32L), m.parameters());
  }

  @Test
  void modulesAlikeInEveryParameterStillGetTwoNames() {
    Map<String, String> names = Design.readableNames(List.of(
        new ModuleInfo("$paramod$aa\\Ram", "Ram", Map.of("DEPTH", 4L, "WIDTH", 8L)),
        new ModuleInfo("$paramod$bb\\Ram", "Ram", Map.of("DEPTH", 4L, "WIDTH", 8L))));
    assertEquals(Set.of("Ram 4x8 #1", "Ram 4x8 #2"), Set.copyOf(names.values()));
  }

  @Test
  void instancesMultiplyDownTheHierarchy() {
    Map<String, Design.Module> m = design().modules();
    assertEquals(1, m.get("Accelerator").instances());
    assertEquals(8, m.get("Ram 1568x8").instances());
    assertEquals(2, m.get("Ram 10x32").instances());
    assertEquals(2, m.get("Requantizer").instances());
    assertEquals(4, m.get("PE").instances());
    assertEquals(3, m.get("Requantizer").each().luts(), "resources stay per instance");
  }

  @Test
  void memoryBitsAreDepthTimesWidthOverEveryRamAndRomInstance() {
    assertEquals(8L * 1568 * 8 + 2L * 10 * 32 + 2L * 1315 * 8, design().memoryBits());
  }
}
