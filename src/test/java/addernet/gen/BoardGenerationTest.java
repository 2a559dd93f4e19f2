package addernet.gen;

import addernet.fpga.Ice40Fit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cli.CliRun;
import addernet.export.ModelPackage;
import addernet.fpga.FpgaFlow;
import addernet.fpga.Ice40Device;
import addernet.io.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generate --board icebreaker: what the folder records and carries for the board's flow. */
class BoardGenerationTest {
  @TempDir static Path tmp;
  static Path rtl;

  @BeforeAll
  static void generate() {
    rtl = tmp.resolve("board");
    CliRun.Outcome o = CliRun.run("generate", "--model", "model/tiny-adder-8bit", "--board", "icebreaker",
        "--out", rtl.toString());
    assertEquals(0, o.code(), o.err());
  }

  @Test
  void theBoardFolderRecordsItsBoardDivisorAndShellTopWithSpramWeightsAndNoTrace() {
    AccelManifest m = AccelManifest.read(rtl);
    assertEquals("icebreaker", m.board());
    assertEquals(104, m.uartDivisor()); // 12 MHz / 115,200 baud
    // What a testbench of the user's own gives ADDERNET_UART_DIVISOR to simulate as cosim does.
    assertEquals(AcceleratorGenerator.SIM_UART_DIVISOR, m.simUartDivisor());
    assertTrue(m.simUartDivisor() < m.uartDivisor());
    assertEquals("IceBreakerTop", m.top());
    assertEquals("spram", m.weightMemory());
    assertFalse(m.trace());
    assertTrue(m.sources().contains("IceBreakerTop.sv") && m.sources().contains("./UartRx.v"), m.sources().toString());
  }

  @Test
  void withoutRowsAndColsTheLargestListedArrayThatFitsTheUp5kIsChosen() throws Exception {
    AccelManifest m = AccelManifest.read(rtl);
    var expected = AcceleratorGenerator.boardOptions(
        ModelPackage.read(Path.of("model/tiny-adder-8bit")).network(), Ice40Device.Board.ICEBREAKER);
    // LeNet-5's 8-lane buffers need more than the UP5K's 30 block RAMs, its 2-column weights more
    // than an SPRAM's 16K words: only 4x4 is left (placed: 4,549 logic cells, 21 block RAMs).
    var lenet = AcceleratorGenerator.boardOptions(
        ModelPackage.read(Path.of("model/lenet5-adder-8bit")).network(), Ice40Device.Board.ICEBREAKER);
    assertEquals(List.of(4, 4, 4), List.of(lenet.rows(), lenet.cols(), lenet.batch()));
    assertEquals(List.of(expected.rows(), expected.cols(), expected.rows()), List.of(m.rows(), m.cols(), m.batch()));
    var net = ModelPackage.read(Path.of("model/tiny-adder-8bit")).network();
    var cfg = AcceleratorGenerator.config(net, expected);
    assertTrue(Ice40Fit.estimatedCells(cfg) <= 0.9 * 5280);
    assertTrue(Ice40Fit.estimatedBlockRams(cfg) <= 30);
  }

  @Test
  void thePinFileAndMakefilePlaceTheShellOnTheUp5kSg48WithTheBoardsPins() throws Exception {
    Path fpga = rtl.resolve(FpgaFlow.DIR);
    String pcf = Files.readString(fpga.resolve("pins-icebreaker.pcf"));
    assertTrue(pcf.contains("set_io clk 35\n") && pcf.contains("set_io uart_rx 6\n")
        && pcf.contains("set_io uart_tx 9\n"), pcf);
    String make = Files.readString(fpga.resolve("Makefile"));
    assertTrue(make.contains("TOP := IceBreakerTop\n") && make.contains("DEVICE ?= up5k\n")
        && make.contains("PACKAGE ?= sg48\n") && make.contains("PCF ?= pins-icebreaker.pcf\n"), make);
    // The generic per-part pin files pin a port called clock, which the shell does not have.
    assertFalse(Files.exists(fpga.resolve("pins-hx8k.pcf")));
    assertEquals(5, FpgaFlow.pins(rtl));
  }

  @Test
  void aPlainFolderRecordsNoBoardAndAnEditedBoardFieldIsRefusedInOneLine() throws Exception {
    Path plain = tmp.resolve("plain");
    assertEquals(0, CliRun.run("generate", "--model", "model/tiny-adder-8bit", "--rows", "2", "--cols", "2",
        "--out", plain.toString()).code());
    String json = Files.readString(plain.resolve(AcceleratorGenerator.CONFIG_FILE));
    assertFalse(json.contains("\"board\"") || json.contains("uartDivisor") || json.contains("simUartDivisor"),
        "optional fields written");
    assertNull(AccelManifest.read(plain).board());

    Path edited = tmp.resolve("edited");
    Files.createDirectories(edited);
    for (String f : List.of("accel.json")) {
      String text = Files.readString(plain.resolve(f)).replace("\"memFiles\"", "\"uartDivisor\" : 8, \"memFiles\"");
      Files.writeString(edited.resolve(f), text);
    }
    try (var s = Files.list(plain)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        if (!p.getFileName().toString().equals("accel.json")) {
          Files.copy(p, edited.resolve(p.getFileName()));
        }
      }
    }
    UserError e = assertThrows(UserError.class, () -> AccelManifest.read(edited));
    assertTrue(e.getMessage().contains("field uartDivisor must be absent without a board"), e.getMessage());
  }

  @Test
  void weightsOtherThanSpramOrRowsWithoutColsContradictTheBoardAndAreRefused() {
    CliRun.Outcome rom = CliRun.run("generate", "--model", "model/tiny-adder-8bit", "--board", "icebreaker",
        "--weights", "rom", "--out", tmp.resolve("x").toString());
    assertEquals(2, rom.code());
    assertTrue(rom.err().contains("--weights rom contradicts it"), rom.err());
    CliRun.Outcome half = CliRun.run("generate", "--model", "model/tiny-adder-8bit", "--board", "icebreaker",
        "--rows", "2", "--out", tmp.resolve("y").toString());
    assertEquals(2, half.code());
    assertTrue(half.err().contains("give both --rows and --cols"), half.err());
    CliRun.Outcome other = CliRun.run("generate", "--model", "model/tiny-adder-8bit", "--board", "ulx3s",
        "--out", tmp.resolve("z").toString());
    assertEquals(2, other.code());
    assertTrue(other.err().contains("--board must be one of icebreaker"), other.err());
  }
}
