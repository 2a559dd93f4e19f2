package addernet.cosim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cosim.AccelSimulator.RegisterOp;
import addernet.cosim.AccelSimulator.RegisterReply;
import addernet.export.ModelPackage;
import addernet.gen.AccelManifest;
import addernet.gen.AcceleratorGenerator;
import addernet.gen.Control;
import addernet.gen.WeightMemory;
import addernet.quant.IntNetwork;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weights fetched from memory (docs/accelerator.md, "Weights fetched from memory"): the Verilated
 * accelerator reads weights.bin through its AXI4 read master from the harness's memory model
 * (20 cycles of latency, stalls on arready and rvalid) and computes exactly the Java integer
 * reference's logits; a SLVERR beat, a silent memory and an unaligned base end or refuse the run
 * with their documented codes and no logits, and the next run (or a reset) recovers.
 */
class WeightFetchTest {
  static final int STATUS = 0x04, ERROR = 0x08, WEIGHT_BASE_LO = 0x3c, WEIGHT_BASE_HI = 0x40;
  static final int BUSY = 1, WEIGHTS_VALID = 8;
  static final int REFUSED = -4, ARGUMENT = -5;

  @TempDir static Path tmp;
  static IntNetwork tiny;
  static Path axi;
  static Path plain;

  @BeforeAll
  static void generate() {
    tiny = ModelPackage.read(Path.of("model/tiny-adder-8bit")).network();
    axi = tmp.resolve("axi");
    AcceleratorGenerator.generate(tiny, AcceleratorGenerator.fit(tiny, 2, 2, 2).withWeights(WeightMemory.FETCH), axi);
    plain = tmp.resolve("plain");
    AcceleratorGenerator.generate(tiny, AcceleratorGenerator.fit(tiny, 2, 2, 2).withWeights(WeightMemory.FETCH)
        .withControl(Control.PLAIN), plain);
  }

  private static int[][] images(IntNetwork net, int n, long seed) {
    return AcceleratorCosimTest.randomImages(net, n, seed);
  }

  private static void assertLogits(IntNetwork net, int[][] images, AccelSimulator.Batch b) {
    int classes = net.logits(images[0]).length;
    assertEquals(images.length * classes, b.logits().length, "one logit per class and image");
    for (int i = 0; i < images.length; i++) {
      assertArrayEquals(net.logits(images[i]), Arrays.copyOfRange(b.logits(), i * classes, (i + 1) * classes),
          "image " + i);
    }
  }

  private static long read(AccelSimulator sim, int offset) {
    RegisterReply r = sim.registers(List.of(RegisterOp.read(offset))).get(0);
    assertEquals(0, r.result());
    return r.value();
  }

  @Test
  void fetchedWeightsGiveTheReferenceLogitsUnderStallsOnBothTops() {
    for (Path dir : List.of(axi, plain)) {
      try (AccelSimulator sim = new AccelSimulator(dir, null)) {
        for (int batch = 0; batch < 3; batch++) {
          int[][] imgs = images(tiny, 2, 100 + batch);
          AccelSimulator.Batch b = sim.run(AcceleratorCosimTest.pixelsOf(imgs), batch * 30, 7 + batch, false);
          assertLogits(tiny, imgs, b);
          assertEquals(0, b.status() >> 4, dir + ": no error code");
        }
      }
    }
  }

  @Test
  void aSoftResetDuringAFetchDropsItsBeatsAndTheNextRunIsExact() {
    try (AccelSimulator sim = new AccelSimulator(axi, null)) {
      int[][] imgs = images(tiny, 2, 55);
      for (int after : new int[] {45, 60, 90}) {
        AccelSimulator.Batch cut = sim.run(AcceleratorCosimTest.pixelsOf(imgs), 0, 1, false, after);
        assertEquals(0, cut.logits().length, "stopped before any logit");
        assertLogits(tiny, imgs, sim.run(AcceleratorCosimTest.pixelsOf(imgs), 25, 2, false));
      }
    }
  }

