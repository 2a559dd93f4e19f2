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
    assertEquals(120, AcceleratorGenerator.fit(lenet, 8, 500, 1).cols()); // the widest layer
    assertEquals(576, AcceleratorGenerator.fit(lenet, 1000, 1, 1).rows()); // conv1's positions per image
    assertThrows(UserError.class, () -> AcceleratorGenerator.config(lenet, new AcceleratorGenerator.Options(8, 121, 1)));
  }

  @Test
  void bareArraysBeyondTheMeasuredPeBoundAreRefusedNamingIt() {
    ArrayConfig.derived(64, 64, 8, 1024, PeOp.ADDER); // the bound itself is built
    UserError e = assertThrows(UserError.class,
        () -> ArrayConfig.derived(100_000, 100_000, 8, 1024, PeOp.ADDER));
    assertTrue(e.getMessage().startsWith("--rows 100000 x --cols 100000 is 10,000,000,000 PEs;"
        + " the generator builds a bare array of at most 4,096 PEs"), e.getMessage());
    assertTrue(e.getMessage().contains("docs/accelerator.md, \"Limits\""), e.getMessage());
    assertThrows(UserError.class, () -> ArrayConfig.derived(1, 4097, 8, 1024, PeOp.ADDER));
  }

  @Test
  void acceleratorsBeyondTheirPeBoundAreRefusedBeforeAnyWork() {
    AcceleratorGenerator.config(lenet, new AcceleratorGenerator.Options(32, 32, 1));
    // fit reduces to what the network can use, then the bound applies: 120 columns x 16 rows.
    var fitted = AcceleratorGenerator.fit(lenet, 16, 500, 1);
    UserError e = assertThrows(UserError.class, () -> AcceleratorGenerator.config(lenet, fitted));
    assertTrue(e.getMessage().startsWith("--rows 16 x --cols 120 is 1,920 PEs; the generator builds"
        + " an accelerator of at most 1,024 PEs"), e.getMessage());
  }

  @Test
  void activationBuffersBeyondTheSimulatorBoundAreRefusedWithTheFigure() {
    // 2 buffers x 32 banks x 32 replicas x (batch 8000 x 784 input words) is far past 2^28.
    UserError e = assertThrows(UserError.class,
        () -> AcceleratorGenerator.config(lenet, new AcceleratorGenerator.Options(32, 32, 8000)));
    assertTrue(e.getMessage().contains("activation-buffer words"), e.getMessage());
    assertTrue(e.getMessage().contains("268,435,456"), e.getMessage());
  }
}
