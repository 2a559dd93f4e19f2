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
          + " With --mac-twin (bare arrays), the same array with multiply-accumulate PEs is"
          + " synthesised beside it and the adder/MAC ratios are printed.",
      "",
      "Place and route (nextpnr-ice40), clock frequency and the MAC twin of a whole"
          + " accelerator are not built yet.",
      "",
      "Example:  addernet synth --rtl build/array8x8 --target ice40 --mac-twin --report synth.json"
    })
final class SynthCommand implements Callable<Integer> {
  @Option(names = "--rtl", required = true, description = "A folder written by 'addernet generate'.")
  Path rtl;

  @Option(names = "--target", defaultValue = "ice40", description = "generic, ice40 or xc7 (default ${DEFAULT-VALUE}).")
  String target;

  @Option(names = "--mac-twin", description = "Also synthesise the multiply-accumulate twin (bare arrays).")
  boolean macTwin;

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
    if (Files.isRegularFile(rtl.resolve(ArrayGenerator.CONFIG_FILE))) {
      var m = ArrayGenerator.read(rtl);
      sources = m.sources();
      top = m.top();
      arrayCfg = m.config();
    } else {
      var m = AcceleratorGenerator.read(rtl);
      sources = m.sources();
      top = m.top();
      if (macTwin) {
        throw new UserError("--mac-twin of a whole accelerator is not built yet; use it on a bare array");
      }
    }
    List<Run> runs = new java.util.ArrayList<>();
    Map<String, Double> ratios = new LinkedHashMap<>();
    Path twin = null;
    try {
      if (macTwin && arrayCfg.op() == PeOp.ADDER) {
        twin = Files.createTempDirectory("addernet-mac-twin").resolve("rtl");
        ArrayGenerator.generate(
            new ArrayConfig(arrayCfg.rows(), arrayCfg.cols(), arrayCfg.dataBits(),
                PeOp.MAC.accumulatorBits(arrayCfg.dataBits(), arrayCfg.maxK()), arrayCfg.maxK(),
                PeOp.MAC),
            twin);
      }
      for (Yosys.Target flow : flows) {
        Run adder = synth("adder", rtl, sources, top, flow);
        runs.add(adder);
        print(adder);
        if (twin != null) {
          var tm = ArrayGenerator.read(twin);
          Run mac = synth("mac twin", twin, tm.sources(), tm.top(), flow);
          runs.add(mac);
          print(mac);
          for (String module : List.of("PE", "(total)")) {
            Resources a = adder.modules().get(module);
            Resources b = mac.modules().get(module);
            if (a != null && b != null && b.luts() > 0) {
              double r = (double) a.luts() / b.luts();
              ratios.put(flow.command(top, false) + " " + module, r);
              System.out.printf("  adder/MAC LUTs, %s: %.3f (DSP blocks: adder %d, MAC %d)%n",
                  module, r, a.dsps(), b.dsps());
            }
          }
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