  @Test
  void rowsOfTwoBeatsOnTenColumnsGiveTheReferenceLogits() {
    // Ten 8-bit columns fill a beat and a quarter: every row is two beats (docs, "The image").
    Path wide = tmp.resolve("wide");
    AcceleratorGenerator.generate(tiny, AcceleratorGenerator.fit(tiny, 2, 10, 2).withWeights(WeightMemory.FETCH)
        .withControl(Control.PLAIN).withTrace(false), wide);
    assertEquals(2, AccelManifest.read(wide).weightImage().rowBeats());
    try (AccelSimulator sim = new AccelSimulator(wide, null)) {
      for (int batch = 0; batch < 2; batch++) {
        int[][] imgs = images(tiny, 2, 300 + batch);
        assertLogits(tiny, imgs, sim.run(AcceleratorCosimTest.pixelsOf(imgs), 30 * batch, 4, false));
      }
    }
  }

  @Test
  void lenetOnFourByFourWithFetchedWeightsGivesTheReferenceLogits() {
    IntNetwork lenet = ModelPackage.read(Path.of("model/lenet5-adder-8bit")).network();
    Path dir = tmp.resolve("lenet");
    AcceleratorGenerator.generate(lenet, AcceleratorGenerator.fit(lenet, 4, 4, 4).withWeights(WeightMemory.FETCH)
        .withTrace(false), dir);
    try (AccelSimulator sim = new AccelSimulator(dir, null)) {
      for (int batch = 0; batch < 2; batch++) {
        int[][] imgs = images(lenet, 4, 500 + batch);
        assertLogits(lenet, imgs, sim.run(AcceleratorCosimTest.pixelsOf(imgs), 20 * batch, 6, false));
      }
    }
  }

  @Test
  void theImageAtAnotherAlignedBaseIsReadFromThere() {
    try (AccelSimulator sim = new AccelSimulator(axi, null)) {
      byte[] image = AccelSimulator.weightImage(axi, AccelManifest.read(axi));
      // 0x1_0000_0F80: the high word is used, and the first bursts sit just below a 4 KiB boundary.
      assertEquals(0, sim.memory(image, 0x1_0000_0F80L, 35, -1));
      assertEquals(0x0F80, read(sim, WEIGHT_BASE_LO));
      assertEquals(1, read(sim, WEIGHT_BASE_HI));
      int[][] imgs = images(tiny, 2, 5);
      assertLogits(tiny, imgs, sim.run(AcceleratorCosimTest.pixelsOf(imgs), 20, 3, false));
    }
  }

  @Test
  void aSlverrBeatEndsTheRunWithErrorNineAndNoLogitsAndTheNextRunIsExact() {
    byte[] image = AccelSimulator.weightImage(axi, AccelManifest.read(axi));
    long layer0Beats = AccelManifest.read(axi).weightImage().offsets().get(1) / 8;
    for (Path dir : List.of(axi, plain)) {
      try (AccelSimulator sim = new AccelSimulator(dir, null)) {
        // Once in layer 0 (while the images load), once in a later layer (while one computes).
        for (long beat : new long[] {3, layer0Beats + 40}) {
          assertEquals(0, sim.memory(image, AccelSimulator.DEFAULT_WEIGHT_BASE, 20, (int) beat));
          int[][] imgs = images(tiny, 2, 40 + beat);
          AccelSimulator.Batch b = sim.run(AcceleratorCosimTest.pixelsOf(imgs), 10, 9, false);
          assertEquals(0, b.logits().length, dir + ": no logit of a failed run");
          assertEquals(0, b.status() & 8, "no done");
          assertEquals(0, b.status() & BUSY, "idle");
          assertEquals(9, b.status() >> 4, dir + ": ERROR 9 after SLVERR at beat " + beat);
          assertEquals(0, sim.memory(image, AccelSimulator.DEFAULT_WEIGHT_BASE, 20, -1));
          assertLogits(tiny, imgs, sim.run(AcceleratorCosimTest.pixelsOf(imgs), 10, 10, false));
        }
      }
    }
  }

