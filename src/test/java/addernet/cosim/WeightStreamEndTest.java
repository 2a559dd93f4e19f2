package addernet.cosim;

import addernet.gen.WeightImages;
import addernet.gen.AccelManifest;
import addernet.gen.WeightMemory;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import addernet.cosim.AccelSimulator.RegisterOp;
import addernet.gen.AcceleratorGenerator;
import addernet.quant.IntNetwork;
import addernet.quant.RandomNetworks;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a weight load ends when its stream is too long (docs/accelerator.md, "Weights at run time"):
 * at its last weight, with ERROR 2, whether or not a tlast ever comes, so that the C driver's wait
 * for LOADING to fall ends. Through the Verilated AXI accelerator and the driver.
 */
class WeightStreamEndTest {
  static final int STATUS = 0x04, ERROR = 0x08;
  static final int BUSY = 1, LOADING = 4, WEIGHTS_VALID = 8;

  @TempDir static Path tmp;
  static IntNetwork net;
  static Path stream;
  static int[] beats;

  @BeforeAll
  static void generate() {
    net = RandomNetworks.create(21);
    stream = tmp.resolve("stream");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 4).withWeights(WeightMemory.STREAM), stream);
    beats = WeightImages.stream(stream, AccelManifest.read(stream));
  }

  private static long read(AccelSimulator sim, int offset) {
    AccelSimulator.RegisterReply r = sim.registers(java.util.List.of(RegisterOp.read(offset))).get(0);
    assertEquals(0, r.result());
    return r.value();
  }

  private static void assertRunsExactly(AccelSimulator sim) {
    int[][] images = AcceleratorCosimTest.randomImages(net, 2, 31);
    AccelSimulator.Batch b = sim.run(AcceleratorCosimTest.pixelsOf(images), 0, 1, false);
    for (int i = 0; i < 2; i++) {
      int[] want = net.logits(images[i]);
      assertArrayEquals(want, Arrays.copyOfRange(b.logits(), i * want.length, (i + 1) * want.length));
    }
  }

  @Test
  void aStreamWithoutTlastEndsTheLoadAtItsLastBeatWithErrorTwoAndLoadingFalls() {
    try (AccelSimulator sim = new AccelSimulator(AccelSimulator.prepare(stream), stream, null, false)) {
      // The driver's load: it waits (boundedly) for LOADING to fall, then reads ERROR. A load that
      // never ended would be its timeout (ADDERNET_E_TIMEOUT, reported as -1001) instead of 2.
      assertEquals(2, sim.loadWeights(beats, 20, 5, false).error());
      assertEquals(0, read(sim, STATUS) & (BUSY | LOADING | WEIGHTS_VALID), "idle, weights invalid");
      assertEquals(2, read(sim, ERROR));
      // The next load, with tlast, is whole: the dropping of a missing tlast's tail ends with it.
      assertEquals(0, sim.loadWeights(beats, 20, 6).error());
      assertEquals(WEIGHTS_VALID, read(sim, STATUS) & (BUSY | LOADING | WEIGHTS_VALID));
      assertRunsExactly(sim);
    }
  }

  @Test
  void aLongStreamIsAnsweredAtItsLastWeightAndItsTailUpToTlastIsDropped() {
    int[] longer = Arrays.copyOf(beats, beats.length + 7);
    try (AccelSimulator sim = new AccelSimulator(AccelSimulator.prepare(stream), stream, null, false)) {
      // All beats are taken (the harness gives up on a stream whose tready never comes).
      assertEquals(2, sim.loadWeights(longer, 20, 7).error());
      assertEquals(0, read(sim, STATUS) & (BUSY | LOADING | WEIGHTS_VALID));
      assertEquals(0, sim.loadWeights(beats, 20, 8).error());
      assertRunsExactly(sim);
    }
  }
}
