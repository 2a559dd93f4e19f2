package addernet.gen;

import static addernet.gen.AcceleratorGenerator.AXI_TOP;
import static addernet.gen.AcceleratorGenerator.BOARD_TOP;
import static addernet.gen.AcceleratorGenerator.CONFIG_FILE;
import static addernet.gen.AcceleratorGenerator.FORMAT_VERSION;
import static addernet.gen.AcceleratorGenerator.FORMAT_VERSION_BRANCHES;
import static addernet.gen.AcceleratorGenerator.MAX_PES;
import static addernet.gen.AcceleratorGenerator.TOP;

import addernet.fpga.Ice40Device;
import addernet.hw.LayerParams;
import addernet.io.UserError;
import addernet.quant.PeOp;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.nio.file.Path;
import java.util.List;

/**
 * What a generated folder holds, as {@code accel.json}. {@code op} is the mesh's PE operation
 * ({@link PeOp#word}: adder, or multiply for the CNN twin), {@code weightMemory} a {@link
 * WeightMemory} word and {@code control} a {@link Control} word. {@code maxTerms}, {@code
 * inputShift} and {@code layers} (every layer's shape and requantization) together with the
 * weight ROM images are the whole generator config, so the folder can be generated again, e.g.
 * with the other PE operation ({@link AcceleratorGenerator#twin}). {@code board} and {@code
 * uartDivisor} are null except in a board folder (docs/board.md), whose top is the board shell;
 * so is {@code simUartDivisor}, the shorter bit period that cosim and tb/run-icarus give the
 * simulated UART through the ADDERNET_UART_DIVISOR macro.
 */
