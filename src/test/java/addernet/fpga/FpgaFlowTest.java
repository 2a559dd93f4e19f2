package addernet.fpga;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.io.UserError;
import addernet.cosim.Verilator;
import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.quant.PeOp;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The open iCE40 flow a generated folder carries: shell, pin files, Makefile, FuseSoC core. */
class FpgaFlowTest {
  @TempDir Path tmp;

  private Path array(int rows, int cols) {
    Path out = tmp.resolve("array");
    ArrayGenerator.generate(ArrayConfig.derived(rows, cols, 8, 64, PeOp.ADDER), out);
    return out;
  }

  @Test
  void meshShellDrivesEveryInputBitAndObservesEveryOutputBit() throws IOException {
    Path dir = array(3, 2);
    var m = ArrayGenerator.read(dir);
    List<VerilogPorts.Port> ports =
        VerilogPorts.of(Files.readString(dir.resolve("Mesh.sv")), "Mesh");
    int in = ports.stream().filter(p -> p.input() && !p.name().equals("clock") && !p.name().equals("reset"))
        .mapToInt(VerilogPorts.Port::width).sum();
    int out = ports.stream().filter(p -> !p.input()).mapToInt(VerilogPorts.Port::width).sum();
    // West: a and (valid, first, last) per row; north: b per column.
    assertEquals(3 * 8 + 3 * 3 + 2 * 8, in);
    // Every PE's sum and valid, plus the operands leaving the east and south edges.
    assertEquals(3 * 2 * (m.accBits() + 1) + 3 * 8 + 3 * 3 + 2 * 8, out);
    String shell = Files.readString(dir.resolve(MeshShell.FILE));
    assertTrue(shell.contains(in + " register bits") && shell.contains(out + " output bits"), shell);
    List<String> sources = new ArrayList<>(m.sources());
    sources.add(MeshShell.FILE);
    assertEquals("", Verilator.lint(dir, sources, MeshShell.TOP));
  }

  @Test
  void fuseSocCoreIsYamlThatNamesFilesThatExist() throws IOException {
    Path dir = array(2, 2);
    String text = Files.readString(dir.resolve(FpgaFlow.CORE));
    assertTrue(text.startsWith("CAPI=2:\n"), "FuseSoC reads the first line as the format tag");
    JsonNode core = new ObjectMapper(new YAMLFactory()).readTree(text);
    for (JsonNode f : core.path("filesets").path("rtl").path("files")) {
      assertTrue(Files.isRegularFile(dir.resolve(f.asText())), f.asText() + " is missing");
    }
    assertTrue(core.path("filesets").path("rtl").path("files").size() >= 3);
    for (Ice40Device d : Ice40Device.values()) {
      JsonNode target = core.path("targets").path("ice40_" + d.id);
      assertEquals(MeshShell.TOP, target.path("toplevel").asText());
      assertEquals("icestorm", target.path("default_tool").asText());
      String opts = target.path("tools").path("icestorm").path("nextpnr_options").toString();
      assertTrue(opts.contains("--" + d.id) && opts.contains(d.pkg), opts);
      String pcf = core.path("filesets").path("pins_" + d.id).path("files").get(0).asText();
      assertTrue(Files.readString(dir.resolve(pcf)).contains("set_io clock " + d.clockPin));
    }
  }

  @Test
  void theSmallestPartWithRoomIsChosenAndOversizedDesignsAreRefused() {
    assertEquals(Ice40Device.HX1K, Ice40Device.smallestFitting(900, 800, 4, 4));
    assertEquals(Ice40Device.UP5K, Ice40Device.smallestFitting(3000, 2000, 20, 30));
    // Too many pins for the up5k's 48-pin package.
    assertEquals(Ice40Device.HX8K, Ice40Device.smallestFitting(3000, 2000, 20, 80));
    assertEquals(Ice40Device.HX8K, Ice40Device.smallestFitting(1000, 1000, 31, 4));
    UserError e = assertThrows(UserError.class, () -> Ice40Device.smallestFitting(1000, 1000, 4, 300));
    assertTrue(e.getMessage().contains("--no-trace"), e.getMessage());
    assertThrows(UserError.class, () -> Ice40Device.smallestFitting(7500, 100, 0, 4));
  }
}
