package addernet.cli;

import addernet.io.UserError;
import addernet.energy.EnergyEstimate;
import addernet.energy.LayerOps;
import addernet.energy.NetworkOps;
import addernet.energy.OperationEnergy;
import addernet.export.ModelPackage;
import addernet.export.PackageException;
import addernet.io.Outputs;
import addernet.nn.NetworkSpec;
import addernet.nn.SpecException;
import addernet.quant.QuantConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "energy",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Estimate the arithmetic energy of one inference of an adder net and of its CNN twin,"
          + " from the network's operation counts and the 45 nm per-operation energies of"
          + " M. Horowitz (ISSCC 2014); float32 figures are given for context.",
      "",
      "An estimate, not a measurement: memory, registers and control are not counted. The"
          + " assumptions are printed and written into the JSON (README, 'Report and energy"
          + " estimate').",
      "",
      "Examples:",
      "  addernet energy --model lenet5-adder --bits 8 --report energy.json",
      "  addernet energy --model model/lenet5-adder-8bit"
    })
final class EnergyCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "PKG|SPEC",
      description = "a model package folder (its real widths and requantization digits), or a spec"
          + " name or file such as lenet5-adder (shapes only)")
  String model;

  @Option(names = "--bits", paramLabel = "B",
      description = "data width for a spec, 2..16 (default: " + QuantConfig.DEFAULT_BITS + "); a package fixes its own")
  Integer bits;

  @Option(names = "--report", paramLabel = "FILE", description = "also write the estimate as JSON to this file")
  Path report;

  @Option(names = "--force", description = "replace --report if it holds an earlier output of energy")
  boolean force;

  @Override
  public Integer call() throws IOException {
    Path input = CliInputs.existing(model);
    try (Outputs outputs = Outputs.begin("energy", force, input == null ? List.of() : List.of(input))) {
      Path reportFile = report == null ? null : outputs.file("--report", report);
      EnergyEstimate.Result r = EnergyEstimate.of(counts(model, bits), OperationEnergy.HOROWITZ_45NM);
      print(r, System.out);
      if (reportFile != null) {
        outputs.writeJson(reportFile, r);
        outputs.commit();
        System.err.println("wrote " + report);
      }
    }
    return 0;
  }

  /** Counts of a model package folder or, failing that, of a spec by name or file. */
  static NetworkOps counts(String model, Integer bits) {
    Path p = Path.of(model);
    if (Files.isRegularFile(p.resolve(ModelPackage.MANIFEST))) {
      if (bits != null) {
        throw new UserError("--bits applies to a spec; the package " + model + " fixes its own widths");
      }
      try {
        return NetworkOps.of(ModelPackage.read(p).network());
      } catch (PackageException e) {
        throw new UserError(model + ": " + e.getMessage(), e);
      }
    }
    int b = bits == null ? QuantConfig.DEFAULT_BITS : bits;
    if (b < 2 || b > 16) {
      throw new UserError("--bits must be in 2..16, got " + b);
    }
    try {
      return NetworkOps.of(NetworkSpec.resolve(model), b, QuantConfig.DEFAULT_REQUANT_TERMS);
    } catch (SpecException e) {
      throw new UserError("--model " + model + ": not a model package folder, nor a spec: " + e.getMessage(), e);
    }
  }

  static void print(EnergyEstimate.Result r, PrintStream out) {
    // A spec of either twin gives the same shapes, so both columns are always shown.
    out.printf("Energy per inference, %s shapes, adder layers vs multiply (CNN twin) layers: ESTIMATE,"
        + " arithmetic only%n", r.network());
    out.printf("counted from the %s; per-operation energies: %s%n", r.countedFrom(), r.source());
    // The name column as wide as the longest layer name (ResNet names such as layer3_0_downsample_0).
    int w = Math.max(7, r.layers().stream().mapToInt(l -> l.ops().name().length()).max().orElse(0));
    String name = "%-" + w + "s";
    out.printf(name + " %12s %4s %13s %12s %12s%n", "layer", "weight uses", "B", "acc adder/MAC", "adder pJ", "CNN pJ");
    for (EnergyEstimate.LayerEnergy l : r.layers()) {
      LayerOps o = l.ops();
      out.printf(name + " %,12d %4d %8d/%-4d %12.1f %12.1f%n", o.name(), o.weightUses(), o.dataBits(),
          o.adderAccBits(), o.macAccBits(), l.adder().totalPj(), l.cnn().totalPj());
    }
    out.printf(name + " %,12d %4s %13s %12.1f %12.1f   adder/CNN %.3f%n", "integer", r.weightUsesPerInference(),
        "", "", r.adder().totalPj(), r.cnn().totalPj(), r.adderOverCnn());
    out.printf(name + " %12s %4s %13s %12.1f %12.1f   adder/CNN %.3f%n", "float32", "", "", "",
        r.adderFloat32().totalPj(), r.cnnFloat32().totalPj(), r.adderOverCnnFloat32());
    out.printf("adder net by kind (pJ): %s%n", kinds(r.adder()));
    out.printf("CNN twin by kind (pJ):  %s%n", kinds(r.cnn()));
    out.println("assumptions:");
    for (String a : r.assumptions()) {
      out.println("  - " + a);
    }
  }

  private static String kinds(EnergyEstimate.Breakdown b) {
    StringBuilder sb = new StringBuilder();
    b.perKindPj().forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(String.format("%s %.1f", k, v)));
    return sb.toString();
  }
}
