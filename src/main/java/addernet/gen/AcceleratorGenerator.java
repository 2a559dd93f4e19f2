package addernet.gen;

import addernet.quant.PeOp;
import addernet.io.NewFolder;
import addernet.io.Outputs;
import addernet.io.UserError;
import addernet.fpga.FpgaFlow;
import addernet.fpga.Ice40Device;
import addernet.fpga.Ice40Fit;
import addernet.hw.AccelConfig;
import addernet.hw.LayerParams;
import addernet.quant.IntLayer;
import addernet.quant.IntNetwork;
import addernet.quant.Requant;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Emits the whole-network accelerator for a quantized network: the Chisel generator's Verilog,
 * one weight ROM image per column ({@code weights_colJ.mem}, read by {@code $readmemh} relative
 * to the working directory of the simulator or synthesis tool), and {@code accel.json}, which
 * co-simulation reads back.
 */
public final class AcceleratorGenerator {
  public static final String CONFIG_FILE = "accel.json";
  public static final String TOP = "Accelerator";
  /** The top with AXI4-Lite control (the default; docs/accelerator.md, "Registers"). */
  public static final String AXI_TOP = "AcceleratorAxi";
  /** The top of a board folder (generate --board icebreaker; docs/board.md). */
  public static final String BOARD_TOP = "IceBreakerTop";
  /**
   * accel.json's layout and words (docs/accelerator.md, "accel.json"): a folder of another version
   * is refused, since its fields may mean something else, and generated again.
   */
  public static final int FORMAT_VERSION = 4;
  /**
   * accel.json of a network with branches: every layer has its {@code route} (docs/accelerator.md,
   * "Networks with branches"), which a reader of version 4 would not know to follow.
   */
  public static final int FORMAT_VERSION_BRANCHES = 5;
  /**
   * The hardware's version, which IDENT reports (docs/accelerator.md, "Registers"): it changes with
   * the ports, the trace and the memory layout, not with accel.json's words, so a driver checks
   * the design it talks to rather than the file it came with.
   */
  public static final int IDENT_VERSION = 3;
  /** The largest mesh inside an accelerator (32 x 32); docs/accelerator.md, "Limits". */
  public static final int MAX_PES = 1024;
  /**
   * The most activation words (both ping-pong buffers, every lane) a design may hold: the
   * Verilated model keeps them all in memory and synthesis maps each one, so a design past this
   * (about 256 MiB of simulator memory at 8 bits) is refused before elaboration.
   */
  public static final long MAX_BUFFER_WORDS = 1L << 28;
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private AcceleratorGenerator() {}

  /** Largest array a network can use: its widest layer, and one PE row per image of the batch. */
  public static Options fit(IntNetwork net, int rows, int cols, int batch) {
    int widest = net.layers().stream().mapToInt(IntLayer::outChannels).max().orElseThrow();
    return Options.of(Math.min(rows, batch), Math.min(cols, widest), batch);
  }

  /**
   * The array shape and batch, validated; everything else follows from the network. {@code
   * trace} keeps the writeback trace port that layer-by-layer co-simulation reads; FPGA builds
   * drop it.
   */
  public record Options(
      int rows, int cols, int batch, boolean trace, WeightMemory weights, Control control, int requantizers) {
    /** With as many requantizers as reach the least cycles. */
    public Options(int rows, int cols, int batch, boolean trace, WeightMemory weights, Control control) {
      this(rows, cols, batch, trace, weights, control, 0);
    }

    /** A traced array with weight ROMs behind AXI4-Lite registers, what {@code generate} makes by default. */
    public static Options of(int rows, int cols, int batch) {
      return new Options(rows, cols, batch, true, WeightMemory.ROM, Control.AXI);
    }

    public Options withTrace(boolean keep) {
      return new Options(rows, cols, batch, keep, weights, control, requantizers);
    }

    public Options withWeights(WeightMemory memory) {
      return new Options(rows, cols, batch, trace, memory, control, requantizers);
    }

    public Options withControl(Control how) {
      return new Options(rows, cols, batch, trace, weights, how, requantizers);
    }

    /** With {@code q} requantizers (1..rows), or 0 for the fewest that reach the least cycles. */
    public Options withRequantizers(int q) {
      return new Options(rows, cols, batch, trace, weights, control, q);
    }

    public Options {
      if (weights == null || control == null) {
        throw new NullPointerException("weights and control are required");
      }
      if (requantizers < 0 || requantizers > rows) {
        throw new UserError("requantizers must be in 1.." + rows + " (one per PE row at most), got " + requantizers);
      }
      if (rows < 1 || cols < 1 || batch < 1) {
        throw new UserError("an accelerator needs at least one PE row, one PE column and one image"
            + " per batch, got " + rows + " x " + cols + " PEs and a batch of " + batch);
      }
    }
  }

