package addernet.cosim;

import addernet.tool.ExternalTool;
import addernet.io.UserError;
import addernet.io.Outputs;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
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
 * {@code verilator-build/} beside the RTL. It is rebuilt only when the RTL, the harness, the
 * generated port glue or Verilator itself changes: a SHA-256 of all of them is the stamp.
 */
public final class VerilatorBuild {
  public static final String BUILD_DIR = "verilator-build";
  /** Included by every harness. */
  private static final String COMMON = "/sim/harness.h";

  private VerilatorBuild() {}

  public static Path build(
      Path rtlDir, List<String> sources, String top, String harnessResource, String portsHeader) {
    Path verilator = Verilator.executable();
    String harness = resource(harnessResource);
    String common = resource(COMMON);
    String harnessFile = Path.of(harnessResource).getFileName().toString();
    Path build = rtlDir.resolve(BUILD_DIR).toAbsolutePath();
    Path exe = build.resolve("harness");
    Path stamp = build.resolve("stamp");
    try {
      String hash = hash(rtlDir, sources, harness, common, portsHeader, Verilator.version());
      if (Files.isExecutable(exe)
          && Files.isRegularFile(stamp)
          && Files.readString(stamp).strip().equals(hash)) {
        return exe;
      }
      Outputs.deleteTree(build);
      Files.createDirectories(build);
      Files.writeString(build.resolve(harnessFile), harness);
      Files.writeString(build.resolve("harness.h"), common);
      Files.writeString(build.resolve("ports.h"), portsHeader);
      List<String> cmd = new ArrayList<>();
      cmd.add(verilator.toString());
      cmd.addAll(
          List.of(
              "--cc", "--exe", "--build", "-j", "2",
              "--trace-fst", // built in, switched on only to record a failing run
              "--x-assign", "fast", "--x-initial", "fast",
              "-Wno-fatal", // lint is its own check; a warning must not stop a simulation
              "--prefix", "Vtop", "--top-module", top,
              "-Mdir", build.toString(), "-o", "harness",
              "-CFLAGS", "-O1",
              build.resolve(harnessFile).toString()));
      for (String src : sources) {
        cmd.add(rtlDir.resolve(src).toAbsolutePath().toString());
      }
      ExternalTool.Result r = ExternalTool.run(cmd, build, 30);
      Files.writeString(build.resolve("build.log"), r.output());
      if (r.code() != 0 || !Files.isExecutable(exe)) {
        throw new UserError(
            "building the Verilator harness failed (log: " + build.resolve("build.log") + "):\n"
                + ExternalTool.tail(r.output(), 30));
      }
      Files.writeString(stamp, hash + "\n");
      return exe;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot build the harness in " + build, e);
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
