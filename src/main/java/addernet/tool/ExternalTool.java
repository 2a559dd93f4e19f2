package addernet.tool;

import addernet.io.UserError;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one of the external tools (Verilator, yosys, make, nextpnr) with its output in a log file,
 * and turns every way it can fail into one line: which tool, how it ended, its last lines and
 * where the log is. The process and everything it starts end with this JVM ({@link
 * ChildProcesses}).
 */
public final class ExternalTool {
  /** How the tool ended, what it printed (the log's last MiB at most) and the log, if kept. */
  public record Result(int code, String output, Path log) {}

  /** Enough of a log for any message or parser here; a runaway tool's log is not read whole. */
  private static final int MAX_OUTPUT = 1 << 20;

  private static final Map<Integer, String> SIGNALS = Map.of(
      1, "SIGHUP", 2, "SIGINT", 4, "SIGILL", 6, "SIGABRT", 7, "SIGBUS", 8, "SIGFPE",
      9, "SIGKILL", 11, "SIGSEGV", 13, "SIGPIPE", 15, "SIGTERM");

  private ExternalTool() {}

  /**
   * {@code exe} on PATH, or a one-line error naming the Debian package that has it (scripts/setup
   * installs every one the project uses).
   */
  public static Path find(String exe, String debianPackage) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, exe);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    throw new UserError(exe + " is not installed (not found on PATH); it is in Debian's "
        + debianPackage + " package, which scripts/setup installs");
  }

  /**
   * Runs {@code cmd} in {@code dir} (null: the current folder), stdout and stderr together, into a
   * temporary log that is removed when the tool succeeds and kept (and named) when it fails.
   */
  public static Result run(List<String> cmd, Path dir, int minutes) {
    Path log;
    try {
      log = Files.createTempFile("addernet-" + Path.of(cmd.get(0)).getFileName() + "-", ".log");
    } catch (IOException e) {
      throw new UserError("cannot create a log file for " + cmd.get(0) + " in "
          + System.getProperty("java.io.tmpdir") + ": " + e.getMessage(), e);
    }
    Result r = run(cmd, dir, minutes, log);
    if (r.code() == 0) {
      try {
        Files.deleteIfExists(log);
      } catch (IOException e) {
        // a left-over log in the temporary folder harms nothing
      }
      return new Result(0, r.output(), null);
    }
    return r;
  }

  /** As {@link #run(List, Path, int)}, with the output in {@code log} (replaced, always kept). */
  public static Result run(List<String> cmd, Path dir, int minutes, Path log) {
    return run(cmd, dir, java.time.Duration.ofMinutes(minutes), log);
  }

  /**
   * As {@link #run(List, Path, int, Path)}, with the tool's temporary files in {@code tmp}
   * (TMPDIR): yosys' ABC folders and the compilers' files then go where the caller deletes them.
   */
  public static Result run(List<String> cmd, Path dir, int minutes, Path log, Path tmp) {
    return run(cmd, dir, java.time.Duration.ofMinutes(minutes), log, tmp);
  }

  /** As {@link #run(List, Path, int, Path)}, with any time-out (tests use seconds). */
  static Result run(List<String> cmd, Path dir, java.time.Duration timeout, Path log) {
    return run(cmd, dir, timeout, log, null);
  }

  private static Result run(List<String> cmd, Path dir, java.time.Duration timeout, Path log, Path tmp) {
    String tool = Path.of(cmd.get(0)).getFileName().toString();
    ProcessBuilder pb = new ProcessBuilder(cmd)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    if (tmp != null) {
      pb.environment().put("TMPDIR", tmp.toString());
    }
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    Process p;
    try {
      p = ChildProcesses.startInOwnGroup(pb);
    } catch (IOException e) {
      throw new UserError("cannot run " + tool + ": " + e.getMessage(), e);
    }
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        ChildProcesses.destroyTree(p);
        String limit = timeout.toMinutes() > 0 && timeout.toSecondsPart() == 0
            ? timeout.toMinutes() + " minutes" : timeout.toSeconds() + " s";
        throw new ToolFailure(tool, "did not finish in " + limit + " and was stopped",
            lastLines(readLog(log), 3), log);
      }
    } catch (InterruptedException e) {
      ChildProcesses.destroyTree(p);
      Thread.currentThread().interrupt();
      throw new ToolFailure(tool, "was stopped (interrupted)", lastLines(readLog(log), 3), log);
    }
    ChildProcesses.release(p);
    return new Result(p.exitValue(), readLog(log), log);
  }

  /** Runs {@code cmd} and refuses anything but exit status 0 with a {@link ToolFailure}. */
  public static Result require(List<String> cmd, Path dir, int minutes, Path log) {
    Result r = log == null ? run(cmd, dir, minutes) : run(cmd, dir, minutes, log);
    if (r.code() != 0) {
      throw failure(cmd, r);
    }
    return r;
  }

  /** The one-line failure for a tool that ended with a non-zero status. */
  public static ToolFailure failure(List<String> cmd, Result r) {
    return new ToolFailure(Path.of(cmd.get(0)).getFileName().toString(),
        "failed (" + exitStatus(r.code()) + ")", lastLines(r.output(), 3), r.log());
  }

  /**
   * How a process ended, from Java's exit value: a process killed by signal N reports 128 + N
   * (the shell's convention, which the JDK follows on Linux).
   */
  public static String exitStatus(int code) {
    if (code > 128 && code < 160) {
      int sig = code - 128;
      return "killed by signal " + sig + (SIGNALS.containsKey(sig) ? " (" + SIGNALS.get(sig) + ")" : "");
    }
    return "exit status " + code;
  }

  /** The last {@code lines} non-blank lines of a tool's output, as one line. */
  public static String lastLines(String text, int lines) {
    List<String> kept = new ArrayList<>();
    for (String l : text.split("\n")) {
      if (!l.isBlank()) {
        kept.add(l.strip());
      }
    }
    String joined = String.join(" | ", kept.subList(Math.max(0, kept.size() - lines), kept.size()));
    return joined.length() > 400 ? "..." + joined.substring(joined.length() - 400) : joined;
  }

  /** The last {@code lines} lines of a tool's output, for a parser or a longer report. */
  public static String tail(String text, int lines) {
    String[] all = text.split("\n");
    int from = Math.max(0, all.length - lines);
    return String.join("\n", Arrays.asList(all).subList(from, all.length));
  }

  /** The log's text, its last {@link #MAX_OUTPUT} bytes if longer; empty if it is unreadable. */
  static String readLog(Path log) {
    try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
      long len = f.length();
      long from = Math.max(0, len - MAX_OUTPUT);
      byte[] b = new byte[(int) (len - from)];
      f.seek(from);
      f.readFully(b);
      return new String(b, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
