package addernet.cli;

import addernet.gen.AcceleratorGenerator;
import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.gen.OutputFolder;
import addernet.gen.PeOp;
import addernet.synth.Resources;
import addernet.synth.Yosys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
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
      "Place and route (nextpnr-ice40) and clock frequency are not built yet.",
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

  @Option(names = "--report", description = "Also write the figures as JSON to this file.")
  Path report;

  /** One synthesis run: per module and the total, plus word-level multipliers of the design. */
  record Run(String design, String flow, int multiplierCells, Map<String, Resources> modules) {}

  record Report(String rtl, String target, List<Run> runs, Map<String, Double> adderOverMacLuts) {}

  @Override
  public Integer call() throws IOException {
    if (!Files.isDirectory(rtl)) {
      throw new UserError("--rtl " + rtl + " is not a folder; generate one with 'addernet generate'");
    }
    if (report != null) {
      CosimCommand.checkWritable(report);
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
    AcceleratorGenerator.Manifest accel = null;
    if (Files.isRegularFile(rtl.resolve(ArrayGenerator.CONFIG_FILE))) {
      var m = ArrayGenerator.read(rtl);
      sources = m.sources();
      top = m.top();
      arrayCfg = m.config();
      if (twinRtl != null) {
        throw new UserError("--twin-rtl compares whole accelerators; " + rtl + " is a bare array");
      }
    } else {
      accel = AcceleratorGenerator.read(rtl);
      sources = accel.sources();
      top = accel.top();
      if ((macTwin || twinRtl != null) && accel.peOp() != PeOp.ADDER) {
        throw new UserError(rtl + " already has " + accel.peOp().id() + " PEs; --mac-twin and"
            + " --twin-rtl compare an adder accelerator with MAC ones");
      }
    }
    AcceleratorGenerator.Manifest cnn = twinRtl == null ? null : checkedCnnTwin(accel);
    List<Run> runs = new java.util.ArrayList<>();
    Map<String, Double> ratios = new LinkedHashMap<>();
    Path twin = null;
    try {
      if (macTwin && arrayCfg != null && arrayCfg.op() == PeOp.ADDER) {
        twin = Files.createTempDirectory("addernet-mac-twin").resolve("rtl");
        ArrayGenerator.generate(
            new ArrayConfig(arrayCfg.rows(), arrayCfg.cols(), arrayCfg.dataBits(),
                PeOp.MAC.accumulatorBits(arrayCfg.dataBits(), arrayCfg.maxK()), arrayCfg.maxK(),
                PeOp.MAC),
            twin);
      } else if (macTwin && accel != null) {
        twin = Files.createTempDirectory("addernet-mac-twin").resolve("rtl");
        AcceleratorGenerator.twin(rtl, PeOp.MAC, twin);
        var tm = AcceleratorGenerator.read(twin);
        System.out.printf("mac twin: %dx%d MAC PEs, %d-bit data, %d-bit accumulators (adder: %d)%n",
            tm.rows(), tm.cols(), tm.dataBits(), tm.accBits(), accel.accBits());
      }
      for (Yosys.Target flow : flows) {
        Run adder = synth("adder", rtl, sources, top, flow);
        runs.add(adder);
        print(adder);
        if (twin != null) {
          List<String> twinSources =
              arrayCfg != null ? ArrayGenerator.read(twin).sources() : AcceleratorGenerator.read(twin).sources();
          Run mac = synth("mac twin", twin, twinSources, top, flow);
          runs.add(mac);
          print(mac);
          compare(adder, mac, flow, top, arrayCfg != null, "", ratios);
        }
        if (cnn != null) {
          Run mac = synth("mac cnn", twinRtl, cnn.sources(), cnn.top(), flow);
          runs.add(mac);
          print(mac);
          compare(adder, mac, flow, top, false, " vs cnn", ratios);
        }
      }
    } finally {
      if (twin != null) {
        OutputFolder.deleteTree(twin.getParent());
      }
    }
    if (report != null) {
      CosimCommand.writeJson(report, new Report(rtl.toString(), target, runs, ratios));
    }
    return 0;
  }

  /** The --twin-rtl folder, checked to be a MAC accelerator of the same array and batch. */
  private AcceleratorGenerator.Manifest checkedCnnTwin(AcceleratorGenerator.Manifest adder) {
    if (!Files.isDirectory(twinRtl)) {
      throw new UserError("--twin-rtl " + twinRtl + " is not a folder; generate one with"
          + " 'addernet generate --model CNN-PACKAGE'");
    }
    var m = AcceleratorGenerator.read(twinRtl);
    if (m.peOp() != PeOp.MAC) {
      throw new UserError("--twin-rtl " + twinRtl + " has " + m.peOp().id() + " PEs; generate it"
          + " from the CNN twin's package (multiply layers)");
    }
    if (m.rows() != adder.rows() || m.cols() != adder.cols() || m.batch() != adder.batch()) {
      throw new UserError("--twin-rtl " + twinRtl + " is a " + m.rows() + "x" + m.cols()
          + " array with batch " + m.batch() + ", " + rtl + " a " + adder.rows() + "x"
          + adder.cols() + " array with batch " + adder.batch() + "; generate both alike");
    }
    return m;
  }

  /**
   * Adder/MAC LUT ratios: for a bare array the PE and the total; for an accelerator every module
   * both designs have (their hierarchies match) and the total.
   */
  private static void compare(Run adder, Run mac, Yosys.Target flow, String top, boolean array,
      String suffix, Map<String, Double> ratios) {
    List<String> modules = array
        ? List.of("PE", "(total)")
        : adder.modules().keySet().stream().filter(mac.modules()::containsKey).toList();
    for (String module : modules) {
      Resources a = adder.modules().get(module);
      Resources b = mac.modules().get(module);
      if (a != null && b != null && b.luts() > 0) {
        double r = (double) a.luts() / b.luts();
        ratios.put(flow.command(top, false) + " " + module + suffix, r);
        System.out.printf("  adder/MAC%s LUTs, %s: %.3f (DSP blocks: adder %d, MAC %d)%n",
            suffix, module, r, a.dsps(), b.dsps());
      }
    }
  }

  private Run synth(String design, Path dir, List<String> sources, String top, Yosys.Target flow) {
    Map<String, Map<String, Integer>> cells = Yosys.cellsPerModule(dir, sources, top, flow);
    Map<String, Resources> modules = new LinkedHashMap<>();
    cells.forEach((m, c) -> modules.put(m, Resources.of(c)));
    int muls = Yosys.wordLevelCells(dir, sources, top).getOrDefault("$mul", 0);
    return new Run(design, flow.command(top, false), muls, modules);
  }

  private static void print(Run r) {
    System.out.printf("%s, %s (word-level multipliers: %d)%n", r.design(), r.flow(), r.multiplierCells());
    System.out.printf("  %-28s %8s %8s %8s %6s %5s%n", "module", "LUTs", "FFs", "carry", "BRAM", "DSP");
    r.modules().forEach((m, x) -> System.out.printf("  %-28s %8d %8d %8d %6d %5d%n",
        m, x.luts(), x.flipFlops(), x.carries(), x.blockRams(), x.dsps()));
  }
}