  /**
   * The mesh's accumulator width (numeric contract, section 3) for layers run at {@code dataBits}.
   * Adder: the bound for any signed operands, as for the bare array. MAC: each layer's input range
   * (the shifted pixels, then the previous layer's clamp; [0, 2^(B-1) - 1] after ReLU) times signed
   * {@code dataBits}-bit weights, since that is what the mesh can be sent.
   */
  public static int accumulatorBits(PeOp op, int dataBits, int inputShift, List<LayerParams> layers) {
    int bits = 0;
    long wMax = (1L << (dataBits - 1)) - 1;
    long xLo = 0;
    long xHi = 255 >> inputShift;
    for (LayerParams l : layers) {
      bits = Math.max(bits, op == PeOp.ADDER
          ? PeOp.ADDER.accumulatorBits(dataBits, l.k())
          : PeOp.multiplyAccumulatorBits(l.k(), xLo, xHi, -wMax - 1, wMax));
      xLo = Math.min(0, l.lo()); // zero padding feeds 0 whatever the clamp
      xHi = Math.max(0, l.hi());
    }
    return bits;
  }

  /** The one PE operation of a network's layers; the mesh has a single one. */
  static PeOp operationOf(IntNetwork net) {
    PeOp op = net.layers().get(0).op();
    for (IntLayer l : net.layers()) {
      if (l.op() != op) {
        throw new UserError(
            "cannot build an accelerator for " + net.name() + ": " + l.name() + " uses "
                + l.op().word() + " PEs but " + net.layers().get(0).name() + " uses " + op.word()
                + " PEs, and the PE mesh has one operation; make every weighted layer of the spec"
                + " 'adder' (or every one 'multiply') and train again");
      }
    }
    return op;
  }

  /** More PE columns than the network's widest layer has output channels. */
  public static final class ColumnsBeyondWidestLayer extends UserError {
    public final String network;
    public final int cols;
    public final int widest;

    ColumnsBeyondWidestLayer(String network, int cols, int widest) {
      super(cols + " PE columns exceed the widest layer of " + network + " (" + widest
          + " output channels); columns beyond it would never be used");
      this.network = network;
      this.cols = cols;
      this.widest = widest;
    }
  }

  /** More PE rows than images in a batch. */
  public static final class RowsBeyondBatch extends UserError {
    public final int rows;
    public final int batch;

    RowsBeyondBatch(int rows, int batch) {
      super(rows + " PE rows exceed the batch of " + batch + " images: each PE row serves one"
          + " image of the batch (docs/accelerator.md, \"Dataflow\")");
      this.rows = rows;
      this.batch = batch;
    }
  }

  /** Builds the generator's config from the network, refusing what the hardware cannot do. */
  public static AccelConfig config(IntNetwork net, Options opt) {
    BufferPlan plan = BufferPlan.of(net);
    // A PE column only ever serves output channels j, j + C, ...; a row only output positions
    // i, i + R, ... of the batch. Beyond the widest layer they would be dead logic.
    int widest = net.layers().stream().mapToInt(IntLayer::outChannels).max().orElseThrow();
    if (opt.cols() > widest) {
      throw new ColumnsBeyondWidestLayer(net.name(), opt.cols(), widest);
    }
    if (opt.rows() > opt.batch()) {
      throw new RowsBeyondBatch(opt.rows(), opt.batch());
    }
    PeOp op = operationOf(net);
    int dataBits = net.layers().stream().mapToInt(IntLayer::dataBits).max().orElseThrow();
    int maxTerms = Math.max(1, net.layers().stream().mapToInt(l -> l.requant().maxTerms()).max().orElse(1));
    List<LayerParams> layers = layerParams(net);
    return config(net.name(), opt, op, dataBits, maxTerms, net.logitBits(), net.inputShift(), layers,
        plan.routes());
  }

