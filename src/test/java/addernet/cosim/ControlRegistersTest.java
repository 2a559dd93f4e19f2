package addernet.cosim;

import addernet.gen.WeightImages;
import addernet.gen.AccelManifest;
import addernet.gen.WeightMemory;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cosim.AccelSimulator.RegisterOp;
import addernet.cosim.AccelSimulator.RegisterReply;
import addernet.gen.AcceleratorGenerator;
import addernet.gen.DriverFiles;
import addernet.quant.IntNetwork;
import addernet.quant.RandomNetworks;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AXI4-Lite registers and the C driver (docs/accelerator.md, "Registers", "The C driver"),
 * each access through the Verilated accelerator: what every register reads, what is refused with
 * SLVERR or an ERROR code and changes nothing, and that the driver names each failure and never
 * hangs. Two folders of one random network: weights in ROMs, and streamed.
 */
class ControlRegistersTest {
  // Offsets as docs/accelerator.md states them: the test is a reader of the document.
  static final int CONTROL = 0x00, STATUS = 0x04, ERROR = 0x08, IRQ_ENABLE = 0x0c, IMAGES = 0x10,
      CYCLES = 0x14, IDENT = 0x18, SHAPE = 0x1c, WIDTHS = 0x20, BATCH = 0x24, IN_SIZE = 0x28,
      CLASSES = 0x2c, NETWORK_ID = 0x30, WEIGHTS_CRC = 0x34, WEIGHT_BEATS = 0x38;
  static final int OKAY = 0, SLVERR = 2;
  static final int START = 1, SOFT_RESET = 2, LOAD = 4;
  static final int BUSY = 1, DONE = 2, LOADING = 4, WEIGHTS_VALID = 8, ERROR_BIT = 16;
  // The driver's results (driver/addernet.h)
  static final int E_TIMEOUT = -1, E_ARGUMENT = -5;

  @TempDir static Path tmp;
  static IntNetwork net;
  static Path rom;
  static Path stream;

