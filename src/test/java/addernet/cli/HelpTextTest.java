package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command's --help renders cleanly: picocli treats a lone % as a format specifier. */
class HelpTextTest {
  @Test
  void everyCommandsHelpRendersWithoutFormatWarnings() {
    var commands = new CommandLine(new Main()).getSubcommands();
    assertTrue(commands.size() >= 8, "commands: " + commands.keySet());
    for (String name : commands.keySet()) {
      if (name.equals("help")) {
        continue;
      }
      CliRun.Outcome o = CliRun.run(name, "--help");
      assertEquals(0, o.code(), name);
      assertFalse(o.err().contains("WARN") || o.out().contains("%n"), name + ": " + o.err());
      assertTrue(o.out().contains("Usage: addernet " + name), name + ": " + o.out());
    }
  }
}
