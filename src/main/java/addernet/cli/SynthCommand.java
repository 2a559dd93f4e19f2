package addernet.cli;

import addernet.fpga.Ice40Device;
import addernet.io.Outputs;
import addernet.io.UserError;
import addernet.synth.AsicFlow;
import addernet.synth.AsicReport;
import addernet.synth.AsicSummary;
import addernet.synth.SynthFlow;
import addernet.synth.SynthSummary;
import addernet.synth.Yosys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
      "  addernet synth --rtl build/lenet4x4 --target ice40 --mac-twin --twin-rtl build/cnn4x4",
      "  addernet synth --rtl build/lenet4x4 --target asic --mac-twin --liberty cells.lib"
    })
final class SynthCommand implements Callable<Integer> {
  @Option(names = "--rtl", required = true, description = "A folder written by 'addernet generate'.")
  Path rtl;

  @Option(names = "--target", defaultValue = "ice40",
      description = "generic, ice40, xc7 or asic (default ${DEFAULT-VALUE}). asic: yosys' CMOS gate model"
          + " (transistors per module and in total) and, with --liberty, a standard-cell library's area and"
          + " longest path; memories stay black boxes, counted in bits (docs/asic.md).")
  String target;

  @Option(names = "--liberty", paramLabel = "FILE",
      description = "With --target asic: a Liberty (.lib) standard-cell library to map onto: cell area per"
          + " module and in total, and the longest combinational path from its timing.")
  Path liberty;

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

  @Override
  public Integer call() throws IOException {
    if (!Files.isDirectory(rtl)) {
      throw new UserError("--rtl " + rtl + " is not a folder; generate one with 'addernet generate'");
    }
    List<Path> inputs = new ArrayList<>(List.of(rtl));
    if (twinRtl != null) {
      inputs.add(twinRtl);
    }
    if (liberty != null && !target.equals("asic")) {
      throw new UserError("--liberty maps onto standard cells; it goes with --target asic, not " + target);
    }
    if (target.equals("asic") && twinRtl != null) {
      throw new UserError("--twin-rtl compares FPGA flows; with --target asic use --mac-twin");
    }
    if (liberty != null) {
      inputs.add(liberty);
    }
    try (Outputs outputs = Outputs.begin("synth", force, inputs)) {
      Path reportFile = report == null ? null : outputs.file("--report", report);
      if (target.equals("asic")) {
        AsicReport asic = AsicFlow.run(new AsicFlow.Config(rtl, macTwin, liberty), System.out);
        AsicSummary.print(asic, System.out);
        if (reportFile != null) {
          outputs.writeJson(reportFile, asic);
        }
        outputs.commit();
        return 0;
      }
      SynthFlow.Result result = SynthFlow.run(config(), System.out);
      SynthSummary.print(result, System.out);
      if (reportFile != null) {
        outputs.writeJson(reportFile, result.report());
      }
      outputs.commit();
    }
    return 0;
  }

  private SynthFlow.Config config() {
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
          default -> throw new UserError("--target must be generic, ice40, xc7 or asic, got " + target);
        };
    return new SynthFlow.Config(rtl, flows, macTwin, twinRtl, !noPnr, device, freq);
  }
}