  @BeforeAll
  static void generate() {
    net = RandomNetworks.create(21);
    rom = tmp.resolve("rom");
    stream = tmp.resolve("stream");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 4), rom);
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 4).withWeights(WeightMemory.STREAM), stream);
  }

  private static List<RegisterReply> exec(AccelSimulator sim, RegisterOp... ops) {
    return sim.registers(List.of(ops));
  }

  private static long read(AccelSimulator sim, int offset) {
    RegisterReply r = exec(sim, RegisterOp.read(offset)).get(0);
    assertEquals(OKAY, r.result(), "read of " + Integer.toHexString(offset));
    return r.value();
  }

  private static void write(AccelSimulator sim, int offset, int value) {
    assertEquals(OKAY, exec(sim, RegisterOp.write(offset, value)).get(0).result(),
        "write of " + Integer.toHexString(offset));
  }

  @Test
  void identificationRegistersDescribeTheDesignAndItsNetwork() {
    var m = AccelManifest.read(rom);
    try (AccelSimulator sim = new AccelSimulator(rom, null)) {
      assertEquals(0xadde0000L | (AcceleratorGenerator.IDENT_VERSION << 8) | 1, read(sim, IDENT));
      assertEquals(m.rows() | ((long) m.cols() << 16), read(sim, SHAPE));
      long widths = read(sim, WIDTHS);
      assertEquals(m.dataBits(), widths & 0xff);
      assertEquals(m.logitBits(), (widths >> 8) & 0xff);
      assertEquals(m.requantizers(), (widths >> 16) & 0xff);
      assertEquals(8, widths >> 24, "flags: adder PEs, ROM weights, trace port");
      assertEquals(m.batch(), read(sim, BATCH));
      assertEquals(m.inSize(), read(sim, IN_SIZE));
      assertEquals(m.classes(), read(sim, CLASSES));
      assertEquals(Long.parseLong(m.networkSha256().substring(0, 8), 16), read(sim, NETWORK_ID));
      int[] beats = WeightImages.stream(rom, m);
      assertEquals(beats.length, read(sim, WEIGHT_BEATS));
      // zlib's CRC-32 in Java against the generator's own, in hardware constants.
      assertEquals(DriverFiles.crc32(beats, (m.dataBits() + 7) / 8), read(sim, WEIGHTS_CRC));
      assertEquals(0, exec(sim, RegisterOp.checkIdent()).get(0).result());
    }
  }

  @Test
  void writesToReadOnlyOrUnmappedRegistersAreSlverrAndChangeNothing() {
    try (AccelSimulator sim = new AccelSimulator(rom, null)) {
      long ident = read(sim, IDENT);
      List<RegisterReply> r = exec(sim,
          RegisterOp.write(IDENT, 0), RegisterOp.write(CYCLES, 5), RegisterOp.write(WEIGHTS_CRC, 1),
          RegisterOp.write(0x3c, 1), RegisterOp.write(0xfc, 1), RegisterOp.read(0x3c),
          RegisterOp.read(0xfc), RegisterOp.read(CONTROL), RegisterOp.read(ERROR));
      for (int i = 0; i < 5; i++) {
        assertEquals(SLVERR, r.get(i).result(), "write " + i);
      }
      assertEquals(new RegisterReply(SLVERR, 0), r.get(5));
      assertEquals(new RegisterReply(SLVERR, 0), r.get(6));
      assertEquals(new RegisterReply(OKAY, 0), r.get(7), "CONTROL reads as 0");
      assertEquals(new RegisterReply(OKAY, 0), r.get(8), "SLVERR does not set ERROR");
      assertEquals(ident, read(sim, IDENT));
      assertEquals(0, read(sim, CYCLES));
    }
  }

  @Test
  void anImageCountOfZeroOrBeyondTheBatchSetsErrorAndKeepsTheCount() {
    try (AccelSimulator sim = new AccelSimulator(rom, null)) {
      assertEquals(4, read(sim, IMAGES), "reset value: the batch");
      write(sim, IMAGES, 3);
      for (int bad : new int[] {0, 5, 0x10003}) {
        write(sim, IMAGES, bad);
        assertEquals(6, read(sim, ERROR), "IMAGES " + bad);
        assertEquals(ERROR_BIT, read(sim, STATUS) & ERROR_BIT);
        assertEquals(3, read(sim, IMAGES));
        write(sim, ERROR, 0);
        assertEquals(0, read(sim, ERROR));
      }
      // The driver refuses such a count before touching the hardware.
      assertEquals(E_ARGUMENT, exec(sim, RegisterOp.driverRun(0, 0)).get(0).result());
      assertEquals(E_ARGUMENT, exec(sim, RegisterOp.driverRun(5, 0)).get(0).result());
    }
  }

  @Test
  void startWhileBusyAndALoadDuringARunAreRefusedAndTheRunGoesOnExactly() {
    int[][] images = AcceleratorCosimTest.randomImages(net, 2, 21);
    try (AccelSimulator sim = new AccelSimulator(stream, null)) {
      write(sim, IMAGES, 2);
      write(sim, CONTROL, START);
      assertEquals(BUSY | WEIGHTS_VALID, read(sim, STATUS), "a run waiting for its pixels");
      write(sim, CONTROL, START);
      assertEquals(4, read(sim, ERROR));
      write(sim, CONTROL, LOAD);
      assertEquals(5, read(sim, ERROR));
      write(sim, CONTROL, START | LOAD);
      assertEquals(8, read(sim, ERROR));
      assertEquals(2, read(sim, IMAGES));
      // The run still takes exactly its two images and answers them right.
      write(sim, ERROR, 0);
      exec(sim, RegisterOp.softReset());
      assertEquals(0, read(sim, STATUS) & (BUSY | WEIGHTS_VALID), "soft reset: idle, weights invalid");
      assertEquals(0, read(sim, WEIGHTS_CRC), "no valid weights, no CRC");
      write(sim, CONTROL, START);
      assertEquals(3, read(sim, ERROR), "start without weights after a soft reset");
      write(sim, ERROR, 0);
      var m = AccelManifest.read(stream);
      int[] beats = WeightImages.stream(stream, m);
      assertEquals(0, sim.loadWeights(beats, 25, 2).error());
      assertEquals(DriverFiles.crc32(beats, (m.dataBits() + 7) / 8), read(sim, WEIGHTS_CRC));
      AccelSimulator.Batch b = sim.run(AcceleratorCosimTest.pixelsOf(images), 25, 3, false);
      for (int i = 0; i < 2; i++) {
        int[] want = net.logits(images[i]);
        assertArrayEquals(want, java.util.Arrays.copyOfRange(b.logits(), i * want.length, (i + 1) * want.length));
      }
      assertEquals(8, b.status(), "the driver saw DONE; idle, no error");
    }
  }

  @Test
  void aWeightLoadInARomBuildIsRefused() {
    try (AccelSimulator sim = new AccelSimulator(rom, null)) {
      write(sim, CONTROL, LOAD);
      assertEquals(7, read(sim, ERROR));
      assertEquals(0, read(sim, STATUS) & (BUSY | LOADING));
    }
  }

  @Test
  void doneIsStickyRaisesIrqWhenEnabledAndIsClearedByWritingOne() {
    int[][] images = AcceleratorCosimTest.randomImages(net, 1, 22);
    try (AccelSimulator sim = new AccelSimulator(rom, null)) {
      AccelSimulator.Batch b = sim.run(AcceleratorCosimTest.pixelsOf(images), 0, 1, false);
      assertArrayEquals(net.logits(images[0]), b.logits());
      write(sim, STATUS, DONE);
      write(sim, IMAGES, 1);
      write(sim, CONTROL, START);
      List<RegisterOp> ops = new ArrayList<>();
      ops.add(RegisterOp.irq());
      assertEquals(0, exec(sim, ops.toArray(new RegisterOp[0])).get(0).value());
      write(sim, IRQ_ENABLE, 2);
      write(sim, CONTROL, START); // refused: busy
      assertEquals(1, exec(sim, RegisterOp.irq()).get(0).value(), "irq on error");
      write(sim, ERROR, 0);
      assertEquals(0, exec(sim, RegisterOp.irq()).get(0).value());
      exec(sim, RegisterOp.softReset());
      assertEquals(2, read(sim, IRQ_ENABLE), "a soft reset keeps the settings");
      write(sim, IRQ_ENABLE, 1);
      sim.run(AcceleratorCosimTest.pixelsOf(images), 0, 1, false);
      assertEquals(DONE, read(sim, STATUS) & DONE, "DONE stays set after the run");
      assertEquals(1, exec(sim, RegisterOp.irq()).get(0).value(), "irq on done");
      write(sim, STATUS, DONE);
      assertEquals(0, read(sim, STATUS) & DONE);
      assertEquals(0, exec(sim, RegisterOp.irq()).get(0).value());
    }
  }

  @Test
  void theDriverTimesOutWhenDoneNeverComesInsteadOfHanging() {
    try (AccelSimulator sim = new AccelSimulator(rom, null)) {
      RegisterReply r = exec(sim, RegisterOp.driverRun(1, 3)).get(0);
      assertEquals(E_TIMEOUT, r.result(), "logits never taken, 50 polls");
      assertEquals(BUSY, read(sim, STATUS) & BUSY, "the run is still waiting for its logits to be taken");
      exec(sim, RegisterOp.softReset());
      assertEquals(0, read(sim, STATUS) & BUSY);
    }
  }

  @Test
  void aShortRunTakesOnlyItsImagesAndCostsOnlyItsGroups() {
    int[][] images = AcceleratorCosimTest.randomImages(net, 4, 23);
    try (AccelSimulator sim = new AccelSimulator(rom, null)) {
      AccelSimulator.Batch full = sim.run(AcceleratorCosimTest.pixelsOf(images), 10, 4, false);
      int[][] two = java.util.Arrays.copyOf(images, 2);
      AccelSimulator.Batch shortRun = sim.run(AcceleratorCosimTest.pixelsOf(two), 10, 5, false);
      assertEquals(2 * net.classes(), shortRun.logits().length);
      assertArrayEquals(java.util.Arrays.copyOf(full.logits(), 2 * net.classes()), shortRun.logits());
      // Two images are one group of the 2-row array, four are two.
      assertTrue(shortRun.acceleratorCycles() < 0.6 * full.acceleratorCycles(),
          shortRun.acceleratorCycles() + " cycles for 2 images, " + full.acceleratorCycles() + " for 4");
    }
  }

  /** CONTROL.SOFT_RESET in the middle of a run's streams (the AXI harness's reset_after). */
  @Test
  void aSoftResetMidRunQuietsTheStreamsAndTheNextRunIsExact() {
    int[][] images = AcceleratorCosimTest.randomImages(net, 4, 24);
    byte[] pixels = AcceleratorCosimTest.pixelsOf(images);
    try (AccelSimulator sim = new AccelSimulator(rom, null)) {
      AccelSimulator.Batch full = sim.run(pixels, 0, 1, false);
      // In the pixel stream, in the computation, in the logit stream.
      for (long cut : new long[] {40, pixels.length + 30, full.simCycles() / 2, full.simCycles() - 50}) {
        AccelSimulator.Batch aborted = sim.run(pixels, 0, 1, false, (int) cut);
        assertEquals(0, aborted.status(), "after a soft reset at cycle " + cut);
        AccelSimulator.Batch again = sim.run(pixels, 0, 1, false);
        assertArrayEquals(full.logits(), again.logits(), "after a soft reset at cycle " + cut);
        assertEquals(full.acceleratorCycles(), again.acceleratorCycles());
      }
    }
  }
}
