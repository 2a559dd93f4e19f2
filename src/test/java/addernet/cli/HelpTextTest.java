package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command's --help renders cleanly: picocli treats a lone % as a format specifier. */
class HelpTextTest {
  /** Every command and subcommand as the user types it, e.g. "bench train". */
  private static List<String> commands(Map<String, CommandLine> level, String prefix) {
    List<String> all = new ArrayList<>();
    level.forEach((name, cl) -> {
      if (!name.equals("help")) {
        all.add(prefix + name);
        all.addAll(commands(cl.getSubcommands(), prefix + name + " "));
      }
    });
    return all;
  }

  @Test
  void everyCommandsHelpRendersWithoutFormatWarnings() {
    List<String> commands = commands(new CommandLine(new Main()).getSubcommands(), "");
    assertTrue(commands.size() >= 9 && commands.contains("bench train"), "commands: " + commands);
    for (String name : commands) {
      String[] args = (name + " --help").split(" ");
      CliRun.Outcome o = CliRun.run(args);
      assertEquals(0, o.code(), name);
      assertFalse(o.err().contains("WARN") || o.out().contains("%n"), name + ": " + o.err());
      assertTrue(o.out().contains("Usage: addernet " + name), name + ": " + o.out());
    }
  }

  @Test
  void everyCommandThatWritesDocumentsForce() {
    for (String name : List.of("train", "quantize", "generate", "cosim", "synth", "energy", "report", "bench train")) {
      CliRun.Outcome o = CliRun.run((name + " --help").split(" "));
      assertTrue(o.out().contains("--force"), name + " --help does not document --force:\n" + o.out());
    }
  }
}
