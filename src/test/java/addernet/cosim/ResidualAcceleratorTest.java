package addernet.cosim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.export.ResidualNets;
import addernet.gen.AccelManifest;
import addernet.gen.AcceleratorGenerator;
import addernet.gen.BufferPlan;
import addernet.quant.IntNetwork;
import java.nio.file.Path;
import addernet.gen.Control;
import addernet.gen.WeightMemory;
import addernet.quant.PeOp;
import addernet.quant.RandomNetworks;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** Networks with branches on the accelerator against the integer reference, node by node. */
class ResidualAcceleratorTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "random residual network {0}")
  @ValueSource(longs = {12, 14, 16, 18, 20, 29}) // 18, 20 and 29 end in a global average pool
  void randomResidualNetworksLintCleanAndMatchTheReferenceNodeByNodeUnderStalls(long seed) {
    IntNetwork net = RandomNetworks.residual(seed, seed % 3 == 0 ? PeOp.MULTIPLY : PeOp.ADDER);
    SplittableRandom rnd = new SplittableRandom(seed);
    var opt = AcceleratorGenerator.fit(net, 1 + rnd.nextInt(4), 1 + rnd.nextInt(5), 1 + rnd.nextInt(3))
        .withControl(seed % 2 == 0 ? Control.AXI : Control.PLAIN);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, opt, rtl);
    AccelManifest m = AccelManifest.read(rtl);
    assertEquals("", Verilator.lint(rtl, m.sources(), m.top()), "verilator --lint-only -Wall");
    int[][] images = AcceleratorCosimTest.randomImages(net, 2 * opt.batch() + 1, seed);
    AccelCosim.Report r = new AccelCosim(rtl, net)
        .run(images, null, new AccelCosim.Options(20, (int) seed, true, tmp.resolve("w.fst")), n -> {});
    assertNull(r.firstMismatch(), () -> net.nodes() + " on " + opt + ": " + r.firstMismatch().describe());
    int[] stored = BufferPlan.of(net).stored();
    long outputs = java.util.Arrays.stream(stored).mapToLong(j -> net.nodes().get(j).outSize()).sum();
    assertEquals(images.length * (outputs + net.classes()), r.compared());
  }

  /** Weights fetched layer by layer over AXI4, 20% stalls on the streams and on the read channels. */
  @Test
  void aResNet8WithFetchedWeightsMatchesTheReferenceUnderStallsOnTheMemoryPort() {
    IntNetwork net = ResidualNets.residual(9);
    var opt = AcceleratorGenerator.fit(net, 3, 4, 3).withWeights(WeightMemory.FETCH);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, opt, rtl);
    assertTrue(AccelManifest.read(rtl).weightFetch());
    int[][] images = AcceleratorCosimTest.randomImages(net, 2 * opt.batch(), 9);
    AccelCosim.Report r = new AccelCosim(rtl, net)
        .run(images, null, new AccelCosim.Options(20, 9, true, tmp.resolve("w.fst")), n -> {});
    assertNull(r.firstMismatch(), () -> opt + ": " + r.firstMismatch().describe());
    assertTrue(r.compared() > images.length * net.classes(), "every layer was compared");
  }

  @ParameterizedTest(name = "{0} requantizers (0: as many as reach the least cycles)")
  @ValueSource(ints = {0, 1})
  void aResNet8MatchesTheReferenceAddByAddAndPoolByPoolUnderStalls(int requantizers) {
    IntNetwork net = ResidualNets.residual(7);
    var opt = AcceleratorGenerator.fit(net, 2, 3, 3).withRequantizers(requantizers);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, opt, rtl);
    AccelManifest m = AccelManifest.read(rtl);
    assertEquals(AcceleratorGenerator.FORMAT_VERSION_BRANCHES, m.formatVersion());
    if (requantizers > 0) {
      assertEquals(requantizers, m.requantizers());
    }
    int[][] images = AcceleratorCosimTest.randomImages(net, 2 * opt.batch() + 1, 7);
    AccelCosim.Report r = new AccelCosim(rtl, net)
        .run(images, null, new AccelCosim.Options(20, 7, true, tmp.resolve("w.fst")), n -> {});
    assertNull(r.firstMismatch(), () -> opt + ": " + r.firstMismatch().describe());
    // What each layer stores: conv1, b1_conv1, b1_conv2's add, b2_conv1, b2_conv2 (in the skip
    // buffer), b2_down's add pooled, and the logits, compared twice (as the last layer's output
    // and as the logits).
    int[] stored = BufferPlan.of(net).stored();
    assertArrayEquals(new int[] {0, 1, 3, 4, 5, 8, 9}, stored);
    long outputs = java.util.Arrays.stream(stored).mapToLong(j -> net.nodes().get(j).outSize()).sum();
    assertEquals(images.length * (outputs + net.classes()), r.compared());
  }
}
