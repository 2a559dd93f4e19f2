package addernet.cli;

import addernet.io.UserError;
import java.util.List;
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
      EvaluateCommand.class,
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
          if (ex.getCause() instanceof OutOfMemoryError oom) {
            cmd.getErr().println(outOfMemory(oom));
            return 2;
          }
          ex.printStackTrace(cmd.getErr());
          return 1;
        });
    cl.setParameterExceptionHandler(Main::refuseParameters);
    try {
      return cl.execute(args);
    } catch (OutOfMemoryError e) {
      // Too big an input or setting for this heap is the user's to change, not a bug to trace.
      System.err.println(outOfMemory(e));
      return 2;
    }
  }

  /**
   * picocli's own refusals (a value of the wrong type, an option given twice, an unknown option)
   * in the form of every other user error: one line starting with "error:", exit status 2, and
   * where to read more instead of the whole usage text.
   */
  static int refuseParameters(CommandLine.ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    StringBuilder line = new StringBuilder("error: ").append(oneLine(ex.getMessage()));
    if (ex instanceof CommandLine.UnmatchedArgumentException u) {
      List<String> suggestions = u.getSuggestions();
      if (!suggestions.isEmpty()) {
        line.append(" (did you mean ").append(String.join(" or ", suggestions.subList(0, Math.min(3,
            suggestions.size())))).append("?)");
      }
    }
    line.append("; see '").append(cmd.getCommandSpec().qualifiedName()).append(" --help'");
    cmd.getErr().println(line);
    cmd.getErr().flush();
    return 2;
  }

  private static String oneLine(String message) {
    String m = message == null ? "invalid command line" : message.strip().replaceAll("\\s*\\R\\s*", " ");
    return m.startsWith("error: ") ? m.substring("error: ".length()) : m;
  }

  /** One line: what ran out, how much heap there was, and how scripts/addernet is given more. */
  static String outOfMemory(OutOfMemoryError e) {
    long mb = Runtime.getRuntime().maxMemory() >> 20;
    return "error: out of memory (" + e.getMessage() + ", with a maximum Java heap of " + mb + " MB);"
        + " give Java more heap, e.g. ADDERNET_JAVA_OPTS='-Xmx16g --add-modules jdk.incubator.vector"
        + " -XX:MaxVectorSize=32' scripts/addernet ... (the default is -Xmx8g), or ask for less"
        + " (smaller --rows/--cols, --batch or data)";
  }
}