public record AccelManifest(
    int formatVersion,
    String top,
    String network,
    String networkSha256,
    String op,
    int rows,
    int cols,
    int batch,
    int dataBits,
    int accBits,
    int logitBits,
    int inSize,
    int classes,
    boolean trace,
    String weightMemory,
    String control,
    long issueCyclesPerBatch,
    long adderOpsPerImage,
    int requantizers,
    long activationBitsStored,
    long activationBitsNeeded,
    int maxTerms,
    int inputShift,
    List<LayerShape> layers,
    List<String> sources,
    List<String> memFiles,
    @JsonInclude(JsonInclude.Include.NON_NULL) String board,
    @JsonInclude(JsonInclude.Include.NON_NULL) Integer uartDivisor,
    @JsonInclude(JsonInclude.Include.NON_NULL) Integer simUartDivisor,
    @JsonInclude(JsonInclude.Include.NON_NULL) WeightImage weightImage,
    @JsonInclude(JsonInclude.Include.NON_NULL) Long weightBitsStored,
    @JsonInclude(JsonInclude.Include.NON_NULL) Long weightBitsNeeded) {

  /**
   * A fetch folder's weight image (docs/accelerator.md, "Weights fetched from memory"): the file,
   * its length, every layer's byte offset in it, the bytes of a beat and the beats of a row.
   */
  public record WeightImage(String file, long bytes, List<Long> offsets, int beatBytes, int rowBeats) {}

  /** True when the accelerator fetches its weights through the AXI4 read master. */
  public boolean weightFetch() {
    return memory() == WeightMemory.FETCH;
  }

  /** Where the weights live; {@link #read} has checked the word. */
  public WeightMemory memory() {
    return WeightMemory.fromWord(weightMemory);
  }

  /** How the design is driven; {@link #read} has checked the word. */
  public Control controlMode() {
    return Control.fromWord(control);
  }

  /** True when the weights are loaded through the weight stream rather than held in ROMs. */
  public boolean weightStream() {
    return memory().streamed();
  }

  /** True when the top is AcceleratorAxi, controlled through the AXI4-Lite registers. */
  public boolean axiControl() {
    return controlMode() == Control.AXI;
  }

  /** The PE operation; {@link #read} has checked the word. */
  public PeOp peOp() {
    return PeOp.fromWord(op);
  }

  /**
   * A layer's buffers in a network with branches (docs/accelerator.md, "Networks with branches"):
   * the buffer the mesh reads, the one written (-1: the logits), the add's operand buffer (-1: no
   * add) and shift, and n of the global average pool of 2^n values it feeds (-1: none).
   */
  public record Route(int src, int dst, int addFrom, int addShift, int poolShift) {
    addernet.hw.LayerRoute toHw() {
      return new addernet.hw.LayerRoute(src, dst, addFrom, addShift, poolShift);
    }
  }

  /** One layer of {@code accel.json}: a {@link LayerParams} without its weights (they are in the ROM images). */
  public record LayerShape(
      String name, int inC, int inH, int inW, int outC, int kernel, int stride, int pad,
      boolean pool, int shift, int lo, int hi, int[][] terms, long[] bias,
      @JsonInclude(JsonInclude.Include.NON_NULL) Route route) {
    static LayerShape of(LayerParams l, addernet.hw.LayerRoute r) {
      return new LayerShape(l.name(), l.inC(), l.inH(), l.inW(), l.outC(), l.kernel(), l.stride(),
          l.pad(), l.pool(), l.shift(), l.lo(), l.hi(), l.terms(), l.bias(),
          r == null ? null : new Route(r.src(), r.dst(), r.addFrom(), r.addShift(), r.poolShift()));
    }

    LayerParams withWeights(int[] weights) {
      return new LayerParams(name, inC, inH, inW, outC, kernel, stride, pad, pool, shift, lo, hi,
          terms, bias, weights);
    }
  }

  /**
   * Reads {@code accel.json} and checks every field a later stage uses, so that a damaged or
   * hand-edited file is refused in one line here rather than failing somewhere inside cosim or
   * synth (docs/accelerator.md, "accel.json").
   */
  public static AccelManifest read(Path rtlDir) {
    AccelManifest m = ManifestReader.read(rtlDir, CONFIG_FILE, AccelManifest.class,
        "generate one with: addernet generate --model PKG --out " + rtlDir);
    Path f = rtlDir.resolve(CONFIG_FILE);
    if (m.formatVersion() != FORMAT_VERSION && m.formatVersion() != FORMAT_VERSION_BRANCHES) {
      throw new UserError(f + ": field formatVersion: expected " + FORMAT_VERSION + " (a chain) or "
          + FORMAT_VERSION_BRANCHES + " (a network with branches), what this version writes, got "
          + m.formatVersion() + "; a folder of another format"
          + " may hold other words or another inside, generate it again: addernet generate --model"
          + " PKG --rows " + m.rows() + " --cols " + m.cols() + " --out " + rtlDir);
    }
    if (Control.fromWord(m.control()) == null) {
      throw ManifestReader.bad(f, "control", "axi or plain", m.control() == null ? "null" : "\"" + m.control() + "\"");
    }
    if (m.board() != null && m.axiControl()) {
      throw ManifestReader.bad(f, "control", "plain in a board folder (the shell drives the plain ports)", "\"axi\"");
    }
    String top = m.board() != null ? BOARD_TOP : m.axiControl() ? AXI_TOP : TOP;
    if (m.board() != null) {
      boolean known = false;
      for (Ice40Device.Board b : Ice40Device.Board.values()) {
        known |= b.id.equals(m.board());
      }
      if (!known) {
        throw ManifestReader.bad(f, "board", "icebreaker or absent", "\"" + m.board() + "\"");
      }
      if (m.uartDivisor() == null) {
        throw ManifestReader.bad(f, "uartDivisor", "the UART's clocks per bit (with a board)", "null");
      }
      ManifestReader.range(f, "uartDivisor", m.uartDivisor(), 4, 65535);
      if (m.simUartDivisor() == null) {
        throw ManifestReader.bad(f, "simUartDivisor", "the simulated UART's clocks per bit (with a board)", "null");
      }
      ManifestReader.range(f, "simUartDivisor", m.simUartDivisor(), 4, m.uartDivisor());
      if (m.trace() || m.memory() != WeightMemory.SPRAM) {
        throw ManifestReader.bad(f, "board", "absent unless trace is false and weightMemory spram",
            "\"" + m.board() + "\"");
      }
    } else if (m.uartDivisor() != null) {
      throw ManifestReader.bad(f, "uartDivisor", "absent without a board", m.uartDivisor());
    } else if (m.simUartDivisor() != null) {
      throw ManifestReader.bad(f, "simUartDivisor", "absent without a board", m.simUartDivisor());
    }
    if (!top.equals(m.top())) {
      throw ManifestReader.bad(f, "top", "\"" + top + "\"", m.top() == null ? "null" : "\"" + m.top() + "\"");
    }
    if (m.network() == null) {
      throw ManifestReader.bad(f, "network", "the network's name", "null");
    }
    if (m.networkSha256() != null && !m.networkSha256().matches("[0-9a-f]{64}")) {
      throw ManifestReader.bad(f, "networkSha256", "64 lower-case hex digits", "\"" + m.networkSha256() + "\"");
    }
    if (WeightMemory.fromWord(m.weightMemory()) == null) {
      throw ManifestReader.bad(f, "weightMemory", "rom, stream, spram or fetch",
          m.weightMemory() == null ? "null" : "\"" + m.weightMemory() + "\"");
    }
    checkWeightImage(f, rtlDir, m);
    try {
      PeOp.fromWord(m.op());
    } catch (IllegalArgumentException e) {
      throw ManifestReader.bad(f, "op", "adder or multiply", m.op() == null ? "null" : "\"" + m.op() + "\"");
    }
    ManifestReader.range(f, "rows", m.rows(), 1, MAX_PES);
    ManifestReader.range(f, "cols", m.cols(), 1, MAX_PES);
    if ((long) m.rows() * m.cols() > MAX_PES) {
      throw ManifestReader.bad(f, "rows x cols", "at most " + MAX_PES + " PEs", (long) m.rows() * m.cols());
    }
    ManifestReader.range(f, "batch", m.batch(), m.rows(), (1 << 15) - 1);
    ManifestReader.range(f, "dataBits", m.dataBits(), ArrayConfig.MIN_DATA_BITS, ArrayConfig.MAX_DATA_BITS);
    ManifestReader.range(f, "accBits", m.accBits(), 1, 30);
    ManifestReader.range(f, "logitBits", m.logitBits(), 2, 32);
    ManifestReader.range(f, "inSize", m.inSize(), 1, 1 << 24);
    ManifestReader.range(f, "classes", m.classes(), 1, 1 << 15);
    ManifestReader.range(f, "issueCyclesPerBatch", m.issueCyclesPerBatch(), 0, Long.MAX_VALUE);
    ManifestReader.range(f, "adderOpsPerImage", m.adderOpsPerImage(), 0, Long.MAX_VALUE);
    ManifestReader.range(f, "maxTerms", m.maxTerms(), 1, 64);
    ManifestReader.range(f, "inputShift", m.inputShift(), 0, 7);
    ManifestReader.files(f, rtlDir, "sources", m.sources());
    ManifestReader.files(f, rtlDir, "memFiles", m.memFiles());
    if (m.memFiles().size() != m.cols() + 1) {
      throw ManifestReader.bad(f, "memFiles", "one weight ROM image per column (" + m.cols()
          + ") and the requantization table", m.memFiles().size() + " files");
    }
    ManifestReader.range(f, "requantizers", m.requantizers(), 1, m.rows());
    ManifestReader.range(f, "activationBitsStored", m.activationBitsStored(), 1, Long.MAX_VALUE);
    ManifestReader.range(f, "activationBitsNeeded", m.activationBitsNeeded(), 1, Long.MAX_VALUE);
    if (m.layers() != null) {
      for (int i = 0; i < m.layers().size(); i++) {
        LayerShape l = m.layers().get(i);
        String at = "layers[" + i + "]";
        if (l == null || l.name() == null || l.terms() == null || l.bias() == null) {
          throw ManifestReader.bad(f, at, "a layer with name, terms and bias", l == null ? "null" : "missing fields");
        }
        if ((l.route() != null) != (m.formatVersion() == FORMAT_VERSION_BRANCHES)) {
          throw ManifestReader.bad(f, at + ".route", m.formatVersion() == FORMAT_VERSION_BRANCHES
              ? "a route (formatVersion " + FORMAT_VERSION_BRANCHES + " is a network with branches)"
              : "none (formatVersion " + FORMAT_VERSION + " is a chain)", l.route() == null ? "none" : "a route");
        }
        if (l.route() != null) {
          Route r = l.route();
          ManifestReader.range(f, at + ".route.src", r.src(), 0, 1);
          ManifestReader.range(f, at + ".route.dst", r.dst(), -1, 2);
          ManifestReader.range(f, at + ".route.addFrom", r.addFrom(), -1, 2);
          ManifestReader.range(f, at + ".route.addShift", r.addShift(), 0, 16);
          ManifestReader.range(f, at + ".route.poolShift", r.poolShift(), -1, 30);
        }
        for (int[] t : l.terms()) {
          if (t == null) {
            throw ManifestReader.bad(f, at + ".terms", "lists of signed digits", "null");
          }
        }
      }
    }
    return m;
  }

  /** A fetch folder has its image, 128-byte aligned layer offsets inside it and its weight bits; other folders none. */
  private static void checkWeightImage(Path f, Path rtlDir, AccelManifest m) {
    WeightImage w = m.weightImage();
    if (!m.weightFetch()) {
      if (w != null) {
        throw ManifestReader.bad(f, "weightImage", "absent unless weightMemory is fetch", "an object");
      }
      if (m.weightBitsStored() != null || m.weightBitsNeeded() != null) {
        throw ManifestReader.bad(f, "weightBitsStored", "absent unless weightMemory is fetch", "a number");
      }
      return;
    }
    if (w == null || w.file() == null || w.offsets() == null) {
      throw ManifestReader.bad(f, "weightImage", "the weight image's file, bytes and offsets (weightMemory fetch)",
          w == null ? "null" : "missing fields");
    }
    ManifestReader.files(f, rtlDir, "weightImage.file", List.of(w.file()));
    ManifestReader.range(f, "weightImage.beatBytes", w.beatBytes(), 8, 8);
    ManifestReader.range(f, "weightImage.rowBeats", w.rowBeats(), 1, 1 << 12);
    ManifestReader.range(f, "weightImage.bytes", w.bytes(), 128, Integer.MAX_VALUE);
    if (m.layers() != null && w.offsets().size() != m.layers().size()) {
      throw ManifestReader.bad(f, "weightImage.offsets", "one per layer (" + m.layers().size() + ")",
          w.offsets().size() + " offsets");
    }
    for (int i = 0; i < w.offsets().size(); i++) {
      Long o = w.offsets().get(i);
      if (o == null || o < 0 || o % 128 != 0 || o >= w.bytes()) {
        throw ManifestReader.bad(f, "weightImage.offsets[" + i + "]", "a multiple of 128 below bytes", o);
      }
    }
    if (m.weightBitsStored() == null || m.weightBitsNeeded() == null) {
      throw ManifestReader.bad(f, "weightBitsStored", "the weight RAM's bits (weightMemory fetch)", "null");
    }
    ManifestReader.range(f, "weightBitsStored", m.weightBitsStored(), 1, Long.MAX_VALUE);
    ManifestReader.range(f, "weightBitsNeeded", m.weightBitsNeeded(), 1, m.weightBitsStored());
  }
}
