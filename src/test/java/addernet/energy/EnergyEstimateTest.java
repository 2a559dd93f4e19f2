package addernet.energy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.nn.NetworkSpec;
import addernet.quant.IntLayer;
import addernet.quant.IntNetwork;
import addernet.quant.Requant;
import java.util.List;
import org.junit.jupiter.api.Test;

class EnergyEstimateTest {
  private static final OperationEnergy H = OperationEnergy.HOROWITZ_45NM;

  // A conv layer with 2x2 outputs of 2 channels (K = 9) and a 3-way fc layer (K = 8).
  private static final String TINY = String.join("\n",
      "input 1x4x4",
      "conv adder 1->2 kernel=3",
      "batchnorm",
      "relu",
      "flatten",
      "fc adder 8->3");

  /** The width law written out here on its own: a power law through Horowitz's 8- and 32-bit points. */
  private static double add(int bits) {
    return 0.03 * Math.pow(bits / 8.0, Math.log(0.1 / 0.03) / Math.log(4));
  }

  private static double mul(int bits) {
    return 0.2 * Math.pow(bits / 8.0, Math.log(3.1 / 0.2) / Math.log(4));
  }

  @Test
  void widthLawReproducesThePublishedEightAndThirtyTwoBitFigures() {
    assertEquals(0.03, H.intAdd(8), 1e-12);
    assertEquals(0.1, H.intAdd(32), 1e-12);
    assertEquals(0.2, H.intMultiply(8), 1e-12);
    assertEquals(3.1, H.intMultiply(32), 1e-12);
    assertTrue(H.intAdd(16) > H.intAdd(8) && H.intAdd(16) < H.intAdd(32));
  }

  @Test
  void tinySpecCountsAndEnergiesMatchTheFormulaByHand() {
    NetworkOps ops = NetworkOps.of(NetworkSpec.parse("tiny", TINY), 8, 6);
    // By hand: conv 4 positions x 2 channels x K 9 = 72 uses, 8 outputs; fc 3 x 8 = 24 uses, 3 outputs.
    // Accumulators at 8 bits: adder 2^(n-1) >= K * 255 (conv 2295 -> 13, fc 2040 -> 12 bits);
    // MAC 2^(n-1) > K * 2^14 (conv 147456 -> 19, fc 131072 -> 19 bits).
    assertEquals(List.of(
        new LayerOps("conv1", 72, 8, 48, 8, 13, 19),
        new LayerOps("fc1", 24, 3, 18, 8, 12, 19)), ops.layers());

    EnergyEstimate.Result r = EnergyEstimate.of(ops, H);
    double adder = 72 * (2 * add(8) + add(13)) + 48 * add(13 + 16)
        + 24 * (2 * add(8) + add(12)) + 18 * add(12 + 16);
    double cnn = 72 * (mul(8) + add(19)) + 48 * add(19 + 16)
        + 24 * (mul(8) + add(19)) + 18 * add(19 + 16);
    assertEquals(adder, r.adder().totalPj(), 1e-9);
    assertEquals(cnn, r.cnn().totalPj(), 1e-9);
    assertEquals(adder / cnn, r.adderOverCnn(), 1e-12);
    // Float32: 96 uses, 11 outputs with a folded batch norm (multiply + add) each.
    assertEquals(96 * 3 * 0.9 + 11 * (3.7 + 0.9), r.adderFloat32().totalPj(), 1e-9);
    assertEquals(96 * (3.7 + 0.9) + 11 * (3.7 + 0.9), r.cnnFloat32().totalPj(), 1e-9);
    assertEquals(96, r.weightUsesPerInference());
  }

  @Test
  void packageCountsUseTheRealRequantizationDigitsAndWidths() {
    // fc 3 -> 2 at 6 bits; channel 0 has two signed digits, channel 1 one.
    Requant rq = new Requant(2, new int[][] {{1, 3}, {-2}}, new long[] {0, 0}, -32768, 32767);
    IntLayer fc = new IntLayer("fc1", true, 3, 1, 1, 2, 1, 1, 0, 6, new int[] {1, -2, 3, 0, 5, -7}, rq, false);
    NetworkOps ops = NetworkOps.of(new IntNetwork("one", 3, 1, 1, List.of(fc), 16));
    // Adder: 2^(n-1) >= 3 * 63 = 189 -> 9 bits; MAC: 2^(n-1) > 3 * 2^10 = 3072 -> 13 bits.
    assertEquals(List.of(new LayerOps("fc1", 6, 2, 3, 6, 9, 13)), ops.layers());
  }

  @Test
  void adderNetCostsLessThanItsCnnTwinAtEveryWidth() {
    for (int bits : new int[] {4, 6, 8, 16}) {
      EnergyEstimate.Result r = EnergyEstimate.of(NetworkOps.of(NetworkSpec.resolve("lenet5-adder"), bits, 6), H);
      assertTrue(r.adderOverCnn() < 1, bits + " bits: " + r.adderOverCnn());
    }
  }

  @Test
  void largeLayerIsCountedExactlyWithoutOverflow() {
    // 65536 x 1024 weights (2^26): K = 65536 needs a 25-bit adder accumulator at 8 bits
    // (2^24 >= 65536 * 255) and a 32-bit MAC one (2^31 > 65536 * 2^14).
    NetworkOps ops = NetworkOps.of(
        NetworkSpec.parse("big", "input 1x1x1\nflatten\nfc adder 1->65536\nfc adder 65536->1024"), 8, 6);
    LayerOps fc2 = ops.layers().get(1);
    assertEquals(1L << 26, fc2.weightUses());
    assertEquals(1024, fc2.outputs());
    assertEquals(25, fc2.adderAccBits());
    assertEquals(32, fc2.macAccBits());
    assertEquals((1L << 26) + 65536, ops.weightUses());
  }
}
