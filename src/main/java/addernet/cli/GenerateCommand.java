package addernet.cli;

import addernet.gen.AccelManifest;
import addernet.io.UserError;
import addernet.cosim.Verilator;
import addernet.export.ModelPackage;
import addernet.export.PackageException;
import addernet.gen.AcceleratorGenerator;
import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.gen.Control;
import addernet.gen.WeightMemory;
import addernet.quant.PeOp;
import addernet.io.Outputs;
import addernet.fpga.FpgaFlow;
import addernet.fpga.Ice40Device;
import addernet.quant.IntNetwork;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Emit Verilog: a whole-network accelerator for a model package (--model), or a bare"
          + " systolic array of adder-only processing elements (--bits, --max-k).",
      "",
      "Each PE computes acc <- acc - |a - b| on signed B-bit operands; activations flow east,"
          + " weights flow south, each tile's sum stays in its PE (output-stationary). The"
          + " accumulator is sized for the worst case of the largest reduction length"
          + " (docs/numeric-contract.md, section 3).",
      "",
      "With --model, the accelerator runs every layer of the packaged network as tiles on an"
          + " R x C array, a batch of --batch images at a time: AXI4-Stream in (one pixel byte"
          + " per beat, images back to back), AXI4-Stream out (32-bit signed logits, tlast on"
          + " each image's last), AXI4-Lite control registers and an interrupt (or, with --control"
          + " plain, start/busy/done and a cycle counter), a C driver in driver/ (docs/accelerator.md)."
          + " Weight ROMs are weights_colJ.mem files read by $readmemh from the working"
          + " directory, so run simulators and synthesis from the output folder. The PEs"
          + " follow the package: adder layers give adder PEs, the multiply layers of a CNN"
          + " twin's package give MAC PEs (acc + a * b, the MAC's accumulator bound).",
      "",
      "Everything goes into --out through a temporary folder, all or nothing; accel.json or"
          + " array.json records the configuration. --out must be a new or empty folder, or an"
          + " earlier output of generate (replaced only with --force); never the model package"
          + " (docs/outputs.md).",
      "",
      "Examples:",
      "  addernet generate --model model/lenet5-adder-8bit --rows 8 --cols 8 --out build/lenet",
      "  addernet generate --model model/lenet5-adder-8bit --board icebreaker --out build/board",
      "  addernet generate --rows 8 --cols 8 --bits 8 --out build/array8x8"
    })
final class GenerateCommand implements Callable<Integer> {
  @Option(names = "--model", description = "A model package (addernet quantize): generate the whole-network accelerator.")
  Path model;

  @Option(names = "--rows", description = "PE rows. With --model each row serves one image of the batch (so --batch is at least --rows); a bare array's rows are output positions. Required except with --board.")
  Integer rows;

  @Option(names = "--cols", description = "PE columns (output channels computed in parallel). Required except with --board.")
  Integer cols;

  @Option(names = "--board", description = "With --model: the accelerator behind a UART shell for this board, top IceBreakerTop (icebreaker: iCE40 UP5K sg48, weights in SPRAM, no trace port; docs/board.md). Without --rows/--cols: the largest of 8x8, 8x4, 4x4, 4x2, 2x2 that fits the part.")
  String board;

  @Option(names = "--batch", description = "With --model: images per run, at least --rows (default: --rows). A batch that is not a multiple of --rows leaves the last group's spare rows idle.")
  Integer batch;

  @Option(names = "--bits", defaultValue = "8", description = "Bare array: data width of activations and weights, 2..16 (default ${DEFAULT-VALUE}).")
  int bits;

  @Option(names = "--max-k", defaultValue = "1024", description = "Bare array: largest reduction length K to sum without overflow (default ${DEFAULT-VALUE}).")
  long maxK;

  @Option(names = "--acc-bits", description = "Bare array: accumulator width; default: the narrowest that is safe for --max-k.")
  Integer accBits;

  @Option(names = "--op", defaultValue = "adder", description = "Bare array: PE operation, adder (AdderNet) or multiply (the CNN twin, for comparison). Default ${DEFAULT-VALUE}.")
  String op;

  @Option(names = "--out", required = true, description = "Output folder: new, empty, or an earlier output of generate (see --force).")
  Path out;

  @Option(names = "--force", description = "Replace --out if it holds an earlier output of generate (never anything else).")
  boolean force;

  @Option(names = "--requantizers", paramLabel = "Q", description = "With --model: requantizers shared by the PE rows, 1..--rows (default: the fewest that reach the least cycles). Each is the largest unit beside the mesh, so fewer can save more logic than the cycles they cost; accel.json records issueCyclesPerBatch either way.")
  Integer requantizers;

  @Option(names = "--no-trace", description = "With --model: leave out the writeback trace port (per-requantizer layer/lane/address/data outputs that only layer-by-layer co-simulation reads). Use it for FPGA builds: it saves about 60 pins per requantizer; cosim then checks logits only.")
  boolean noTrace;

