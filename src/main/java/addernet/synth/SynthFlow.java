package addernet.synth;

import addernet.fpga.FpgaFlow;
import addernet.fpga.Ice40Device;
import addernet.gen.AccelManifest;
import addernet.gen.AcceleratorGenerator;
import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.gen.FolderFiles;
import addernet.quant.PeOp;
import addernet.io.UserError;
import addernet.synth.SynthReport.ModuleReport;
import addernet.synth.SynthReport.Pnr;
import addernet.synth.SynthReport.Run;
import addernet.synth.SynthReport.WholeDesign;
import addernet.tool.PrivateDir;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Synthesis of one generated folder with yosys, its MAC twin or CNN twin beside it, and iCE40
 * place and route: the figures of {@link SynthReport}. Prints one progress line per step.
 */
public final class SynthFlow {
  /** The bits of one iCE40 block RAM (SB_RAM40_4K). */
  public static final int ICE40_BLOCK_RAM_BITS = 4096;

  /**
   * What to synthesise and how.
   *
   * @param rtl a folder written by generate
   * @param flows yosys flows in order: DSP blocks disabled first (LUT-only), then allowed
   * @param macTwin also synthesise the multiply-accumulate twin
   * @param twinRtl a MAC accelerator to compare with, or null
   * @param placeAndRoute run nextpnr after the iCE40 LUT-only flow
   * @param device the iCE40 part's id, or "auto" for the smallest that fits
   * @param freqMhz the clock constraint
   */
  public record Config(Path rtl, List<Yosys.Target> flows, boolean macTwin, Path twinRtl,
      boolean placeAndRoute, String device, int freqMhz) {
    public Config {
      flows = List.copyOf(flows);
    }
  }

  /** The report, and what the summary shows beside it. */
  public record Result(SynthReport report, List<Yosys.Target> flows, boolean array, String twinShape,
      StorageFigures figures, List<Comparison> comparisons) {}

  /** An adder run beside a MAC run of the same flow ({@code suffix}: which MAC design). */
  public record Comparison(Run adder, Run mac, Yosys.Target flow, String suffix) {
    public WholeDesign whole() {
      Resources a = adder.total();
      Resources b = mac.total();
      return new WholeDesign(mac.design(), adder.flow(), flow.dspBlocksAllowed(), a.luts(), a.dsps(),
          b.luts(), b.dsps(), b.luts() > 0 ? (double) a.luts() / b.luts() : null);
    }

    /**
     * The modules compared: for a bare array the PE and the total; for an accelerator every
     * module both designs have (their hierarchies match) and the total.
     */
    public List<String> modules(boolean array) {
      return array
          ? List.of("PE", Design.TOTAL)
          : adder.modules().keySet().stream().filter(mac.modules()::containsKey).toList();
    }

    /** Adder/MAC LUT ratios per module, keyed by the flow, the module's readable name and the suffix. */
    Map<String, Double> ratios(boolean array) {
      Map<String, Double> out = new LinkedHashMap<>();
      for (String module : modules(array)) {
        ModuleReport a = adder.modules().get(module);
        ModuleReport b = mac.modules().get(module);
        if (a != null && b != null && b.luts() > 0) {
          out.put(adder.flow() + " " + module + suffix, (double) a.luts() / b.luts());
        }
      }
      return out;
    }
  }

  private final Config config;
  private final PrintStream progress;
  private final Path rtl;
  private final Path twinRtl;
  private String device;

  private SynthFlow(Config config, PrintStream progress) {
    this.config = config;
    this.progress = progress;
    this.rtl = config.rtl();
    this.twinRtl = config.twinRtl();
    this.device = config.device();
  }

  /** Runs the flow; progress lines go to {@code progress}. */
  public static Result run(Config config, PrintStream progress) throws IOException {
    return new SynthFlow(config, progress).synthesise();
  }

