package addernet.cli;

import addernet.io.UserError;
import addernet.io.Outputs;
import addernet.report.RunReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
      "The report goes into DIR/report (or --out): a new or empty folder, or an earlier output of"
          + " report, replaced only with --force; the run folder itself and everything else in it"
          + " are inputs and never written (docs/outputs.md).",
      "",
      "Example:  addernet report --run runs/demo-20261126-131221"
    })
final class ReportCommand implements Callable<Integer> {
  /** The report's place inside the run folder when --out is not given. */
  static final String DEFAULT_OUT = "report";

  @Option(names = "--run", required = true, paramLabel = "DIR", description = "the run folder to report on")
  Path run;

  @Option(names = "--out", paramLabel = "DIR",
      description = "folder to write index.html, report.json and the PNGs into (default: DIR/report)")
  Path out;

  @Option(names = "--force", description = "replace the report folder if it holds an earlier output of report")
  boolean force;

  @Override
  public Integer call() {
    if (!Files.isDirectory(run)) {
      throw new UserError("--run " + run + " is not a folder; give the folder of a run (e.g. runs/demo-<time>)");
    }
    // Charts are drawn without a display; this must be set before any AWT class loads.
    System.setProperty("java.awt.headless", "true");
    Path target = out == null ? run.resolve(DEFAULT_OUT) : out;
    String summary;
    // The run folder is the input; its one entry "report" is where the report itself lives.
    try (Outputs outputs = Outputs.begin("report", force, List.of(run)).allowInside(run.resolve(DEFAULT_OUT))) {
      Path dir = outputs.folder("--out", target);
      try {
        summary = RunReport.write(run.toAbsolutePath().normalize(), dir);
      } catch (IOException e) {
        throw new UserError("could not write the report into " + target + ": " + e.getMessage(), e);
      }
      outputs.commit();
    }
    System.out.print(summary);
    System.out.println("report: " + target.resolve(RunReport.INDEX));
    return 0;
  }
}
