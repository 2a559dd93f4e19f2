package addernet.torch;

import addernet.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs the launcher in-process and keeps what it printed on stderr. */
final class Cli {
  record Outcome(int code, String err) {}

  private Cli() {}

  static Outcome run(String... args) {
    PrintStream oldErr = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      return new Outcome(Main.run(args), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(oldErr);
    }
  }
}
