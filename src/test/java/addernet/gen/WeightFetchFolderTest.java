package addernet.gen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.export.ModelPackage;
import addernet.quant.IntNetwork;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A --weights fetch folder (docs/accelerator.md, "Weights fetched from memory"): weights.bin laid
 * out as documented, checked against the model package's own weight files read here byte by
 * byte; accel.json's image, offsets and weight bits from the documented formulas; the register
 * header's fetch constants; run-icarus refusing the folder.
 */
class WeightFetchFolderTest {
  static final Path TINY = Path.of("model/tiny-adder-8bit");

  @TempDir static Path tmp;

  /** One layer as the package's manifest and weight file state it. */
  record PackageLayer(int outC, int k, byte[] weights) {}

  static List<PackageLayer> packageLayers() throws Exception {
    JsonNode root = new ObjectMapper().readTree(TINY.resolve("manifest.json").toFile());
    List<PackageLayer> out = new ArrayList<>();
    for (JsonNode l : root.get("layers")) {
      JsonNode w = l.get("weights");
      if (w == null) {
        continue;
      }
      assertEquals(8, w.get("bits").asInt(), "the test reads one signed byte per weight");
      JsonNode shape = w.get("shape");
      int k = 1;
      for (int i = 1; i < shape.size(); i++) {
        k *= shape.get(i).asInt();
      }
      out.add(new PackageLayer(shape.get(0).asInt(), k, Files.readAllBytes(TINY.resolve(w.get("bin").asText()))));
    }
    return out;
  }

