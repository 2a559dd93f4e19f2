package addernet.cli;

import addernet.cosim.Verilator;
import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.gen.PeOp;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Emit Verilog for a systolic array of adder-only processing elements.",
      "",
      "Each PE computes acc <- acc - |a - b| on signed B-bit operands; activations flow east,"
          + " weights flow south, each tile's sum stays in its PE (output-stationary). The"
          + " accumulator is sized for the worst case of the largest reduction length --max-k"
          + " (docs/numeric-contract.md, section 3), or --acc-bits is checked against it.",
      "",
      "Writes one .sv file per module (Verilog-2001 style), filelist.f and array.json into"
          + " --out, all or nothing.",
      "",
      "Example:  addernet generate --rows 8 --cols 8 --bits 8 --out build/array8x8"
    })
final class GenerateCommand implements Callable<Integer> {
  @Option(names = "--rows", required = true, description = "PE rows (outputs computed in parallel along P).")
  int rows;

  @Option(names = "--cols", required = true, description = "PE columns (outputs computed in parallel along T).")
  int cols;

  @Option(names = "--bits", defaultValue = "8", description = "Data width of activations and weights, 2..16 (default ${DEFAULT-VALUE}).")
  int bits;

  @Option(names = "--max-k", defaultValue = "1024", description = "Largest reduction length K the array must sum without overflow (default ${DEFAULT-VALUE}).")
  long maxK;

  @Option(names = "--acc-bits", description = "Accumulator width; default: the narrowest that is safe for --max-k.")
  Integer accBits;

  @Option(names = "--op", defaultValue = "adder", description = "PE operation: adder (AdderNet) or mac (the CNN twin, for comparison). Default ${DEFAULT-VALUE}.")
  String op;

  @Option(names = "--out", required = true, description = "Output folder (replaced as a whole if it exists).")
  Path out;

  @Option(names = "--lint", description = "Also run verilator --lint-only -Wall on the result and fail on any warning.")
  boolean lint;

  @Override
  public Integer call() {
    PeOp peOp;
    try {
      peOp = PeOp.fromId(op);
    } catch (IllegalArgumentException e) {
      throw new UserError("--op: " + e.getMessage());
    }
    ArrayConfig cfg =
        accBits == null
            ? ArrayConfig.derived(rows, cols, bits, maxK, peOp)
            : new ArrayConfig(rows, cols, bits, accBits, maxK, peOp);
    ArrayGenerator.generate(cfg, out);
    System.out.printf(
        "generated a %dx%d %s array, %d-bit data, %d-bit accumulator (safe for K <= %d) in %s%n",
        cfg.rows(), cfg.cols(), cfg.op().id(), cfg.dataBits(), cfg.accBits(), cfg.maxK(), out);
    if (lint) {
      var manifest = ArrayGenerator.read(out);
      String complaints = Verilator.lint(out, manifest.sources(), manifest.top());
      if (!complaints.isEmpty()) {
        System.err.println(complaints);
        throw new UserError("verilator --lint-only -Wall reported warnings on " + out);
      }
      System.out.println("verilator --lint-only -Wall: clean");
    }
    return 0;
  }
}
