package addernet.gen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cli.CliRun;
import addernet.export.ModelPackage;
import addernet.fpga.Ice40Device;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A board folder (docs/board.md) on Icarus Verilog, as docs/accelerator.md promises for every
 * folder: its own files and -g2012, no simulator macro; and the board arrays generate refuses.
 */
class BoardFolderIcarusTest {
  @TempDir Path tmp;

  @Test
  void aBoardFolderCompilesOnIcarusWithOnlyItsOwnFilesAndItsTestbenchPassesOverTheUart() throws Exception {
    ModelPackage pkg = ModelPackage.read(Path.of("model/tiny-adder-8bit"));
    Path rtl = tmp.resolve("board");
    AcceleratorGenerator.generateBoard(pkg.network(), new AcceleratorGenerator.Options(2, 2, 2, false, WeightMemory.SPRAM, Control.PLAIN),
        Ice40Device.Board.ICEBREAKER, rtl, pkg.golden().pixels());
    // What a user types: the folder's sources in accel.json's order and the testbench, nothing
    // defined. The SPRAM primitive's model must be there for it (the chip's is a yosys cell).
    List<String> cmd = new ArrayList<>(List.of("iverilog", "-g2012", "-o", tmp.resolve("tb.vvp").toString(),
        "-s", "tb_accelerator", "tb/tb_accelerator.sv"));
    cmd.addAll(AccelManifest.read(rtl).sources());
    Process p = new ProcessBuilder(cmd).directory(rtl.toFile()).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(5, TimeUnit.MINUTES));
    assertEquals(0, p.exitValue(), log);
    assertFalse(log.contains("SB_SPRAM256KA"), log);

    IcarusTestbenchTest.Run ok = IcarusTestbenchTest.runIcarus(rtl);
    assertEquals(0, ok.code(), ok.out());
    assertTrue(ok.out().startsWith("batch 0:") && ok.out().contains("PASS: 4 images, 40 logits match")
        && ok.out().contains("the break answered"), ok.out());

    // The expectations are the reference's: one changed logit is a named failure (the first, so
    // that the run stops early).
    Path logits = rtl.resolve("tb/logits.hex");
    List<String> lines = Files.readAllLines(logits);
    int want = (int) Long.parseLong(lines.get(0), 16);
    lines.set(0, String.format("%08x", want + 1));
    Files.write(logits, lines);
    IcarusTestbenchTest.Run bad = IcarusTestbenchTest.runIcarus(rtl);
    assertEquals(1, bad.code(), bad.out());
    assertTrue(bad.out().contains("FAIL: image 0 class 0: expected " + (want + 1) + ", got " + want), bad.out());
  }

  @Test
  void anArrayTheBoardsEstimatesSayDoesNotFitIsRefusedBeforeAnythingIsWritten() {
    Path out = tmp.resolve("big");
    CliRun.Outcome o = CliRun.run("generate", "--model", "model/tiny-adder-8bit", "--board", "icebreaker",
        "--rows", "8", "--cols", "8", "--out", out.toString());
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().contains("a 8x8 array does not fit the up5k: about 12,260 logic cells of the 4,752"
        + " allowed"), o.err());
    assertFalse(Files.exists(out), "nothing written");
  }
}
