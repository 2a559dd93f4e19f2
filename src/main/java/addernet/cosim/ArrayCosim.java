package addernet.cosim;

import addernet.gen.ArrayConfig;
import addernet.quant.AdderMatmul;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;

/**
 * Checks the Verilated array against the Java integer reference, output by output. Products are
 * grouped into batches of tiles; if anything differs, the first failing batch is run again from
 * reset with waveform tracing on, so the FST shows exactly the failure and no passing run pays for
 * tracing.
 */
public final class ArrayCosim {
  /** Batches are cut at about this many cycles, to bound the memory of one stimulus block. */
  static final int BATCH_CYCLES = 1 << 17;
  static final int WORST_CASE_K_CAP = 1 << 16;

  /** The first output that differed, or that was missing or unexpected. */
  public record Mismatch(
      String kind,
      int problem,
      int tile,
      int peRow,
      int peCol,
      int row,
      int col,
      long expected,
      Long got) {
    public String describe() {
      return kind
          + " in product "
          + problem
          + ", tile "
          + tile
          + " at PE("
          + peRow
          + ","
          + peCol
          + "): output row "
          + row
          + ", column "
          + col
          + ", expected "
          + expected
          + ", got "
          + (got == null ? "nothing" : got);
    }
  }

  /** The outcome of a co-simulation; also its JSON report. */
  public record Report(
      String rtl,
      int rows,
      int cols,
      int dataBits,
      int accBits,
      long seed,
      int problems,
      int tiles,
      long compared,
      long mismatches,
      long cycles,
      double seconds,
      double cyclesPerSecond,
      Mismatch firstMismatch,
      String waveform) {}

  private final ArrayHarness harness;
  private final ArrayConfig cfg;

  public ArrayCosim(ArrayHarness harness) {
    this.harness = harness;
    this.cfg = harness.config();
  }

  /**
   * Streams about {@code tiles} output tiles of random products through the array. Shapes are up to
   * three times the array in each direction, so products are cut into several tiles; K runs up to
   * the array's maxK, and the first product is the accumulator's worst case (K = maxK, operands at
   * opposite extremes, K capped at 65,536), so a too-narrow accumulator cannot pass.
   */
  public Report runRandom(int tiles, long seed, Path waveform, LongConsumer progress) {
    if (tiles < 1) {
      throw new addernet.io.UserError("--random must be a positive number of tiles, got " + tiles);
    }
    SplittableRandom rnd = new SplittableRandom(seed);
    Run run = new Run(waveform, progress);
    TileSchedule batch = new TileSchedule(cfg);
    int scheduled = 0;
    int problems = 0;
    while (scheduled < tiles) {
      int remaining = tiles - scheduled;
      int p = 1 + rnd.nextInt(3 * cfg.rows());
      int t = 1 + rnd.nextInt(3 * cfg.cols());
      int k = 1 + rnd.nextInt((int) Math.min(cfg.maxK(), 1 << 12));
      boolean worstCase = problems == 0;
      if (worstCase) {
        // One full tile; K is capped so that a huge maxK cannot make a single batch enormous.
        k = (int) Math.min(cfg.maxK(), WORST_CASE_K_CAP);
        p = cfg.rows();
        t = cfg.cols();
      }
      int tilesHere = ceilDiv(p, cfg.rows()) * ceilDiv(t, cfg.cols());
      if (tilesHere > remaining) {
        t = Math.min(t, cfg.cols());
        p = Math.min(p, remaining * cfg.rows());
        tilesHere = ceilDiv(p, cfg.rows());
      }
      int[][] x = new int[p][k];
      int[][] w = new int[k][t];
      fill(x, rnd, worstCase ? (int) cfg.minData() : null);
      fill(w, rnd, worstCase ? (int) cfg.maxData() : null);
      batch.add(x, w, AdderMatmul.reduce(cfg.op(), x, w));
      problems++;
      scheduled += tilesHere;
      if (batch.cycles() >= BATCH_CYCLES) {
        run.check(batch);
        batch = new TileSchedule(cfg);
      }
    }
    if (!batch.isEmpty()) {
      run.check(batch);
    }
    return run.finish(seed, problems, scheduled);
  }

