package addernet.cosim;

import addernet.gen.WeightImages;
import addernet.gen.AccelManifest;
import addernet.gen.Control;
import addernet.gen.WeightMemory;
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
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The iCEBreaker shell (docs/board.md) in Verilator, spoken to over its UART: the tiny network on a
 * 2x2 array, at the board's own bit period and at the fast one cosim uses. The break tests live
 * here too, so that they share this folder's two Verilator builds.
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
    AcceleratorGenerator.generateBoard(net, new AcceleratorGenerator.Options(2, 2, 2, false, WeightMemory.SPRAM, Control.PLAIN),
        Ice40Device.Board.ICEBREAKER, rtl);
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
    assertEquals(104, AccelManifest.read(rtl).uartDivisor());
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
      int[] beats = WeightImages.stream(rtl, AccelManifest.read(rtl));
      assertEquals(0, sim.loadWeights(beats, 30, 3).error());
      assertArrayEquals(referenceLogits(2), sim.run(pixels(2), 0, 1, false).logits());
      // A stream of the wrong length cannot be framed on the board and is not sent.
      assertEquals(-3, sim.loadWeights(Arrays.copyOf(beats, beats.length - 1), 0, 4).error());
    }
  }
  // docs/board.md, "Losing step": the host holds the line low for at least 32 bit times.
  static final int HOLD_BITS = 32;

  private static byte[] weightFrame() {
    int[] beats = WeightImages.stream(rtl, AccelManifest.read(rtl));
    byte[] out = new byte[1 + beats.length];
    out[0] = 'W';
    for (int b = 0; b < beats.length; b++) {
      out[1 + b] = (byte) beats[b];
    }
    return out;
  }

  private static byte[] batchFrame() {
    byte[] out = new byte[1 + 2 * 784];
    out[0] = 'I';
    System.arraycopy(pixels(2), 0, out, 1, 2 * 784);
    return out;
  }

  /**
   * A break as docs/board.md tells a host to send it: after it the board sends exactly the token,
   * and then answers as from idle (an unknown byte with '?').
   */
  private static AccelSimulator.Break assertResyncs(AccelSimulator sim, byte[] prefix, int afterAnswer,
      int delay, int hold, String where) {
    AccelSimulator.Break b = sim.lineBreak(prefix, afterAnswer, delay, hold);
    assertArrayEquals(new int[] {'R'}, b.after(), where + ": what came after the release");
    assertArrayEquals(new int[] {'?'}, sim.exchange(new byte[] {'x'}, 0, 1, 1), where + ": in step after the token");
    return b;
  }

  private static void assertRefusedForWantOfWeights(AccelSimulator sim, String where) {
    assertArrayEquals(new int[] {'3'}, sim.exchange(batchFrame(), 0, 1, 1), where);
  }

  @Test
  void aBreakResynchronisesTheBoardFromEveryByteOffsetOfEveryFrameAndAnswer() {
    try (AccelSimulator sim = new AccelSimulator(AccelSimulator.prepare(rtl), rtl, null)) {
      sweepEveryByteOffset(sim, AccelSimulator.FAST_UART_DIVISOR);
    }
  }

  /**
   * The same sweep at the board's own 104 clocks per bit: about 3 billion simulated clocks, since
   * each offset sends its frame's prefix again, so it is left out of scripts/test (run it with
   * -Dgroups=slow -DexcludedGroups=none).
   */
  @Test
  @Tag("slow")
  void atTheBoardsBitRateABreakResynchronisesTheBoardFromEveryByteOffsetOfEveryFrameAndAnswer() {
    try (AccelSimulator sim = new AccelSimulator(AccelSimulator.prepareRealRate(rtl), rtl, null)) {
      sweepEveryByteOffset(sim, AccelManifest.read(rtl).uartDivisor());
    }
  }

  /** Breaks after every byte of a batch frame, of its answer and of a weight frame, at bit period {@code p}. */
  private void sweepEveryByteOffset(AccelSimulator sim, int p) {
    int hold = HOLD_BITS * p;
    byte[] w = weightFrame();
    byte[] batch = batchFrame();
    int answerBytes = 1 + 4 * 2 * net.classes();
    // k whole bytes of a batch frame (k = 0: from idle; k = all: in the run), a few clocks after.
    for (int k = 0; k <= batch.length; k++) {
      assertResyncs(sim, Arrays.copyOf(batch, k), -1, 10 * p + k % p, hold, "batch frame, " + k + " bytes");
    }
    // Inside every byte of the answer, at a bit that moves from byte to byte.
    for (int j = 0; j < answerBytes; j++) {
      assertResyncs(sim, batch, j, (j % 10) * p + p / 2, hold, "answer byte " + j);
    }
    for (int bit = 0; bit < 10; bit++) {
      assertResyncs(sim, new byte[] {'x'}, 0, bit * p + p / 2, hold, "'?', bit " + bit);
    }
    assertArrayEquals(referenceLogits(2), sim.run(pixels(2), 0, 1, false).logits(),
        "breaks outside a weight load keep the weights");

    for (int k = 0; k <= w.length; k++) {
      assertResyncs(sim, Arrays.copyOf(w, k), -1, 10 * p + k % p, hold, "weight frame, " + k + " bytes");
      if (k == 2 || k == w.length - 1) {
        assertRefusedForWantOfWeights(sim, "a break " + k + " bytes into a weight load leaves no weights");
        // The refused batch's answer, and a refused batch cut short.
        assertResyncs(sim, batch, 0, p / 2, hold, "'3'");
        assertResyncs(sim, Arrays.copyOf(batch, 100), -1, 10 * p, hold, "a refused batch frame");
      }
    }
    // The last case: the frame was whole, so the break came in its '0' and the load stands.
    assertArrayEquals(referenceLogits(2), sim.run(pixels(2), 0, 1, false).logits(), "a complete load stands");
  }

  @Test
  void atTheBoardsBitRateABreakInEveryBitOfEveryFrameKindResynchronisesTheBoard() {
    int p = AccelManifest.read(rtl).uartDivisor();
    int hold = HOLD_BITS * p;
    byte[] w = weightFrame();
    byte[] batch = batchFrame();
    try (AccelSimulator sim = new AccelSimulator(AccelSimulator.prepareRealRate(rtl), rtl, null)) {
      AccelSimulator.Break idle = assertResyncs(sim, new byte[0], -1, 0, hold, "idle");
      // The token starts a few clocks after the release when the accelerator is idle.
      long tokenClocks = idle.firstStartClocks();
      assertTrue(tokenClocks >= 0 && tokenClocks <= 8, "token after " + tokenClocks + " clocks");
      // The command byte and the first data byte, cut in each of their ten bits or just after. A
      // batch the board has begun (a whole 'I') is completed with zero pixels and run, so its
      // token waits for the run.
      for (int k = 1; k <= 2; k++) {
        for (int bit = 0; bit <= 10; bit++) {
          AccelSimulator.Break b = assertResyncs(sim, Arrays.copyOf(batch, k), -1, bit * p + p / 2, hold,
              "batch frame, byte " + k + ", bit " + bit);
          if (k == 1 && bit < 10) {
            assertEquals(tokenClocks, b.firstStartClocks(), "the command byte, bit " + bit);
          }
        }
      }
      for (int bit = 0; bit < 10; bit++) {
        assertResyncs(sim, new byte[] {'x'}, 0, bit * p + p / 2, hold, "'?', bit " + bit);
      }
      // The last pixel cut; the run (the token waits for it); a run ended while the line was held.
      assertResyncs(sim, batch, -1, 5 * p, hold, "in the last pixel");
      long issue = AccelManifest.read(rtl).issueCyclesPerBatch();
      AccelSimulator.Break inRun = assertResyncs(sim, batch, -1, 10 * p + p, hold, "in the run");
      // The zero-filled run is about a batch's issue cycles; the hold took some of it.
      assertTrue(inRun.firstStartClocks() > 10 * p && inRun.firstStartClocks() < issue + 5000,
          "token " + inRun.firstStartClocks() + " clocks after the release, the run " + issue);
      AccelSimulator.Break longHold = assertResyncs(sim, batch, -1, 10 * p + p, (int) issue + 10000, "run in the hold");
      assertEquals(tokenClocks, longHold.firstStartClocks());
      // In the '0', and in the first and the last logit byte.
      assertResyncs(sim, batch, 0, p / 2, hold, "in '0'");
      assertResyncs(sim, batch, 1, 4 * p + p / 2, hold, "in the first logit byte");
      assertResyncs(sim, batch, 2 * 4 * net.classes(), 9 * p + p / 2, hold, "in the last logit byte's stop bit");
      assertArrayEquals(referenceLogits(2), sim.run(pixels(2), 0, 1, false).logits(),
          "breaks outside a weight load keep the weights");

      for (int k = 1; k <= 2; k++) {
        for (int bit = 0; bit <= 10; bit++) {
          assertResyncs(sim, Arrays.copyOf(w, k), -1, bit * p + p / 2, hold, "weight frame, byte " + k + ", bit " + bit);
        }
      }
      assertResyncs(sim, w, -1, 5 * p, hold, "in the last weight byte");
      assertRefusedForWantOfWeights(sim, "a break inside a weight load leaves no weights");
      int[] beats = WeightImages.stream(rtl, AccelManifest.read(rtl));
      assertEquals(0, sim.loadWeights(beats, 0, 1).error());
      assertArrayEquals(referenceLogits(2), sim.run(pixels(2), 0, 1, false).logits(), "after the reload");
    }
  }
}
