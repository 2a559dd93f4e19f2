package addernet.cosim;

import addernet.gen.WeightImages;
import addernet.gen.AccelManifest;
import addernet.gen.Control;
import addernet.gen.WeightMemory;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.io.UserError;
import addernet.gen.AcceleratorGenerator;
import addernet.quant.PeOp;
import addernet.quant.IntNetwork;
import addernet.quant.RandomNetworks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The whole-network accelerator against the Java integer reference, layer by layer. */
class AcceleratorCosimTest {
  @TempDir Path tmp;

  static int[][] randomImages(IntNetwork net, int count, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int size = net.inChannels() * net.inHeight() * net.inWidth();
    int[][] images = new int[count][size];
    for (int[] img : images) {
      for (int p = 0; p < size; p++) {
        img[p] = rnd.nextInt(256);
      }
    }
    return images;
  }

  @ParameterizedTest(name = "random network {0}")
  @ValueSource(longs = {101, 202, 303})
  void randomNetworksMatchTheReferenceLayerByLayerUnderRandomStalls(long seed) {
    checkRandomNetworkLayerByLayer(seed, PeOp.ADDER, true);
  }

  /** The plain top (--control plain): the same engine without the registers and the driver. */
  @Test
  void aRandomNetworkOnThePlainPortsMatchesTheReferenceLayerByLayerUnderRandomStalls() {
    checkRandomNetworkLayerByLayer(404, PeOp.ADDER, false);
  }

  @ParameterizedTest(name = "random MAC network {0}")
  @ValueSource(longs = {111, 222})
  void randomMacNetworksMatchTheCnnReferenceLayerByLayerUnderRandomStalls(long seed) {
    checkRandomNetworkLayerByLayer(seed, PeOp.MULTIPLY, true);
  }

