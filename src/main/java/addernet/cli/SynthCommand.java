package addernet.cli;

import addernet.gen.AccelManifest;
import addernet.io.UserError;
import addernet.fpga.FpgaFlow;
import addernet.fpga.Ice40Device;
import addernet.gen.AcceleratorGenerator;
import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.io.Outputs;
import addernet.quant.PeOp;
import addernet.synth.Design;
import addernet.synth.Resources;
import addernet.synth.StorageFigures;
import addernet.synth.Yosys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "synth",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Synthesise generated RTL with yosys and report resources per module and in total: LUTs"
          + " (simple gates for --target generic), flip-flops, carry cells, block RAMs, DSP"
          + " blocks, and word-level multiplier cells.",
      "",
      "iCE40 and Xilinx 7-series are reported twice: with DSP blocks disabled (LUT-only) and"
          + " enabled, since on DSP-rich parts a multiplier costs DSP blocks rather than LUTs."
          + " With --mac-twin, the same array, or the same accelerator (network shape, array,"
          + " batch, data width and weight ROMs), is generated with multiply-accumulate PEs and"
          + " the MAC's accumulator width into a temporary folder, synthesised beside it, and"
          + " the adder/MAC LUT ratios are printed per module. With --twin-rtl, an accelerator"
          + " generated from the real CNN twin's package (same array and batch) is compared"
          + " the same way.",
      "",
      "While it works, synth prints one progress line per step, each ending in '...'. The"
          + " summary then leads with the whole design: with a twin, the adder/MAC LUT ratio of"
          + " the whole accelerator (or array), LUT-only and with DSPs, beside each side's LUTs"
          + " and DSP blocks; else its LUTs. Then: the twin's shape; for iCE40 the bits the"
          + " design's Ram and Rom instances hold (depth x width, summed) against the bits of"
          + " the block RAMs used (4096 each); activation storage and requantizers if accel.json"
          + " has them; place and route. Last, one table per design and flow: every module under"
          + " a readable name (Ram 1568x8: depth x width; modules alike in name also get the"
          + " parameters they differ in), how many instances the design has, its resources per"
          + " instance and its LUTs over all instances; and the adder/MAC LUT ratio per module.",
      "",
      "For iCE40 each design is then placed and routed with nextpnr-ice40 on the smallest part"
          + " it fits (hx1k, up5k, hx8k; or --device) by the open flow the generated folder"
          + " carries (fpga/Makefile), which also writes the bitstream; the achieved clock"
          + " frequency is reported. A bare array is placed inside a pin-light shell"
          + " (fpga/MeshFpgaTop.v); an accelerator needs to be generated with --no-trace to fit"
          + " a package's pins.",
      "",
      "yosys and nextpnr write their build products (fpga/*.json, *.asc, the bitstream, logs)"
          + " inside the folder generate wrote; --report follows the output rule: a new file, or"
          + " an earlier report of synth replaced only with --force (docs/outputs.md).",
      "",
      "Examples:",
      "  addernet synth --rtl build/array8x8 --target ice40 --mac-twin --report synth.json",
      "  addernet synth --rtl build/lenet4x4 --target ice40 --mac-twin --twin-rtl build/cnn4x4"
    })
final class SynthCommand implements Callable<Integer> {
  @Option(names = "--rtl", required = true, description = "A folder written by 'addernet generate'.")
  Path rtl;

  @Option(names = "--target", defaultValue = "ice40", description = "generic, ice40 or xc7 (default ${DEFAULT-VALUE}).")
  String target;

  @Option(names = "--mac-twin", description = "Also synthesise the multiply-accumulate twin of the array or accelerator.")
  boolean macTwin;

  @Option(names = "--twin-rtl", paramLabel = "DIR",
      description = "Also synthesise this MAC accelerator (generate --model of the CNN twin's package, same --rows, --cols, --batch) and compare.")
  Path twinRtl;

  @Option(names = "--no-pnr", description = "iCE40: skip place and route (resources only).")
  boolean noPnr;

