package addernet.gen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.export.ModelPackage;
import addernet.quant.IntNetwork;
import addernet.quant.RandomNetworks;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The testbench generate ships in tb/ runs on a second simulator, Icarus Verilog. */
class IcarusTestbenchTest {
  @TempDir Path tmp;

  record Run(int code, String out) {}

  static Run runIcarus(Path rtl) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("bash", rtl.resolve("tb/run-icarus").toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(10, TimeUnit.MINUTES), "run-icarus did not finish");
    return new Run(p.exitValue(), out);
  }

  @Test
  void theShippedTinyModelsGoldenVectorsPassOnIcarusAndAWrongLogitIsNamed() throws Exception {
    ModelPackage pkg = ModelPackage.read(Path.of("model/tiny-adder-8bit"));
    IntNetwork net = pkg.network();
    Path rtl = tmp.resolve("tiny");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.Options.of(2, 2, 2).withTrace(false), rtl, pkg.golden().pixels());
    // tb/pixels.hex holds the package's golden images, in order.
    List<String> pixels = Files.readAllLines(rtl.resolve("tb/pixels.hex"));
    int size = pkg.golden().pixels()[0].length;
    for (int p = 0; p < size; p++) {
      assertEquals(pkg.golden().pixels()[1][p], Integer.parseInt(pixels.get(size + p), 16));
    }
    Run ok = runIcarus(rtl);
    assertEquals(0, ok.code(), ok.out());
    assertTrue(ok.out().contains("PASS: 4 images, 40 logits match"), ok.out());

    // The golden vectors are the reference's: one changed expectation is a named failure.
    Path logits = rtl.resolve("tb/logits.hex");
    List<String> lines = Files.readAllLines(logits);
    int want = (int) Long.parseLong(lines.get(13), 16);
    lines.set(13, String.format("%08x", want + 1));
    Files.write(logits, lines);
    Run bad = runIcarus(rtl);
    assertEquals(1, bad.code(), bad.out());
    assertTrue(bad.out().contains("FAIL: image 1 class 3: expected " + (want + 1) + ", got " + want), bad.out());
  }

  /** The main shipped model on the 8 x 8 array, as the demo generates it (about 45 s of Icarus). */
  @Test
  void theShippedLenet5GoldenVectorsPassOnIcarusOverAxi() throws Exception {
    ModelPackage pkg = ModelPackage.read(Path.of("model/lenet5-adder-8bit"));
    Path rtl = tmp.resolve("lenet");
    AcceleratorGenerator.generate(pkg.network(), AcceleratorGenerator.Options.of(8, 8, 8).withTrace(false), rtl, pkg.golden().pixels());
    Run ok = runIcarus(rtl);
    assertEquals(0, ok.code(), ok.out());
    assertTrue(ok.out().contains("PASS: 16 images, 160 logits match"), ok.out());
  }

  @Test
  void aStreamedWeightFolderLoadsItsWeightsThroughThePortOnIcarus() throws Exception {
    IntNetwork net = RandomNetworks.create(21);
    Path rtl = tmp.resolve("stream");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 3, 2, 4).withWeights(WeightMemory.STREAM), rtl);
    assertTrue(Files.exists(rtl.resolve("tb/weights.hex")));
    Run ok = runIcarus(rtl);
    assertEquals(0, ok.code(), ok.out());
    assertTrue(ok.out().startsWith("run 0:") && ok.out().contains("PASS: 8 images"), ok.out());
    // The weights' CRC the testbench checked is the one the driver header states.
    assertTrue(Files.readString(rtl.resolve("driver/addernet_regs.h")).contains(String.format(
        "0x%08Xu", DriverFiles.crc32(WeightImages.stream(rtl, AccelManifest.read(rtl)),
            (AccelManifest.read(rtl).dataBits() + 7) / 8))));
  }

  @Test
  void thePlainTopsTestbenchDrivesStartAndDoneOnIcarus() throws Exception {
    ModelPackage pkg = ModelPackage.read(Path.of("model/tiny-adder-8bit"));
    Path rtl = tmp.resolve("plain");
    AcceleratorGenerator.generate(pkg.network(),
        AcceleratorGenerator.Options.of(2, 2, 2).withTrace(false).withControl(Control.PLAIN), rtl, pkg.golden().pixels());
    assertTrue(Files.readString(rtl.resolve("tb/tb_accelerator.sv")).contains("Accelerator dut ("));
    Run ok = runIcarus(rtl);
    assertEquals(0, ok.code(), ok.out());
    assertTrue(ok.out().startsWith("batch 0:") && ok.out().contains("PASS: 4 images, 40 logits match"), ok.out());
  }
}