  @Option(names = "--weights", defaultValue = "rom", description = "With --model: rom (default) holds the weights in ROMs initialised from weights_colJ.mem; stream makes them RAMs that the s_axis_weights port fills before a run, so one bitstream serves every network of the same shape; spram streams them into the iCE40 UP5K's four SPRAMs (docs/accelerator.md, \"Weights at run time\"); fetch holds two layers in RAM and reads every layer from off-chip memory through the AXI4 read master m_axi_weights while the layer before computes, from the folder's weights.bin (\"Weights fetched from memory\").")
  String weights;

  @Option(names = "--control", defaultValue = "axi", description = "With --model: axi (default) puts the accelerator behind AXI4-Lite registers (s_axi_*: start, soft reset, weight load, status, errors, image count, cycle counter, identification) with an irq output, and writes driver/, a C header and bare-metal driver for it; plain gives the bare start/busy/done/cycles ports for your own control (docs/accelerator.md, \"Registers\").")
  String control;

  @Option(names = "--lint", description = "Also run verilator --lint-only -Wall on the result and fail on any warning.")
  boolean lint;

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    try {
      return generate();
    } catch (ArrayConfig.Invalid e) {
      throw new UserError(flagged(e), e);
    }
  }

  /** The generator's refusal of a setting, restated with the option that gave it. */
  static String flagged(ArrayConfig.Invalid e) {
    return switch (e.setting()) {
      case ROWS -> "--rows: " + e.getMessage();
      case COLS -> "--cols: " + e.getMessage();
      case PES -> "--rows x --cols: " + e.getMessage();
      case DATA_BITS -> "--bits: " + e.getMessage();
      case MAX_K -> "--max-k: " + e.getMessage() + "; lower --max-k or --bits";
      case ACC_BITS -> "--acc-bits: " + e.getMessage() + "; raise --acc-bits or lower --max-k";
    };
  }

  private Integer generate() {
    List<String> sources;
    String top;
    positive("--rows", rows, "PE rows");
    positive("--cols", cols, "PE columns");
    positive("--batch", batch, "images");
    if (model != null) {
      for (String flag : List.of("--bits", "--max-k", "--acc-bits", "--op")) {
        if (spec.commandLine().getParseResult().hasMatchedOption(flag)) {
          throw new UserError(flag + " applies to a bare array; with --model the data width, accumulator"
              + " and PE operation come from the package " + model + " (leave " + flag + " out)");
        }
      }
      Ice40Device.Board b = board == null ? null : Ice40Device.Board.byId(board);
      if (b != null && spec.commandLine().getParseResult().hasMatchedOption("--weights")
          && !weights.equals("spram")) {
        throw new UserError("--board " + b.id + " keeps the weights in the " + b.device.id
            + "'s SPRAM, loaded over the UART; --weights " + weights + " contradicts it (leave"
            + " --weights out or say spram)");
      }
      if (Control.fromWord(control) == null) {
        throw new UserError("--control must be axi or plain, got '" + control + "'");
      }
      if (b != null && spec.commandLine().getParseResult().hasMatchedOption("--control")) {
        throw new UserError("--board " + b.id + " has its own control, the UART shell (docs/board.md);"
            + " leave --control out");
      }
      if (b == null) {
        requireArray();
      } else if ((rows == null) != (cols == null)) {
        throw new UserError("--board " + b.id + ": give both --rows and --cols, or neither (then the"
            + " largest array that fits the " + b.device.id + " is chosen)");
      }
      Outputs.check("generate", force, List.of(model), "--out", out);
      ModelPackage pkg = addernet.export.PackageLoader.read(model);
      IntNetwork net = pkg.network();
      if (WeightMemory.fromWord(weights) == null) {
        throw new UserError("--weights must be rom, stream, spram or fetch, got '" + weights + "'");
      }
      if (requantizers != null && (requantizers < 1 || rows != null && requantizers > rows)) {
        throw new UserError("--requantizers must be in 1.." + (rows == null ? "the rows" : rows)
            + " (one per PE row at most), got " + requantizers);
      }
      if (b != null) {
        AcceleratorGenerator.Options opt;
        if (rows == null) {
          var choice = AcceleratorGenerator.boardChoice(net, b);
          opt = choice.options();
          System.out.printf("--board %s: %dx%d, the largest array that fits the %s%s%n", b.id, opt.rows(),
              opt.cols(), b.device.id, choice.passedOver().isEmpty() ? ""
                  : " (passed over: " + String.join("; ", choice.passedOver()) + ")");
        } else {
          opt = new AcceleratorGenerator.Options(rows, cols, batch == null ? rows : batch, false,
              WeightMemory.SPRAM, Control.PLAIN);
        }
        if (rows == null && batch != null) {
          opt = new AcceleratorGenerator.Options(opt.rows(), opt.cols(), batch, false,
              WeightMemory.SPRAM, Control.PLAIN);
        }
        if (requantizers != null) {
          opt = opt.withRequantizers(requantizers);
        }
        var board = opt;
        inFlagTerms(() -> Outputs.writeFolder("generate", out, force, List.of(model),
            dir -> AcceleratorGenerator.writeBoardInto(net, board, b, dir,
                pkg.golden() == null ? null : pkg.golden().pixels())));
      } else {
        var opt = new AcceleratorGenerator.Options(rows, cols, batch == null ? rows : batch, !noTrace,
            WeightMemory.fromWord(weights), Control.fromWord(control), requantizers == null ? 0 : requantizers);

        inFlagTerms(() -> Outputs.writeFolder("generate", out, force, List.of(model),
            dir -> AcceleratorGenerator.writeInto(net, opt, dir, pkg.golden() == null ? null : pkg.golden().pixels())));
      }
      var m = AccelManifest.read(out);
      System.out.printf(
          "generated the %s accelerator: %dx%d %s PEs, batch %d, %d-bit data, %d-bit"
              + " accumulators, %d issue cycles per batch (%.0f per image; ideal %.0f) in %s%n",
          net.name(), m.rows(), m.cols(), m.peOp().word(), m.batch(), m.dataBits(), m.accBits(),
          m.issueCyclesPerBatch(), (double) m.issueCyclesPerBatch() / m.batch(),
          (double) m.adderOpsPerImage() / (m.rows() * m.cols()), out);
      if (m.board() != null) {
        System.out.printf("  behind the %s's UART shell (%s, %d clocks per bit; docs/board.md), pins in"
            + " %s/%s%n", m.board(), m.top(), m.uartDivisor(), FpgaFlow.DIR, FpgaFlow.pinFile(b));
      }
      sources = m.sources();
      top = m.top();
    } else {
      if (board != null) {
        throw new UserError("--board only applies with --model (it puts a network's accelerator on the board)");
      }
      requireArray();
      if (batch != null) {
        throw new UserError("--batch only applies with --model");
      }
      if (spec.commandLine().getParseResult().hasMatchedOption("--weights")) {
        throw new UserError("--weights only applies with --model (a bare array takes its weights on its north edge)");
      }
      if (noTrace) {
        throw new UserError("--no-trace only applies with --model (a bare array has no trace port)");
      }
      if (requantizers != null) {
        throw new UserError("--requantizers only applies with --model (a bare array has no requantizers)");
      }
      if (spec.commandLine().getParseResult().hasMatchedOption("--control")) {
        throw new UserError("--control only applies with --model (a bare array has no controller)");
      }
      PeOp peOp = peOp(op);
      ArrayConfig cfg =
          accBits == null
              ? ArrayConfig.derived(rows, cols, bits, maxK, peOp)
              : new ArrayConfig(rows, cols, bits, accBits, maxK, peOp);
      Outputs.writeFolder("generate", out, force, List.of(), dir -> ArrayGenerator.writeInto(cfg, dir));
      System.out.printf(
          "generated a %dx%d %s array, %d-bit data, %d-bit accumulator (safe for K <= %d) in %s%n",
          cfg.rows(), cfg.cols(), cfg.op().word(), cfg.dataBits(), cfg.accBits(), cfg.maxK(), out);
      var manifest = ArrayGenerator.read(out);
      sources = manifest.sources();
      top = manifest.top();
    }
    if (lint) {
      String complaints = Verilator.lint(out, sources, top);
      if (!complaints.isEmpty()) {
        System.err.println(complaints);
        throw new UserError("verilator --lint-only -Wall reported warnings on " + out);
      }
      System.out.println("verilator --lint-only -Wall: clean");
    }
    return 0;
  }

  private void requireArray() {
    if (rows == null || cols == null) {
      throw new UserError("--rows and --cols are required (except with --model and --board)");
    }
  }


  /**
   * The PE operation an {@code --op} value names: its word, or {@code mac}, the hardware's name
   * for the multiply PE, which command lines keep using; --help shows only the words.
   */
  static PeOp peOp(String value) {
    try {
      return PeOp.fromWord("mac".equals(value) ? PeOp.MULTIPLY.word() : value);
    } catch (IllegalArgumentException e) {
      throw new UserError("--op: " + e.getMessage());
    }
  }

  /** Runs {@code generation}, restating the generator's refusals of the array in this command's flags. */
  private static void inFlagTerms(Runnable generation) {
    try {
      generation.run();
    } catch (AcceleratorGenerator.ColumnsBeyondWidestLayer e) {
      throw new UserError("--cols " + e.cols + " exceeds the widest layer of " + e.network + " ("
          + e.widest + " output channels); columns beyond it would never be used, use --cols "
          + e.widest + " or fewer", e);
    } catch (AcceleratorGenerator.RowsBeyondBatch e) {
      throw new UserError("--rows " + e.rows + " exceeds --batch " + e.batch + ": each PE row serves"
          + " one image of the batch (docs/accelerator.md, \"Dataflow\"); use --batch " + e.rows
          + " or more, or --rows " + e.batch + " or fewer", e);
    }
  }

  private static void positive(String flag, Integer value, String what) {
    if (value != null && value < 1) {
      throw new UserError(flag + " must be a positive number of " + what + ", got " + value);
    }
  }
}
