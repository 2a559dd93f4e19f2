package addernet.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class YosysStatTest {
  @Test
  void cellsListedAfterAParameterisedSubmoduleAreStillCounted() {
    String stat = String.join("\n",
        "=== Accelerator ===",
        "",
        "   Number of wires:                100",
        "   Number of cells:                 12",
        "     $paramod$0da2bf381fd34f14\\Rom     2",
        "     Mesh                            1",
        "     SB_CARRY                        3",
        "     SB_LUT4                         6",
        "",
        "=== design hierarchy ===",
        "",
        "   Accelerator                       1",
        "",
        "   Number of cells:                 40",
        "     SB_LUT4                        40",
        "");
    Map<String, Map<String, Integer>> m = Yosys.parseModules(stat);
    assertEquals(6, m.get("Accelerator").get("SB_LUT4"));
    assertEquals(2, m.get("Accelerator").get("$paramod$0da2bf381fd34f14\\Rom"));
    assertEquals(40, m.get("(total)").get("SB_LUT4"));
  }
}
