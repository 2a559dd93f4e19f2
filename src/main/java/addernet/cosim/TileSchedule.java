package addernet.cosim;

import addernet.gen.ArrayConfig;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns integer matrix products into cycle-by-cycle stimulus for the bare array and records, per
 * PE, which output it must present next. Each problem x (P x K) times w (K x T) is cut into
 * output tiles of rows x cols; tiles stream back to back, K cycles each, with the skew the mesh
 * expects (row i delayed i cycles, column j delayed j cycles).
 */
public final class TileSchedule {
  static final int VALID = 1;
  static final int FIRST = 2;
  static final int LAST = 4;

  /** One output a PE must present: where it belongs and its reference value. */
  public record Expected(int tile, int problem, int row, int col, long value, boolean inRange) {}

  /** One output tile as scheduled. */
  public record Tile(int problem, int row0, int col0, int k, int startCycle) {}

  private final ArrayConfig cfg;
  private final List<int[][]> xs = new ArrayList<>();
  private final List<int[][]> ws = new ArrayList<>();
  private final List<long[][]> refs = new ArrayList<>();
  private final List<Tile> tiles = new ArrayList<>();
  private int nextStart;

  public TileSchedule(ArrayConfig cfg) {
    this.cfg = cfg;
  }

  /** Adds a product whose reference result is {@code expected} (P x T). */
  public void add(int[][] x, int[][] w, long[][] expected) {
    int p = x.length;
    int k = w.length;
    int t = w[0].length;
    if (k < 1 || k > cfg.maxK()) {
      throw new IllegalArgumentException("K=" + k + " is outside 1.." + cfg.maxK() + " for this array");
    }
    int problem = xs.size();
    xs.add(x);
    ws.add(w);
    refs.add(expected);
    for (int r0 = 0; r0 < p; r0 += cfg.rows()) {
      for (int c0 = 0; c0 < t; c0 += cfg.cols()) {
        tiles.add(new Tile(problem, r0, c0, k, nextStart));
        nextStart += k;
      }
    }
  }

  /** A schedule of just one of this schedule's products, to replay a failure in a short trace. */
  public TileSchedule only(int problem) {
    TileSchedule s = new TileSchedule(cfg);
    s.add(xs.get(problem), ws.get(problem), refs.get(problem));
    return s;
  }

  public int problems() {
    return xs.size();
  }

  public List<Tile> tiles() {
    return tiles;
  }

  public boolean isEmpty() {
    return tiles.isEmpty();
  }

  /** Cycles needed to stream every tile and drain the mesh. */
  public int cycles() {
    // The last tile's last element reaches PE(R-1,C-1) R+C-2 cycles after it enters, and the
    // output register needs one more edge.
    return nextStart + cfg.rows() + cfg.cols() + 1;
  }

  /** The stimulus, {@code cycles() * stimWords} words, laid out as the harness's ports.h expects. */
  public int[] stimulus() {
    int rows = cfg.rows();
    int cols = cfg.cols();
    int words = ArrayHarness.stimWords(cfg);
    int[] s = new int[cycles() * words];
    for (Tile tile : tiles) {
      int[][] x = xs.get(tile.problem);
      int[][] w = ws.get(tile.problem);
      for (int k = 0; k < tile.k; k++) {
        int flags = VALID | (k == 0 ? FIRST : 0) | (k == tile.k - 1 ? LAST : 0);
        for (int i = 0; i < rows; i++) {
          int p = tile.row0 + i;
          if (p < x.length) {
            int at = (tile.startCycle + k + i) * words;
            s[at + i] = x[p][k];
            s[at + rows + i] = flags;
          }
        }
        for (int j = 0; j < cols; j++) {
          int t = tile.col0 + j;
          if (t < w[0].length) {
            s[(tile.startCycle + k + j) * words + 2 * rows + j] = w[k][t];
          }
        }
      }
    }
    return s;
  }

  /**
   * Per PE (row * cols + col), the outputs it must present, in order. Rows beyond a problem's P
   * are never marked valid, so they present nothing; columns beyond T compute on zero weights and
   * their outputs are expected but not compared ({@code inRange == false}).
   */
  public List<ArrayDeque<Expected>> expectations() {
    List<ArrayDeque<Expected>> q = new ArrayList<>();
    for (int i = 0; i < cfg.numPes(); i++) {
      q.add(new ArrayDeque<>());
    }
    for (int n = 0; n < tiles.size(); n++) {
      Tile tile = tiles.get(n);
      long[][] ref = refs.get(tile.problem);
      int p = xs.get(tile.problem).length;
      int t = ws.get(tile.problem)[0].length;
      for (int i = 0; i < cfg.rows() && tile.row0 + i < p; i++) {
        for (int j = 0; j < cfg.cols(); j++) {
          int r = tile.row0 + i;
          int c = tile.col0 + j;
          boolean in = c < t;
          q.get(i * cfg.cols() + j).add(new Expected(n, tile.problem, r, c, in ? ref[r][c] : 0, in));
        }
      }
    }
    return q;
  }
}