  /** Runs the given schedules (tests build their own shapes). */
  public Report run(List<TileSchedule> schedules, Path waveform) {
    Run run = new Run(waveform, n -> {});
    int tiles = 0;
    for (TileSchedule s : schedules) {
      run.check(s);
      tiles += s.tiles().size();
    }
    return run.finish(0, schedules.size(), tiles);
  }

  private final class Run {
    final Path waveform;
    final LongConsumer progress;
    final ArraySimulator sim;
    final long start = System.nanoTime();
    long compared;
    long mismatches;
    long cycles;
    Mismatch first;
    TileSchedule failing;
    int problemBase;
    int tileBase;
    int firstLocalProblem = -1;

    Run(Path waveform, LongConsumer progress) {
      this.waveform = waveform;
      this.progress = progress;
      this.sim = new ArraySimulator(harness, null);
    }

    void check(TileSchedule schedule) {
      ArraySimulator.Batch out = sim.run(schedule.stimulus(), schedule.cycles());
      cycles = out.totalCycles();
      List<ArrayDeque<TileSchedule.Expected>> expect = schedule.expectations();
      long before = mismatches;
      for (int n = 0; n < out.pe().length; n++) {
        int pe = out.pe()[n];
        TileSchedule.Expected e = expect.get(pe).poll();
        if (e == null) {
          note("unexpected output", -1, -1, pe, -1, -1, 0, out.value()[n]);
          continue;
        }
        if (!e.inRange()) {
          continue;
        }
        compared++;
        if (e.value() != out.value()[n]) {
          note("wrong value", e.problem(), e.tile(), pe, e.row(), e.col(),
              e.value(), out.value()[n]);
        }
      }
      for (int pe = 0; pe < expect.size(); pe++) {
        for (TileSchedule.Expected e : expect.get(pe)) {
          if (e.inRange()) {
            note("missing output", e.problem(), e.tile(), pe, e.row(), e.col(),
                e.value(), null);
          }
        }
      }
      if (mismatches > before && failing == null) {
        failing = firstLocalProblem >= 0 ? schedule.only(firstLocalProblem) : schedule;
      }
      problemBase += schedule.problems();
      tileBase += schedule.tiles().size();
      progress.accept(schedule.tiles().size());
    }

    void note(String kind, int problem, int tile, int pe, int row, int col, long exp, Long got) {
      mismatches++;
      if (first == null) {
        firstLocalProblem = problem;
        first = new Mismatch(kind, problem < 0 ? -1 : problemBase + problem,
            tile < 0 ? -1 : tileBase + tile, pe / cfg.cols(), pe % cfg.cols(), row, col, exp, got);
      }
    }

    Report finish(long seed, int problems, int tiles) {
      sim.close();
      double seconds = (System.nanoTime() - start) / 1e9;
      String wave = null;
      if (failing != null && waveform != null) {
        // Replaying from reset reproduces the failure: tiles never depend on earlier batches.
        try (ArraySimulator traced = new ArraySimulator(harness, waveform)) {
          traced.run(failing.stimulus(), failing.cycles());
        }
        wave = waveform.toString();
      }
      return new Report(
          harness.rtlDir().toString(), cfg.rows(), cfg.cols(), cfg.dataBits(), cfg.accBits(),
          seed, problems, tiles, compared, mismatches, cycles, seconds, cycles / seconds, first,
          wave);
    }
  }

  private void fill(int[][] m, SplittableRandom rnd, Integer constant) {
    int lo = (int) cfg.minData();
    int hi = (int) cfg.maxData();
    for (int[] row : m) {
      for (int k = 0; k < row.length; k++) {
        row[k] = constant != null ? constant : rnd.nextInt(lo, hi + 1);
      }
    }
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
