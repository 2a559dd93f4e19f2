package addernet.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import addernet.cli.CliRun;

/** What the three fuzz suites share: running the launcher in-process and judging its answer. */
final class FuzzSupport {
  private FuzzSupport() {}

  /** Runs {@code addernet ARGS} in this JVM with stdout and stderr captured. */
  static CliRun.Outcome cli(String... args) {
    return CliRun.run(args);
  }

  /**
   * The project's rule for a user-caused failure: exit 2, exactly one {@code error:} line on
   * stderr, no stack trace. Returns that line.
   */
  static String assertUserError(CliRun.Outcome o, String... mustContain) {
    String context = "exit " + o.code() + ", stderr:\n" + o.err();
    assertEquals(2, o.code(), context);
    List<String> errors = o.err().lines().filter(l -> l.startsWith("error:")).toList();
    assertEquals(1, errors.size(), context);
    assertFalse(o.err().contains("\tat ") || o.err().contains("Caused by:")
        || o.err().matches("(?s).*\\b[a-z]+(\\.[a-z]+)+\\.[A-Z]\\w*(Exception|Error)\\b.*"), context);
    for (String s : mustContain) {
      assertTrue(errors.get(0).contains(s), "'" + s + "' not in: " + errors.get(0));
    }
    return errors.get(0);
  }

  /** A one-line message that names {@code where} (a file, usually). */
  static void assertOneLineNaming(Throwable e, String where) {
    String m = e.getMessage();
    if (m == null || m.contains("\n") || m.contains("\r") || !m.contains(where)) {
      fail("message must be one line naming " + where + ", got: " + m, e);
    }
  }

  /** Every regular file under {@code dir} with its SHA-256, to tell that nothing changed. */
  static Map<String, String> snapshot(Path dir) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(Files::isRegularFile).toList()) {
        out.put(dir.relativize(p).toString(), sha256(Files.readAllBytes(p)));
      }
    }
    return out;
  }

  static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
