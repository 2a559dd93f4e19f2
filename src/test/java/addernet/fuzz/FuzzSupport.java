package addernet.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** What the three fuzz suites share: running the launcher in-process and judging its answer. */
final class FuzzSupport {
  record Outcome(int code, String out, String err) {}

  private FuzzSupport() {}

  /** Runs {@code addernet ARGS} in this JVM with stdout and stderr captured. */
  static Outcome cli(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = addernet.cli.Main.run(args);
      return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  /**
   * The project's rule for a user-caused failure: exit 2, exactly one {@code error:} line on
   * stderr, no stack trace. Returns that line.
   */
  static String assertUserError(Outcome o, String... mustContain) {
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
