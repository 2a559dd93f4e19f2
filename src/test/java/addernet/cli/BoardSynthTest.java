package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** synth --target ice40 on a board folder: the board's part, package and pins, nothing else. */
class BoardSynthTest {
  @TempDir static Path tmp;
  static Path rtl;

  @BeforeAll
  static void generate() {
    rtl = tmp.resolve("board");
    CliRun.Outcome o = CliRun.run("generate", "--model", "model/tiny-adder-8bit", "--board", "icebreaker",
        "--rows", "2", "--cols", "2", "--out", rtl.toString());
    assertEquals(0, o.code(), o.err());
  }

  @Test
  void theShellIsPlacedOnTheUp5kSg48WithEveryPortOnTheBoardsPin() throws Exception {
    Path report = tmp.resolve("synth.json");
    CliRun.Outcome o = CliRun.run("synth", "--rtl", rtl.toString(), "--target", "ice40", "--report", report.toString());
    assertEquals(0, o.code(), o.out() + o.err());
    JsonNode pnr = new ObjectMapper().readTree(report.toFile()).path("runs").get(0).path("pnr");
    assertEquals("up5k", pnr.path("device").asText(), pnr.toString());
    assertEquals("sg48", pnr.path("pkg").asText(), pnr.toString());
    JsonNode util = pnr.path("utilisation");
    assertEquals(1, util.path("ICESTORM_SPRAM").path("used").asInt(), util.toString());
    assertEquals(5, util.path("SB_IO").path("used").asInt(), util.toString());
    assertTrue(pnr.path("fmax_mhz").asDouble() >= 12, pnr.toString());
    String log = Files.readString(rtl.resolve("fpga/nextpnr.log"));
    for (String port : new String[] {"clk", "uart_rx", "uart_tx", "led_error_n", "led_busy_n"}) {
      assertTrue(log.contains("Info: constrained '" + port + "' to bel"), port + " was placed freely");
    }
  }

  @Test
  void anotherPartOrATwinIsRefusedForABoardFolderBeforeSynthesis() {
    CliRun.Outcome part = CliRun.run("synth", "--rtl", rtl.toString(), "--device", "hx8k");
    assertEquals(2, part.code());
    assertTrue(part.err().contains("--device hx8k contradicts it"), part.err());
    CliRun.Outcome twin = CliRun.run("synth", "--rtl", rtl.toString(), "--mac-twin");
    assertEquals(2, twin.code());
    assertTrue(twin.err().contains("--mac-twin and --twin-rtl compare plain accelerators"), twin.err());
  }
}