  /** A random network on a random array and batch, every layer compared, 30% stalls. */
  private void checkRandomNetworkLayerByLayer(long seed, PeOp op, boolean axi) {
    IntNetwork net = RandomNetworks.create(seed, op);
    SplittableRandom rnd = new SplittableRandom(seed);
    var opt = AcceleratorGenerator.fit(net, 1 + rnd.nextInt(5), 1 + rnd.nextInt(5), 1 + rnd.nextInt(3))
        .withControl(axi ? Control.AXI : Control.PLAIN);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, opt, rtl);
    assertEquals(op, AccelManifest.read(rtl).peOp());
    int[][] images = randomImages(net, 2 * opt.batch() + 1, seed); // the last batch is partial
    AccelCosim.Report r =
        new AccelCosim(rtl, net)
            .run(images, null, new AccelCosim.Options(30, (int) seed, true, tmp.resolve("w.fst")), n -> {});
    assertNull(r.firstMismatch(), () -> opt + ": " + r.firstMismatch().describe());
    int outputs = net.layers().stream().mapToInt(l -> l.outSize()).sum();
    assertEquals((long) images.length * (outputs + net.classes()), r.compared());
  }

  @Test
  void anAdderModelIsRefusedOnMacHardware() {
    IntNetwork cnn = RandomNetworks.create(9, PeOp.MULTIPLY);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(cnn, AcceleratorGenerator.fit(cnn, 2, 2, 1), rtl);
    IntNetwork adder = RandomNetworks.withOperation(cnn, PeOp.ADDER);
    UserError e = assertThrows(UserError.class, () -> new AccelCosim(rtl, adder));
    assertTrue(e.getMessage().contains("was generated from network " + cnn.name()), e.getMessage());
  }

  @Test
  void aModelThatIsNotTheRtlsIsRefusedInOneLineBeforeAnythingIsBuilt() {
    IntNetwork net = RandomNetworks.create(9);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 1), rtl);
    // Same shapes and name, one weight changed: a retrained network, not this RTL's.
    IntNetwork other = RandomNetworks.create(9);
    other.layers().get(0).weights()[0] ^= 1;
    List<String> before = VerilatorBuild.lastCommand;
    UserError e = assertThrows(UserError.class, () -> new AccelCosim(rtl, other));
    assertTrue(e.getMessage().startsWith("--rtl " + rtl + " was generated from network " + net.name()
        + " (sha256 "), e.getMessage());
    assertTrue(e.getMessage().contains("not from the model's network " + other.name()), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
    assertSame(before, VerilatorBuild.lastCommand, "built before refusing");
    new AccelCosim(rtl, RandomNetworks.create(9)); // the RTL's own network is accepted
  }

  @Test
  void anAccelJsonWithoutTheNetworkDigestIsRefusedWithTheCommandThatWritesOne() throws IOException {
    IntNetwork net = RandomNetworks.create(9);
    Path rtl = tmp.resolve("old rtl"); // a space in the path, too
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 1), rtl);
    Path json = rtl.resolve(AcceleratorGenerator.CONFIG_FILE);
    Files.writeString(json, Files.readString(json).replaceAll("\"networkSha256\" : \"[0-9a-f]+\",", ""));
    UserError e = assertThrows(UserError.class, () -> new AccelCosim(rtl, net));
    assertTrue(e.getMessage().contains("records no networkSha256"), e.getMessage());
    assertTrue(e.getMessage().contains("addernet generate --model PKG --rows"), e.getMessage());
  }

  @Test
  void aKilledHarnessIsReportedInOneLineWithItsSignalAndLog() throws Exception {
    IntNetwork net = RandomNetworks.create(7);
    Path rtl = tmp.resolve("rtl with space");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 1), rtl);
    int size = net.inChannels() * net.inHeight() * net.inWidth();
    try (AccelSimulator sim = new AccelSimulator(rtl, null)) {
      // The harness builds and runs in a folder whose path has a space.
      assertEquals(net.classes(), sim.run(new byte[size], 0, 1, false).logits().length);
      ProcessHandle.current().descendants()
          .filter(h -> h.info().command().map(c -> c.endsWith("/harness")).orElse(false))
          .forEach(h -> {
            try {
              new ProcessBuilder("kill", "-SEGV", Long.toString(h.pid())).start().waitFor();
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });
      addernet.tool.ToolFailure f = assertThrows(addernet.tool.ToolFailure.class,
          () -> sim.run(new byte[size], 0, 1, false));
      assertTrue(f.getMessage().startsWith("the Verilated harness " + AccelSimulator.prepare(rtl)),
          f.getMessage());
      assertTrue(f.getMessage().contains("killed by signal 11 (SIGSEGV)"), f.getMessage());
      assertTrue(f.getMessage().contains("full log: "), f.getMessage());
      assertFalse(f.getMessage().contains("\n"));
      assertTrue(Files.isRegularFile(f.log()));
    }
  }

  @Test
  void withoutTheTracePortLogitsStillMatchAndLayerComparisonIsRefused() throws IOException {
    IntNetwork net = RandomNetworks.create(11);
    var fitted = AcceleratorGenerator.fit(net, 3, 2, 2);
    var opt = AcceleratorGenerator.Options.of(fitted.rows(), fitted.cols(), fitted.batch()).withTrace(false);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, opt, rtl);
    String top = Files.readString(rtl.resolve(AcceleratorGenerator.TOP + ".sv"));
    assertFalse(top.contains("trace_0_valid"), "the trace port should be gone");
    int[][] images = randomImages(net, 5, 11);
    AccelCosim cosim = new AccelCosim(rtl, net);
    AccelCosim.Report r = cosim.run(images, null, new AccelCosim.Options(20, 3, false, null), n -> {});
    assertNull(r.firstMismatch(), () -> r.firstMismatch().describe());
    assertEquals((long) images.length * net.classes(), r.compared());
    UserError e =
        assertThrows(
            UserError.class,
            () -> cosim.run(images, null, new AccelCosim.Options(0, 1, true, null), n -> {}));
    assertTrue(e.getMessage().contains("--no-trace"), e.getMessage());
  }

  /** The reset port, at any cycle of a run (the plain top, whose harness drives it directly). */
  @Test
  void resetMidRunQuietsTheStreamsAndTheNextRunIsExact() {
    IntNetwork net = RandomNetworks.create(7);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 3, 2).withControl(Control.PLAIN), rtl);
    int[][] images = randomImages(net, 2, 7);
    int size = images[0].length;
    byte[] pixels = new byte[2 * size];
    for (int i = 0; i < 2; i++) {
      for (int p = 0; p < size; p++) {
        pixels[i * size + p] = (byte) images[i][p];
      }
    }
    try (AccelSimulator sim = new AccelSimulator(rtl, null)) {
      AccelSimulator.Batch full = sim.run(pixels, 0, 1, false);
      assertEquals(8, full.status() & 8, "done should pulse at the end of a run");
      for (long cut : new long[] {3, size + 5, full.simCycles() / 2, full.simCycles() - 4}) {
        AccelSimulator.Batch aborted = sim.run(pixels, 0, 1, false, (int) cut);
        assertEquals(0, aborted.status(), "after reset at cycle " + cut + ": busy, tvalid or tready");
        AccelSimulator.Batch again = sim.run(pixels, 0, 1, false);
        for (int i = 0; i < 2; i++) {
          int[] want = net.logits(images[i]);
          for (int t = 0; t < want.length; t++) {
            assertEquals(want[t], again.logits()[i * want.length + t], "image " + i + " class " + t);
          }
        }
        assertEquals(full.acceleratorCycles(), again.acceleratorCycles());
      }
    }
  }

  @Test
  void weightsStreamedAtRunTimeMatchTheReferenceLayerByLayerUnderStalls() {
    IntNetwork net = RandomNetworks.create(11);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 3, 2, 4).withWeights(WeightMemory.STREAM), rtl);
    assertTrue(AccelManifest.read(rtl).weightStream());
    int[][] images = randomImages(net, 9, 11);
    AccelCosim.Report r =
        new AccelCosim(rtl, net).run(images, null, new AccelCosim.Options(30, 11, true, null), n -> {});
    assertEquals(0, r.mismatches(), () -> r.firstMismatch().describe());
    assertTrue(r.compared() > (long) images.length * net.classes());

    // The same through the UP5K's SPRAM (its Verilator model), several columns to a word.
    Path spram = tmp.resolve("spram");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 3, 3, 4).withWeights(WeightMemory.SPRAM), spram);
    assertEquals("spram", AccelManifest.read(spram).weightMemory());
    AccelCosim.Report s =
        new AccelCosim(spram, net).run(images, null, new AccelCosim.Options(30, 12, true, null), n -> {});
    assertEquals(0, s.mismatches(), () -> s.firstMismatch().describe());
  }

  @Test
  void weightsBeyondTheUp5kSpramsAreRefusedWithWhatWouldFit() {
    IntNetwork net = RandomNetworks.lenet5Shaped(2);
    // 8-bit weights: two columns per SPRAM word, so 9 columns need 5 of the 4 SPRAMs.
    UserError e = assertThrows(UserError.class, () -> AcceleratorGenerator.config(net,
        AcceleratorGenerator.Options.of(4, 9, 4).withWeights(WeightMemory.SPRAM)));
    assertTrue(e.getMessage().contains("need 5 SPRAMs of 16384 words (2 columns each); the UP5K has 4:"
        + " use 8 columns or fewer"), e.getMessage());
    // One column would hold all of LeNet-5's 44,000-odd weights: past an SPRAM's depth.
    UserError deep = assertThrows(UserError.class, () -> AcceleratorGenerator.config(net,
        AcceleratorGenerator.Options.of(4, 1, 4).withWeights(WeightMemory.SPRAM)));
    assertTrue(deep.getMessage().contains("more than an SPRAM's 16384: use more columns"), deep.getMessage());
  }

  @Test
  void aShortOrLongWeightStreamIsAnsweredWithItsErrorCodeAndNoRunStartsOnHalfLoadedWeights() {
    IntNetwork net = RandomNetworks.create(12);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 2).withWeights(WeightMemory.STREAM), rtl);
    var m = AccelManifest.read(rtl);
    int[] beats = WeightImages.stream(rtl, m);
    int[][] images = randomImages(net, 2, 12);
    byte[] pixels = pixelsOf(images);
    try (AccelSimulator sim = new AccelSimulator(rtl, null)) {
      AccelSimulator.Batch good = sim.run(pixels, 0, 1, false);
      assertEquals(2 * net.classes(), good.logits().length);

      // One beat short: tlast before the last weight.
      assertEquals(1, sim.loadWeights(Arrays.copyOf(beats, beats.length - 1), 20, 3).error());
      AccelSimulator.Batch refused = sim.run(pixels, 0, 1, false);
      assertEquals(0, refused.logits().length, "a run started on half-loaded weights");
      assertEquals(3, refused.status() >> 4, "start without weights");
      // One beat long: the last weight without tlast; the extra beat is dropped.
      assertEquals(2, sim.loadWeights(Arrays.copyOf(beats, beats.length + 1), 20, 4).error());
      assertEquals(0, sim.run(pixels, 0, 1, false).logits().length);

      // A complete stream with one weight changed is what the RAMs then hold.
      int[] changed = beats.clone();
      changed[0] ^= 0x40;
      assertEquals(0, sim.loadWeights(changed, 20, 5).error());
      assertFalse(Arrays.equals(good.logits(), sim.run(pixels, 0, 1, false).logits()),
          "the logits should follow the streamed weights");
      assertEquals(0, sim.loadWeights(beats, 0, 6).error());
      assertArrayEquals(good.logits(), sim.run(pixels, 0, 1, false).logits());
    }
  }

  static byte[] pixelsOf(int[][] images) {
    int size = images[0].length;
    byte[] out = new byte[images.length * size];
    for (int i = 0; i < images.length; i++) {
      for (int p = 0; p < size; p++) {
        out[i * size + p] = (byte) images[i][p];
      }
    }
    return out;
  }

  @Test
  void corruptedWeightsAreCaughtInTheChannelsThatUseThemWithAWaveform() throws IOException {
    IntNetwork net = RandomNetworks.create(5);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 1), rtl);
    // Invert every weight of PE column 0: output channels 0, 2, 4, ... of every layer.
    rewriteWeights(rtl, 0, (i, w) -> ~w);
    Path wave = tmp.resolve("fail.fst");
    AccelCosim.Report r =
        new AccelCosim(rtl, net)
            .run(randomImages(net, 3, 5), null, new AccelCosim.Options(0, 1, true, wave), n -> {});
    assertTrue(r.mismatches() > 0);
    AccelCosim.Mismatch m = r.firstMismatch();
    assertNotNull(m);
    assertEquals("layer output", m.kind(), m.describe());
    assertEquals(0, m.channel() % 2, "only column 0's channels were corrupted: " + m.describe());
    assertTrue(Files.size(wave) > 0);
  }

  /**
   * Rewrites every weight word of PE column {@code col}'s ROM image as {@code change(index, word)}
   * gives it, kept to the data width, as a corrupted or broken weight memory would hold it.
   */
  static void rewriteWeights(Path rtl, int col, java.util.function.LongBinaryOperator change)
      throws IOException {
    Path mem = rtl.resolve("weights_col" + col + ".mem");
    List<String> words = Files.readAllLines(mem);
    int bits = AccelManifest.read(rtl).dataBits();
    for (int i = 0; i < words.size(); i++) {
      long w = change.applyAsLong(i, Long.parseLong(words.get(i), 16));
      words.set(i, String.format("%0" + ((bits + 3) / 4) + "x", w & ((1L << bits) - 1)));
    }
    Files.write(mem, words);
    // As a faulty generator would write it: its hashes match its (wrong) weights.
    addernet.gen.FolderFiles.record(rtl, AcceleratorGenerator.CONFIG_FILE);
  }
}
