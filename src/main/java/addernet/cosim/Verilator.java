package addernet.cosim;

import addernet.cli.UserError;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Finds Verilator and runs it. */
public final class Verilator {
  private Verilator() {}

  /** The verilator executable on PATH, or a one-line error that says how to get it. */
  public static Path executable() {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, "verilator");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    throw new UserError(
        "verilator is not installed (not found on PATH); run scripts/setup, which installs"
            + " Debian's verilator package");
  }

  public static String version() {
    return run(List.of(executable().toString(), "--version"), null).strip();
  }

  /** Lints Verilog sources with every warning on; returns Verilator's complaints, empty if clean. */
  public static String lint(Path dir, List<String> sources, String top) {
    List<String> cmd = new ArrayList<>(List.of(executable().toString(), "--lint-only", "-Wall"));
    cmd.add("--top-module");
    cmd.add(top);
    for (String s : sources) {
      cmd.add(dir.resolve(s).toAbsolutePath().toString());
    }
    Result r = exec(cmd, dir);
    return r.code == 0 ? "" : r.output;
  }

  static String run(List<String> cmd, Path dir) {
    Result r = exec(cmd, dir);
    if (r.code != 0) {
      throw new IllegalStateException(
          String.join(" ", cmd) + " failed with exit code " + r.code + ":\n" + tail(r.output, 40));
    }
    return r.output;
  }

  record Result(int code, String output) {}

  static Result exec(List<String> cmd, Path dir) {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    try {
      Process p = pb.start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(30, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", cmd) + " did not finish in 30 minutes");
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UserError("cannot run " + cmd.get(0) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + cmd.get(0), e);
    }
  }

  static String tail(String text, int lines) {
    String[] all = text.split("\n");
    int from = Math.max(0, all.length - lines);
    return String.join("\n", java.util.Arrays.asList(all).subList(from, all.length));
  }
}