  @Test
  void aMemoryThatNeverAnswersTimesOutWithErrorTenAndStartIsRefusedUntilReset() {
    byte[] image = AccelSimulator.weightImage(axi, AccelManifest.read(axi));
    try (AccelSimulator sim = new AccelSimulator(axi, null)) {
      assertEquals(0, sim.memory(image, AccelSimulator.DEFAULT_WEIGHT_BASE, 20, AccelSimulator.SILENT));
      int[][] imgs = images(tiny, 2, 77);
      AccelSimulator.Batch b = sim.run(AcceleratorCosimTest.pixelsOf(imgs), 0, 1, false);
      assertEquals(0, b.logits().length);
      assertEquals(10, b.status() >> 4, "ERROR 10: the fetch timed out");
      assertTrue(b.simCycles() >= 65536, "not before the stated bound: " + b.simCycles());
      assertEquals(0, read(sim, STATUS) & WEIGHTS_VALID, "weights invalid after a timeout");
      assertEquals(0, sim.memory(image, AccelSimulator.DEFAULT_WEIGHT_BASE, 20, -1));
      List<RegisterReply> r = sim.registers(List.of(RegisterOp.driverRun(2, 0)));
      assertEquals(REFUSED, r.get(0).result());
      assertEquals(3, r.get(0).value(), "START refused for want of weights");
    }
    // The plain top: the same code on its error port, and reset recovers.
    try (AccelSimulator sim = new AccelSimulator(plain, null)) {
      assertEquals(0, sim.memory(image, AccelSimulator.DEFAULT_WEIGHT_BASE, 20, AccelSimulator.SILENT));
      int[][] imgs = images(tiny, 2, 78);
      assertEquals(10, sim.run(AcceleratorCosimTest.pixelsOf(imgs), 0, 1, false).status() >> 4);
      assertEquals(0, sim.memory(image, AccelSimulator.DEFAULT_WEIGHT_BASE, 20, -1));
      // A run stopped by reset after 5 cycles: the reset clears the timeout's state.
      sim.run(AcceleratorCosimTest.pixelsOf(imgs), 0, 1, false, 5);
      assertLogits(tiny, imgs, sim.run(AcceleratorCosimTest.pixelsOf(imgs), 0, 2, false));
    }
  }

  @Test
  void anUnalignedBaseIsRefusedByTheDriverAndByStartWithErrorEleven() {
    byte[] image = AccelSimulator.weightImage(axi, AccelManifest.read(axi));
    try (AccelSimulator sim = new AccelSimulator(axi, null)) {
      assertEquals(ARGUMENT, sim.memory(image, AccelSimulator.DEFAULT_WEIGHT_BASE + 8, 20, -1),
          "the driver refuses a base off the 128-byte alignment");
      // Past the driver: the register takes it, START refuses it and nothing runs.
      List<RegisterReply> r = sim.registers(List.of(
          RegisterOp.write(WEIGHT_BASE_LO, 0x1040), RegisterOp.driverRun(2, 0), RegisterOp.read(STATUS)));
      assertEquals(0, r.get(0).result());
      assertEquals(REFUSED, r.get(1).result());
      assertEquals(11, r.get(1).value());
      assertEquals(0, r.get(2).value() & BUSY, "no run");
      assertEquals(0, sim.memory(image, AccelSimulator.DEFAULT_WEIGHT_BASE, 20, -1));
      int[][] imgs = images(tiny, 2, 12);
      assertLogits(tiny, imgs, sim.run(AcceleratorCosimTest.pixelsOf(imgs), 0, 1, false));
    }
  }
}
