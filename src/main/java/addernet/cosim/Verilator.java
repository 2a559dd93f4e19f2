package addernet.cosim;

import addernet.tool.ExternalTool;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Finds Verilator and runs it. */
public final class Verilator {
  private Verilator() {}

  /** The verilator executable on PATH, or a one-line error that says how to get it. */
  public static Path executable() {
    return ExternalTool.find("verilator", "verilator");
  }

  public static String version() {
    return ExternalTool.require(List.of(executable().toString(), "--version"), null, 5, null)
        .output().strip();
  }

  /**
   * Lints Verilog sources with every warning on; returns Verilator's complaints, empty if clean.
   * Verilator reads copies in a private folder, by their plain names: it would substitute
   * environment variables in a path such as {@code h$HOME/Mesh.sv} and lint another folder.
   */
  public static String lint(Path dir, List<String> sources, String top) {
    List<String> cmd = new ArrayList<>(List.of(executable().toString(), "--lint-only", "-Wall"));
    cmd.add("--top-module");
    cmd.add(top);
    try (addernet.tool.PrivateDir work = addernet.tool.PrivateDir.create("addernet-lint-")) {
      for (String s : sources) {
        cmd.add(work.copyIn(dir.resolve(s), s).toString());
      }
      ExternalTool.Result r = ExternalTool.run(cmd, work.path(), 30);
      if (r.code() == 0) {
        return "";
      }
      try {
        java.nio.file.Files.deleteIfExists(r.log()); // the complaints are returned, not kept
      } catch (java.io.IOException e) {
        // a left-over log in the temporary folder harms nothing
      }
      // The copies' folder is gone once this returns: the complaints name the user's files.
      return r.output().replace(work.path() + "/", dir.toAbsolutePath() + "/");
    }
  }
}
