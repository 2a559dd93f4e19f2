package addernet.synth;

import addernet.gen.AccelManifest;
import addernet.gen.AcceleratorGenerator;
import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.gen.FolderFiles;
import addernet.gen.WeightMemory;
import addernet.io.UserError;
import addernet.quant.PeOp;
import addernet.synth.AsicReport.ModuleFigures;
import addernet.synth.AsicReport.Run;
import addernet.tool.PrivateDir;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The same generated RTL as the FPGA flows, mapped for an ASIC: onto yosys' CMOS gate model
 * (transistor counts) and, given a Liberty file, onto its cells (area and the longest
 * combinational path), beside the MAC twin built the same way. docs/asic.md is the method.
 */
public final class AsicFlow {
  /**
   * What the total charges per D flip-flop, which the CMOS model does not count: a static
   * master-slave flip-flop of two transmission-gate latches, its clock inverters and output
   * buffer.
   */
  public static final int TRANSISTORS_PER_FLIP_FLOP = 24;

  /** The generated memory modules; an ASIC takes them from a memory compiler, so they stay black boxes. */
  static final Set<String> MEMORY_MODULES = Set.of("Ram", "Rom", "LaneRam");

  /**
   * @param rtl a folder written by generate
   * @param macTwin also map the multiply-accumulate twin
   * @param liberty a Liberty file for cell area and timing, or null
   */
  public record Config(Path rtl, boolean macTwin, Path liberty) {}

  private AsicFlow() {}

  /** Runs the mapping; progress lines go to {@code progress}. */
  public static AsicReport run(Config config, PrintStream progress) throws IOException {
    Path rtl = config.rtl();
    ArrayConfig arrayCfg = null;
    AccelManifest accel = null;
    List<String> sources;
    String top;
    if (Files.isRegularFile(rtl.resolve(ArrayGenerator.CONFIG_FILE))) {
      var m = ArrayGenerator.read(rtl);
      arrayCfg = m.config();
      sources = m.sources();
      top = m.top();
    } else {
      accel = AccelManifest.read(rtl);
      if (accel.board() != null || accel.memory() == WeightMemory.SPRAM) {
        throw new UserError(rtl + " holds iCE40 primitives (" + (accel.board() != null ? "a board folder" : "SPRAM weights")
            + "); --target asic maps a plain accelerator: generate it with --weights rom or stream");
      }
      sources = accel.sources();
      top = accel.top();
    }
    FolderFiles.verify(rtl, arrayCfg != null ? ArrayGenerator.CONFIG_FILE : AcceleratorGenerator.CONFIG_FILE);
    PeOp op = arrayCfg != null ? arrayCfg.op() : accel.peOp();
    if (config.macTwin() && op != PeOp.ADDER) {
      throw new UserError(rtl + " already has " + op.word() + " PEs; --mac-twin compares an adder design with its MAC twin");
    }
    if (config.liberty() != null && !Files.isRegularFile(config.liberty())) {
      throw new UserError("--liberty " + config.liberty() + " is not a file; give a Liberty (.lib) file");
    }
    if (config.liberty() != null) {
      Yosys.checkLiberty(config.liberty());
    }
    List<Run> runs = new ArrayList<>();
    runs.add(map("adder", rtl, sources, top, config.liberty(), progress));
    if (config.macTwin()) {
      try (PrivateDir twinDir = PrivateDir.create("addernet-mac-twin-")) {
        Path twin = twinDir.path().resolve("rtl");
        progress.println(SynthFlow.macTwin(rtl, arrayCfg, accel, twin));
        List<String> twinSources = arrayCfg != null ? ArrayGenerator.read(twin).sources() : AccelManifest.read(twin).sources();
        runs.add(map("mac twin", twin, twinSources, top, config.liberty(), progress));
      }
    }
    Map<String, Double> ratios = new LinkedHashMap<>();
    if (runs.size() == 2) {
      ratio(ratios, "transistors", runs, Design.TOTAL, f -> (double) f.transistors());
      ratio(ratios, "transistors PE", runs, "PE", f -> (double) f.transistors());
      if (config.liberty() != null) {
        ratio(ratios, "area", runs, Design.TOTAL, ModuleFigures::area);
        ratio(ratios, "area PE", runs, "PE", ModuleFigures::area);
      }
    }
    return new AsicReport(rtl.toString(), TRANSISTORS_PER_FLIP_FLOP,
        config.liberty() == null ? null : config.liberty().toString(), runs, ratios);
  }

  private static void ratio(Map<String, Double> out, String key, List<Run> runs, String module,
      java.util.function.Function<ModuleFigures, Double> figure) {
    ModuleFigures a = runs.get(0).modules().get(module);
    ModuleFigures b = runs.get(1).modules().get(module);
    if (a != null && b != null && figure.apply(a) != null && figure.apply(b) != null && figure.apply(b) > 0) {
      out.put(key, figure.apply(a) / figure.apply(b));
    }
  }

