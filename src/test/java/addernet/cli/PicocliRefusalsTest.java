package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cli.CliRun.Outcome;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What picocli refuses on its own reads like every other user error: one "error:" line, status 2. */
class PicocliRefusalsTest {
  @TempDir Path tmp;

  private static void assertOneErrorLine(Outcome o, String... parts) {
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().startsWith("error: "), o.err());
    assertEquals(1, o.err().strip().lines().count(), o.err());
    assertFalse(o.err().contains("Usage:"), "a hint, not the whole usage: " + o.err());
    for (String p : parts) {
      assertTrue(o.err().contains(p), p + " in " + o.err());
    }
  }

  @Test
  void aValueOfTheWrongTypeIsOneErrorLineNamingTheFlagAndTheValue() {
    Outcome o = CliRun.run("generate", "--rows", "2.5", "--cols", "2", "--out", tmp.resolve("rtl").toString());
    assertOneErrorLine(o, "--rows", "'2.5' is not an int", "addernet generate --help");
  }

  @Test
  void anOptionGivenTwiceIsOneErrorLineNamingTheFlag() {
    Outcome o = CliRun.run("generate", "--rows", "2", "--rows", "3", "--cols", "2", "--out",
        tmp.resolve("rtl").toString());
    assertOneErrorLine(o, "--rows", "only once");
  }

  @Test
  void anUnknownOptionIsOneErrorLineWithASuggestion() {
    Outcome o = CliRun.run("generate", "--rowz", "2", "--cols", "2", "--out", tmp.resolve("rtl").toString());
    assertOneErrorLine(o, "--rowz", "did you mean");
  }

  @Test
  void noSubcommandIsOneErrorLine() {
    assertOneErrorLine(CliRun.run(), "a subcommand is required", "'addernet --help'");
  }
}
