package addernet.cosim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.export.ModelPackage;
import addernet.fpga.Ice40Device;
import addernet.gen.AcceleratorGenerator;
import addernet.quant.IntNetwork;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The iCEBreaker shell (docs/board.md) in Verilator, spoken to over its UART: the tiny network on a
 * 2x2 array, at the board's own bit period and at the fast one cosim uses.
 */
class BoardShellTest {
  @TempDir static Path tmp;
  static ModelPackage pkg;
  static IntNetwork net;
  static Path rtl;

  @BeforeAll
  static void generate() throws Exception {
    pkg = ModelPackage.read(Path.of("model/tiny-adder-8bit"));
    net = pkg.network();
    rtl = tmp.resolve("board");
    AcceleratorGenerator.generateBoard(net, new AcceleratorGenerator.Options(2, 2, 2, false, true, true),
        Ice40Device.Board.ICEBREAKER, rtl, false, List.of());
  }

  /** The first {@code count} golden images, back to back. */
  private static byte[] pixels(int count) {
    int[][] images = pkg.golden().pixels();
    byte[] out = new byte[count * 784];
    for (int i = 0; i < count; i++) {
      for (int p = 0; p < 784; p++) {
        out[i * 784 + p] = (byte) images[i % images.length][p];
      }
    }
    return out;
  }

  private static int[] referenceLogits(int count) {
    int[][] images = pkg.golden().pixels();
    int[] out = new int[count * net.classes()];
    for (int i = 0; i < count; i++) {
      List<int[]> trace = net.trace(images[i % images.length]);
      System.arraycopy(trace.get(trace.size() - 1), 0, out, i * net.classes(), net.classes());
    }
    return out;
  }

  @Test
  void atTheBoardsBitRateTheShellLoadsTheWeightsAndAnswersABatchBitExactly() {
    assertEquals(104, AcceleratorGenerator.read(rtl).uartDivisor());
    Path exe = AccelSimulator.prepareRealRate(rtl);
    // The constructor sends 'W' and every weight byte, and refuses any answer but '0'.
    try (AccelSimulator sim = new AccelSimulator(exe, rtl, null)) {
      AccelSimulator.Batch b = sim.run(pixels(2), 0, 1, false);
      assertArrayEquals(referenceLogits(2), b.logits());
      assertArrayEquals(new int[] {9, 19}, b.lastBeats());
      assertEquals(0, b.status(), "busy or an error after the batch");
      // 'I' + 1,568 pixels, '0' and 80 logit bytes: 1,650 frames of 10 bits at 104 clocks, plus the run.
      assertTrue(b.simCycles() > 1650L * 10 * 104, "cycles " + b.simCycles());
    }
  }

  @Test
  void atTheFastBitRateTheShellMatchesTheReferenceOnManyImagesWithGapsBetweenBytes() {
    AccelCosim.Report r = new AccelCosim(rtl, net)
        .run(Arrays.copyOf(pkg.golden().pixels(), Math.min(9, pkg.golden().count())),
            null, new AccelCosim.Options(30, 5, false, null), n -> {});
    assertNull(r.firstMismatch(), () -> r.firstMismatch().describe());
    assertEquals((long) r.images() * net.classes(), r.compared());
    assertTrue(r.images() >= 5, "only " + r.images() + " golden images");
  }

  @Test
  void aBatchBeforeAnyWeightsIsAnsweredThreeAndAnUnknownCommandWithAQuestionMark() {
    try (AccelSimulator sim = new AccelSimulator(AccelSimulator.prepare(rtl), rtl, null, false)) {
      byte[] batch = new byte[1 + 2 * 784];
      batch[0] = 'I';
      System.arraycopy(pixels(2), 0, batch, 1, 2 * 784);
      assertArrayEquals(new int[] {'3'}, sim.exchange(batch, 0, 1, 100), "no weights yet");
      AccelSimulator.Batch refused = sim.run(pixels(2), 20, 2, false);
      assertEquals(0, refused.logits().length);
      assertEquals(3, refused.status() >> 4);

      assertArrayEquals(new int[] {'?'}, sim.exchange(new byte[] {'x'}, 0, 1, 100));
      assertArrayEquals(new int[] {'?', '?'}, sim.exchange(new byte[] {0, 'w'}, 0, 1, 100),
          "two unknown bytes back to back");

      // The shell is still in step: a load and a batch work after the refusals.
      int[] beats = AcceleratorGenerator.weightStream(rtl, AcceleratorGenerator.read(rtl));
      assertEquals(0, sim.loadWeights(beats, 30, 3).error());
      assertArrayEquals(referenceLogits(2), sim.run(pixels(2), 0, 1, false).logits());
      // A stream of the wrong length cannot be framed on the board and is not sent.
      assertEquals(-3, sim.loadWeights(Arrays.copyOf(beats, beats.length - 1), 0, 4).error());
    }
  }
}
