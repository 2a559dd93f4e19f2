package addernet.synth;

import addernet.io.UserError;
import addernet.tool.ExternalTool;
import addernet.tool.PrivateDir;
import addernet.tool.ToolFailure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs yosys on generated Verilog and reads its cell statistics. */
public final class Yosys {
  private static final Pattern CELL_LINE = Pattern.compile("^\\s+(\\S+)\\s+(\\d+)\\s*$");

  private Yosys() {}

  public static Path executable() {
    return ExternalTool.find("yosys", "yosys");
  }

  /**
   * Word-level cells of the flattened design right after elaboration and clean-up, before any
   * technology mapping: a {@code $mul} here is a multiplier the RTL asked for.
   */
  public static Map<String, Integer> wordLevelCells(Path dir, List<String> sources, String top) {
    return stat(dir, sources, top, "hierarchy -top " + top + "; proc; flatten; opt -full");
  }

  /** Cells after a complete generic synthesis (gates and flip-flops). */
  public static Map<String, Integer> synthesizedCells(Path dir, List<String> sources, String top) {
    return synthesizedCells(dir, sources, top, Target.GENERIC);
  }

  /** The synthesis flows we report on; iCE40 with its DSP blocks allowed, so any use shows. */
  public enum Target {
    GENERIC("synth -top %s", " -flatten", ""),
    ICE40("synth_ice40 -dsp -top %s", "", " -noflatten"),
    ICE40_NO_DSP("synth_ice40 -top %s", "", " -noflatten"),
    XC7("synth_xilinx -top %s", " -flatten", ""),
    XC7_NO_DSP("synth_xilinx -nodsp -top %s", " -flatten", "");

    private final String script;
    private final String flat;
    private final String hierarchical;

    Target(String script, String flat, String hierarchical) {
      this.script = script;
      this.flat = flat;
      this.hierarchical = hierarchical;
    }

    /** Whether the flow may map logic to DSP blocks (the generic flow has none). */
    public boolean dspBlocksAllowed() {
      return this == ICE40 || this == XC7;
    }

    /** The yosys command for {@code top}, flattened or keeping the module hierarchy. */
    public String command(String top, boolean flatten) {
      return String.format(script, top) + (flatten ? flat : hierarchical);
    }
  }

  /** Cells of the flattened design after synthesis for {@code target}. */
  public static Map<String, Integer> synthesizedCells(
      Path dir, List<String> sources, String top, Target target) {
    return stat(dir, sources, top, target.command(top, true));
  }

  private static Map<String, Integer> stat(
      Path dir, List<String> sources, String top, String passes) {
    return parseStat(statText(dir, sources, passes, "stat"));
  }

  /**
   * Per-module cells after synthesis for {@code target} without flattening (module name to cell
   * type to count), plus the whole design under the key {@code "(total)"}.
   */
  public static Map<String, Map<String, Integer>> cellsPerModule(
      Path dir, List<String> sources, String top, Target target) {
    return hierarchy(dir, sources, top, target).cells();
  }

  /**
   * One synthesis run read twice: the cells per module ({@link #cellsPerModule}) and what each
   * module is, since yosys names a parameterised module by a hash of its parameters.
   */
  public record Hierarchy(Map<String, Map<String, Integer>> cells, Map<String, ModuleInfo> modules) {}

  /**
   * Synthesises for {@code target} keeping the hierarchy. After the statistics, every cell is
   * deleted before {@code write_json}, so the JSON holds only the modules' names, attributes and
   * parameters (a mapped netlist's JSON would be many megabytes for nothing).
   */
  public static Hierarchy hierarchy(Path dir, List<String> sources, String top, Target target) {
    List<String> out = run(dir, sources, target.command(top, false),
        List.of("tee -q -o %s stat -top " + top, "delete */c:*; opt_clean -purge; write_json -compat-int %s"));
    return new Hierarchy(parseModules(out.get(0)), ModuleInfo.parseJson(out.get(1)));
  }

  private static String statText(Path dir, List<String> sources, String passes, String stat) {
    return run(dir, sources, passes, List.of("tee -q -o %s " + stat)).get(0);
  }