  /** The network's layers in the generator's terms (weights included). */
  static List<LayerParams> layerParams(IntNetwork net) {
    List<LayerParams> layers = new ArrayList<>();
    for (IntLayer l : net.layers()) {
      if (l.k() > ArrayConfig.MAX_K) {
        throw new UserError(l.name() + ": K = " + l.k() + " exceeds the supported " + ArrayConfig.MAX_K);
      }
      Requant r = l.requant();
      layers.add(
          new LayerParams(
              l.name(), l.inChannels(), l.inHeight(), l.inWidth(), l.outChannels(), l.kernel(),
              l.stride(), l.padding(), l.pool(), r.shift(), r.lo(), r.hi(), r.terms(), r.bias(),
              l.weights()));
    }
    return layers;
  }

  /** The {@code networkSha256} an accelerator generated from {@code net} records. */
  public static String digest(IntNetwork net) {
    return NetworkDigest.of(operationOf(net).word(), net.inputShift(), net.logitBits(), layerParams(net),
        BufferPlan.of(net).routes());
  }

  /** The validated generator config for layers that are already in the generator's terms. */
  static AccelConfig config(String network, Options opt, PeOp op, int dataBits, int maxTerms,
      int logitBits, int inputShift, List<LayerParams> layers, addernet.hw.LayerRoute[] routes) {
    // After the network's own limits (columns beyond the widest layer, ...), which say more.
    ArrayConfig.checkPes(opt.rows(), opt.cols(), MAX_PES, "an accelerator");
    int accBits = accumulatorBits(op, dataBits, inputShift, layers);
    if (accBits > 30) {
      throw new UserError(
          op.word() + " accumulators of " + accBits + " bits are needed; the requantizer supports"
              + " up to 30 (lower the data width or the layers' K)");
    }
    try {
      AccelConfig cfg =
          addernet.hw.Generate.accelConfig(
              opt.rows(), opt.cols(), opt.batch(), dataBits, accBits, op.word(), maxTerms, logitBits,
              inputShift, layers.toArray(new LayerParams[0]), opt.trace(), opt.weights().word(),
              opt.control().word(), routes, opt.requantizers());
      int[] depth = cfg.bufferDepth();
      if (Math.max(depth[0], depth[1]) >= 1 << 24 || cfg.weightDepth() >= 1 << 24) {
        throw new UserError(String.format(
            "buffers of %,d and %,d words per lane, or %,d weight words per column, do not fit the"
                + " 24-bit address space; use a smaller batch or more PE columns", depth[0], depth[1],
            cfg.weightDepth()));
      }
      long bufferWords = (long) cfg.rows() * (depth[0] + depth[1]);
      if (bufferWords > MAX_BUFFER_WORDS) {
        throw new UserError(String.format(
            "%d PE rows and a batch of %d need %,d activation words (%d lanes x (%,d + %,d) words);"
                + " the generator's bound is %,d, since the simulator holds them all in memory"
                + " (docs/accelerator.md, \"Limits\"); use a smaller batch",
            cfg.rows(), cfg.batch(), bufferWords, cfg.rows(), depth[0], depth[1], MAX_BUFFER_WORDS));
      }
      return cfg;
    } catch (IllegalArgumentException e) {
      throw new Unbuildable(network, e.getMessage(), e);
    }
  }

  /** A network and array the generator's checks refuse; {@link #reason} says why, without the network. */
  public static final class Unbuildable extends UserError {
    private final String reason;

    Unbuildable(String network, String reason, Throwable cause) {
      super("cannot build an accelerator for " + network + ": " + reason, cause);
      this.reason = reason;
    }

    public String reason() {
      return reason;
    }
  }

  /** Writes the accelerator for {@code net} as the new folder {@code out}, all or nothing. */
  public static void generate(IntNetwork net, Options opt, Path out) {
    NewFolder.writeOrRefuse(out, dir -> writeInto(net, opt, dir, null));
  }

