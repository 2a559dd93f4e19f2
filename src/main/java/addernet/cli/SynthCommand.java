package addernet.cli;

import addernet.io.UserError;
import addernet.fpga.FpgaFlow;
import addernet.fpga.Ice40Device;
import addernet.gen.AcceleratorGenerator;
import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.io.Outputs;
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

  @Option(names = "--report", description = "Also write the figures as JSON to this file.")
  Path report;

  @Option(names = "--force", description = "Replace --report if it holds an earlier output of synth.")
  boolean force;

  /** One synthesis run: per module and the total, plus word-level multipliers of the design. */
  record Run(
      String design, String flow, int multiplierCells, Map<String, Resources> modules, Pnr pnr) {
    Run withPnr(Pnr p) {
      return new Run(design, flow, multiplierCells, modules, p);
    }
  }

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

  record Report(String rtl, String target, List<Run> runs, Map<String, Double> adderOverMacLuts) {}

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
        Run adder = placeAndRoute(synth("adder", rtl, sources, top, flow), rtl, flow);
        runs.add(adder);
        print(adder);
        if (twin != null) {
          List<String> twinSources =
              arrayCfg != null ? ArrayGenerator.read(twin).sources() : AcceleratorGenerator.read(twin).sources();
          Run mac = placeAndRoute(synth("mac twin", twin, twinSources, top, flow), twin, flow);
          runs.add(mac);
          print(mac);
          compare(adder, mac, flow, top, arrayCfg != null, "", ratios);
        }
        if (cnn != null) {
          Run mac = placeAndRoute(synth("mac cnn", twinRtl, cnn.sources(), cnn.top(), flow), twinRtl, flow);
          runs.add(mac);
          print(mac);
          compare(adder, mac, flow, top, false, " vs cnn", ratios);
        }
      }
    } finally {
      if (twin != null) {
        Outputs.deleteTree(twin.getParent());
      }
    }
    return new Report(rtl.toString(), target, runs, ratios);
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
    return new Run(design, flow.command(top, false), muls, modules, null);
  }

  /** iCE40 LUT-only runs go on to nextpnr; a design too big for every part gets a note instead. */
  private Run placeAndRoute(Run r, Path dir, Yosys.Target flow) {
    if (noPnr || flow != Yosys.Target.ICE40_NO_DSP) {
      return r;
    }
    Resources total = r.modules().get("(total)");
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
      System.out.println("  place and route skipped: " + e.getMessage());
      return r.withPnr(new Pnr(null, null, null, null, null, null, null, e.getMessage()));
    }
    FpgaFlow.PlaceAndRoute p = null;
    String why = null;
    for (Ice40Device dev : parts) {
      System.out.printf("  placing and routing %s on iCE40 %s (%s) at %d MHz ...%n", r.design(), dev.id, dev.pkg, freq);
      try {
        p = FpgaFlow.run(dir, dev, freq);
        break;
      } catch (FpgaFlow.DoesNotFit e) {
        why = e.getMessage();
        System.out.println("  " + why);
      }
    }
    if (p == null) {
      String note = "does not fit: " + why;
      return r.withPnr(new Pnr(null, null, null, null, null, null, null, note));
    }
    Map<String, Map<String, Integer>> util = new LinkedHashMap<>();
    p.utilisation().forEach((k, v) -> util.put(k, Map.of("used", v[0], "available", v[1])));
    System.out.printf("  %s: Fmax %.1f MHz (constraint %d MHz), %s, %.0f s%n", p.device(), p.fmaxMhz(), freq,
        util.entrySet().stream()
            .map(e -> e.getKey() + " " + e.getValue().get("used") + "/" + e.getValue().get("available"))
            .collect(java.util.stream.Collectors.joining(", ")),
        p.seconds());
    // The twin lives in a temporary folder: its bitstream is not kept.
    String bit = dir.equals(rtl) ? p.bitstream() : null;
    return r.withPnr(new Pnr(p.device(), p.pkg(), p.targetMhz(), p.fmaxMhz(), util, bit, p.seconds(), null));
  }

  private static void print(Run r) {
    System.out.printf("%s, %s (word-level multipliers: %d)%n", r.design(), r.flow(), r.multiplierCells());
    System.out.printf("  %-28s %8s %8s %8s %6s %5s%n", "module", "LUTs", "FFs", "carry", "BRAM", "DSP");
    r.modules().forEach((m, x) -> System.out.printf("  %-28s %8d %8d %8d %6d %5d%n",
        m, x.luts(), x.flipFlops(), x.carries(), x.blockRams(), x.dsps()));
  }
}
