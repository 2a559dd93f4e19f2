package addernet.gen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.export.ModelPackage;
import addernet.fpga.Ice40Device;
import addernet.quant.IntNetwork;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped testbench is a worked example users copy, so it passes Verilator's strictest lint
 * with the design it drives: every pin connected (the trace port's too), for each kind of top.
 */
class TestbenchLintTest {
  @TempDir Path tmp;

  private static void assertLintsClean(Path rtl) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("verilator", "--lint-only", "-Wall", "--timing",
        "--top-module", "tb_accelerator", "tb/tb_accelerator.sv"));
    cmd.addAll(AccelManifest.read(rtl).sources());
    Process p = new ProcessBuilder(cmd).directory(rtl.toFile()).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(5, TimeUnit.MINUTES));
    assertEquals(0, p.exitValue(), rtl.getFileName() + ":\n" + log);
  }

  @Test
  void theTestbenchOfEveryTopLintsCleanWithAllWarningsOnTraceAndWeightStreamIncluded() throws Exception {
    ModelPackage pkg = ModelPackage.read(Path.of("model/tiny-adder-8bit"));
    IntNetwork net = pkg.network();
    Path axi = tmp.resolve("axi");
    AcceleratorGenerator.generate(net, new AcceleratorGenerator.Options(2, 2, 2, true, WeightMemory.STREAM, Control.AXI), axi, pkg.golden().pixels());
    assertLintsClean(axi);
    Path plain = tmp.resolve("plain");
    AcceleratorGenerator.generate(net, new AcceleratorGenerator.Options(2, 2, 2, true, WeightMemory.STREAM, Control.PLAIN), plain, pkg.golden().pixels());
    assertLintsClean(plain);
    Path board = tmp.resolve("board");
    AcceleratorGenerator.generateBoard(net, new AcceleratorGenerator.Options(2, 2, 2, false, WeightMemory.SPRAM, Control.PLAIN),
        Ice40Device.Board.ICEBREAKER, board, pkg.golden().pixels());
    assertLintsClean(board);
  }
}