  /** As {@link #generate(IntNetwork, Options, Path)}; {@code goldenPixels} become tb/'s vectors. */
  public static void generate(IntNetwork net, Options opt, Path out, int[][] goldenPixels) {
    NewFolder.writeOrRefuse(out, dir -> writeInto(net, opt, dir, goldenPixels));
  }

  /**
   * Writes the accelerator's files into the existing, empty folder {@code dir}, for a command that
   * claims its outputs itself; {@code goldenPixels} (a package's golden images, or null) become
   * tb/'s vectors.
   */
  public static void writeInto(IntNetwork net, Options opt, Path dir, int[][] goldenPixels) throws IOException {
    writeInto(config(net, opt), net, net.name(), net.adderOpsPerImage(), dir, null, goldenPixels);
  }

  /**
   * The accelerator behind {@code board}'s shell (docs/board.md), as the new folder {@code out}:
   * {@code opt} must stream its weights into SPRAM and have no trace port, and the weights must be
   * bytes. The shell drives the engine's plain ports, so {@code opt}'s control is not used.
   */
  public static void generateBoard(IntNetwork net, Options opt, Ice40Device.Board board, Path out) {
    NewFolder.writeOrRefuse(out, dir -> writeBoardInto(net, opt, board, dir, null));
  }

  /** As above; {@code goldenPixels} (a package's golden images, or null) become tb/'s vectors. */
  public static void generateBoard(IntNetwork net, Options opt, Ice40Device.Board board, Path out,
      int[][] goldenPixels) {
    NewFolder.writeOrRefuse(out, dir -> writeBoardInto(net, opt, board, dir, goldenPixels));
  }

  /** As {@link #generateBoard}, into the existing, empty folder {@code dir}. */
  public static void writeBoardInto(IntNetwork net, Options opt, Ice40Device.Board board, Path dir,
      int[][] goldenPixels) throws IOException {
    AccelConfig cfg = config(net, opt.withControl(Control.PLAIN));
    checkBoard(cfg, board);
    writeInto(cfg, net, net.name(), net.adderOpsPerImage(), dir, board, goldenPixels);
  }

  static void checkBoard(AccelConfig cfg, Ice40Device.Board board) {
    if (!cfg.spramWeights() || cfg.trace()) {
      throw new IllegalArgumentException("a board shell needs SPRAM weights and no trace port");
    }
    if (cfg.weightStreamBits() != 8) {
      throw new UserError("the " + board.id + " shell sends one byte per weight, but the network's "
          + cfg.dataBits() + "-bit weights need " + cfg.weightStreamBits() / 8 + " bytes; quantize"
          + " it to 8 bits or fewer");
    }
    // The estimates that choose the array without --rows/--cols also bound a given one.
    if (!Ice40Fit.fits(cfg, board.device)) {
      throw new UserError(String.format("%s: a %dx%d array does not fit the %s: about %,d logic"
          + " cells of the %,d allowed (90%% of %,d) and %d block RAMs of %d (docs/board.md, \"The"
          + " array\"); without an array the largest that fits is chosen", board.id, cfg.rows(),
          cfg.cols(), board.device.id, Ice40Fit.estimatedCells(cfg), Ice40Fit.allowedCells(board.device),
          board.device.logicCells, Ice40Fit.estimatedBlockRams(cfg), board.device.blockRams));
    }
  }

  /**
   * The simulated UART's clocks per bit in a board folder's co-simulation and Icarus run (accel.json's
   * {@code simUartDivisor}): the shortest period the UART cores take, so a batch's bytes cost a
   * simulator 26 times fewer clocks than at the board's rate.
   */
  public static final int SIM_UART_DIVISOR = 4;

  /** The UART's clocks per bit on {@code board}: its oscillator over the FTDI's 115,200 baud. */
  public static int uartDivisor(Ice40Device.Board board) {
    return addernet.hw.Generate.boardUartDivisor();
  }

  /**
   * The arrays {@code generate --board} tries when --rows and --cols are absent, largest first
   * (rows x cols; batch = rows).
   */
  public static final int[][] BOARD_ARRAYS = {{8, 8}, {8, 4}, {4, 4}, {4, 2}, {2, 2}};

