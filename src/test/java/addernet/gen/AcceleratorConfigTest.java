package addernet.gen;

import addernet.quant.PeOp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.io.UserError;
import addernet.quant.IntNetwork;
import addernet.quant.RandomNetworks;
import org.junit.jupiter.api.Test;

class AcceleratorConfigTest {
  private final IntNetwork lenet = RandomNetworks.lenet5Shaped(3);

  @Test
  void issueCyclesFollowTheDocumentedTileSchedule() {
    var cfg = AcceleratorGenerator.config(lenet, AcceleratorGenerator.Options.of(8, 8, 8));
    // docs/accelerator.md: sum over layers of G x positions x ceil(T / C) x period, one image
    // group of 8; two requantizers keep every period at max(K, R): conv1 has 6 channels in use,
    // 6 x ceil(8 / 2) = 24 <= 25 (one requantizer would need 48).
    assertEquals(2, cfg.requantizers());
    long expected =
        576L * 1 * 25 // conv1: 24x24 positions, 6 channels, K = 25
            + 64L * 2 * 150 // conv2: 8x8 positions, 16 channels, K = 150
            + 1L * 15 * 256 // conv3: one position per image, 120 channels, K = 256
            + 1L * 11 * 120 // fc1: 84 outputs, K = 120
            + 1L * 2 * 84; // fc2: 10 outputs, K = 84
    assertEquals(expected, cfg.issueCycles());
    assertEquals(17, cfg.accBits()); // 8-bit data, K = 256 (contract section 3)
  }

  @Test
  void macTwinsAccumulatorHoldsKReluActivationsTimesTheMostNegativeWeight() {
    IntNetwork cnn = RandomNetworks.withOperation(lenet, PeOp.MULTIPLY);
    var cfg = AcceleratorGenerator.config(cnn, AcceleratorGenerator.Options.of(8, 8, 8));
    assertEquals("multiply", cfg.op().name());
    // conv3: K = 256 products of ReLU outputs (0..127) and 8-bit weights: 256 * 127 * 128 < 2^22.
    assertEquals(23, cfg.accBits());
    assertEquals(cfg.issueCycles(),
        AcceleratorGenerator.config(lenet, AcceleratorGenerator.Options.of(8, 8, 8)).issueCycles());
  }

  @Test
  void networkMixingAdderAndMultiplyLayersIsRefusedByLayer() {
    IntNetwork cnn = RandomNetworks.withOperation(lenet, PeOp.MULTIPLY);
    var layers = new java.util.ArrayList<>(lenet.layers());
    layers.set(4, cnn.layers().get(4));
    IntNetwork mixed = new IntNetwork("mixed", 1, 28, 28, layers, 16);
    UserError e = assertThrows(UserError.class,
        () -> AcceleratorGenerator.config(mixed, AcceleratorGenerator.Options.of(8, 8, 8)));
    assertTrue(e.getMessage().contains("layer4 uses multiply PEs"), e.getMessage());
  }

  @Test
  void everyPeriodLetsTheSharedRequantizersReadEachSumBeforeTheNextTileReplacesIt() {
    for (int[] shape : new int[][] {{8, 8}, {30, 4}, {4, 16}, {1, 1}, {16, 2}, {3, 7}}) {
      int r = shape[0];
      var cfg = AcceleratorGenerator.config(lenet, AcceleratorGenerator.Options.of(r, shape[1], r));
      int q = cfg.requantizers();
      int m = (r + q - 1) / q;
      int s0 = 2 + (r - 1) - (r - 1) / q;
      for (var l : cfg.layers()) {
        int p = cfg.period(l);
        int used = Math.min(shape[1], l.outC());
        String at = r + "x" + shape[1] + " " + l.name() + ": period " + p;
        assertTrue(p >= Math.max(l.k(), Math.max(r, 2)), at); // a tile streams K, drains R
        assertTrue(used * m <= p, at); // the columns are drained before the next tile's turn
        assertTrue((r - 1) - (r - 1) / q + (used - 1) * (m - 1) < p, at); // read before replaced
        assertTrue(s0 <= p, at);
      }
    }
    // Rows past K: a conv1 tile still takes at least one cycle per row.
    var tall = AcceleratorGenerator.config(lenet, AcceleratorGenerator.Options.of(30, 4, 30));
    assertTrue(tall.period(tall.layers()[0]) >= 30);
  }