  @Option(names = "--device", defaultValue = "auto", description = "iCE40 part to place on: auto (the smallest that fits), hx1k, up5k or hx8k.")
  String device;

  @Option(names = "--freq", defaultValue = "12", description = "iCE40 clock constraint in MHz (default ${DEFAULT-VALUE}, the boards' oscillator); place and route fails if it is not met.")
  int freq;

  @Option(names = "--report", description = "Also write the figures as JSON to this file: every run's modules"
      + " (readable name, instances, Verilog module, parameters, resources per instance), memory bits,"
      + " the whole-design ratios, and accel.json's storage figures if it has them.")
  Path report;

  @Option(names = "--force", description = "Replace --report if it holds an earlier output of synth.")
  boolean force;

  /**
   * One synthesis run: per module (by readable name) and the total, plus word-level multipliers
   * of the design; the bits its Ram and Rom instances hold and, for iCE40, the bits of the block
   * RAMs used.
   */
  record Run(
      String design, String flow, int multiplierCells, Map<String, ModuleReport> modules, Pnr pnr,
      long memoryBits, @JsonInclude(JsonInclude.Include.NON_NULL) Long blockRamBits) {
    Run withPnr(Pnr p) {
      return new Run(design, flow, multiplierCells, modules, p, memoryBits, blockRamBits);
    }

    Resources total() {
      return modules.get(Design.TOTAL).resources();
    }
  }

  /**
   * One module's resources per instance (the fields of {@link Resources}), its readable name,
   * its instances in the design, the Verilog module and its parameters (absent for the total and
   * for modules without parameters).
   */
  record ModuleReport(
      int luts, int flipFlops, int carries, int blockRams, int dsps,
      String name, long instances,
      @JsonInclude(JsonInclude.Include.NON_NULL) String module,
      @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, Object> parameters) {
    static ModuleReport of(Design.Module m) {
      Resources r = m.each();
      return new ModuleReport(r.luts(), r.flipFlops(), r.carries(), r.blockRams(), r.dsps(),
          m.name(), m.instances(), m.module(), m.parameters());
    }

    Resources resources() {
      return new Resources(luts, flipFlops, carries, blockRams, dsps);
    }
  }

  /** The whole design's adder/MAC LUT ratio for one flow, with each side's LUTs and DSP blocks. */
  record WholeDesign(
      String versus, String flow, boolean dspBlocksAllowed, int adderLuts, int adderDsps,
      int macLuts, int macDsps, Double adderOverMacLuts) {}

  /** Place and route of one design: where, how fast, how full; or why it was not done. */
  @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  record Pnr(
      String device,
      String pkg,
      Double targetMhz,
      Double fmaxMhz,
      Map<String, Map<String, Integer>> utilisation,
      String bitstream,
      Double seconds,
      String note) {}

  record Report(
      String rtl, String target, List<Run> runs, Map<String, Double> adderOverMacLuts,
      List<WholeDesign> wholeDesign,
      @JsonInclude(JsonInclude.Include.NON_NULL) Long activationBitsNeeded,
      @JsonInclude(JsonInclude.Include.NON_NULL) Long activationBitsStored,
      @JsonInclude(JsonInclude.Include.NON_NULL) Long requantizers) {}

  @Override
  public Integer call() throws IOException {
    if (!Files.isDirectory(rtl)) {
      throw new UserError("--rtl " + rtl + " is not a folder; generate one with 'addernet generate'");
    }
    List<Path> inputs = new java.util.ArrayList<>(List.of(rtl));
    if (twinRtl != null) {
      inputs.add(twinRtl);
    }
    try (Outputs outputs = Outputs.begin("synth", force, inputs)) {
      Path reportFile = report == null ? null : outputs.file("--report", report);
      Report r = synthesise();
      if (reportFile != null) {
        outputs.writeJson(reportFile, r);
      }
      outputs.commit();
    }
    return 0;
  }

