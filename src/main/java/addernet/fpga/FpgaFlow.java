package addernet.fpga;

import addernet.io.UserError;
import addernet.tool.ExternalTool;
import addernet.tool.ToolFailure;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The open iCE40 flow a generated folder carries: {@code fpga/Makefile} (yosys, nextpnr-ice40,
 * icepack, all from Debian), one pin file per supported part (the board clock is the only pin
 * that matters; the rest are placed freely), and {@code addernet.core} for FuseSoC users. The
 * Java side runs the same Makefile, written afresh from the folder's design into a private
 * folder with copies of the sources ({@link #designOf}), so what is reported is what a user's
 * {@code make} does, and nothing a received folder carries is executed.
 */
public final class FpgaFlow {
  public static final String DIR = "fpga";
  public static final String CORE = "addernet.core";
  public static final int DEFAULT_MHZ = 12; // the oscillator of every board in Ice40Device
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * What a flow builds: the top for the FPGA and the files it reads (relative to the folder);
   * {@code board} is null for a design placed on any part with only its clock pinned, else the
   * board whose part and pins the flow uses.
   */
  public record Design(
      String name, String top, List<String> sources, List<String> memFiles, Ice40Device.Board board) {
    public Design(String name, String top, List<String> sources, List<String> memFiles) {
      this(name, top, sources, memFiles, null);
    }

    /** The parts the flow may place on: the board's, or every one. */
    List<Ice40Device> parts() {
      return board == null ? List.of(Ice40Device.values()) : List.of(board.device);
    }
  }

  /** The pin file of a board folder. */
  public static String pinFile(Ice40Device.Board board) {
    return "pins-" + board.id + ".pcf";
  }

  /** One place-and-route result, as read from nextpnr's JSON report. */
  public record PlaceAndRoute(
      String device,
      String pkg,
      double targetMhz,
      double fmaxMhz,
      Map<String, int[]> utilisation,
      String bitstream,
      double seconds) {}

  /** nextpnr packed the design into more cells of some kind than the part has. */
  public static final class DoesNotFit extends RuntimeException {
    public DoesNotFit(String message) {
      super(message);
    }
  }

  private static final Pattern UTILISATION =
      Pattern.compile("Info:\\s+(\\w+):\\s+(\\d+)/\\s*(\\d+)\\s+\\d+%");

  private FpgaFlow() {}

  /** Prefix of the private folders the flow runs in. */
  static final String TEMP_PREFIX = "addernet-fpga-";

  /** Writes {@code fpga/} and the FuseSoC core into {@code dir} (a generated folder). */
  public static void write(Path dir, Design d) throws IOException {
    Path fpga = Files.createDirectories(dir.resolve(DIR));
    for (var e : pinFiles(d).entrySet()) {
      Files.writeString(fpga.resolve(e.getKey()), e.getValue());
    }
    Files.writeString(fpga.resolve("Makefile"), makefile(d));
    Files.writeString(dir.resolve(CORE), core(d));
  }

  /** Pin file name to text: the board's, or one per part with only the clock pinned. */
  static Map<String, String> pinFiles(Design d) {
    Map<String, String> out = new LinkedHashMap<>();
    if (d.board() != null) {
      out.put(pinFile(d.board()), d.board().pcf());
    }
    for (Ice40Device dev : d.board() == null ? List.of(Ice40Device.values()) : List.<Ice40Device>of()) {
      out.put("pins-" + dev.id + ".pcf",
          "# " + dev.id + " (" + dev.pkg + "): the board's 12 MHz oscillator; every other pin is"
              + " placed by nextpnr.\nset_io clock " + dev.clockPin + "\n");
    }
    return out;
  }

  /**
   * The design a folder's {@code fpga/Makefile} builds, read from its TOP, SOURCES, MEMS and PCF
   * lines and nothing else: the flow runs a Makefile written here from these, never the folder's
   * own, which a folder from someone else could fill with any command.
   */
  static Design designOf(Path fpga) throws IOException {
    Path mk = fpga.resolve("Makefile");
    String text = Files.readString(mk);
    String top = variable(text, mk, "TOP :=");
    if (!top.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      throw new UserError(mk + ": TOP must be a Verilog module name, got \"" + top + "\"");
    }
    List<String> sources = names(variable(text, mk, "SOURCES :="), mk, "SOURCES");
    List<String> mems = names(variable(text, mk, "MEMS :="), mk, "MEMS");
    String pcf = variable(text, mk, "PCF ?=");
    Ice40Device.Board board = null;
    if (!pcf.equals("pins-$(DEVICE).pcf")) {
      for (Ice40Device.Board b : Ice40Device.Board.values()) {
        if (pinFile(b).equals(pcf)) {
          board = b;
        }
      }
      if (board == null) {
        throw new UserError(mk + ": PCF must be pins-$(DEVICE).pcf or a board's pin file, got \"" + pcf + "\"");
      }
    }
    return new Design(top, top, sources, mems, board);
  }

  private static String variable(String text, Path mk, String assignment) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(assignment) + " ?(.*)$").matcher(text);
    if (!m.find()) {
      throw new UserError(mk + " has no line " + assignment + " ...; generate the folder again");
    }
    return m.group(1).strip();
  }

  private static List<String> names(String value, Path mk, String var) {
    List<String> out = new ArrayList<>();
    for (String n : value.isEmpty() ? new String[0] : value.split(" +")) {
      String plain = n.startsWith("./") ? n.substring(2) : n;
      if (!addernet.tool.PrivateDir.SAFE_NAME.matcher(plain).matches() || List.of(plain.split("/")).contains("..")) {
        throw new UserError(mk + ": " + var + " must list plain file names of the folder, got \"" + n + "\"");
      }
      out.add(n);
    }
    return out;
  }

  static String makefile(Design d) {
    String srcs = String.join(" ", d.sources());
    String parts = d.board() == null
        ? "#   make -C fpga                      bitstream for the default part\n"
            + "#   make -C fpga DEVICE=up5k PACKAGE=sg48\n"
        : "#   make -C fpga                      bitstream for the " + d.board().id + " ("
            + d.board().device.id + ", " + d.board().device.pkg + ", " + pinFile(d.board()) + ")\n";
    String device = d.board() == null
        ? "DEVICE ?= hx8k\nPACKAGE ?= ct256\nPCF ?= pins-$(DEVICE).pcf\n"
        : "DEVICE ?= " + d.board().device.id + "\nPACKAGE ?= " + d.board().device.pkg + "\nPCF ?= "
            + pinFile(d.board()) + "\n";
    return "# Open iCE40 flow for " + d.top() + ", generated by addernet: yosys -> nextpnr-ice40 ->"
        + " icepack.\n"
        + parts
        + "# Synthesis runs in the folder above, where $readmemh finds the weight ROM images.\n"
        + "# Every output is written under a temporary name and renamed, so a failed step leaves\n"
        + "# nothing half-written.\n"
        + "TOP := " + d.top() + "\n"
        + "SOURCES := " + srcs + "\n"
        + "MEMS := " + String.join(" ", d.memFiles()) + "\n"
        + device + "FREQ ?= " + DEFAULT_MHZ + "\nSEED ?= 1\n\n"
        + "all: $(TOP).bin\n\n"
        + "$(TOP).json: $(addprefix ../,$(SOURCES) $(MEMS))\n"
        + "\tcd .. && yosys -q -l fpga/yosys.log -p 'read_verilog -sv $(SOURCES); synth_ice40 -top"
        + " $(TOP) -json fpga/$@.tmp'\n"
        + "\tmv $@.tmp $@\n\n"
        + "$(TOP).asc: $(TOP).json $(PCF)\n"
        + "\tnextpnr-ice40 --$(DEVICE) --package $(PACKAGE) --freq $(FREQ) --seed $(SEED) --json"
        + " $(TOP).json --pcf $(PCF) --pcf-allow-unconstrained --report"
        + " nextpnr-report.json --log nextpnr.log --asc $@.tmp\n"
        + "\tmv $@.tmp $@\n\n"
        + "$(TOP).bin: $(TOP).asc\n"
        + "\ticepack $< $@.tmp\n"
        + "\tmv $@.tmp $@\n\n"
        + "clean:\n\trm -f $(TOP).json $(TOP).asc $(TOP).bin *.tmp yosys.log nextpnr.log"
        + " nextpnr-report.json\n\n"
        + ".PHONY: all clean\n";
  }

  static String core(Design d) {
    StringBuilder s = new StringBuilder("CAPI=2:\n");
    s.append("# FuseSoC core for ").append(d.name()).append(", generated by addernet.\n");
    s.append("name: addernet:generated:").append(d.name().toLowerCase().replaceAll("[^a-z0-9_]", "_"))
        .append(":1.0.0\n");
    s.append("description: ").append(d.top()).append(" generated by addernet\n\n");
    s.append("filesets:\n  rtl:\n    files:\n");
    for (String f : d.sources()) {
      s.append("      - ").append(f.startsWith("./") ? f.substring(2) : f).append('\n');
    }
    s.append("    file_type: systemVerilogSource\n");
    if (!d.memFiles().isEmpty()) {
      // $readmemh names are relative to the tool's working directory: copy them there.
      s.append("  mem:\n    files:\n");
      for (String m : d.memFiles()) {
        s.append("      - ").append(m).append(": {copyto: ").append(m).append("}\n");
      }
      s.append("    file_type: user\n");
    }
    for (Ice40Device dev : d.parts()) {
      s.append("  pins_").append(dev.id).append(":\n    files: [").append(DIR).append("/")
          .append(d.board() == null ? "pins-" + dev.id + ".pcf" : pinFile(d.board()))
          .append("]\n    file_type: PCF\n");
    }
    s.append("\ntargets:\n  default:\n    filesets: [rtl").append(d.memFiles().isEmpty() ? "" : ", mem")
        .append("]\n    toplevel: ").append(d.top()).append('\n');
    for (Ice40Device dev : d.parts()) {
      s.append("  ice40_").append(dev.id).append(":\n    default_tool: icestorm\n    filesets: [rtl")
          .append(d.memFiles().isEmpty() ? "" : ", mem").append(", pins_").append(dev.id).append("]\n")
          .append("    toplevel: ").append(d.top()).append('\n')
          .append("    tools:\n      icestorm:\n        pnr: next\n        nextpnr_options: [--")
          .append(dev.id).append(", --package, ").append(dev.pkg).append(", --freq, ")
          .append(DEFAULT_MHZ).append(", --pcf-allow-unconstrained]\n");
    }
    return s.toString();
  }

  /** Runs the folder's Makefile for {@code device} and reads what nextpnr achieved. */
  public static PlaceAndRoute run(Path dir, Ice40Device device, int mhz) {
    Path fpga = dir.resolve(DIR);
    if (!Files.isRegularFile(fpga.resolve("Makefile"))) {
      throw new UserError(
          dir + " carries no " + DIR + "/Makefile; regenerate it with this version of addernet");
    }
    // Each tool the Makefile calls, found before make runs, so a missing one is named with its
    // package rather than as make's "command not found" deep in a log.
    Path make = ExternalTool.find("make", "make");
    ExternalTool.find("yosys", "yosys");
    ExternalTool.find("nextpnr-ice40", "nextpnr-ice40");
    ExternalTool.find("icepack", "fpga-icestorm");
    long t0 = System.nanoTime();
    try (addernet.tool.PrivateDir work = addernet.tool.PrivateDir.create(TEMP_PREFIX)) {
      Design d = designOf(fpga);
      for (String f : d.sources()) {
        work.copyIn(dir.resolve(f), f);
      }
      for (String f : d.memFiles()) {
        work.copyIn(dir.resolve(f), f);
      }
      work.write(DIR + "/Makefile", makefile(d));
      for (var e : pinFiles(d).entrySet()) {
        work.write(DIR + "/" + e.getKey(), e.getValue());
      }
      Path built = work.path().resolve(DIR);
      Path tmp = Files.createDirectories(work.path().resolve("tmp"));
      List<String> cmd = new ArrayList<>(List.of(make.toString(), "-C", built.toString(),
          "DEVICE=" + device.id, "PACKAGE=" + device.pkg, "FREQ=" + mhz));
      // A stale bitstream for another part or clock must not survive.
      Files.deleteIfExists(fpga.resolve("nextpnr-report.json"));
      for (String ext : List.of(".asc", ".bin")) {
        try (var s = Files.list(fpga)) {
          for (Path p : s.filter(p -> p.toString().endsWith(ext)).toList()) {
            Files.delete(p);
          }
        }
      }
      Path log = fpga.resolve("make.log");
      ExternalTool.Result r = ExternalTool.run(cmd, null, 60, log, tmp);
      // What make built, and its tools' logs, go where the folder's own Makefile puts them.
      for (String out : List.of("yosys.log", "nextpnr.log", "nextpnr-report.json", d.top() + ".json",
          d.top() + ".asc", d.top() + ".bin")) {
        Path from = built.resolve(out);
        if (Files.isRegularFile(from)) {
          Files.copy(from, fpga.resolve(out), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } else {
          Files.deleteIfExists(fpga.resolve(out));
        }
      }
      if (r.code() != 0) {
        overfull(fpga.resolve("nextpnr.log"), device);
        // make's last lines name the step that failed; that step's own log holds the details.
        Path nextpnrLog = fpga.resolve("nextpnr.log");
        Path yosysLog = fpga.resolve("yosys.log");
        String step = r.output().contains("nextpnr-ice40") && Files.isRegularFile(nextpnrLog)
            ? "; nextpnr's log: " + nextpnrLog
            : Files.isRegularFile(yosysLog) ? "; yosys's log: " + yosysLog : "";
        throw new ToolFailure("the iCE40 flow (make -C " + fpga + ")",
            "failed (" + ExternalTool.exitStatus(r.code()) + ")" + step,
            ExternalTool.lastLines(r.output(), 3), log);
      }
      JsonNode rep = JSON.readTree(fpga.resolve("nextpnr-report.json").toFile());
      Map<String, int[]> util = new LinkedHashMap<>();
      rep.path("utilization").fields().forEachRemaining(e -> {
        int used = e.getValue().path("used").asInt();
        if (used > 0) {
          util.put(e.getKey(), new int[] {used, e.getValue().path("available").asInt()});
        }
      });
      double fmax = Double.NaN;
      for (JsonNode c : iterable(rep.path("fmax"))) {
        double a = c.path("achieved").asDouble(Double.NaN);
        fmax = Double.isNaN(fmax) ? a : Math.min(fmax, a);
      }
      String top = topOf(fpga);
      return new PlaceAndRoute(device.id, device.pkg, mhz, fmax, util,
          fpga.resolve(top + ".bin").toString(), (System.nanoTime() - t0) / 1e9);
    } catch (IOException e) {
      throw new UserError("cannot run make for the iCE40 flow: " + e.getMessage(), e);
    }
  }

  /** Throws {@link DoesNotFit} when nextpnr's packing report shows more used than available. */
  private static void overfull(Path log, Ice40Device device) throws IOException {
    if (!Files.isRegularFile(log)) {
      return;
    }
    Matcher m = UTILISATION.matcher(Files.readString(log));
    while (m.find()) {
      int used = Integer.parseInt(m.group(2));
      int available = Integer.parseInt(m.group(3));
      if (used > available) {
        throw new DoesNotFit(
            device.id + " is too small: " + m.group(1) + " " + used + " of " + available);
      }
    }
  }

  /** Pins the FPGA top needs: the mesh shell's four, or every bit of the accelerator's ports. */
  public static int pins(Path dir) {
    try {
      String top = topOf(dir.resolve(DIR));
      if (top.equals(MeshShell.TOP)) {
        return 4;
      }
      return VerilogPorts.of(Files.readString(dir.resolve(top + ".sv")), top).stream()
          .mapToInt(VerilogPorts.Port::width)
          .sum();
    } catch (IOException e) {
      throw new UserError("cannot read the FPGA top of " + dir + ": " + e.getMessage(), e);
    }
  }

  private static Iterable<JsonNode> iterable(JsonNode n) {
    return n::elements;
  }

  private static String topOf(Path fpga) throws IOException {
    Matcher m = Pattern.compile("(?m)^TOP := (\\S+)$").matcher(Files.readString(fpga.resolve("Makefile")));
    if (!m.find()) {
      throw new UserError(fpga.resolve("Makefile") + " names no TOP");
    }
    return m.group(1);
  }
}
