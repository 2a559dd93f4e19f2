package addernet.gen;

import addernet.quant.PeOp;
import addernet.io.NewFolder;
import addernet.io.UserError;
import addernet.fpga.FpgaFlow;
import addernet.fpga.MeshShell;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Emits the bare systolic array as Verilog through the Chisel generator in {@code hw/}, together
 * with {@code array.json} (the config it was built from), which co-simulation reads back.
 */
public final class ArrayGenerator {
  public static final String CONFIG_FILE = "array.json";
  /** array.json's layout and words (docs/accelerator.md, "array.json"). */
  public static final int FORMAT_VERSION = 2;
  public static final String TOP = "Mesh";
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ArrayGenerator() {}

  /** Writes the array's Verilog and {@code array.json} as the new folder {@code out}, all or nothing. */
  public static void generate(ArrayConfig cfg, Path out) {
    NewFolder.writeOrRefuse(out, dir -> writeInto(cfg, dir));
  }

  /** As {@link #generate}, into the existing, empty folder {@code dir}, for a command that claims it. */
  public static void writeInto(ArrayConfig cfg, Path dir) throws IOException {
    addernet.hw.Generate.mesh(
        cfg.rows(), cfg.cols(), cfg.dataBits(), cfg.accBits(), cfg.op().word(), dir.toString());
    List<String> sources = verilogSources(dir);
    if (sources.isEmpty()) {
      throw new IOException("the Chisel generator wrote no Verilog");
    }
    JSON.writeValue(dir.resolve(CONFIG_FILE).toFile(), ArrayManifest.of(cfg, sources));
    Files.createDirectories(dir.resolve(FpgaFlow.DIR));
    Files.writeString(
        dir.resolve(MeshShell.FILE),
        MeshShell.verilog(Files.readString(dir.resolve(TOP + ".sv")), TOP));
    List<String> fpgaSources = new ArrayList<>(sources);
    fpgaSources.add(MeshShell.FILE);
    FpgaFlow.write(
        dir,
        new FpgaFlow.Design(
            "mesh" + cfg.rows() + "x" + cfg.cols() + "_" + cfg.op().word(), MeshShell.TOP,
            fpgaSources, List.of()));
    FolderFiles.record(dir, CONFIG_FILE); // last: it hashes everything written above
  }

  /**
   * Reads and re-validates the config of a generated folder: every field, and every source a
   * plain file inside the folder (docs/accelerator.md, "array.json").
   */
  public static ArrayManifest read(Path rtlDir) {
    ArrayManifest m = ManifestReader.read(rtlDir, CONFIG_FILE, ArrayManifest.class,
        "generate it with: addernet generate --rows R --cols C --out " + rtlDir);
    Path file = rtlDir.resolve(CONFIG_FILE);
    if (m.formatVersion() != FORMAT_VERSION) {
      throw new UserError(file + ": field formatVersion: expected " + FORMAT_VERSION
          + " (what this version writes), got " + m.formatVersion() + "; a folder of another format"
          + " may hold other words, generate it again: addernet generate --rows "
          + m.rows() + " --cols " + m.cols() + " --out " + rtlDir);
    }
    if (!TOP.equals(m.top())) {
      throw ManifestReader.bad(file, "top", "\"" + TOP + "\"", m.top() == null ? "null" : "\"" + m.top() + "\"");
    }
    try {
      m.config();
    } catch (UserError e) {
      throw new UserError(file + " does not describe an array this version builds: " + e.getMessage(), e);
    }
    ManifestReader.files(file, rtlDir, "sources", m.sources());
    return m;
  }

  static List<String> verilogSources(Path dir) throws IOException {
    // firtool's filelist.f gives the modules in dependency order.
    Path list = dir.resolve("filelist.f");
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(list)) {
      String s = line.strip();
      if (!s.isEmpty()) {
        out.add(s);
      }
    }
    return out;
  }

  /** The content of {@code array.json}. */
  public record ArrayManifest(
      int formatVersion,
      String top,
      int rows,
      int cols,
      int dataBits,
      int accBits,
      long maxK,
      String op,
      List<String> sources) {
    static ArrayManifest of(ArrayConfig c, List<String> sources) {
      return new ArrayManifest(
          FORMAT_VERSION, TOP, c.rows(), c.cols(), c.dataBits(), c.accBits(), c.maxK(), c.op().word(), sources);
    }

    public ArrayConfig config() {
      PeOp pe;
      try {
        pe = PeOp.fromWord(op);
      } catch (IllegalArgumentException | NullPointerException e) {
        throw new UserError("op must be adder or multiply, got " + op);
      }
      return new ArrayConfig(rows, cols, dataBits, accBits, maxK, pe);
    }
  }
}
