package addernet.cosim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.data.FashionMnist;
import addernet.data.ImageSet;
import addernet.export.ModelPackage;
import addernet.gen.AcceleratorGenerator;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped lenet5-adder package on an 8x8 accelerator, against its own golden vectors. */
class ShippedModelAcceleratorTest {
  @TempDir static Path tmp;
  static ModelPackage pkg;
  static Path rtl;

  @BeforeAll
  static void generate() throws Exception {
    pkg = ModelPackage.read(Path.of("model/lenet5-adder-8bit"));
    rtl = tmp.resolve("lenet");
    AcceleratorGenerator.generate(pkg.network(), AcceleratorGenerator.Options.of(8, 8, 8), rtl);
  }

  @Test
  void acceleratorReproducesEveryLayerOfTheGoldenVectorsUnderStalls() {
    AccelSimulator.prepare(rtl);
    ModelPackage.Golden g = pkg.golden();
    AccelCosim.Report r =
        new AccelCosim(rtl, pkg.network())
            .run(g.pixels(), g.labels(), new AccelCosim.Options(25, 9, true, tmp.resolve("f.fst")), n -> {});
    assertNull(r.firstMismatch(), () -> r.firstMismatch().describe());
    assertEquals(0, r.mismatches());
    assertTrue(r.compared() > g.count() * 1000L, "compared only " + r.compared());
    // The package's golden traces were written by the reference when it was exported: the RTL
    // must agree with them too, not only with today's reference.
    try (AccelSimulator sim = new AccelSimulator(rtl, null)) {
      byte[] pixels = new byte[8 * 784];
      for (int i = 0; i < Math.min(8, g.count()); i++) {
        for (int p = 0; p < 784; p++) {
          pixels[i * 784 + p] = (byte) g.pixels()[i][p];
        }
      }
      int[] logits = sim.run(pixels, 0, 1, false).logits();
      for (int i = 0; i < Math.min(8, g.count()); i++) {
        List<int[]> trace = g.traces().get(i);
        assertArrayEquals(trace.get(trace.size() - 1), java.util.Arrays.copyOfRange(logits, i * 10, i * 10 + 10));
      }
    }
  }

  /** The documented benchmark: all 10,000 test images. Run with -Dgroups=slow -DexcludedGroups=. */
  @Test
  @Tag("slow")
  void fullTestSetThroughTheRtlMatchesTheReference() throws Exception {
    ImageSet test = FashionMnist.read(FashionMnist.DEFAULT_DIR).test();
    int[][] pixels = new int[test.count()][784];
    int[] labels = new int[test.count()];
    for (int i = 0; i < test.count(); i++) {
      for (int p = 0; p < 784; p++) {
        pixels[i][p] = test.pixels()[i * 784 + p] & 0xff;
      }
      labels[i] = test.label(i);
    }
    AccelCosim.Report r =
        new AccelCosim(rtl, pkg.network())
            .run(pixels, labels, new AccelCosim.Options(0, 1, false, tmp.resolve("f.fst")), n -> {});
    assertEquals(0, r.mismatches(), () -> r.firstMismatch().describe());
    assertEquals(r.referenceAccuracy(), r.rtlAccuracy());
  }
}