  /**
   * The array {@code generate --board} builds when none is given: the largest of {@link
   * #BOARD_ARRAYS} (cut to the network's widest layer) whose weights fit the part's SPRAMs
   * (AccelConfig's check), whose estimated logic cells stay under 90% of its cells and whose estimated
   * block RAMs fit.
   */
  public static Options boardOptions(IntNetwork net, Ice40Device.Board board) {
    return boardChoice(net, board).options();
  }

  /** The array {@link #boardOptions} chose, and why each larger one was passed over. */
  public record BoardChoice(Options options, List<String> passedOver) {}

  public static BoardChoice boardChoice(IntNetwork net, Ice40Device.Board board) {
    List<String> tried = new ArrayList<>();
    for (int[] a : BOARD_ARRAYS) {
      Options opt = fit(net, a[0], a[1], a[0]);
      opt = new Options(opt.rows(), opt.cols(), a[0], false, WeightMemory.SPRAM, Control.PLAIN);
      AccelConfig cfg;
      try {
        cfg = config(net, opt);
      } catch (Unbuildable e) {
        tried.add(a[0] + "x" + a[1] + ": " + e.reason());
        continue;
      }
      if (Ice40Fit.fits(cfg, board.device)) {
        return new BoardChoice(opt, tried);
      }
      tried.add(String.format("%dx%d: about %,d logic cells of the %,d allowed (90%% of %,d) and %d"
          + " block RAMs of %d", opt.rows(), opt.cols(), Ice40Fit.estimatedCells(cfg),
          Ice40Fit.allowedCells(board.device), board.device.logicCells,
          Ice40Fit.estimatedBlockRams(cfg), board.device.blockRams));
    }
    throw new UserError(net.name() + " fits no array on the " + board.id + " (" + board.device.id
        + "): " + String.join("; ", tried));
  }

  /**
   * With {@code net} (null for a twin, whose weights are not a network's) a folder without a board
   * gets tb/, the testbench for other simulators.
   */
  private static void writeInto(AccelConfig cfg, IntNetwork net, String network, long opsPerImage,
      Path dir, Ice40Device.Board board, int[][] goldenPixels) throws IOException {
    String digest = NetworkDigest.of(cfg.op().name(), cfg.inputShift(), cfg.logitBits(),
        List.of(cfg.layers()), cfg.residual() ? cfg.routes() : new addernet.hw.LayerRoute[0]);
    if (board == null) {
      addernet.hw.GenerateAccelerator.apply(cfg, dir.toString(), networkId(digest), IDENT_VERSION);
    } else {
      Path scratch = Files.createTempDirectory("addernet-board-");
      try {
        addernet.hw.GenerateIceBreaker.apply(cfg, uartDivisor(board), dir.toString(), scratch.toString());
      } finally {
        Outputs.deleteTree(scratch);
      }
    }
    List<String> sources = ArrayGenerator.verilogSources(dir);
    List<String> mems = new ArrayList<>();
    for (int j = 0; j < cfg.cols(); j++) {
      mems.add(addernet.hw.GenerateAccelerator.memFilePrefix() + j + ".mem");
    }
    mems.add(addernet.hw.GenerateAccelerator.requantFile());
    List<AccelManifest.LayerShape> layers = new ArrayList<>();
    for (int i = 0; i < cfg.layers().length; i++) {
      layers.add(AccelManifest.LayerShape.of(cfg.layers()[i], cfg.residual() ? cfg.routes()[i] : null));
    }
    AccelManifest m =
        new AccelManifest(
            cfg.residual() ? FORMAT_VERSION_BRANCHES : FORMAT_VERSION, board != null ? BOARD_TOP : cfg.axiControl() ? AXI_TOP : TOP, network,
            digest,
            cfg.op().name(), cfg.rows(), cfg.cols(), cfg.batch(),
            cfg.dataBits(), cfg.accBits(), cfg.logitBits(), cfg.inSize(), cfg.classes(),
            cfg.trace(), cfg.weightMemory().name(), cfg.control().name(),
            cfg.issueCycles(), opsPerImage,
            cfg.requantizers(),
            cfg.activationBitsStored(), cfg.activationBitsNeeded(), cfg.maxTerms(), cfg.inputShift(),
            layers, sources, mems, board == null ? null : board.id,
            board == null ? null : uartDivisor(board), board == null ? null : SIM_UART_DIVISOR,
            cfg.fetchWeights() ? weightImage(cfg) : null,
            cfg.fetchWeights() ? cfg.weightBitsStored() : null,
            cfg.fetchWeights() ? cfg.weightBitsNeeded() : null);
    JSON.writeValue(dir.resolve(CONFIG_FILE).toFile(), m);
    if (cfg.axiControl()) {
      DriverFiles.write(dir, cfg, IDENT_VERSION, digest);
    }
    if (net != null) {
      IcarusTestbench.write(dir, cfg, net, sources,
          cfg.weightStream() ? WeightImages.stream(dir, m) : new int[0], goldenPixels, networkId(digest),
          board == null ? null : uartDivisor(board));
    }
    FpgaFlow.write(dir, new FpgaFlow.Design(network, m.top(), sources, mems, board));
    FolderFiles.record(dir, CONFIG_FILE); // last: it hashes everything written above
  }

