package addernet.cosim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.quant.PeOp;
import addernet.quant.AdderMatmul;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One PE (a 1x1 mesh: the PE plus its edge wiring) against the Java reference, in Verilator.
 * Every product here is its own tile, so each exercises the accumulator restart as well.
 */
class PeCosimTest {
  @TempDir Path tmp;

  private ArrayCosim.Report run(ArrayConfig cfg, TileSchedule schedule) {
    Path rtl = tmp.resolve("pe");
    ArrayGenerator.generate(cfg, rtl);
    return new ArrayCosim(ArrayHarness.build(rtl)).run(List.of(schedule), tmp.resolve("fail.fst"));
  }

  @Test
  void peMatchesReferenceForEveryInt4OperandPairAndTheirRunningSums() {
    ArrayConfig cfg = ArrayConfig.derived(1, 1, 4, 16, PeOp.ADDER);
    TileSchedule s = new TileSchedule(cfg);
    for (int a = -8; a <= 7; a++) {
      for (int b = -8; b <= 7; b++) {
        add(s, cfg, new int[][] {{a}}, new int[][] {{b}});
      }
      // a against all sixteen weights in one tile: the running sum reaches the bound's worst case.
      int[][] x = new int[1][16];
      int[][] w = new int[16][1];
      for (int k = 0; k < 16; k++) {
        x[0][k] = a;
        w[k][0] = k - 8;
      }
      add(s, cfg, x, w);
    }
    ArrayCosim.Report r = run(cfg, s);
    assertNull(r.firstMismatch(), () -> r.firstMismatch().describe());
    assertEquals(256 + 16, r.compared());
    assertEquals(0, r.mismatches());
  }

  @Test
  void peMatchesReferenceForRandomSixteenBitOperands() {
    ArrayConfig cfg = ArrayConfig.derived(1, 1, 16, 64, PeOp.ADDER);
    SplittableRandom rnd = new SplittableRandom(11);
    TileSchedule s = new TileSchedule(cfg);
    for (int n = 0; n < 400; n++) {
      int k = 1 + rnd.nextInt(64);
      int[][] x = new int[1][k];
      int[][] w = new int[k][1];
      for (int q = 0; q < k; q++) {
        x[0][q] = rnd.nextInt(-32768, 32768);
        w[q][0] = rnd.nextInt(-32768, 32768);
      }
      add(s, cfg, x, w);
    }
    ArrayCosim.Report r = run(cfg, s);
    assertNull(r.firstMismatch(), () -> r.firstMismatch().describe());
    assertEquals(400, r.compared());
  }

  private static void add(TileSchedule s, ArrayConfig cfg, int[][] x, int[][] w) {
    s.add(x, w, AdderMatmul.reduce(cfg.op(), x, w));
  }
}
