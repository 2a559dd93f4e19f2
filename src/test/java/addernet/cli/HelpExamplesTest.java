package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The examples in every command's --help are command lines the launcher accepts as written. */
class HelpExamplesTest {
  /** Every "addernet ..." line of the commands' descriptions, continuation lines joined. */
  static List<List<String>> examples() {
    List<List<String>> all = new ArrayList<>();
    CommandLine main = new CommandLine(new Main());
    for (Map.Entry<String, CommandLine> e : main.getSubcommands().entrySet()) {
      collect(e.getValue(), all);
    }
    return all;
  }

  private static void collect(CommandLine cmd, List<List<String>> into) {
    String pending = null;
    for (String line : cmd.getCommandSpec().usageMessage().description()) {
      String t = line.strip();
      if (t.startsWith("Example:")) {
        t = t.substring("Example:".length()).strip();
      }
      if (pending != null) {
        t = pending + " " + t;
        pending = null;
      } else if (!t.startsWith("addernet ")) {
        continue;
      }
      if (t.endsWith("\\")) {
        pending = t.substring(0, t.length() - 1).strip();
        continue;
      }
      // A trailing "(...)" says what the example is for; it is not part of the command.
      int note = t.indexOf("   (");
      if (note > 0) {
        t = t.substring(0, note);
      }
      into.add(List.of(t.substring("addernet ".length()).strip().split("\\s+")));
    }
    for (CommandLine sub : cmd.getSubcommands().values()) {
      collect(sub, into);
    }
  }

  @Test
  void thereAreExamplesToCheck() {
    assertTrue(examples().size() >= 10, examples().toString());
  }

  @Test
  void everyExampleParsesWithTheOptionsItsCommandHas() {
    for (List<String> ex : examples()) {
      CommandLine fresh = new CommandLine(new Main());
      assertDoesNotThrow(() -> fresh.parseArgs(ex.toArray(String[]::new)), "addernet " + String.join(" ", ex));
      for (int i = 0; i < ex.size(); i++) {
        String w = ex.get(i);
        boolean output = i > 0 && ex.get(i - 1).equals("--out");
        if (w.startsWith("model/")) {
          // What an example reads from model/ is shipped; what it writes never goes there, since
          // the output rule keeps the shipped models from being replaced.
          assertFalse(output, "addernet " + String.join(" ", ex) + ": --out into the shipped models");
          assertTrue(java.nio.file.Files.exists(java.nio.file.Path.of(w)), "addernet " + String.join(" ", ex)
              + ": " + w + " is not shipped");
        }
      }
    }
  }
}