  private Result synthesise() throws IOException {
    List<Yosys.Target> flows = config.flows();
    boolean macTwin = config.macTwin();
    List<String> sources;
    String top;
    ArrayConfig arrayCfg = null;
    AccelManifest accel = null;
    if (Files.isRegularFile(rtl.resolve(ArrayGenerator.CONFIG_FILE))) {
      var m = ArrayGenerator.read(rtl);
      sources = m.sources();
      top = m.top();
      arrayCfg = m.config();
      if (twinRtl != null) {
        throw new UserError("--twin-rtl compares whole accelerators; " + rtl + " is a bare array");
      }
    } else {
      accel = AccelManifest.read(rtl);
      sources = accel.sources();
      top = accel.top();
      if (accel.board() != null) {
        Ice40Device part = Ice40Device.Board.byId(accel.board()).device;
        if (macTwin || twinRtl != null) {
          throw new UserError(rtl + " is a " + accel.board() + " board folder; --mac-twin and --twin-rtl"
              + " compare plain accelerators (generate them with --weights spram --no-trace)");
        }
        if (!device.equals("auto") && !device.equals(part.id)) {
          throw new UserError(rtl + " is built for the " + accel.board() + " (" + part.id + ", its"
              + " pins and SPRAM); --device " + device + " contradicts it (leave --device out)");
        }
        device = part.id;
      }
      if ((macTwin || twinRtl != null) && accel.peOp() != PeOp.ADDER) {
        throw new UserError(rtl + " already has " + accel.peOp().word() + " PEs; --mac-twin and"
            + " --twin-rtl compare an adder accelerator with MAC ones");
      }
    }
    // A hand-edited file would otherwise be synthesised and reported as the generated design.
    FolderFiles.verify(rtl, arrayCfg != null ? ArrayGenerator.CONFIG_FILE : AcceleratorGenerator.CONFIG_FILE);
    AccelManifest cnn = twinRtl == null ? null : checkedCnnTwin(accel);
    // Read before the minutes of synthesis, so that a damaged figure is refused at once.
    StorageFigures figures = accel == null ? StorageFigures.NONE
        : StorageFigures.read(rtl.resolve(AcceleratorGenerator.CONFIG_FILE));
    List<Run> runs = new ArrayList<>();
    List<Comparison> comparisons = new ArrayList<>();
    String twinShape = null;
    Path twin = null;
    PrivateDir twinDir = null;
    try {
      if (macTwin) {
        twinDir = PrivateDir.create("addernet-mac-twin-");
      }
      if (macTwin && (accel != null || arrayCfg.op() == PeOp.ADDER)) {
        twin = twinDir.path().resolve("rtl");
        twinShape = macTwin(rtl, arrayCfg, accel, twin);
      }
      for (Yosys.Target flow : flows) {
        Run adder = placeAndRoute(synth("adder", rtl, sources, top, flow), rtl, flow);
        runs.add(adder);
        if (twin != null) {
          List<String> twinSources =
              arrayCfg != null ? ArrayGenerator.read(twin).sources() : AccelManifest.read(twin).sources();
          Run mac = placeAndRoute(synth("mac twin", twin, twinSources, top, flow), twin, flow);
          runs.add(mac);
          comparisons.add(new Comparison(adder, mac, flow, ""));
        }
        if (cnn != null) {
          Run mac = placeAndRoute(synth("mac cnn", twinRtl, cnn.sources(), cnn.top(), flow), twinRtl, flow);
          runs.add(mac);
          comparisons.add(new Comparison(adder, mac, flow, " vs cnn"));
        }
      }
    } finally {
      if (twinDir != null) {
        twinDir.close();
      }
    }
    Map<String, Double> ratios = new LinkedHashMap<>();
    List<WholeDesign> whole = new ArrayList<>();
    for (Comparison c : comparisons) {
      whole.add(c.whole());
      ratios.putAll(c.ratios(arrayCfg != null));
    }
    SynthReport report = new SynthReport(rtl.toString(), targetName(flows), runs, ratios, whole,
        figures.activationBitsNeeded(), figures.activationBitsStored(), figures.requantizers());
    return new Result(report, flows, arrayCfg != null, twinShape, figures, comparisons);
  }

