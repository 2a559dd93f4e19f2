package addernet.fpga;

import addernet.hw.AccelConfig;
import addernet.hw.RequantTable;

/**
 * What an accelerator needs of an iCE40 part before it is synthesised: estimated logic cells and
 * block RAMs, so that {@code generate --board} can choose and check an array without running
 * yosys and nextpnr.
 */
public final class Ice40Fit {
  private Ice40Fit() {}

  /**
   * The board's estimate of a design's iCE40 logic cells (a LUT with its flip-flop and carry, as
   * nextpnr packs them): {@code CELLS_REST} for the controller, the address logic and the shell,
   * plus {@code CELLS_PER_PE} per PE and {@code CELLS_PER_REQUANTIZER} per requantizer. Fitted to
   * the two board folders placed with yosys 0.23 and nextpnr-ice40 on the UP5K (docs/board.md):
   * the tiny network on 2x2 (one requantizer), 2,836 cells (estimate 2,860), and LeNet-5 on 4x4
   * (one requantizer), 4,549-4,557 cells (estimate 4,540). The per-PE figure is more than a PE's own 52
   * LUTs because the activation buffers' lanes, the skew registers and the sequencer grow with
   * the array too; the requantizer's is its measured 912-1,008 LUTs. A design must stay under 90%
   * of the part's cells, as {@code synth} asks (Ice40Device.smallestFitting).
   */
  public static final int CELLS_REST = 1300;
  public static final int CELLS_PER_PE = 140;
  public static final int CELLS_PER_REQUANTIZER = 1000;

  /** The estimated logic cells of a board design (see {@link #CELLS_REST}). */
  public static int estimatedCells(AccelConfig cfg) {
    return CELLS_REST + CELLS_PER_PE * cfg.rows() * cfg.cols() + CELLS_PER_REQUANTIZER * cfg.requantizers();
  }

  /**
   * The estimated iCE40 block RAMs of a design: each activation buffer, the logits memory and the
   * requantization table (when it is deeper than yosys keeps in LUTs) as one memory of its word
   * width and depth, in the block RAM mode that needs fewest (256 x 16, 512 x 8, 1024 x 4, 2048 x
   * 2). LeNet-5 on 4x4: 22 estimated, 21 used.
   */
  public static int estimatedBlockRams(AccelConfig cfg) {
    int[] depth = cfg.bufferDepth();
    int n = blocks(depth[0], cfg.rows() * cfg.dataBits()) + blocks(depth[1], cfg.rows() * cfg.dataBits())
        + blocks(cfg.logitDepth(), cfg.requantizers() * cfg.logitBits());
    if (cfg.requantDepth() > 64) {
      n += blocks(cfg.requantDepth(), new RequantTable(cfg).entryBits());
    }
    return n;
  }

  private static int blocks(long depth, long width) {
    long best = Long.MAX_VALUE;
    for (int w = 16, d = 256; w >= 2; w /= 2, d *= 2) {
      best = Math.min(best, ((width + w - 1) / w) * ((depth + d - 1) / d));
    }
    return (int) best;
  }

  /** Whether {@code cfg}'s estimates fit {@code device}: cells under 90%, block RAMs within. */
  public static boolean fits(AccelConfig cfg, Ice40Device device) {
    return estimatedCells(cfg) <= allowedCells(device) && estimatedBlockRams(cfg) <= device.blockRams;
  }

  /** 90% of the part's cells, the margin {@code synth} asks for (Ice40Device.smallestFitting). */
  public static int allowedCells(Ice40Device device) {
    return (int) (0.9 * device.logicCells);
  }
}