  static Path generate(int rows, int cols) {
    IntNetwork net = ModelPackage.read(TINY).network();
    Path dir = tmp.resolve("fetch" + rows + "x" + cols);
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, rows, cols, rows).withWeights(WeightMemory.FETCH), dir);
    return dir;
  }

  @BeforeAll
  static void folders() {
    generate(2, 2);
    generate(2, 10);
  }

  @Test
  void weightsBinHoldsEveryLayersRowsOfColumnWordsAtItsAlignedOffset() throws Exception {
    List<PackageLayer> layers = packageLayers();
    for (int cols : new int[] {2, 10}) {
      Path dir = tmp.resolve("fetch2x" + cols);
      AccelManifest m = AccelManifest.read(dir);
      byte[] image = Files.readAllBytes(dir.resolve("weights.bin"));
      AccelManifest.WeightImage wi = m.weightImage();
      assertEquals("weights.bin", wi.file());
      assertEquals(image.length, wi.bytes());
      assertEquals(8, wi.beatBytes());
      int rowBeats = (cols + 7) / 8; // one byte per weight
      assertEquals(rowBeats, wi.rowBeats());
      int rowBytes = 8 * rowBeats;
      long expectOffset = 0;
      boolean[] covered = new boolean[image.length];
      for (int i = 0; i < layers.size(); i++) {
        PackageLayer l = layers.get(i);
        long offset = wi.offsets().get(i);
        assertEquals(expectOffset, offset, "layer " + i + " follows the last, padded to 128 bytes");
        int blocks = (l.outC() + cols - 1) / cols;
        int rows = blocks * l.k();
        for (int a = 0; a < rows; a++) {
          for (int j = 0; j < cols; j++) {
            int t = (a / l.k()) * cols + j;
            byte want = t < l.outC() ? l.weights()[t * l.k() + a % l.k()] : 0;
            int at = (int) (offset + (long) a * rowBytes + j);
            assertEquals(want, image[at], "layer " + i + " row " + a + " column " + j);
            covered[at] = true;
          }
        }
        expectOffset = offset + ((long) rows * rowBytes + 127) / 128 * 128;
      }
      assertEquals(expectOffset, image.length, "the last layer padded to 128 bytes ends the file");
      for (int b = 0; b < image.length; b++) {
        if (!covered[b]) {
          assertEquals(0, image[b], "padding byte " + b + " is zero");
        }
      }
    }
  }

  @Test
  void accelJsonRecordsTheWeightBitsOfTheTwoHalves() throws Exception {
    List<PackageLayer> layers = packageLayers();
    int cols = 10;
    AccelManifest m = AccelManifest.read(tmp.resolve("fetch2x10"));
    assertEquals("fetch", m.weightMemory());
    long[] half = new long[2];
    long pair = 0;
    long[] rows = new long[layers.size()];
    for (int i = 0; i < layers.size(); i++) {
      rows[i] = (long) ((layers.get(i).outC() + cols - 1) / cols) * layers.get(i).k();
      half[i % 2] = Math.max(half[i % 2], rows[i]);
      if (i > 0) {
        pair = Math.max(pair, rows[i - 1] + rows[i]);
      }
    }
    assertEquals((half[0] + half[1]) * cols * 8, m.weightBitsStored());
    assertEquals(pair * cols * 8, m.weightBitsNeeded());
    assertTrue(m.weightBitsStored() <= 2 * Math.max(half[0], half[1]) * cols * 8, "never above 2x the largest");
    // Files hashed like every other, so an edited image is caught before simulation.
    JsonNode files = new ObjectMapper().readTree(tmp.resolve("fetch2x10/accel.json").toFile()).get("files");
    assertTrue(files.has("weights.bin"));
  }

  @Test
  void theRegisterHeaderNamesTheBaseRegistersAlignmentAndFetchCodes() throws Exception {
    Path dir = tmp.resolve("fetch2x2");
    Map<String, Long> d = DriverFilesTest.defines(dir.resolve("driver/addernet_regs.h"));
    assertEquals(0x3c, d.get("ADDERNET_REG_WEIGHT_BASE_LO"));
    assertEquals(0x40, d.get("ADDERNET_REG_WEIGHT_BASE_HI"));
    assertEquals(128, d.get("ADDERNET_WEIGHT_ALIGN"));
    assertEquals(9, d.get("ADDERNET_ERROR_FETCH_RESPONSE"));
    assertEquals(10, d.get("ADDERNET_ERROR_FETCH_TIMEOUT"));
    assertEquals(11, d.get("ADDERNET_ERROR_UNALIGNED_BASE"));
    assertEquals(0, d.get("ADDERNET_HAS_WEIGHT_STREAM"));
    assertEquals(Files.size(dir.resolve("weights.bin")) / 8, d.get("ADDERNET_WEIGHT_BEATS"));
    assertEquals(1L << 28, d.get("ADDERNET_WIDTHS_VALUE") & (1L << 28), "WIDTHS bit 28: weights fetched");
    assertTrue(Files.isRegularFile(dir.resolve("driver/addernet_fetch.h")));
  }

  @Test
  void theFetchHeaderCompilesAsC99AndCppWithAllWarnings() throws Exception {
    Path driver = tmp.resolve("fetch2x2/driver");
    Path use = tmp.resolve("use_fetch.c");
    Files.writeString(use, "#include \"addernet_fetch.h\"\n"
        + "int set(struct addernet_dev *d) { return addernet_set_weight_base(d, 0x1000u); }\n"
        + "const char *name(void) { return addernet_fetch_error_name(9); }\n");
    for (List<String> cmd : List.of(
        List.of("cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I", driver.toString(), "-c",
            use.toString(), "-o", tmp.resolve("f.o").toString()),
        List.of("g++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-I", driver.toString(), "-x", "c++", "-c",
            use.toString(), "-o", tmp.resolve("fpp.o").toString()))) {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      assertTrue(p.waitFor(60, TimeUnit.SECONDS));
      assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
    }
  }

  @Test
  void otherFoldersHaveNoWeightImageNorFetchRegisters() throws Exception {
    IntNetwork net = ModelPackage.read(TINY).network();
    Path rom = tmp.resolve("rom");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 2), rom);
    AccelManifest m = AccelManifest.read(rom);
    assertEquals(null, m.weightImage());
    assertEquals(null, m.weightBitsStored());
    assertFalse(Files.exists(rom.resolve("weights.bin")));
    assertFalse(DriverFilesTest.defines(rom.resolve("driver/addernet_regs.h")).containsKey("ADDERNET_REG_WEIGHT_BASE_LO"));
  }

  @Test
  void anEditedLayerOffsetOrAMissingImageIsRefusedNamingTheField() throws Exception {
    Path dir = tmp.resolve("edited");
    IntNetwork net = ModelPackage.read(TINY).network();
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 2).withWeights(WeightMemory.FETCH), dir);
    Path json = dir.resolve("accel.json");
    String text = Files.readString(json);
    long second = AccelManifest.read(dir).weightImage().offsets().get(1);
    Files.writeString(json, text.replaceFirst("\\[ 0, " + second + ",", "[ 0, " + (second + 8) + ","));
    addernet.io.UserError e = org.junit.jupiter.api.Assertions.assertThrows(addernet.io.UserError.class,
        () -> AccelManifest.read(dir));
    assertTrue(e.getMessage().contains("weightImage.offsets[1]") && e.getMessage().contains("128"), e.getMessage());
    Files.writeString(json, text.replace("\"weightMemory\" : \"fetch\"", "\"weightMemory\" : \"rom\""));
    e = org.junit.jupiter.api.Assertions.assertThrows(addernet.io.UserError.class, () -> AccelManifest.read(dir));
    assertTrue(e.getMessage().contains("weightImage"), e.getMessage());
  }

  @Test
  void fetchFoldersPassVerilatorLintWithAllWarningsOnBothTops() {
    IntNetwork net = ModelPackage.read(TINY).network();
    for (Path dir : List.of(tmp.resolve("fetch2x2"), tmp.resolve("fetch2x10"))) {
      AccelManifest m = AccelManifest.read(dir);
      assertEquals("", addernet.cosim.Verilator.lint(dir, m.sources(), m.top()), dir.toString());
    }
    Path plain = tmp.resolve("plain");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 10, 2).withWeights(WeightMemory.FETCH)
        .withControl(Control.PLAIN).withTrace(false), plain);
    AccelManifest m = AccelManifest.read(plain);
    assertEquals("", addernet.cosim.Verilator.lint(plain, m.sources(), m.top()));
  }

  @Test
  void runIcarusRefusesAFetchFolderNamingCosim() throws Exception {
    Path dir = tmp.resolve("fetch2x2");
    Process p = new ProcessBuilder("sh", dir.resolve("tb/run-icarus").toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(2, p.exitValue());
    assertTrue(out.contains("m_axi_weights") && out.contains("addernet cosim"), out);
  }
}
