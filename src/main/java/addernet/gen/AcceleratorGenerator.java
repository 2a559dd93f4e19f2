package addernet.gen;

import addernet.cli.UserError;
import addernet.fpga.FpgaFlow;
import addernet.hw.AccelConfig;
import addernet.hw.LayerParams;
import addernet.quant.IntLayer;
import addernet.quant.IntNetwork;
import addernet.quant.Requant;
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
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private AcceleratorGenerator() {}

  /** Largest array a network can use: its widest layer, its most positions per batch. */
  public static Options fit(IntNetwork net, int rows, int cols, int batch) {
    int widest = net.layers().stream().mapToInt(IntLayer::outChannels).max().orElseThrow();
    long positions =
        net.layers().stream().mapToLong(l -> (long) l.positions() * batch).max().orElseThrow();
    return new Options((int) Math.min(rows, positions), Math.min(cols, widest), batch);
  }

  /**
   * The array shape and batch, validated; everything else follows from the network. {@code
   * trace} keeps the writeback trace port that layer-by-layer co-simulation reads; FPGA builds
   * drop it.
   */
  public record Options(int rows, int cols, int batch, boolean trace) {
    public Options(int rows, int cols, int batch) {
      this(rows, cols, batch, true);
    }

    public Options {
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

  /** What a generated folder holds, as {@code accel.json}. */
  public record Manifest(
      int formatVersion,
      String top,
      String network,
      int rows,
      int cols,
      int batch,
      int dataBits,
      int accBits,
      int logitBits,
      int inSize,
      int classes,
      boolean trace,
      long issueCyclesPerBatch,
      long adderOpsPerImage,
      List<String> sources,
      List<String> memFiles) {}

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
    long positions =
        net.layers().stream().mapToLong(l -> (long) l.positions() * opt.batch()).max().orElseThrow();
    if (opt.rows() > positions) {
      throw new UserError(
          "--rows " + opt.rows() + " exceeds the most output positions any layer has per batch ("
              + positions + "); use --rows " + positions + " or fewer, or a larger --batch");
    }
    int dataBits = net.layers().stream().mapToInt(IntLayer::dataBits).max().orElseThrow();
    int accBits = 0;
    int maxTerms = 1;
    List<LayerParams> layers = new ArrayList<>();
    for (IntLayer l : net.layers()) {
      if (l.k() > ArrayConfig.MAX_K) {
        throw new UserError(l.name() + ": K = " + l.k() + " exceeds the supported " + ArrayConfig.MAX_K);
      }
      accBits = Math.max(accBits, PeOp.ADDER.accumulatorBits(dataBits, l.k()));
      Requant r = l.requant();
      maxTerms = Math.max(maxTerms, r.maxTerms());
      layers.add(
          new LayerParams(
              l.name(), l.inChannels(), l.inHeight(), l.inWidth(), l.outChannels(), l.kernel(),
              l.stride(), l.padding(), l.pool(), r.shift(), r.lo(), r.hi(), r.terms(), r.bias(),
              l.weights()));
    }
    if (accBits > 30) {
      throw new UserError(
          "accumulators of " + accBits + " bits are needed; the requantizer supports up to 30"
              + " (lower the data width or the layers' K)");
    }
    try {
      AccelConfig cfg =
          new AccelConfig(
              opt.rows(), opt.cols(), opt.batch(), dataBits, accBits, maxTerms, net.logitBits(),
              net.inputShift(), layers.toArray(new LayerParams[0]), opt.trace());
      if ((long) cfg.bankDepth() >= 1L << 24 || cfg.weightDepth() >= 1 << 24) {
        throw new UserError(
            "buffers of " + cfg.bankDepth() + " words per bank do not fit the 24-bit address"
                + " space; lower --batch or raise --cols");
      }
      return cfg;
    } catch (IllegalArgumentException e) {
      throw new UserError("cannot build an accelerator for " + net.name() + ": " + e.getMessage(), e);
    }
  }

  public static void generate(IntNetwork net, Options opt, Path out) {
    AccelConfig cfg = config(net, opt);
    OutputFolder.write(
        out,
        dir -> {
          addernet.hw.GenerateAccelerator.apply(cfg, dir.toString());
          List<String> sources = ArrayGenerator.verilogSources(dir);
          List<String> mems = new ArrayList<>();
          for (int j = 0; j < opt.cols(); j++) {
            mems.add(addernet.hw.GenerateAccelerator.memFilePrefix() + j + ".mem");
          }
          Manifest m =
              new Manifest(
                  1, TOP, net.name(), opt.rows(), opt.cols(), opt.batch(), cfg.dataBits(),
                  cfg.accBits(), net.logitBits(), cfg.inSize(), cfg.classes(), opt.trace(), cfg.issueCycles(),
                  net.adderOpsPerImage(), sources, mems);
          JSON.writeValue(dir.resolve(CONFIG_FILE).toFile(), m);
          FpgaFlow.write(dir, new FpgaFlow.Design(net.name(), TOP, sources, mems));
        });
  }

  public static Manifest read(Path rtlDir) {
    Path file = rtlDir.resolve(CONFIG_FILE);
    if (!Files.isRegularFile(file)) {
      throw new UserError(
          rtlDir + " holds no " + CONFIG_FILE + "; generate one with: addernet generate --model PKG"
              + " --out " + rtlDir);
    }
    try {
      Manifest m = JSON.readValue(file.toFile(), Manifest.class);
      for (String f : m.sources()) {
        if (!Files.isRegularFile(rtlDir.resolve(f))) {
          throw new UserError(file + " lists " + f + " but it is missing");
        }
      }
      return m;
    } catch (IOException e) {
      throw new UserError("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
