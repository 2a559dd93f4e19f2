package addernet.synth;

import addernet.synth.AsicReport.ModuleFigures;
import addernet.synth.AsicReport.Run;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The one-screen summary of {@code synth --target asic}: the whole design first, then a table per design. */
public final class AsicSummary {
  private AsicSummary() {}

  public static void print(AsicReport r, PrintStream out) {
    out.println();
    if (!r.adderOverMac().isEmpty()) {
      List<String> parts = new ArrayList<>();
      r.adderOverMac().forEach((k, v) -> parts.add(String.format(Locale.ROOT, "%s %.3f", k, v)));
      out.println("adder/MAC, whole design (memories apart): " + String.join("; ", parts));
    }
    for (Run run : r.runs()) {
      ModuleFigures t = run.modules().get(Design.TOTAL);
      out.printf(Locale.ROOT, "%s: %,d transistors (%,d in gates, %,d flip-flops at %d)%s; memories apart: %s, %,d bits%s%n",
          run.design(), t.transistors(), t.logicTransistors(), t.flipFlops(), r.transistorsPerFlipFlop(),
          t.area() == null ? "" : String.format(Locale.ROOT, "; cell area %.1f", t.area()),
          run.memoryInstances().isEmpty() ? "none" : run.memoryInstances().toString(), run.memoryBits(),
          run.longestPathPs() == null ? "" : String.format(Locale.ROOT, "; longest path %.0f ps", run.longestPathPs()));
    }
    for (Run run : r.runs()) {
      out.println();
      out.printf("%s, per module (per instance):%n", run.design());
      out.printf("  %-28s %9s %12s %10s %12s%s%n", "module", "instances", "transistors", "flip-flops", "all", r.liberty() == null ? "" : "        area");
      List<Map.Entry<String, ModuleFigures>> rows = new ArrayList<>(run.modules().entrySet());
      rows.sort(Comparator.comparing((Map.Entry<String, ModuleFigures> e) -> e.getKey().equals(Design.TOTAL))
          .thenComparing(e -> -e.getValue().instances() * e.getValue().transistors()));
      for (Map.Entry<String, ModuleFigures> e : rows) {
        ModuleFigures f = e.getValue();
        out.printf(Locale.ROOT, "  %-28s %9d %12d %10d %12d%s%n", e.getKey(), f.instances(), f.logicTransistors(),
            f.flipFlops(), f.transistors(), f.area() == null ? "" : String.format(Locale.ROOT, " %11.1f", f.area()));
      }
    }
  }
}