  @Test
  void batchBeyondTheControllerCountersIsRefused() {
    UserError e =
        assertThrows(
            UserError.class,
            () -> AcceleratorGenerator.config(lenet, AcceleratorGenerator.Options.of(8, 8, 40_000)));
    assertTrue(e.getMessage().contains("batch 40000 is too large"), e.getMessage());
  }

  @Test
  void fitShrinksAnArrayToWhatTheNetworkCanUse() {
    assertEquals(120, AcceleratorGenerator.fit(lenet, 8, 500, 1).cols()); // the widest layer
    assertEquals(1, AcceleratorGenerator.fit(lenet, 1000, 1, 1).rows()); // one row per image
    assertEquals(16, AcceleratorGenerator.fit(lenet, 1000, 1, 16).rows());
    UserError e = assertThrows(UserError.class,
        () -> AcceleratorGenerator.config(lenet, AcceleratorGenerator.Options.of(8, 8, 4)));
    assertTrue(e.getMessage().startsWith("8 PE rows exceed the batch of 4 images: each PE row serves one image"), e.getMessage());
    assertThrows(UserError.class, () -> AcceleratorGenerator.config(lenet, AcceleratorGenerator.Options.of(8, 121, 1)));
  }

  @Test
  void bareArraysBeyondTheMeasuredPeBoundAreRefusedNamingIt() {
    ArrayConfig.derived(64, 64, 8, 1024, PeOp.ADDER); // the bound itself is built
    UserError e = assertThrows(UserError.class,
        () -> ArrayConfig.derived(100_000, 100_000, 8, 1024, PeOp.ADDER));
    assertTrue(e.getMessage().startsWith("100000 rows x 100000 columns is 10,000,000,000 PEs;"
        + " the generator builds a bare array of at most 4,096 PEs"), e.getMessage());
    assertTrue(e.getMessage().contains("docs/accelerator.md, \"Limits\""), e.getMessage());
    assertThrows(UserError.class, () -> ArrayConfig.derived(1, 4097, 8, 1024, PeOp.ADDER));
  }

  @Test
  void acceleratorsBeyondTheirPeBoundAreRefusedBeforeAnyWork() {
    AcceleratorGenerator.config(lenet, AcceleratorGenerator.Options.of(32, 32, 32));
    // fit reduces to what the network can use, then the bound applies: 120 columns x 16 rows.
    var fitted = AcceleratorGenerator.fit(lenet, 16, 500, 16);
    UserError e = assertThrows(UserError.class, () -> AcceleratorGenerator.config(lenet, fitted));
    assertTrue(e.getMessage().startsWith("16 rows x 120 columns is 1,920 PEs; the generator builds"
        + " an accelerator of at most 1,024 PEs"), e.getMessage());
  }

  @Test
  void activationBuffersBeyondTheSimulatorBoundAreRefusedWithTheFigure() {
    // A 64 x 200 x 200 input is 2,560,000 words per image; a batch of 128 holds 327,680,000 in
    // its input buffer alone, past 2^28.
    var rnd = new java.util.SplittableRandom(1);
    int[] w0 = new int[64];
    int[] w1 = new int[10 * 200 * 200];
    for (int i = 0; i < w1.length; i++) {
      w1[i] = rnd.nextInt(-8, 8);
    }
    var hidden = addernet.quant.Requant.fromAffine(new double[] {0.01}, new double[] {1}, 16, 4, 0, 127);
    var last = addernet.quant.Requant.fromAffine(new double[10], new double[10], 16, 4, -32768, 32767);
    var big = new IntNetwork("big", 64, 200, 200, java.util.List.of(
        new addernet.quant.IntLayer("wide", false, 64, 200, 200, 1, 1, 1, 0, 8, w0, hidden, false),
        new addernet.quant.IntLayer("fc", false, 1, 200, 200, 10, 200, 1, 0, 8, w1, last, false)), 16);
    UserError e = assertThrows(UserError.class,
        () -> AcceleratorGenerator.config(big, AcceleratorGenerator.Options.of(32, 8, 128)));
    assertTrue(e.getMessage().contains("activation words"), e.getMessage());
    assertTrue(e.getMessage().contains("268,435,456"), e.getMessage());
  }
}