  /** accel.json's {@code weightImage} of a fetch build. */
  static AccelManifest.WeightImage weightImage(AccelConfig cfg) {
    List<Long> offsets = new ArrayList<>();
    for (long o : cfg.fetchOffsets()) {
      offsets.add(o);
    }
    return new AccelManifest.WeightImage(addernet.hw.GenerateAccelerator.fetchFile(),
        cfg.fetchImageBytes(), offsets, cfg.fetchBeatBytes(), cfg.rowBeats());
  }

  /** The NETWORK_ID register: the digest's first 32 bits (its first eight hex digits). */
  public static long networkId(String sha256) {
    return Long.parseLong(sha256.substring(0, 8), 16);
  }

  /**
   * Generates into {@code out} the accelerator of folder {@code rtlDir} with {@code op} PEs: the
   * same network shape, requantization, array, batch, data width and weight ROM contents, the
   * accumulator width of {@code op}'s bound. For the MAC twin of an adder design this is the
   * adder network's weights multiplied instead: the hardware cost of the same accelerator, not
   * a meaningful CNN (see {@code synth --twin-rtl} for that).
   */
  public static void twin(Path rtlDir, PeOp op, Path out) {
    AccelManifest m = AccelManifest.read(rtlDir);
    if (m.board() != null) {
      throw new UserError(rtlDir + " is a " + m.board() + " board folder; its twin would need the"
          + " board shell too: compare the plain accelerators, with SPRAM weights and no trace port");
    }
    if (m.layers() == null || m.layers().isEmpty()) {
      throw new UserError(
          rtlDir.resolve(CONFIG_FILE) + " does not list its layers (it was generated by an older"
              + " version); generate it again from its model package");
    }
    int[][] weights = WeightImages.weights(rtlDir, m);
    List<LayerParams> layers = new ArrayList<>();
    addernet.hw.LayerRoute[] routes = m.formatVersion() == FORMAT_VERSION_BRANCHES
        ? m.layers().stream().map(l -> l.route().toHw()).toArray(addernet.hw.LayerRoute[]::new)
        : new addernet.hw.LayerRoute[0];
    for (int i = 0; i < m.layers().size(); i++) {
      try {
        layers.add(m.layers().get(i).withWeights(weights[i]));
      } catch (IllegalArgumentException e) {
        throw new UserError(rtlDir.resolve(CONFIG_FILE) + ": field layers[" + i + "]: "
            + e.getMessage() + "; generate the folder again from its model package", e);
      }
    }
    AccelConfig cfg = config(m.network(),
        new Options(m.rows(), m.cols(), m.batch(), m.trace(), m.memory(), m.controlMode(), m.requantizers()),
        op, m.dataBits(), m.maxTerms(), m.logitBits(), m.inputShift(), layers, routes);
    NewFolder.writeOrRefuse(out, dir -> writeInto(cfg, null, m.network(), m.adderOpsPerImage(), dir, null, null));
  }
}
