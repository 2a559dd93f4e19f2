package addernet.cosim;

import addernet.io.UserError;
import addernet.tool.ExternalTool;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
    ExternalTool.Result r = ExternalTool.run(cmd, dir, 30);
    return r.code() == 0 ? "" : r.output();
  }

  static String run(List<String> cmd, Path dir) {
    ExternalTool.Result r = ExternalTool.run(cmd, dir, 30);
    if (r.code() != 0) {
      throw new IllegalStateException(
          String.join(" ", cmd) + " failed with exit code " + r.code() + ":\n" + ExternalTool.tail(r.output(), 40));
    }
    return r.output();
  }
}