  /**
   * Reads the sources, runs {@code passes}, then each of {@code writers} with {@code %s} standing
   * for an output file, and returns those files' contents. Yosys runs in a private folder ({@link
   * PrivateDir}) holding copies of the sources and of the folder's ROM images under their own
   * plain names, where {@code $readmemh} finds them: yosys is never handed the user's path, which
   * may hold what it or its script parser would rewrite. Its own temporary files (ABC's) go there
   * too, so an interrupted run leaves one folder, swept by the next.
   */
  private static List<String> run(Path dir, List<String> sources, String passes, List<String> writers) {
    return run(dir, sources, List.of(), null, passes, writers);
  }

  /**
   * As {@link #run(Path, List, String, List)}, with {@code blackBoxes} (sources read as module
   * interfaces only, {@code read_verilog -lib}) and a Liberty file, copied in as {@link #LIBERTY}
   * and read first, when {@code liberty} is not null.
   */
  private static List<String> run(Path dir, List<String> sources, List<String> blackBoxes, Path liberty,
      String passes, List<String> writers) {
    Path yosys = executable();
    try (PrivateDir work = PrivateDir.create(TEMP_PREFIX)) {
      List<String> all = new ArrayList<>(sources);
      all.addAll(blackBoxes);
      for (String s : all) {
        work.copyIn(dir.resolve(s), s);
      }
      for (String data : dataFiles(dir)) {
        if (!all.contains(data)) {
          work.copyIn(dir.resolve(data), data);
        }
      }
      StringBuilder script = new StringBuilder();
      if (liberty != null) {
        work.copyIn(liberty, LIBERTY);
        script.append("read_liberty -lib ").append(LIBERTY).append("; ");
      }
      script.append(sources.isEmpty() ? "design -reset" : "read_verilog -sv");
      for (String s : sources) {
        script.append(" \"").append(plain(s)).append('"');
      }
      if (!blackBoxes.isEmpty()) {
        script.append("; read_verilog -lib");
        for (String s : blackBoxes) {
          script.append(" \"").append(plain(s)).append('"');
        }
      }
      script.append("; ").append(passes);
      List<Path> files = new ArrayList<>();
      for (int i = 0; i < writers.size(); i++) {
        Path f = work.path().resolve("out-" + i + ".txt");
        files.add(f);
        script.append("; ").append(writers.get(i).replace("%s", f.getFileName().toString()));
      }
      Path tmp = Files.createDirectories(work.path().resolve("tmp"));
      List<String> cmd = List.of(yosys.toString(), "-q", "-p", script.toString());
      Path log = Files.createTempFile("addernet-yosys-", ".log");
      ExternalTool.Result r = ExternalTool.run(cmd, work.path(), 30, log, tmp);
      if (r.code() != 0) {
        throw ExternalTool.failure(cmd, r);
      }
      Files.deleteIfExists(log);
      List<String> out = new ArrayList<>();
      for (Path f : files) {
        out.add(Files.readString(f));
      }
      return out;
    } catch (IOException e) {
      throw new UserError("cannot run yosys: " + e.getMessage(), e);
    }
  }

  private static String plain(String source) {
    return source.startsWith("./") ? source.substring(2) : source;
  }

  /** The name a Liberty file has inside yosys' private folder: a user's path never reaches it. */
  static final String LIBERTY = "cells.lib";

  // ---------------------------------------------------------------- ASIC mapping

  /**
   * Flip-flops of every kind become plain positive-edge D flip-flops (enables and synchronous
   * resets turn into gates), the one sequential cell both the CMOS model and any Liberty library
   * have; the designs have no asynchronous reset.
   */
  private static final String PLAIN_FLIP_FLOPS = "dfflegalize -cell $_DFF_P_ 01";

  /**
   * The {@code stat} listing, per module, of the design synthesised keeping its hierarchy and
   * mapped onto yosys' CMOS gate model ({@code abc -g cmos2}, {@code stat -tech cmos}: transistor
   * counts of the gates), or onto the cells of {@code liberty} ({@code stat -liberty}: cell area)
   * when it is not null. {@code memories} are read as black boxes: an ASIC takes them from a
   * memory compiler, not from gates.
   */
  public static String asicStat(Path dir, List<String> logic, List<String> memories, String top, Path liberty) {
    String map = liberty == null
        ? "abc -g cmos2; opt_clean"
        : "dfflibmap -liberty " + LIBERTY + "; abc -liberty " + LIBERTY + "; opt_clean";
    String stat = liberty == null ? "stat -tech cmos" : "stat -liberty " + LIBERTY;
    return run(dir, logic, memories, liberty, "synth -top " + top + "; " + PLAIN_FLIP_FLOPS + "; " + map,
        List.of("tee -q -o %s " + stat)).get(0);
  }

