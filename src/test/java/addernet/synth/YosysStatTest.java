package addernet.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading yosys' stat listing: every cell line counts, whatever its name looks like. */
class YosysStatTest {
  // An excerpt of yosys 0.23's stat for a module that instantiates parameterised black boxes,
  // whose names sort before the SB_ cells.
  private static final String ACCELERATOR =
      String.join(
          "\n",
          "=== Accelerator ===",
          "",
          "   Number of wires:               1422",
          "   Number of cells:               5083",
          "     $paramod$0724dbfe4c373913a616afaffb3785f307603e4f\\Rom      1",
          "     $paramod$f144433fd2ce466e17d56a26f849ab5b1b18f382\\Ram      8",
          "     Mesh                            1",
          "     Requantizer                     1",
          "     SB_CARRY                     1203",
          "     SB_DFF                        308",
          "     SB_DFFESR                     580",
          "     SB_LUT4                      2604",
          "",
          "=== Mesh ===",
          "",
          "   Number of cells:                  4",
          "     PE                              4",
          "");

  @Test
  void cellsAfterAParameterisedModuleNameAreStillCounted() {
    Map<String, Map<String, Integer>> modules = Yosys.parseModules(ACCELERATOR);
    Resources acc = Resources.of(modules.get("Accelerator"));
    assertEquals(2604, acc.luts());
    assertEquals(308 + 580, acc.flipFlops());
    assertEquals(1203, acc.carries());
    assertEquals(8, modules.get("Accelerator").get("$paramod$f144433fd2ce466e17d56a26f849ab5b1b18f382\\Ram"));
    assertEquals(Map.of("PE", 4), modules.get("Mesh"));
  }
}
