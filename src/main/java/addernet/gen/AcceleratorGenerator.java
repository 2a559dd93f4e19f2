package addernet.gen;

import addernet.quant.PeOp;
import addernet.io.Outputs;
import addernet.io.UserError;
import addernet.fpga.FpgaFlow;
import addernet.fpga.Ice40Device;
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
      int rows, int cols, int batch, boolean trace, WeightMemory weights, Control control) {
    /** A traced array with weight ROMs behind AXI4-Lite registers, what {@code generate} makes by default. */
    public static Options of(int rows, int cols, int batch) {
      return new Options(rows, cols, batch, true, WeightMemory.ROM, Control.AXI);
    }

    public Options withTrace(boolean keep) {
      return new Options(rows, cols, batch, keep, weights, control);
    }

    public Options withWeights(WeightMemory memory) {
      return new Options(rows, cols, batch, trace, memory, control);
    }

    public Options withControl(Control how) {
      return new Options(rows, cols, batch, trace, weights, how);
    }

    public Options {
      if (weights == null || control == null) {
        throw new NullPointerException("weights and control are required");
      }
      if (rows < 1) {
        throw new UserError("--rows must be a positive number of PE rows, got " + rows);
      }
      if (cols < 1) {
        throw new UserError("--cols must be a positive number of PE columns, got " + cols);
      }
      if (batch < 1) {
        throw new UserError("--batch must be a positive number of images, got " + batch);
      }
    }
  }

  /**
   * What a generated folder holds, as {@code accel.json}. {@code op} is the mesh's PE operation
   * ({@link PeOp#word}: adder, or multiply for the CNN twin), {@code weightMemory} a {@link
   * WeightMemory} word and {@code control} a {@link Control} word. {@code maxTerms}, {@code
   * inputShift} and {@code layers} (every layer's shape and requantization) together with the
   * weight ROM images are the whole generator config, so the folder can be generated again, e.g.
   * with the other PE operation ({@link #twin}). {@code board} and {@code uartDivisor} are null
   * except in a board folder (docs/board.md), whose top is the board shell; so is {@code
   * simUartDivisor}, the shorter bit period that cosim and tb/run-icarus give the simulated UART
   * through the ADDERNET_UART_DIVISOR macro.
   */
  public record Manifest(
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
      @JsonInclude(JsonInclude.Include.NON_NULL) Integer simUartDivisor) {

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
  }

  /** One layer of {@code accel.json}: a {@link LayerParams} without its weights (they are in the ROM images). */
  public record LayerShape(
      String name, int inC, int inH, int inW, int outC, int kernel, int stride, int pad,
      boolean pool, int shift, int lo, int hi, int[][] terms, long[] bias) {
    static LayerShape of(LayerParams l) {
      return new LayerShape(l.name(), l.inC(), l.inH(), l.inW(), l.outC(), l.kernel(), l.stride(),
          l.pad(), l.pool(), l.shift(), l.lo(), l.hi(), l.terms(), l.bias());
    }

    LayerParams withWeights(int[] weights) {
      return new LayerParams(name, inC, inH, inW, outC, kernel, stride, pad, pool, shift, lo, hi,
          terms, bias, weights);
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

  /** Builds the generator's config from the network, refusing what the hardware cannot do. */
  public static AccelConfig config(IntNetwork net, Options opt) {
    // A PE column only ever serves output channels j, j + C, ...; a row only output positions
    // i, i + R, ... of the batch. Beyond the widest layer they would be dead logic.
    int widest = net.layers().stream().mapToInt(IntLayer::outChannels).max().orElseThrow();
    if (opt.cols() > widest) {
      throw new UserError(
          "--cols " + opt.cols() + " exceeds the widest layer of " + net.name() + " (" + widest
              + " output channels); columns beyond it would never be used, use --cols " + widest
              + " or fewer");
    }
    if (opt.rows() > opt.batch()) {
      throw new UserError(
          "--rows " + opt.rows() + " exceeds --batch " + opt.batch() + ": each PE row serves one"
              + " image of the batch (docs/accelerator.md, \"Dataflow\"); use --batch "
              + opt.rows() + " or more, or --rows " + opt.batch() + " or fewer");
    }
    PeOp op = operationOf(net);
    int dataBits = net.layers().stream().mapToInt(IntLayer::dataBits).max().orElseThrow();
    int maxTerms = Math.max(1, net.layers().stream().mapToInt(l -> l.requant().maxTerms()).max().orElse(1));
    List<LayerParams> layers = layerParams(net);
    return config(net.name(), opt, op, dataBits, maxTerms, net.logitBits(), net.inputShift(), layers);
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
    return NetworkDigest.of(operationOf(net).word(), net.inputShift(), net.logitBits(), layerParams(net));
  }

  /** The validated generator config for layers that are already in the generator's terms. */
  static AccelConfig config(String network, Options opt, PeOp op, int dataBits, int maxTerms,
      int logitBits, int inputShift, List<LayerParams> layers) {
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
              opt.control().word());
      int[] depth = cfg.bufferDepth();
      if (Math.max(depth[0], depth[1]) >= 1 << 24 || cfg.weightDepth() >= 1 << 24) {
        throw new UserError(String.format(
            "buffers of %,d and %,d words per lane, or %,d weight words per column, do not fit the"
                + " 24-bit address space; lower --batch or raise --cols", depth[0], depth[1],
            cfg.weightDepth()));
      }
      long bufferWords = (long) cfg.rows() * (depth[0] + depth[1]);
      if (bufferWords > MAX_BUFFER_WORDS) {
        throw new UserError(String.format(
            "--rows %d and --batch %d need %,d activation words (%d lanes x (%,d + %,d) words);"
                + " the generator's bound is %,d, since the simulator holds them all in memory"
                + " (docs/accelerator.md, \"Limits\"); lower --batch",
            cfg.rows(), cfg.batch(), bufferWords, cfg.rows(), depth[0], depth[1], MAX_BUFFER_WORDS));
      }
      return cfg;
    } catch (IllegalArgumentException e) {
      throw new UserError("cannot build an accelerator for " + network + ": " + e.getMessage(), e);
    }
  }

  public static void generate(IntNetwork net, Options opt, Path out) {
    generate(net, opt, out, false, List.of());
  }

  /**
   * As {@link #generate(IntNetwork, Options, Path)}, under the output rule for the command's
   * {@code inputs} and {@code --force} (docs/outputs.md).
   */
  public static void generate(IntNetwork net, Options opt, Path out, boolean force, List<Path> inputs) {
    generate(net, opt, out, force, inputs, null);
  }

  /** As above; {@code goldenPixels} (a package's golden images, or null) become tb/'s vectors. */
  public static void generate(IntNetwork net, Options opt, Path out, boolean force, List<Path> inputs,
      int[][] goldenPixels) {
    generate(config(net, opt), net, net.name(), net.adderOpsPerImage(), out, force, inputs, null,
        goldenPixels);
  }

  /**
   * The accelerator behind {@code board}'s shell (docs/board.md): {@code opt} must stream its
   * weights into SPRAM and have no trace port, and the weights must be bytes. The shell drives
   * the engine's plain ports, so {@code opt}'s control is not used.
   */
  public static void generateBoard(IntNetwork net, Options opt, Ice40Device.Board board, Path out,
      boolean force, List<Path> inputs) {
    generateBoard(net, opt, board, out, force, inputs, null);
  }

  /** As above; {@code goldenPixels} (a package's golden images, or null) become tb/'s vectors. */
  public static void generateBoard(IntNetwork net, Options opt, Ice40Device.Board board, Path out,
      boolean force, List<Path> inputs, int[][] goldenPixels) {
    AccelConfig cfg = config(net, opt.withControl(Control.PLAIN));
    checkBoard(cfg, board);
    generate(cfg, net, net.name(), net.adderOpsPerImage(), out, force, inputs, board, goldenPixels);
  }

  static void checkBoard(AccelConfig cfg, Ice40Device.Board board) {
    if (!cfg.spramWeights() || cfg.trace()) {
      throw new IllegalArgumentException("a board shell needs SPRAM weights and no trace port");
    }
    if (cfg.weightStreamBits() != 8) {
      throw new UserError("--board " + board.id + " sends one byte per weight, but the network's "
          + cfg.dataBits() + "-bit weights need " + cfg.weightStreamBits() / 8 + " bytes; quantize"
          + " it to 8 bits or fewer");
    }
    // The estimates that choose the array without --rows/--cols also bound a given one.
    int cells = estimatedCells(cfg);
    int brams = estimatedBlockRams(cfg);
    int allowed = (int) (0.9 * board.device.logicCells);
    if (cells > allowed || brams > board.device.blockRams) {
      throw new UserError(String.format("--board %s: a %dx%d array does not fit the %s: about %,d logic"
          + " cells of the %,d allowed (90%% of %,d) and %d block RAMs of %d (docs/board.md, \"The"
          + " array\"); leave --rows and --cols out to get the largest that fits", board.id, cfg.rows(),
          cfg.cols(), board.device.id, cells, allowed, board.device.logicCells, brams, board.device.blockRams));
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
      n += blocks(cfg.requantDepth(), new addernet.hw.RequantTable(cfg).entryBits());
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
      } catch (UserError e) {
        tried.add(a[0] + "x" + a[1] + ": " + e.getMessage()
            .replaceFirst("^cannot build an accelerator for [^:]*: (requirement failed: )?", ""));
        continue;
      }
      int cells = estimatedCells(cfg);
      int brams = estimatedBlockRams(cfg);
      if (cells <= 0.9 * board.device.logicCells && brams <= board.device.blockRams) {
        return new BoardChoice(opt, tried);
      }
      tried.add(String.format("%dx%d: about %,d logic cells of the %,d allowed (90%% of %,d) and %d"
          + " block RAMs of %d", opt.rows(), opt.cols(), cells, (int) (0.9 * board.device.logicCells),
          board.device.logicCells, brams, board.device.blockRams));
    }
    throw new UserError(net.name() + " fits no array on the " + board.id + " (" + board.device.id
        + "): " + String.join("; ", tried));
  }

  /**
   * With {@code net} (null for a twin, whose weights are not a network's) a folder without a board
   * gets tb/, the testbench for other simulators.
   */
  private static void generate(AccelConfig cfg, IntNetwork net, String network, long opsPerImage,
      Path out, boolean force, List<Path> inputs, Ice40Device.Board board, int[][] goldenPixels) {
    Outputs.writeFolder(
        "generate", out, force, inputs,
        dir -> {
          String digest = NetworkDigest.of(cfg.op().name(), cfg.inputShift(), cfg.logitBits(),
              List.of(cfg.layers()));
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
          List<LayerShape> layers = new ArrayList<>();
          for (LayerParams l : cfg.layers()) {
            layers.add(LayerShape.of(l));
          }
          Manifest m =
              new Manifest(
                  FORMAT_VERSION, board != null ? BOARD_TOP : cfg.axiControl() ? AXI_TOP : TOP, network,
                  digest,
                  cfg.op().name(), cfg.rows(), cfg.cols(), cfg.batch(),
                  cfg.dataBits(), cfg.accBits(), cfg.logitBits(), cfg.inSize(), cfg.classes(),
                  cfg.trace(), cfg.weightMemory().name(), cfg.control().name(),
                  cfg.issueCycles(), opsPerImage,
                  cfg.requantizers(),
                  cfg.activationBitsStored(), cfg.activationBitsNeeded(), cfg.maxTerms(), cfg.inputShift(),
                  layers, sources, mems, board == null ? null : board.id,
                  board == null ? null : uartDivisor(board), board == null ? null : SIM_UART_DIVISOR);
          JSON.writeValue(dir.resolve(CONFIG_FILE).toFile(), m);
          if (cfg.axiControl()) {
            DriverFiles.write(dir, cfg, IDENT_VERSION, digest);
          }
          if (net != null) {
            IcarusTestbench.write(dir, cfg, net, sources,
                cfg.weightStream() ? weightStream(dir, m) : new int[0], goldenPixels, networkId(digest),
                board == null ? null : uartDivisor(board));
          }
          FpgaFlow.write(dir, new FpgaFlow.Design(network, m.top(), sources, mems, board));
          FolderFiles.record(dir, CONFIG_FILE); // last: it hashes everything written above
        });
  }

  /**
   * Generates into {@code out} the accelerator of folder {@code rtlDir} with {@code op} PEs: the
   * same network shape, requantization, array, batch, data width and weight ROM contents, the
   * accumulator width of {@code op}'s bound. For the MAC twin of an adder design this is the
   * adder network's weights multiplied instead: the hardware cost of the same accelerator, not
   * a meaningful CNN (see {@code synth --twin-rtl} for that).
   */
  /** The NETWORK_ID register: the digest's first 32 bits (its first eight hex digits). */
  public static long networkId(String sha256) {
    return Long.parseLong(sha256.substring(0, 8), 16);
  }

  public static void twin(Path rtlDir, PeOp op, Path out) {
    Manifest m = read(rtlDir);
    if (m.board() != null) {
      throw new UserError(rtlDir + " is a " + m.board() + " board folder; its twin would need the"
          + " board shell too: compare the plain accelerators (generate --weights spram --no-trace)");
    }
    if (m.layers() == null || m.layers().isEmpty()) {
      throw new UserError(
          rtlDir.resolve(CONFIG_FILE) + " does not list its layers (it was generated by an older"
              + " version); generate it again from its model package");
    }
    int[][] weights = readWeightRoms(rtlDir, m);
    List<LayerParams> layers = new ArrayList<>();
    for (int i = 0; i < m.layers().size(); i++) {
      try {
        layers.add(m.layers().get(i).withWeights(weights[i]));
      } catch (IllegalArgumentException e) {
        throw new UserError(rtlDir.resolve(CONFIG_FILE) + ": field layers[" + i + "]: "
            + e.getMessage() + "; generate the folder again from its model package", e);
      }
    }
    AccelConfig cfg = config(m.network(),
        new Options(m.rows(), m.cols(), m.batch(), m.trace(), m.memory(), m.controlMode()),
        op, m.dataBits(), m.maxTerms(), m.logitBits(), m.inputShift(), layers);
    generate(cfg, null, m.network(), m.adderOpsPerImage(), out, false, List.of(rtlDir), null, null);
  }

  /** The lines of every column's weight image, {@code weights_colJ.mem}. */
  private static List<List<String>> weightImages(Path rtlDir, Manifest m) {
    List<List<String>> words = new ArrayList<>();
    for (int j = 0; j < m.cols(); j++) {
      Path mem = rtlDir.resolve(m.memFiles().get(j));
      try {
        words.add(Files.readAllLines(mem));
      } catch (IOException e) {
        throw new UserError("cannot read " + mem + ": " + e.getMessage(), e);
      }
    }
    return words;
  }

  /**
   * Every layer's weights ([t][k]) back from the per-column ROM images: column j holds, layer
   * after layer, the weights of channels j, j + C, ... one K-long block each (GenerateAccelerator).
   */
  static int[][] readWeightRoms(Path rtlDir, Manifest m) {
    int cols = m.cols();
    List<List<String>> words = weightImages(rtlDir, m);
    int bits = m.dataBits();
    int[][] out = new int[m.layers().size()][];
    int base = 0;
    for (int i = 0; i < m.layers().size(); i++) {
      LayerShape l = m.layers().get(i);
      long kLong = (long) l.inC() * l.kernel() * l.kernel();
      if (l.inC() < 1 || l.kernel() < 1 || l.outC() < 1 || kLong * l.outC() > Integer.MAX_VALUE - 8) {
        throw new UserError(rtlDir.resolve(CONFIG_FILE) + ": field layers[" + i + "] has "
            + l.outC() + " channels of " + l.inC() + " x " + l.kernel() + " x " + l.kernel()
            + " weights, not a layer this generator writes");
      }
      int k = (int) kLong;
      int blocks = (l.outC() + cols - 1) / cols;
      out[i] = new int[l.outC() * k];
      for (int t = 0; t < l.outC(); t++) {
        List<String> col = words.get(t % cols);
        for (int q = 0; q < k; q++) {
          int line = base + (t / cols) * k + q;
          if (line >= col.size()) {
            throw new UserError(rtlDir.resolve(m.memFiles().get(t % cols)) + " has " + col.size()
                + " words, " + l.name() + " needs word " + line);
          }
          long w;
          try {
            w = Long.parseLong(col.get(line).strip(), 16);
          } catch (NumberFormatException e) {
            throw new UserError(rtlDir.resolve(m.memFiles().get(t % cols)) + " line " + (line + 1)
                + ": expected a hex weight, got \"" + col.get(line).strip() + "\"");
          }
          out[i][t * k + q] = (int) (w << (64 - bits) >> (64 - bits)); // sign-extend
        }
      }
      base += blocks * k;
    }
    return out;
  }

  /**
   * The weight stream of a folder (docs/accelerator.md, "Weights at run time"): beat b is word
   * b div C of column b mod C's image {@code weights_colJ.mem}, as the low dataBits bits.
   */
  public static int[] weightStream(Path rtlDir, Manifest m) {
    int cols = m.cols();
    List<List<String>> words = weightImages(rtlDir, m);
    int depth = words.get(0).size();
    int[] beats = new int[cols * depth];
    for (int j = 0; j < cols; j++) {
      if (words.get(j).size() != depth) {
        throw new UserError(rtlDir.resolve(m.memFiles().get(j)) + " has " + words.get(j).size()
            + " words, " + rtlDir.resolve(m.memFiles().get(0)) + " " + depth + "; every column's image is as long");
      }
      for (int a = 0; a < depth; a++) {
        String w = words.get(j).get(a).strip();
        try {
          beats[a * cols + j] = Integer.parseInt(w, 16);
        } catch (NumberFormatException e) {
          throw new UserError(rtlDir.resolve(m.memFiles().get(j)) + " line " + (a + 1)
              + ": expected a hex weight, got \"" + w + "\"");
        }
      }
    }
    return beats;
  }

  /**
   * Reads {@code accel.json} and checks every field a later stage uses, so that a damaged or
   * hand-edited file is refused in one line here rather than failing somewhere inside cosim or
   * synth (docs/accelerator.md, "accel.json").
   */
  public static Manifest read(Path rtlDir) {
    Manifest m = ManifestReader.read(rtlDir, CONFIG_FILE, Manifest.class,
        "generate one with: addernet generate --model PKG --out " + rtlDir);
    Path f = rtlDir.resolve(CONFIG_FILE);
    if (m.formatVersion() != FORMAT_VERSION) {
      throw new UserError(f + ": field formatVersion: expected " + FORMAT_VERSION
          + " (written by this version), got " + m.formatVersion() + "; the folder was generated by"
          + " an older version with another inside, generate it again: addernet generate --model"
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
      throw ManifestReader.bad(f, "weightMemory", "rom, stream or spram",
          m.weightMemory() == null ? "null" : "\"" + m.weightMemory() + "\"");
    }
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
        for (int[] t : l.terms()) {
          if (t == null) {
            throw ManifestReader.bad(f, at + ".terms", "lists of signed digits", "null");
          }
        }
      }
    }
    return m;
  }
}
