package addernet.cosim;

import addernet.tool.ExternalTool;
import addernet.tool.ToolFailure;
import addernet.io.UserError;
import addernet.tool.PrivateDir;
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
 * Builds a Verilator executable from generated RTL and one of the harnesses in {@code sim/}, in
 * this user's build cache ({@code $XDG_CACHE_HOME/addernet/verilator/}, else {@code
 * ~/.cache/addernet/verilator/}, rwx------), never in the RTL folder: a folder received from
 * someone else may carry an executable of theirs, and nothing found in it is run. The sources are
 * copied into a private build folder and Verilator is handed only those copies (it substitutes
 * {@code $VAR} in the file names it is given, so a folder named {@code h$HOME} would otherwise
 * be read as another folder). The executable lives under the SHA-256 of exactly what was copied,
 * with the harness, the port glue, the macros and Verilator's version: it is reused only for the
 * same bytes and rebuilt for any change.
 */
public final class VerilatorBuild {
  /** Included by every harness. */
  private static final String COMMON = "/sim/harness.h";
  private static final String BUILD_PREFIX = "build-";

  private VerilatorBuild() {}

  /** This user's Verilator cache folder, created rwx------ (and checked to be so). */
  public static Path cacheDir() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute()
        ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    Path dir = base.resolve("addernet").resolve("verilator").toAbsolutePath().normalize();
    PrivateDir.requireSafePath(dir, "the Verilator build cache");
    PrivateDir.ownerOnlyFolder(dir.getParent());
    return PrivateDir.ownerOnlyFolder(dir);
  }

  public static Path build(
      Path rtlDir, List<String> sources, String top, String harnessResource, String portsHeader) {
    return build(rtlDir, sources, top, harnessResource, portsHeader, List.of());
  }

  /**
   * As {@link #build(Path, List, String, String, String)}, with Verilog macros {@code defines}
   * ({@code NAME=VALUE}) set for the model (the board shell's fast build sets its UART divisor so).
   */
  public static Path build(Path rtlDir, List<String> sources, String top, String harnessResource,
      String portsHeader, List<String> defines) {
    return build(rtlDir, sources, top, harnessResource, portsHeader, defines, java.util.Map.of());
  }

  /**
   * As above, with {@code extraFiles} (name to text) beside the harness for it to include: the
   * folder's C driver, which the AXI4-Lite harness compiles in as shipped.
   */
  public static Path build(Path rtlDir, List<String> sources, String top, String harnessResource,
      String portsHeader, List<String> defines, java.util.Map<String, String> extraFiles) {
    Path verilator = Verilator.executable();
    String harness = resource(harnessResource);
    String common = resource(COMMON);
    String harnessFile = Path.of(harnessResource).getFileName().toString();
    Path cache = cacheDir();
    try (PrivateDir work = PrivateDir.create(cache, BUILD_PREFIX)) {
      // The copies, not the user's files, are hashed and compiled: the executable is built from
      // exactly the bytes its name says, whatever happens to the folder meanwhile.
      List<String> copied = new ArrayList<>();
      for (String src : sources) {
        Path copy = work.copyIn(rtlDir.resolve(src), "rtl/" + plain(src));
        requireSimulationOnly(copy, rtlDir.resolve(src));
        copied.add(copy.toString());
      }
      List<String> extra = new ArrayList<>(List.of(harness, common, portsHeader, Verilator.version(),
          String.join(" ", defines), top));
      for (var e : new java.util.TreeMap<>(extraFiles).entrySet()) {
        extra.add(e.getKey());
        extra.add(e.getValue());
      }
      String hash = hash(work.path().resolve("rtl"), sources.stream().map(VerilatorBuild::plain).toList(),
          extra.toArray(new String[0]));
      Path build = cache.resolve(hash);
      Path exe = build.resolve("harness");
      if (Files.isRegularFile(exe, java.nio.file.LinkOption.NOFOLLOW_LINKS) && Files.isExecutable(exe)) {
        return exe;
      }
      PrivateDir.ownerOnlyFolder(build);
      work.write(harnessFile, harness);
      work.write("harness.h", common);
      work.write("ports.h", portsHeader);
      for (var e : extraFiles.entrySet()) {
        if (!PrivateDir.SAFE_NAME.matcher(e.getKey()).matches()) {
          throw new IllegalArgumentException("harness file name " + e.getKey());
        }
        work.write(e.getKey(), e.getValue());
      }
      Path obj = work.path().resolve("obj");
      Path tmp = Files.createDirectories(work.path().resolve("tmp"));
      List<String> cmd = new ArrayList<>();
      cmd.add(verilator.toString());
      cmd.addAll(
          List.of(
              "--cc", "--exe", "--build", "-j", "2",
              "--trace-fst", // built in, switched on only to record a failing run
              "--x-assign", "fast", "--x-initial", "fast",
              "-Wno-fatal", // lint is its own check; a warning must not stop a simulation
              "--prefix", "Vtop", "--top-module", top,
              "-Mdir", obj.toString(), "-o", "harness",
              "-CFLAGS", "-O1",
              work.path().resolve(harnessFile).toString()));
      for (String d : defines) {
        cmd.add("+define+" + d);
      }
      cmd.addAll(copied);
      lastCommand = List.copyOf(cmd);
      Path log = build.resolve("build.log");
      ExternalTool.Result r = ExternalTool.run(cmd, work.path(), 30, log, tmp);
      Path built = obj.resolve("harness");
      if (r.code() != 0 || !Files.isExecutable(built)) {
        throw new ToolFailure("verilator", "could not build the harness ("
            + ExternalTool.exitStatus(r.code()) + ")", ExternalTool.lastLines(r.output(), 3), log);
      }
      Path part = build.resolve("harness.tmp");
      Files.copy(built, part, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
      Files.move(part, exe, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return exe;
    } catch (IOException e) {
      throw new UserError("cannot build the Verilator harness in " + cache + ": " + e.getMessage(), e);
    }
  }

  /**
   * What Verilog may not use in a model this machine builds and runs: Verilator compiles {@code
   * $c(...)} and {@code `systemc_*} blocks as C++, DPI imports call C, {@code $system} runs a
   * command, and {@code $fopen}, {@code $writemem*} and {@code $dump*} write files wherever
   * they name; {@code `include} would read a file outside the checked sources. The generator
   * writes none of them, so the words are refused wherever they appear, comments included.
   */
  private static final java.util.regex.Pattern HOST_ACCESS = java.util.regex.Pattern.compile(
      "\\$(?:system|c|fopen|writememh|writememb|dumpfile|dumpvars|dumpports)\\b"
          + "|\\b(?:import|export)\\s*\"DPI|`(?:systemc_\\w*|verilog|include)\\b");

  /** Refuses a source that could reach outside the simulation ({@link #HOST_ACCESS}). */
  static void requireSimulationOnly(Path copy, Path original) throws IOException {
    List<String> lines = Files.readAllLines(copy, StandardCharsets.ISO_8859_1);
    for (int i = 0; i < lines.size(); i++) {
      java.util.regex.Matcher m = HOST_ACCESS.matcher(lines.get(i));
      if (m.find()) {
        throw new UserError(original + " line " + (i + 1) + " uses " + m.group()
            + ", which would run code or touch files outside the simulation; generate writes no"
            + " such RTL, so this is not a folder cosim runs: generate it again");
      }
    }
  }

  /** The last Verilator command line this JVM ran, to show what the tool was handed. */
  static volatile List<String> lastCommand = List.of();

  private static String plain(String name) {
    return name.startsWith("./") ? name.substring(2) : name;
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