  private static Run map(String design, Path dir, List<String> sources, String top, Path liberty, PrintStream progress) {
    List<String> logic = new ArrayList<>();
    List<String> memories = new ArrayList<>();
    for (String s : sources) {
      String file = Path.of(s).getFileName().toString();
      (file.endsWith(".v") && MEMORY_MODULES.contains(file.substring(0, file.length() - 2)) ? memories : logic).add(s);
    }
    progress.printf("mapping %s onto the CMOS gate model (yosys synth; abc -g cmos2) ...%n", design);
    String cmos = Yosys.asicStat(dir, logic, memories, top, null);
    Map<String, Block> gates = blocks(cmos);
    Map<String, Block> cells = null;
    Double longest = null;
    if (liberty != null) {
      progress.printf("mapping %s onto the Liberty cells (dfflibmap; abc -liberty) ...%n", design);
      cells = blocks(Yosys.asicStat(dir, logic, memories, top, liberty));
      longest = delayPs(Yosys.asicTiming(dir, logic, memories, top, liberty), liberty);
    }
    Map<String, Long> instances = Design.instances(Yosys.parseModules(cmos), top);
    Map<String, ModuleFigures> modules = new TreeMap<>();
    for (Map.Entry<String, Block> e : gates.entrySet()) {
      String name = e.getKey();
      Block g = e.getValue();
      Block c = cells == null ? null : cells.get(name);
      long n = name.equals(Design.TOTAL) ? 1 : instances.getOrDefault(name, 0L);
      modules.put(name, new ModuleFigures(n, g.transistors, g.flipFlops,
          g.transistors + (long) TRANSISTORS_PER_FLIP_FLOP * g.flipFlops, c == null ? null : c.area));
    }
    Map<String, Long> memoryInstances = new TreeMap<>();
    Map<String, Integer> totalCells = Yosys.parseModules(cmos).getOrDefault(Design.TOTAL, Map.of());
    for (String m : MEMORY_MODULES) {
      if (totalCells.containsKey(m)) {
        memoryInstances.put(m, (long) totalCells.get(m));
      }
    }
    long bits = memories.isEmpty() ? 0 : Yosys.memoryBits(dir, sources, top);
    return new Run(design, modules, memoryInstances, bits, longest);
  }

  /** One module's figures in a stat listing. */
  private static final class Block {
    long transistors;
    long flipFlops;
    Double area;
  }

  private static final Pattern HEADER = Pattern.compile("^=== (.+) ===$");
  private static final Pattern TRANSISTORS = Pattern.compile("Estimated number of transistors:\\s+(\\d+)");
  private static final Pattern AREA = Pattern.compile("Chip area for (?:top )?module '\\\\?(.+)':\\s+([0-9.eE+-]+)");
  private static final Pattern FLIP_FLOPS = Pattern.compile("^\\s+\\$_DFF_P_\\s+(\\d+)\\s*$");

  /** Per module (the whole design under {@link Design#TOTAL}), from a {@code stat -tech cmos} or {@code -liberty} listing. */
  static Map<String, Block> blocks(String text) {
    Map<String, Block> out = new TreeMap<>();
    Block current = null;
    for (String line : text.split("\n")) {
      Matcher h = HEADER.matcher(line.strip());
      if (h.matches()) {
        String name = h.group(1).equals("design hierarchy") ? Design.TOTAL : h.group(1);
        current = out.computeIfAbsent(name, k -> new Block());
        continue;
      }
      if (current == null) {
        continue;
      }
      Matcher t = TRANSISTORS.matcher(line);
      Matcher a = AREA.matcher(line);
      Matcher f = FLIP_FLOPS.matcher(line);
      if (t.find()) {
        current.transistors = Long.parseLong(t.group(1));
      } else if (a.find()) {
        current.area = Double.parseDouble(a.group(2));
      } else if (f.matches()) {
        current.flipFlops = Long.parseLong(f.group(1));
      }
    }
    // A design of one module has no hierarchy section: that module is the whole design.
    if (!out.containsKey(Design.TOTAL) && out.size() == 1) {
      out.put(Design.TOTAL, out.values().iterator().next());
    }
    return out;
  }

  private static final Pattern DELAY = Pattern.compile("Delay\\s*=\\s*([0-9.]+)\\s*ps");

  /** The last {@code Delay = D ps} of ABC's timing report. */
  static double delayPs(String abcLog, Path liberty) {
    Matcher m = DELAY.matcher(abcLog);
    Double d = null;
    while (m.find()) {
      d = Double.parseDouble(m.group(1));
    }
    if (d == null) {
      throw new UserError("--liberty " + liberty + ": ABC mapped the design but reported no delay;"
          + " the library's cells need timing arcs (cell_rise, cell_fall)");
    }
    return d;
  }
}
