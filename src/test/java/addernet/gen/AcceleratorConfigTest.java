package addernet.gen;

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
    var cfg = AcceleratorGenerator.config(lenet, new AcceleratorGenerator.Options(8, 8, 8));
    // docs/accelerator.md: sum over layers of ceil(N P / R) * ceil(T / C) * max(K, R).
    long expected =
        (8L * 576 / 8) * 1 * 25 // conv1: 24x24 positions, 6 channels, K = 25
            + (8L * 64 / 8) * 2 * 150 // conv2: 8x8 positions, 16 channels, K = 150
            + 1L * 15 * 256 // conv3: one position per image, 120 channels, K = 256
            + 1L * 11 * 120 // fc1: 84 outputs, K = 120
            + 1L * 2 * 84; // fc2: 10 outputs, K = 84
    assertEquals(expected, cfg.issueCycles());
    assertEquals(17, cfg.accBits()); // 8-bit data, K = 256 (contract section 3)
  }

  @Test
  void macTwinsAccumulatorHoldsKReluActivationsTimesTheMostNegativeWeight() {
    IntNetwork cnn = RandomNetworks.withOperation(lenet, PeOp.MAC);
    var cfg = AcceleratorGenerator.config(cnn, new AcceleratorGenerator.Options(8, 8, 8));
    assertEquals("mac", cfg.op().name());
    // conv3: K = 256 products of ReLU outputs (0..127) and 8-bit weights: 256 * 127 * 128 < 2^22.
    assertEquals(23, cfg.accBits());
    assertEquals(cfg.issueCycles(),
        AcceleratorGenerator.config(lenet, new AcceleratorGenerator.Options(8, 8, 8)).issueCycles());
  }

  @Test
  void networkMixingAdderAndMultiplyLayersIsRefusedByLayer() {
    IntNetwork cnn = RandomNetworks.withOperation(lenet, PeOp.MAC);
    var layers = new java.util.ArrayList<>(lenet.layers());
    layers.set(4, cnn.layers().get(4));
    IntNetwork mixed = new IntNetwork("mixed", 1, 28, 28, layers, 16);
    UserError e = assertThrows(UserError.class,
        () -> AcceleratorGenerator.config(mixed, new AcceleratorGenerator.Options(8, 8, 8)));
    assertTrue(e.getMessage().contains("layer4 uses mac PEs"), e.getMessage());
  }

  @Test
  void shortReductionsStillLastOneCyclePerRow() {
    var cfg = AcceleratorGenerator.config(lenet, new AcceleratorGenerator.Options(30, 4, 8));
    assertEquals(30, cfg.period(cfg.layers()[0])); // K = 25 < 30 rows
  }

  @Test
  void batchBeyondTheControllerCountersIsRefused() {
    UserError e =
        assertThrows(
            UserError.class,
            () -> AcceleratorGenerator.config(lenet, new AcceleratorGenerator.Options(8, 8, 40_000)));
    assertTrue(e.getMessage().contains("batch 40000 is too large"), e.getMessage());
  }

  @Test
  void fitShrinksAnArrayToWhatTheNetworkCanUse() {
    var opt = AcceleratorGenerator.fit(lenet, 64, 500, 1);
    assertEquals(120, opt.cols()); // the widest layer
    assertEquals(64, opt.rows()); // conv1 has 576 positions per image
    assertThrows(UserError.class, () -> AcceleratorGenerator.config(lenet, new AcceleratorGenerator.Options(8, 121, 1)));
  }
}
