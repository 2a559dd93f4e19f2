package addernet.cli;

import addernet.io.UserError;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code addernet} launcher: one subcommand per stage of the pipeline. */
@Command(
    name = "addernet",
    mixinStandardHelpOptions = true,
    version = "addernet 0.1.0",
    description = {
      "Train multiplication-free AdderNets, quantize them to fixed point, generate adder-only",
      "systolic hardware in Verilog and check it bit for bit with Verilator.",
      "",
      "Pipeline: train -> quantize -> generate -> cosim -> synth. Run any subcommand with --help."
    },
    subcommands = {
      TrainCommand.class,
      QuantizeCommand.class,
      GenerateCommand.class,
      CosimCommand.class,
      SynthCommand.class,
      BenchCommand.class,
      EnergyCommand.class,
      ReportCommand.class,
      ImportCommand.class,
      ExportCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the launcher in-process and returns its exit code (used by tests too). */
  public static int run(String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          // User errors are one line with what to do; anything else is a bug and keeps its trace.
          if (ex instanceof UserError) {
            cmd.getErr().println("error: " + ex.getMessage());
            return 2;
          }
          ex.printStackTrace(cmd.getErr());
          return 1;
        });
    return cl.execute(args);
  }
}
