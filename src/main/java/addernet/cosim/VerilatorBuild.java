package addernet.cosim;

import addernet.tool.ExternalTool;
import addernet.tool.ToolFailure;
import addernet.io.UserError;
import addernet.io.Outputs;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.StandardCopyOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Builds a Verilator executable from generated RTL and one of the harnesses in {@code sim/}, into
 * {@code verilator-build/} beside the RTL (built in a temporary folder, since Verilator's make
 * cannot build under a path with spaces). It is rebuilt only when the RTL, the harness, the
 * generated port glue or Verilator itself changes: a SHA-256 of all of them is the stamp.
 */
public final class VerilatorBuild {
  public static final String BUILD_DIR = "verilator-build";
  /** Included by every harness. */
  private static final String COMMON = "/sim/harness.h";

  private VerilatorBuild() {}

  public static Path build(
      Path rtlDir, List<String> sources, String top, String harnessResource, String portsHeader) {
    return build(rtlDir, sources, top, harnessResource, portsHeader, BUILD_DIR, List.of());
  }

  /**
   * As {@link #build(Path, List, String, String, String)}, into {@code buildDir} beside the RTL,
   * with Verilog macros {@code defines} ({@code NAME=VALUE}) set for the model (the board shell's
   * fast build sets its UART divisor so).
   */
  public static Path build(Path rtlDir, List<String> sources, String top, String harnessResource,
      String portsHeader, String buildDir, List<String> defines) {
    return build(rtlDir, sources, top, harnessResource, portsHeader, buildDir, defines, java.util.Map.of());
  }

  /**
   * As above, with {@code extraFiles} (name to text) beside the harness for it to include: the
   * folder's C driver, which the AXI4-Lite harness compiles in as shipped.
   */
  public static Path build(Path rtlDir, List<String> sources, String top, String harnessResource,
      String portsHeader, String buildDir, List<String> defines, java.util.Map<String, String> extraFiles) {
    Path verilator = Verilator.executable();
    String harness = resource(harnessResource);
    String common = resource(COMMON);
    String harnessFile = Path.of(harnessResource).getFileName().toString();
    Path build = rtlDir.resolve(buildDir).toAbsolutePath();
    Path exe = build.resolve("harness");
    Path stamp = build.resolve("stamp");
    Path work = null;
    try {
      List<String> extra = new ArrayList<>(List.of(harness, common, portsHeader, Verilator.version(),
          String.join(" ", defines)));
      for (var e : new java.util.TreeMap<>(extraFiles).entrySet()) {
        extra.add(e.getKey());
        extra.add(e.getValue());
      }
      String hash = hash(rtlDir, sources, extra.toArray(new String[0]));
      if (Files.isExecutable(exe)
          && Files.isRegularFile(stamp)
          && Files.readString(stamp).strip().equals(hash)) {
        return exe;
      }
      Outputs.deleteTree(build);
      Files.createDirectories(build);
      // Verilator's make refuses to build in a folder whose path has a space, and the user's
      // folder may have one: the build runs in a temporary folder and only the harness moves in.
      work = Files.createTempDirectory("addernet-verilator-");
      if (work.toString().chars().anyMatch(Character::isWhitespace)) {
        throw new UserError("Verilator cannot build in " + work + " (its make refuses paths with"
            + " spaces); set TMPDIR to a folder without spaces");
      }
      for (Path dir : List.of(work, build)) {
        Files.writeString(dir.resolve(harnessFile), harness);
        Files.writeString(dir.resolve("harness.h"), common);
        Files.writeString(dir.resolve("ports.h"), portsHeader);
        for (var e : extraFiles.entrySet()) {
          Files.writeString(dir.resolve(e.getKey()), e.getValue());
        }
      }
      List<String> cmd = new ArrayList<>();
      cmd.add(verilator.toString());
      cmd.addAll(
          List.of(
              "--cc", "--exe", "--build", "-j", "2",
              "--trace-fst", // built in, switched on only to record a failing run
              "--x-assign", "fast", "--x-initial", "fast",
              "-Wno-fatal", // lint is its own check; a warning must not stop a simulation
              "--prefix", "Vtop", "--top-module", top,
              "-Mdir", work.toString(), "-o", "harness",
              "-CFLAGS", "-O1",
              work.resolve(harnessFile).toString()));
      for (String d : defines) {
        cmd.add("+define+" + d);
      }
      for (String src : sources) {
        cmd.add(rtlDir.resolve(src).toAbsolutePath().toString());
      }
      Path log = build.resolve("build.log");
      ExternalTool.Result r = ExternalTool.run(cmd, work, 30, log);
      Path built = work.resolve("harness");
      if (r.code() != 0 || !Files.isExecutable(built)) {
        throw new ToolFailure("verilator", "could not build the harness ("
            + ExternalTool.exitStatus(r.code()) + ")", ExternalTool.lastLines(r.output(), 3), log);
      }
      Path tmp = build.resolve("harness.tmp");
      Files.copy(built, tmp, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
      Files.move(tmp, exe, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      Files.writeString(stamp, hash + "\n");
      return exe;
    } catch (IOException e) {
      throw new UserError("cannot build the Verilator harness in " + build + ": " + e.getMessage(), e);
    } finally {
      if (work != null) {
        try {
          Outputs.deleteTree(work);
        } catch (IOException e) {
          // a left-over build in the temporary folder harms nothing
        }
      }
    }
  }

  private static String hash(Path dir, List<String> sources, String... extra) throws IOException {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (String src : sources) {
        md.update(src.getBytes(StandardCharsets.UTF_8));
        md.update(Files.readAllBytes(dir.resolve(src)));
      }
      for (String e : extra) {
        md.update(e.getBytes(StandardCharsets.UTF_8));
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  static String resource(String name) {
    try (InputStream in = VerilatorBuild.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