  /**
   * Generates into {@code twin} the multiply-accumulate twin of the bare array {@code arrayCfg}
   * or of the accelerator {@code accel} in {@code rtl}: the same shape with MAC PEs and the MAC's
   * accumulator width. Returns the line that says what the twin is.
   */
  static String macTwin(Path rtl, ArrayConfig arrayCfg, AccelManifest accel, Path twin) {
    if (arrayCfg != null) {
      int accBits = PeOp.MULTIPLY.accumulatorBits(arrayCfg.dataBits(), arrayCfg.maxK());
      ArrayGenerator.generate(
          new ArrayConfig(arrayCfg.rows(), arrayCfg.cols(), arrayCfg.dataBits(), accBits,
              arrayCfg.maxK(), PeOp.MULTIPLY),
          twin);
      return String.format("mac twin: %dx%d MAC PEs, %d-bit data, %d-bit accumulators (adder: %d)",
          arrayCfg.rows(), arrayCfg.cols(), arrayCfg.dataBits(), accBits, arrayCfg.accBits());
    }
    AcceleratorGenerator.twin(rtl, PeOp.MULTIPLY, twin);
    var tm = AccelManifest.read(twin);
    return String.format("mac twin: %dx%d MAC PEs, %d-bit data, %d-bit accumulators (adder: %d)",
        tm.rows(), tm.cols(), tm.dataBits(), tm.accBits(), accel.accBits());
  }

  /** The --target word of a list of flows, as the report names it. */
  private static String targetName(List<Yosys.Target> flows) {
    return switch (flows.get(flows.size() - 1)) {
      case GENERIC -> "generic";
      case ICE40, ICE40_NO_DSP -> "ice40";
      case XC7, XC7_NO_DSP -> "xc7";
    };
  }

  private void unlike(Path twinFile, String field, Object twin, Object adder) {
    if (!Objects.equals(twin, adder)) {
      throw new UserError("--twin-rtl " + twinRtl + " is not a twin of " + rtl + ": " + twinFile
          + " field " + field + " is " + twin + ", the adder design's " + adder
          + "; generate both with the same options from the two packages of one network shape");
    }
  }

  /** The --twin-rtl folder, checked to be a MAC accelerator of the same array and batch. */
  private AccelManifest checkedCnnTwin(AccelManifest adder) {
    if (!Files.isDirectory(twinRtl)) {
      throw new UserError("--twin-rtl " + twinRtl + " is not a folder; generate one with"
          + " 'addernet generate --model CNN-PACKAGE'");
    }
    var m = AccelManifest.read(twinRtl);
    if (m.peOp() != PeOp.MULTIPLY) {
      throw new UserError("--twin-rtl " + twinRtl + " has " + m.peOp().word() + " PEs; generate it"
          + " from the CNN twin's package (multiply layers)");
    }
    if (m.rows() != adder.rows() || m.cols() != adder.cols() || m.batch() != adder.batch()) {
      throw new UserError("--twin-rtl " + twinRtl + " is a " + m.rows() + "x" + m.cols()
          + " array with batch " + m.batch() + ", " + rtl + " a " + adder.rows() + "x"
          + adder.cols() + " array with batch " + adder.batch() + "; generate both alike");
    }
    // Rows, columns and batch alike still leave designs of unlike size: every option of
    // generate that shapes the hardware, and the network's layer shapes, must agree too.
    Path twinFile = twinRtl.resolve(AcceleratorGenerator.CONFIG_FILE);
    unlike(twinFile, "dataBits", m.dataBits(), adder.dataBits());
    unlike(twinFile, "inSize", m.inSize(), adder.inSize());
    unlike(twinFile, "classes", m.classes(), adder.classes());
    unlike(twinFile, "trace", m.trace(), adder.trace());
    unlike(twinFile, "weightMemory", m.weightMemory(), adder.weightMemory());
    unlike(twinFile, "control", m.control(), adder.control());
    if (m.layers() != null && adder.layers() != null) {
      unlike(twinFile, "layers (count)", m.layers().size(), adder.layers().size());
      for (int i = 0; i < m.layers().size(); i++) {
        var a = adder.layers().get(i);
        var b = m.layers().get(i);
        unlike(twinFile, "layers[" + i + "] shape",
            List.of(b.inC(), b.inH(), b.inW(), b.outC(), b.kernel(), b.stride(), b.pad(), b.pool() ? 1 : 0),
            List.of(a.inC(), a.inH(), a.inW(), a.outC(), a.kernel(), a.stride(), a.pad(), a.pool() ? 1 : 0));
      }
    }
    FolderFiles.verify(twinRtl, AcceleratorGenerator.CONFIG_FILE);
    return m;
  }

