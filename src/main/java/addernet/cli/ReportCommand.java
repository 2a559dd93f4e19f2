package addernet.cli;

import addernet.io.UserError;
import addernet.io.Outputs;
import addernet.report.RunReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Gather the evidence of a run folder into one HTML page with its charts and a JSON twin:"
          + " training curves of the adder net and its CNN twin, trained-weight histograms with"
          + " Laplace and Gaussian fits, accuracy float vs fixed point, hardware resources adder"
          + " vs MAC twin (and place and route when the synth report has it), co-simulation"
          + " results and the energy estimate. Prints a one-screen summary.",
      "",
      "Inputs are found by name: */metrics.json, */checkpoint.json, quantize-*.json,"
          + " synth-*.json, cosim-*.json, lenet5-adder-8bit/. A section whose inputs are missing"
          + " says \"not in this run: expected <file>\"; it is not an error.",
      "",
      "Example:  addernet report --run runs/demo-20261126-131221"
    })
final class ReportCommand implements Callable<Integer> {
  @Option(names = "--run", required = true, paramLabel = "DIR", description = "the run folder to report on")
  Path run;

  @Option(names = "--out", paramLabel = "DIR",
      description = "folder to write index.html, report.json and the PNGs into, replaced as a whole"
          + " (default: DIR/report)")
  Path out;

  @Override
  public Integer call() {
    if (!Files.isDirectory(run)) {
      throw new UserError("--run " + run + " is not a folder; give the folder of a run (e.g. runs/demo-<time>)");
    }
    // Charts are drawn without a display; this must be set before any AWT class loads.
    System.setProperty("java.awt.headless", "true");
    Path target = out == null ? run.resolve("report") : out;
    String[] summary = new String[1];
    Outputs.writeFolder("report", target, false, java.util.List.of(run), dir -> summary[0] = RunReport.write(run.toAbsolutePath().normalize(), dir));
    System.out.print(summary[0]);
    System.out.println("report: " + target.resolve(RunReport.INDEX));
    return 0;
  }
}
