package addernet.gen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.quant.IntNetwork;
import addernet.quant.RandomNetworks;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** driver/ of an AXI folder: plain C as documented, a header that states this design. */
class DriverFilesTest {
  @TempDir Path tmp;

  static Map<String, Long> defines(Path header) throws Exception {
    Map<String, Long> out = new HashMap<>();
    Matcher m = Pattern.compile("#define (\\w+)\\s+(0x[0-9A-F]+|\\d+)u").matcher(Files.readString(header));
    while (m.find()) {
      String v = m.group(2);
      out.put(m.group(1), v.startsWith("0x") ? Long.parseLong(v.substring(2), 16) : Long.parseLong(v));
    }
    return out;
  }

  @Test
  void theHeaderStatesTheDocumentedMapAndThisDesignsValues() throws Exception {
    IntNetwork net = RandomNetworks.create(31);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 3, 4).withWeights(WeightMemory.STREAM), rtl);
    var m = AccelManifest.read(rtl);
    Map<String, Long> d = defines(rtl.resolve("driver/addernet_regs.h"));
    // The offsets and codes of docs/accelerator.md, "Registers".
    long[] offsets = {0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x28, 0x2c, 0x30, 0x34, 0x38};
    String[] names = {"CONTROL", "STATUS", "ERROR", "IRQ_ENABLE", "IMAGES", "CYCLES", "IDENT", "SHAPE",
        "WIDTHS", "BATCH", "IN_SIZE", "CLASSES", "NETWORK_ID", "WEIGHTS_CRC", "WEIGHT_BEATS"};
    for (int i = 0; i < names.length; i++) {
      assertEquals(offsets[i], d.get("ADDERNET_REG_" + names[i]), names[i]);
    }
    String[] errors = {"WEIGHTS_SHORT", "WEIGHTS_LONG", "NO_WEIGHTS", "START_BUSY", "LOAD_BUSY",
        "BAD_IMAGES", "NO_WEIGHT_PORT", "TWO_COMMANDS"};
    for (int i = 0; i < errors.length; i++) {
      assertEquals(i + 1, d.get("ADDERNET_ERROR_" + errors[i]), errors[i]);
    }
    assertEquals(m.batch(), d.get("ADDERNET_BATCH"));
    assertEquals(m.inSize(), d.get("ADDERNET_IN_SIZE"));
    assertEquals(m.classes(), d.get("ADDERNET_CLASSES"));
    assertEquals(m.rows() | ((long) m.cols() << 16), d.get("ADDERNET_SHAPE_VALUE"));
    assertEquals(Long.parseLong(m.networkSha256().substring(0, 8), 16), d.get("ADDERNET_NETWORK_ID_VALUE"));
    int[] beats = WeightImages.stream(rtl, m);
    assertEquals(beats.length, d.get("ADDERNET_WEIGHT_BEATS"));
    assertEquals(DriverFiles.crc32(beats, (m.dataBits() + 7) / 8), d.get("ADDERNET_WEIGHTS_CRC_VALUE"));
    assertEquals(1, d.get("ADDERNET_HAS_WEIGHT_STREAM"));
  }

  @Test
  void theDriverCompilesAsStrictC99AndAsCpp() throws Exception {
    IntNetwork net = RandomNetworks.create(32);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 2), rtl);
    Path driver = rtl.resolve("driver");
    for (List<String> cmd : List.of(
        List.of("cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-c", "addernet.c", "-o", tmp.resolve("c.o").toString()),
        List.of("g++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-x", "c++", "-c", "addernet.c", "-o", tmp.resolve("cpp.o").toString()))) {
      Process p = new ProcessBuilder(cmd).directory(driver.toFile()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(2, TimeUnit.MINUTES));
      assertEquals(0, p.exitValue(), cmd + ": " + out);
    }
  }

  @Test
  void aPlainFolderHasNoDriver() {
    IntNetwork net = RandomNetworks.create(33);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 2).withControl(Control.PLAIN), rtl);
    assertFalse(Files.exists(rtl.resolve("driver")));
    var m = AccelManifest.read(rtl);
    assertEquals("plain", m.control());
    assertEquals(AcceleratorGenerator.TOP, m.top());
  }
}
