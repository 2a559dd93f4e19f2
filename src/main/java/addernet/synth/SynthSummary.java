package addernet.synth;

import addernet.synth.SynthFlow.Comparison;
import addernet.synth.SynthReport.ModuleReport;
import addernet.synth.SynthReport.Pnr;
import addernet.synth.SynthReport.Run;
import addernet.synth.SynthReport.WholeDesign;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The one-screen summary of a synth run: the whole design first (its adder/MAC ratio per twin,
 * or its size), then what the ratio compares, memory, storage figures and place and route, then
 * one table per design and flow.
 */
public final class SynthSummary {
  private SynthSummary() {}

  private static String flowLabel(Yosys.Target flow) {
    return switch (flow) {
      case ICE40_NO_DSP, XC7_NO_DSP -> "LUT-only";
      case ICE40, XC7 -> "with DSPs";
      case GENERIC -> "generic gates";
    };
  }

  public static void print(SynthFlow.Result result, PrintStream out) {
    SynthReport r = result.report();
    List<Comparison> comparisons = result.comparisons();
    String whole = result.array() ? "whole array" : "whole accelerator";
    out.println();
    Map<String, List<Comparison>> byTwin = new LinkedHashMap<>();
    comparisons.forEach(c -> byTwin.computeIfAbsent(c.suffix(), k -> new ArrayList<>()).add(c));
    for (Map.Entry<String, List<Comparison>> e : byTwin.entrySet()) {
      List<String> parts = new ArrayList<>();
      for (Comparison c : e.getValue()) {
        WholeDesign w = c.whole();
        parts.add(String.format(Locale.ROOT, "%s %s (adder %d LUTs + %d DSP, MAC %d LUTs + %d DSP)",
            w.adderOverMacLuts() == null ? "-" : String.format(Locale.ROOT, "%.3f", w.adderOverMacLuts()),
            flowLabel(c.flow()), w.adderLuts(), w.adderDsps(), w.macLuts(), w.macDsps()));
      }
      out.println("adder/MAC" + e.getKey() + " LUTs, " + whole + ": " + String.join("; ", parts));
    }
    if (comparisons.isEmpty()) {
      List<String> parts = new ArrayList<>();
      // Without a twin the runs are the adder design's, one per flow.
      for (int i = 0; i < r.runs().size(); i++) {
        Resources t = r.runs().get(i).total();
        parts.add(String.format(Locale.ROOT, "%d LUTs + %d DSP %s", t.luts(), t.dsps(),
            flowLabel(result.flows().get(i))));
      }
      out.println(whole + ": " + String.join("; ", parts));
    }
    if (result.twinShape() != null) {
      out.println(result.twinShape());
    }
    String memory = null;
    for (Run run : r.runs()) {
      if (run.blockRamBits() == null || run.memoryBits() == 0 && run.blockRamBits() == 0) {
        continue; // not iCE40, or a bare array: no memories to speak of
      }
      Resources t = run.total();
      String line = String.format(Locale.ROOT,
          "memory: the Ram and Rom instances hold %d bits; %d block RAMs hold %d bits (%s used)",
          run.memoryBits(), t.blockRams(), run.blockRamBits(),
          run.blockRamBits() == 0 ? "-" : String.format(Locale.ROOT, "%.0f%%", 100.0 * run.memoryBits() / run.blockRamBits()));
      if (memory == null) {
        memory = line;
        out.println(line);
      } else if (!memory.equals(line)) {
        out.println(line.replaceFirst("memory", "memory, " + run.design()));
      }
    }
    result.figures().lines().forEach(out::println);
    for (Run run : r.runs()) {
      if (run.pnr() != null) {
        Pnr p = run.pnr();
        out.println("place and route, " + run.design() + ": " + (p.note() != null ? p.note()
            : String.format(Locale.ROOT, "iCE40 %s: Fmax %.1f MHz (constraint %.0f MHz), %s, %.0f s",
                p.device(), p.fmaxMhz(), p.targetMhz(),
                p.utilisation().entrySet().stream()
                    .map(e -> e.getKey() + " " + e.getValue().get("used") + "/" + e.getValue().get("available"))
                    .collect(Collectors.joining(", ")),
                p.seconds())));
      }
    }
    for (Run run : r.runs()) {
      out.println();
      printTable(run, out);
      for (Comparison c : comparisons) {
        if (c.mac() == run) {
          c.modules(result.array()).stream().filter(m -> !m.equals(Design.TOTAL)).forEach(m -> {
            ModuleReport a = c.adder().modules().get(m);
            ModuleReport b = c.mac().modules().get(m);
            if (a != null && b != null && b.luts() > 0) {
              out.printf(Locale.ROOT, "  adder/MAC%s LUTs, %s: %.3f (DSP blocks: adder %d, MAC %d)%n",
                  c.suffix(), m, (double) a.luts() / b.luts(), a.dsps(), b.dsps());
            }
          });
        }
      }
    }
  }

  private static void printTable(Run r, PrintStream out) {
    out.printf("%s, %s (word-level multipliers: %d); per instance:%n", r.design(), r.flow(), r.multiplierCells());
    int w = Math.max(28, r.modules().keySet().stream().mapToInt(String::length).max().orElse(0));
    String row = "  %-" + w + "s %5s %8s %8s %8s %6s %5s %10s%n";
    out.printf(row, "module", "inst", "LUTs", "FFs", "carry", "BRAM", "DSP", "LUTs, all");
    List<Map.Entry<String, ModuleReport>> rows = new ArrayList<>(r.modules().entrySet());
    // The total closes the table, below the modules it sums.
    rows.sort(Comparator.comparing(e -> e.getKey().equals(Design.TOTAL)));
    for (Map.Entry<String, ModuleReport> e : rows) {
      ModuleReport m = e.getValue();
      out.printf(row, e.getKey(), m.instances(), m.luts(), m.flipFlops(), m.carries(),
          m.blockRams(), m.dsps(), m.instances() * m.luts());
    }
  }
}
