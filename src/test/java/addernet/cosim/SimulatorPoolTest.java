package addernet.cosim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.gen.AcceleratorGenerator;
import addernet.quant.IntNetwork;
import addernet.quant.RandomNetworks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Co-simulation split over several simulator processes reports exactly what one process does. */
class SimulatorPoolTest {
  @TempDir Path tmp;

  @Test
  void threeSimulatorsGiveTheSameComparisonAndCyclesAsOne() {
    IntNetwork net = RandomNetworks.create(606);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 3, 2, 2), rtl);
    int[][] images = AcceleratorCosimTest.randomImages(net, 9, 606); // 5 batches, the last partial
    AccelCosim cosim = new AccelCosim(rtl, net);
    AccelCosim.Report one = cosim.run(images, null, new AccelCosim.Options(25, 4, true, null, 1), n -> {});
    long[] progress = new long[1];
    AccelCosim.Report three =
        cosim.run(images, null, new AccelCosim.Options(25, 4, true, null, 3), n -> progress[0] += n);
    assertNull(one.firstMismatch(), () -> one.firstMismatch().describe());
    assertNull(three.firstMismatch(), () -> three.firstMismatch().describe());
    assertEquals(one.compared(), three.compared());
    assertTrue(three.compared() > 0);
    // Stalls are seeded per batch, so every batch takes the same cycles whichever process ran it.
    assertEquals(one.cyclesPerImage(), three.cyclesPerImage());
    assertEquals(images.length, progress[0]);
  }

  @Test
  void withSeveralSimulatorsTheFirstMismatchIsStillTheFirstInImageOrder() throws IOException {
    IntNetwork net = RandomNetworks.create(5);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 1), rtl);
    // Flip one bit of the last weight word of column 1: only some images may notice.
    int last = Files.readAllLines(rtl.resolve("weights_col1.mem")).size() - 1;
    AcceleratorCosimTest.rewriteWeights(rtl, 1, (i, w) -> i == last ? w ^ 1 : w);
    int[][] images = AcceleratorCosimTest.randomImages(net, 12, 55);
    AccelCosim cosim = new AccelCosim(rtl, net);
    AccelCosim.Report one = cosim.run(images, null, new AccelCosim.Options(10, 2, true, null, 1), n -> {});
    AccelCosim.Report four = cosim.run(images, null, new AccelCosim.Options(10, 2, true, null, 4), n -> {});
    assertNotNull(one.firstMismatch(), "a flipped weight bit should show somewhere");
    assertEquals(one.firstMismatch(), four.firstMismatch());
    assertEquals(one.mismatches(), four.mismatches());
  }
}