  /**
   * ABC's timing report of the flattened design mapped onto {@code liberty}: its line {@code
   * Delay = D ps} is the longest combinational path between flip-flops, inputs and outputs
   * (memories' ports count as inputs and outputs).
   */
  public static String asicTiming(Path dir, List<String> logic, List<String> memories, String top, Path liberty) {
    return run(dir, logic, memories, liberty,
        "synth -top " + top + " -flatten; " + PLAIN_FLIP_FLOPS + "; dfflibmap -liberty " + LIBERTY,
        List.of("tee -q -o %s abc -liberty " + LIBERTY + " -script \"+strash;dch,-f;map;topo;stime,-p\"")).get(0);
  }

  /**
   * Refuses a Liberty file that yosys cannot read, with yosys' own first error line, before any
   * synthesis.
   */
  public static void checkLiberty(Path liberty) {
    try {
      run(liberty.getParent() == null ? Path.of(".") : liberty.getParent(), List.of(), List.of(), liberty,
          "read_liberty -lib " + LIBERTY, List.of("tee -q -o %s stat"));
    } catch (ToolFailure e) {
      String first = "";
      try {
        String log = e.log() == null ? "" : Files.readString(e.log());
        first = log.lines().filter(l -> l.startsWith("ERROR:")).findFirst().orElse("");
      } catch (IOException io) {
        // the failure's own message then says what there is
      }
      throw new UserError("--liberty " + liberty + ": yosys cannot read it: "
          + (first.isEmpty() ? e.getMessage() : first.replace(LIBERTY, liberty.getFileName().toString())), e);
    }
  }

  /** Bits the design's memories hold: yosys' memory count after elaboration, whole hierarchy. */
  public static long memoryBits(Path dir, List<String> sources, String top) {
    String text = statText(dir, sources, "hierarchy -top " + top, "stat");
    long bits = 0;
    Matcher m = MEMORY_BITS.matcher(text.substring(Math.max(0, text.lastIndexOf("=== design hierarchy ==="))));
    while (m.find()) {
      bits = Long.parseLong(m.group(1));
    }
    return bits;
  }

  private static final Pattern MEMORY_BITS = Pattern.compile("Number of memory bits:\\s+(\\d+)");

  /** Prefix of the private folders yosys runs in. */
  static final String TEMP_PREFIX = "addernet-yosys-";

  /** The ROM images and tables beside the sources that {@code $readmemh} may name. */
  private static List<String> dataFiles(Path dir) throws IOException {
    List<String> out = new ArrayList<>();
    try (var s = Files.list(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        String n = p.getFileName().toString();
        if ((n.endsWith(".mem") || n.endsWith(".hex")) && PrivateDir.SAFE_NAME.matcher(n).matches()
            && Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          out.add(n);
        }
      }
    }
    return out;
  }

  static Map<String, Map<String, Integer>> parseModules(String text) {
    Map<String, Map<String, Integer>> out = new TreeMap<>();
    String module = null;
    StringBuilder block = new StringBuilder();
    for (String line : text.split("\n")) {
      if (line.startsWith("=== ") && line.endsWith(" ===")) {
        if (module != null) {
          out.put(module, parseStat(block.toString()));
        }
        module = line.substring(4, line.length() - 4).strip();
        if (module.equals("design hierarchy")) {
          module = "(total)";
        }
        block.setLength(0);
      } else {
        block.append(line).append('\n');
      }
    }
    if (module != null) {
      out.put(module, parseStat(block.toString()));
    }
    return out;
  }

  /** Cell type to count, from the last module block of a yosys {@code stat} listing. */
  static Map<String, Integer> parseStat(String text) {
    Map<String, Integer> cells = new TreeMap<>();
    boolean inCells = false;
    for (String line : text.split("\n")) {
      if (line.contains("Number of cells:")) {
        cells.clear();
        inCells = true;
        continue;
      }
      Matcher m = CELL_LINE.matcher(line);
      if (inCells && m.matches()) {
        cells.merge(m.group(1), Integer.parseInt(m.group(2)), Integer::sum);
      } else if (inCells && !line.isBlank()) {
        inCells = false;
      }
    }
    return cells;
  }
}