  private Report synthesise() throws IOException {
    if (!device.equals("auto")) {
      Ice40Device.byId(device); // refuse a bad name before minutes of synthesis
    }
    if (freq < 1 || freq > 1000) {
      throw new UserError("--freq must be a clock in MHz, 1..1000, got " + freq);
    }
    // DSP blocks disabled first (LUT-only), then allowed.
    List<Yosys.Target> flows =
        switch (target) {
          case "generic" -> List.of(Yosys.Target.GENERIC);
          case "ice40" -> List.of(Yosys.Target.ICE40_NO_DSP, Yosys.Target.ICE40);
          case "xc7" -> List.of(Yosys.Target.XC7_NO_DSP, Yosys.Target.XC7);
          default -> throw new UserError("--target must be generic, ice40 or xc7, got " + target);
        };
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
    addernet.gen.FolderFiles.verify(rtl, arrayCfg != null ? ArrayGenerator.CONFIG_FILE : AcceleratorGenerator.CONFIG_FILE);
    AccelManifest cnn = twinRtl == null ? null : checkedCnnTwin(accel);
    // Read before the minutes of synthesis, so that a damaged figure is refused at once.
    StorageFigures figures = accel == null ? StorageFigures.NONE
        : StorageFigures.read(rtl.resolve(AcceleratorGenerator.CONFIG_FILE));
    List<Run> runs = new ArrayList<>();
    List<Comparison> comparisons = new ArrayList<>();
    String twinShape = null;
    Path twin = null;
    addernet.tool.PrivateDir twinDir = null;
    try {
      if (macTwin) {
        twinDir = addernet.tool.PrivateDir.create("addernet-mac-twin-");
      }
      if (macTwin && arrayCfg != null && arrayCfg.op() == PeOp.ADDER) {
        twin = twinDir.path().resolve("rtl");
        int accBits = PeOp.MULTIPLY.accumulatorBits(arrayCfg.dataBits(), arrayCfg.maxK());
        ArrayGenerator.generate(
            new ArrayConfig(arrayCfg.rows(), arrayCfg.cols(), arrayCfg.dataBits(), accBits,
                arrayCfg.maxK(), PeOp.MULTIPLY),
            twin);
        twinShape = String.format("mac twin: %dx%d MAC PEs, %d-bit data, %d-bit accumulators (adder: %d)",
            arrayCfg.rows(), arrayCfg.cols(), arrayCfg.dataBits(), accBits, arrayCfg.accBits());
      } else if (macTwin && accel != null) {
        twin = twinDir.path().resolve("rtl");
        AcceleratorGenerator.twin(rtl, PeOp.MULTIPLY, twin);
        var tm = AccelManifest.read(twin);
        twinShape = String.format("mac twin: %dx%d MAC PEs, %d-bit data, %d-bit accumulators (adder: %d)",
            tm.rows(), tm.cols(), tm.dataBits(), tm.accBits(), accel.accBits());
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
    Report report = new Report(rtl.toString(), target, runs, ratios, whole,
        figures.activationBitsNeeded(), figures.activationBitsStored(), figures.requantizers());
    printSummary(report, flows, arrayCfg != null ? "whole array" : "whole accelerator", twinShape, figures,
        comparisons, arrayCfg != null);
    return report;
  }

  private void unlike(Path twinFile, String field, Object twin, Object adder) {
    if (!java.util.Objects.equals(twin, adder)) {
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
    addernet.gen.FolderFiles.verify(twinRtl, AcceleratorGenerator.CONFIG_FILE);
    return m;
  }


  /** An adder run beside a MAC run of the same flow ({@code suffix}: which MAC design). */
  record Comparison(Run adder, Run mac, Yosys.Target flow, String suffix) {
    WholeDesign whole() {
      Resources a = adder.total();
      Resources b = mac.total();
      return new WholeDesign(mac.design(), adder.flow(), flow.dspBlocksAllowed(), a.luts(), a.dsps(),
          b.luts(), b.dsps(), b.luts() > 0 ? (double) a.luts() / b.luts() : null);
    }

    /**
     * The modules compared: for a bare array the PE and the total; for an accelerator every
     * module both designs have (their hierarchies match) and the total.
     */
    List<String> modules(boolean array) {
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

  private static String flowLabel(Yosys.Target flow) {
    return switch (flow) {
      case ICE40_NO_DSP, XC7_NO_DSP -> "LUT-only";
      case ICE40, XC7 -> "with DSPs";
      case GENERIC -> "generic gates";
    };
  }

  /**
   * The one-screen summary: the whole design first (its adder/MAC ratio per twin, or its size),
   * then what the ratio compares, memory, storage figures and place and route, then the tables.
   */
  private void printSummary(Report r, List<Yosys.Target> flows, String whole, String twinShape,
      StorageFigures figures, List<Comparison> comparisons, boolean array) {
    System.out.println();
    Map<String, List<Comparison>> byTwin = new LinkedHashMap<>();
    comparisons.forEach(c -> byTwin.computeIfAbsent(c.suffix(), k -> new ArrayList<>()).add(c));
    for (Map.Entry<String, List<Comparison>> e : byTwin.entrySet()) {
      List<String> parts = new ArrayList<>();
      for (Comparison c : e.getValue()) {
        WholeDesign w = c.whole();
        parts.add(String.format(Locale.ROOT, "%s %s (adder %d LUTs + %d DSP, MAC %d LUTs + %d DSP)",
            w.adderOverMacLuts() == null ? "-" : String.format(Locale.ROOT, "%.3f", w.adderOverMacLuts()),
            flowLabel(c.flow()), w.adderLuts(), w.adderDsps(), w.macLuts(), w.macDsps()));
      }
      System.out.println("adder/MAC" + e.getKey() + " LUTs, " + whole + ": " + String.join("; ", parts));
    }
    if (comparisons.isEmpty()) {
      List<String> parts = new ArrayList<>();
      // Without a twin the runs are the adder design's, one per flow.
      for (int i = 0; i < r.runs().size(); i++) {
        Resources t = r.runs().get(i).total();
        parts.add(String.format(Locale.ROOT, "%d LUTs + %d DSP %s", t.luts(), t.dsps(),
            flowLabel(flows.get(i))));
      }
      System.out.println(whole + ": " + String.join("; ", parts));
    }
    if (twinShape != null) {
      System.out.println(twinShape);
    }
    String memory = null;
    for (Run run : r.runs()) {
      if (run.blockRamBits() == null || run.memoryBits() == 0 && run.blockRamBits() == 0) {
        continue; // not iCE40, or a bare array: no memories to speak of
      }
      Resources t = run.total();
      String line = String.format(Locale.ROOT,
          "memory: the Ram and Rom instances hold %d bits; %d block RAMs hold %d bits (%s used)",
          run.memoryBits(), t.blockRams(), run.blockRamBits(),
          run.blockRamBits() == 0 ? "-" : String.format(Locale.ROOT, "%.0f%%", 100.0 * run.memoryBits() / run.blockRamBits()));
      if (memory == null) {
        memory = line;
        System.out.println(line);
      } else if (!memory.equals(line)) {
        System.out.println(line.replaceFirst("memory", "memory, " + run.design()));
      }
    }
    figures.lines().forEach(System.out::println);
    for (Run run : r.runs()) {
      if (run.pnr() != null) {
        Pnr p = run.pnr();
        System.out.println("place and route, " + run.design() + ": " + (p.note() != null ? p.note()
            : String.format(Locale.ROOT, "iCE40 %s: Fmax %.1f MHz (constraint %.0f MHz), %s, %.0f s",
                p.device(), p.fmaxMhz(), p.targetMhz(),
                p.utilisation().entrySet().stream()
                    .map(e -> e.getKey() + " " + e.getValue().get("used") + "/" + e.getValue().get("available"))
                    .collect(java.util.stream.Collectors.joining(", ")),
                p.seconds())));
      }
    }
    for (Run run : r.runs()) {
      System.out.println();
      printTable(run);
      for (Comparison c : comparisons) {
        if (c.mac() == run) {
          c.modules(array).stream().filter(m -> !m.equals(Design.TOTAL)).forEach(m -> {
            ModuleReport a = c.adder().modules().get(m);
            ModuleReport b = c.mac().modules().get(m);
            if (a != null && b != null && b.luts() > 0) {
              System.out.printf(Locale.ROOT, "  adder/MAC%s LUTs, %s: %.3f (DSP blocks: adder %d, MAC %d)%n",
                  c.suffix(), m, (double) a.luts() / b.luts(), a.dsps(), b.dsps());
            }
          });
        }
      }
    }
  }

  private Run synth(String design, Path dir, List<String> sources, String top, Yosys.Target flow) {
    System.out.printf("synthesising %s: %s ...%n", design, flow.command(top, false));
    Design d = Design.of(Yosys.hierarchy(dir, sources, top, flow), top);
    Map<String, ModuleReport> modules = new LinkedHashMap<>();
    d.modules().forEach((name, m) -> modules.put(name, ModuleReport.of(m)));
    int muls = Yosys.wordLevelCells(dir, sources, top).getOrDefault("$mul", 0);
    Long bramBits = flow == Yosys.Target.ICE40 || flow == Yosys.Target.ICE40_NO_DSP
        ? (long) d.modules().get(Design.TOTAL).each().blockRams() * ICE40_BLOCK_RAM_BITS
        : null;
    return new Run(design, flow.command(top, false), muls, modules, null, d.memoryBits(), bramBits);
  }

  /** The bits of one iCE40 block RAM (SB_RAM40_4K). */
  static final int ICE40_BLOCK_RAM_BITS = 4096;

  /** iCE40 LUT-only runs go on to nextpnr; a design too big for every part gets a note instead. */
  private Run placeAndRoute(Run r, Path dir, Yosys.Target flow) {
    if (noPnr || flow != Yosys.Target.ICE40_NO_DSP) {
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
      return r.withPnr(new Pnr(null, null, null, null, null, null, null, "skipped: " + e.getMessage()));
    }
    FpgaFlow.PlaceAndRoute p = null;
    String why = null;
    for (int i = 0; i < parts.size() && p == null; i++) {
      Ice40Device dev = parts.get(i);
      if (why != null) {
        System.out.println("  " + why + "; the next part ...");
      }
      System.out.printf("placing and routing %s on iCE40 %s (%s) at %d MHz ...%n", r.design(), dev.id, dev.pkg, freq);
      try {
        p = FpgaFlow.run(dir, dev, freq);
      } catch (FpgaFlow.DoesNotFit e) {
        why = e.getMessage();
      }
    }
    if (p == null) {
      String note = "does not fit: " + why;
      return r.withPnr(new Pnr(null, null, null, null, null, null, null, note));
    }
    Map<String, Map<String, Integer>> util = new LinkedHashMap<>();
    p.utilisation().forEach((k, v) -> util.put(k, Map.of("used", v[0], "available", v[1])));
    // The twin lives in a temporary folder: its bitstream is not kept.
    String bit = dir.equals(rtl) ? p.bitstream() : null;
    return r.withPnr(new Pnr(p.device(), p.pkg(), p.targetMhz(), p.fmaxMhz(), util, bit, p.seconds(), null));
  }

  private static void printTable(Run r) {
    System.out.printf("%s, %s (word-level multipliers: %d); per instance:%n", r.design(), r.flow(), r.multiplierCells());
    int w = Math.max(28, r.modules().keySet().stream().mapToInt(String::length).max().orElse(0));
    String row = "  %-" + w + "s %5s %8s %8s %8s %6s %5s %10s%n";
    System.out.printf(row, "module", "inst", "LUTs", "FFs", "carry", "BRAM", "DSP", "LUTs, all");
    List<Map.Entry<String, ModuleReport>> rows = new ArrayList<>(r.modules().entrySet());
    // The total closes the table, below the modules it sums.
    rows.sort(java.util.Comparator.comparing(e -> e.getKey().equals(Design.TOTAL)));
    for (Map.Entry<String, ModuleReport> e : rows) {
      ModuleReport m = e.getValue();
      System.out.printf(row, e.getKey(), m.instances(), m.luts(), m.flipFlops(), m.carries(),
          m.blockRams(), m.dsps(), m.instances() * m.luts());
    }
  }
}
