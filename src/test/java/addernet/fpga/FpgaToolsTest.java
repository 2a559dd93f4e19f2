package addernet.fpga;

import static org.junit.jupiter.api.Assertions.assertEquals;

import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.quant.PeOp;
import addernet.tool.ExternalTool;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FpgaToolsTest {
  @TempDir Path tmp;

  @Test
  void missingNextpnrIsNamedWithItsDebianPackageBeforeMakeRuns() throws Exception {
    Path rtl = tmp.resolve("rtl");
    ArrayGenerator.generate(ArrayConfig.derived(2, 2, 8, 16, PeOp.ADDER), rtl);
    // A PATH with make and yosys but no nextpnr-ice40.
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    Files.createSymbolicLink(bin.resolve("make"), ExternalTool.find("make", "make"));
    Files.createSymbolicLink(bin.resolve("yosys"), ExternalTool.find("yosys", "yosys"));
    String java = ProcessHandle.current().info().command().orElseThrow();
    ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        RunFlowMain.class.getName(), rtl.toString()).redirectErrorStream(true);
    pb.environment().put("PATH", bin.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(2, p.waitFor(), out);
    assertEquals("error: nextpnr-ice40 is not installed (not found on PATH); it is in Debian's"
        + " nextpnr-ice40 package, which scripts/setup installs", out.strip());
    assertEquals(false, Files.exists(rtl.resolve(FpgaFlow.DIR).resolve("make.log")), "make ran");
  }
}
