package addernet.cosim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.quant.PeOp;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ArrayCosimTest {
  @TempDir Path tmp;

  @ParameterizedTest(name = "{0}x{1}, {2}-bit data, K <= {3}")
  @CsvSource({
    "1, 6, 8, 40",
    "6, 1, 8, 40",
    "3, 5, 2, 300",
    "4, 4, 16, 96",
    "8, 8, 8, 400",
  })
  void arrayMatchesReferenceOnRandomTiledProducts(int rows, int cols, int bits, long maxK) {
    ArrayConfig cfg = ArrayConfig.derived(rows, cols, bits, maxK, PeOp.ADDER);
    Path rtl = tmp.resolve("rtl");
    ArrayGenerator.generate(cfg, rtl);
    ArrayCosim.Report r =
        new ArrayCosim(ArrayHarness.build(rtl)).runRandom(120, 7, tmp.resolve("f.fst"), n -> {});
    assertNull(r.firstMismatch(), () -> r.firstMismatch().describe());
    assertEquals(120, r.tiles());
    assertTrue(r.compared() > 120, "compared only " + r.compared());
    assertTrue(r.problems() < r.tiles(), "no product was cut into several tiles");
  }

  @Test
  void macTwinMatchesTheOrdinaryIntegerProduct() {
    ArrayConfig cfg = ArrayConfig.derived(3, 4, 8, 100, PeOp.MULTIPLY);
    Path rtl = tmp.resolve("mac");
    ArrayGenerator.generate(cfg, rtl);
    ArrayCosim.Report r =
        new ArrayCosim(ArrayHarness.build(rtl)).runRandom(60, 3, tmp.resolve("f.fst"), n -> {});
    assertNull(r.firstMismatch(), () -> r.firstMismatch().describe());
    assertTrue(r.compared() > 60);
  }

  @Test
  void tamperedRtlIsCaughtWithTheFirstMismatchNamedAndAWaveformKept() throws IOException {
    ArrayConfig cfg = ArrayConfig.derived(2, 3, 8, 64, PeOp.ADDER);
    Path rtl = tmp.resolve("bad");
    ArrayGenerator.generate(cfg, rtl);
    Path pe = rtl.resolve("PE.sv");
    String good = Files.readString(pe);
    int hi = cfg.accBits() - 1;
    // Flip the lowest bit of a finished sum whenever its bit 2 is set: wrong for some outputs only.
    String bad =
        good.replace(
            "assign io_out = outReg;",
            "assign io_out = {outReg[" + hi + ":1], outReg[0] ^ outReg[2]};");
    assertTrue(!bad.equals(good), "the generated PE no longer has the line this test alters");
    Files.writeString(pe, bad);
    // As a faulty generator would write it: its hashes match its (wrong) RTL.
    addernet.gen.FolderFiles.record(rtl, ArrayGenerator.CONFIG_FILE);

    Path wave = tmp.resolve("failure.fst");
    ArrayCosim.Report r =
        new ArrayCosim(ArrayHarness.build(rtl)).runRandom(40, 1, wave, n -> {});
    assertTrue(r.mismatches() > 0);
    ArrayCosim.Mismatch m = r.firstMismatch();
    assertNotNull(m);
    assertEquals("wrong value", m.kind());
    assertEquals(m.expected() ^ 1, m.got().longValue(), "the fault flips exactly the lowest bit");
    assertTrue(Files.size(wave) > 0, "no waveform was kept");
    assertEquals(wave.toString(), r.waveform());
  }

  @Test
  void harnessIsRebuiltOnlyWhenTheRtlChanges() throws IOException {
    ArrayConfig cfg = ArrayConfig.derived(2, 2, 4, 8, PeOp.ADDER);
    Path rtl = tmp.resolve("cache");
    ArrayGenerator.generate(cfg, rtl);
    Path exe = ArrayHarness.build(rtl).executable();
    var built = Files.getLastModifiedTime(exe);
    assertEquals(exe, ArrayHarness.build(rtl).executable());
    assertEquals(built, Files.getLastModifiedTime(ArrayHarness.build(rtl).executable()));
    Files.writeString(rtl.resolve("PE.sv"), Files.readString(rtl.resolve("PE.sv")) + "\n// edit " + System.nanoTime() + "\n");
    addernet.gen.FolderFiles.record(rtl, ArrayGenerator.CONFIG_FILE);
    ArrayHarness rebuilt = ArrayHarness.build(rtl);
    assertTrue(!rebuilt.executable().equals(exe), "edited RTL did not get an executable of its own");
    assertTrue(Files.isExecutable(rebuilt.executable()));
  }
}