  private Run synth(String design, Path dir, List<String> sources, String top, Yosys.Target flow) {
    progress.printf("synthesising %s: %s ...%n", design, flow.command(top, false));
    Design d = Design.of(Yosys.hierarchy(dir, sources, top, flow), top);
    Map<String, ModuleReport> modules = new LinkedHashMap<>();
    d.modules().forEach((name, m) -> modules.put(name, ModuleReport.of(m)));
    int muls = Yosys.wordLevelCells(dir, sources, top).getOrDefault("$mul", 0);
    Long bramBits = flow == Yosys.Target.ICE40 || flow == Yosys.Target.ICE40_NO_DSP
        ? (long) d.modules().get(Design.TOTAL).each().blockRams() * ICE40_BLOCK_RAM_BITS
        : null;
    return new Run(design, flow.command(top, false), muls, modules, null, d.memoryBits(), bramBits);
  }

  /** iCE40 LUT-only runs go on to nextpnr; a design too big for every part gets a note instead. */
  private Run placeAndRoute(Run r, Path dir, Yosys.Target flow) {
    if (!config.placeAndRoute() || flow != Yosys.Target.ICE40_NO_DSP) {
      return r;
    }
    Resources total = r.total();
    int pins = FpgaFlow.pins(dir);
    List<Ice40Device> parts;
    try {
      // The estimate is a lower bound (nextpnr packs LUTs and flip-flops into cells only in
      // part), so auto moves on to the next larger part when the packer overflows a smaller one.
      parts = device.equals("auto")
          ? List.of(Ice40Device.values()).subList(
              Ice40Device.smallestFitting(total.luts(), total.flipFlops(), total.blockRams(), pins)
                  .ordinal(),
              Ice40Device.values().length)
          : List.of(Ice40Device.byId(device));
    } catch (UserError e) {
      return r.withPnr(Pnr.note("skipped: " + e.getMessage()));
    }
    FpgaFlow.PlaceAndRoute p = null;
    String why = null;
    for (int i = 0; i < parts.size() && p == null; i++) {
      Ice40Device dev = parts.get(i);
      if (why != null) {
        progress.println("  " + why + "; the next part ...");
      }
      progress.printf("placing and routing %s on iCE40 %s (%s) at %d MHz ...%n", r.design(), dev.id, dev.pkg,
          config.freqMhz());
      try {
        p = FpgaFlow.run(dir, dev, config.freqMhz());
      } catch (FpgaFlow.DoesNotFit e) {
        why = e.getMessage();
      }
    }
    if (p == null) {
      return r.withPnr(Pnr.note("does not fit: " + why));
    }
    Map<String, Map<String, Integer>> util = new LinkedHashMap<>();
    p.utilisation().forEach((k, v) -> util.put(k, Map.of("used", v[0], "available", v[1])));
    // The twin lives in a temporary folder: its bitstream is not kept.
    String bit = dir.equals(rtl) ? p.bitstream() : null;
    return r.withPnr(new Pnr(p.device(), p.pkg(), p.targetMhz(), p.fmaxMhz(), util, bit, p.seconds(), null));
  }
}
