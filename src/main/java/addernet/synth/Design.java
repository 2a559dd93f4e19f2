package addernet.synth;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A synthesised design's modules under readable names ({@code Ram 1568x8} rather than yosys'
 * {@code $paramod$<hash>\Ram}), with how often each is instantiated, and the bits its RAM and ROM
 * instances hold.
 *
 * @param modules readable name to module; the whole design under {@link #TOTAL}
 * @param memoryBits depth x width summed over every instance of the {@code Ram} and {@code Rom} modules
 */
public record Design(Map<String, Module> modules, long memoryBits) {
  public static final String TOTAL = "(total)";

  /** The Verilog modules whose instances are the design's memories, each DEPTH words of WIDTH bits. */
  static final Set<String> MEMORIES = Set.of("Ram", "Rom");

  /**
   * One module: its own cells (submodules are cells of their own rows), per instance.
   *
   * @param module the Verilog module, null for the total
   * @param instances how many instances the design has (1 for the top and the total)
   */
  public record Module(String name, String module, Map<String, Object> parameters, long instances, Resources each) {
    public long memoryBits() {
      long depth = number("DEPTH");
      long width = number("WIDTH");
      return module != null && MEMORIES.contains(module) && depth > 0 && width > 0 ? instances * depth * width : 0;
    }

    private long number(String p) {
      return parameters.get(p) instanceof Long l ? l : -1;
    }
  }

  public static Design of(Yosys.Hierarchy h, String top) {
    Map<String, ModuleInfo> infos = new TreeMap<>();
    for (String m : h.cells().keySet()) {
      if (!m.equals(TOTAL)) {
        infos.put(m, h.modules().getOrDefault(m, ModuleInfo.ofName(m)));
      }
    }
    Map<String, String> names = readableNames(infos.values());
    Map<String, Long> count = instances(h.cells(), top);
    Map<String, Module> modules = new TreeMap<>();
    long bits = 0;
    for (Map.Entry<String, Map<String, Integer>> e : h.cells().entrySet()) {
      String y = e.getKey();
      Resources r = Resources.of(e.getValue());
      Module m = y.equals(TOTAL)
          ? new Module(TOTAL, null, Map.of(), 1, r)
          : new Module(names.get(y), infos.get(y).module(), infos.get(y).parameters(), count.getOrDefault(y, 0L), r);
      modules.put(m.name(), m);
      bits += m.memoryBits();
    }
    return new Design(modules, bits);
  }

  /**
   * yosys name to readable name: the Verilog name, with {@code DEPTHxWIDTH} for a module that has
   * both; modules that would share a name get the parameters in which they differ ({@code Rom
   * 1315x8 FILE=weights_col0.mem}), and any still alike a number.
   */
  static Map<String, String> readableNames(Collection<ModuleInfo> modules) {
    Map<String, List<ModuleInfo>> byLabel = new TreeMap<>();
    for (ModuleInfo m : modules) {
      byLabel.computeIfAbsent(label(m), k -> new ArrayList<>()).add(m);
    }
    Map<String, String> out = new LinkedHashMap<>();
    Map<String, Integer> taken = new HashMap<>();
    for (Map.Entry<String, List<ModuleInfo>> e : byLabel.entrySet()) {
      List<ModuleInfo> group = e.getValue();
      Set<String> differing = new TreeSet<>();
      if (group.size() > 1) {
        Set<String> keys = new TreeSet<>();
        group.forEach(m -> keys.addAll(m.parameters().keySet()));
        for (String k : keys) {
          if (group.stream().map(m -> String.valueOf(m.parameters().get(k))).distinct().count() > 1) {
            differing.add(k);
          }
        }
      }
      for (ModuleInfo m : group) {
        StringBuilder name = new StringBuilder(e.getKey());
        for (String k : differing) {
          Object v = m.parameters().get(k);
          name.append(' ').append(k).append('=').append(v == null ? "-" : v);
        }
        out.put(m.yosysName(), name.toString());
      }
    }
    // Two modules alike in every parameter (yosys would not derive both, but a hand-written
    // source could define one under a second name).
    Map<String, Integer> uses = new HashMap<>();
    out.values().forEach(n -> uses.merge(n, 1, Integer::sum));
    out.replaceAll((y, n) -> uses.get(n) == 1 ? n : n + " #" + taken.merge(n, 1, Integer::sum));
    return out;
  }

  private static String label(ModuleInfo m) {
    long depth = m.number("DEPTH");
    long width = m.number("WIDTH");
    return depth > 0 && width > 0 ? m.module() + " " + depth + "x" + width : m.module();
  }

  /** How many instances of each module the hierarchy under {@code top} holds. */
  static Map<String, Long> instances(Map<String, Map<String, Integer>> cells, String top) {
    Map<String, Long> out = new HashMap<>();
    add(cells, top, 1, out);
    return out;
  }

  private static void add(Map<String, Map<String, Integer>> cells, String module, long n, Map<String, Long> out) {
    out.merge(module, n, Long::sum);
    for (Map.Entry<String, Integer> c : cells.getOrDefault(module, Map.of()).entrySet()) {
      if (cells.containsKey(c.getKey()) && !c.getKey().equals(TOTAL) && !c.getKey().equals(module)) {
        add(cells, c.getKey(), n * c.getValue(), out);
      }
    }
  }
}
