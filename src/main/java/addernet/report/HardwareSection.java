package addernet.report;

import static addernet.report.Html.esc;
import static addernet.report.Html.putNum;
import static addernet.report.Html.ratio;
import static addernet.report.Html.row;
import static addernet.report.Html.safe;

import addernet.synth.Design;
import addernet.synth.SynthReport;
import addernet.synth.SynthReport.ModuleReport;
import addernet.synth.SynthReport.Pnr;
import addernet.synth.SynthReport.Run;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Resources of the adder design against its MAC twin, and place and route, from synth's reports. */
final class HardwareSection {
  private HardwareSection() {}

  static Section build(RunFolder folder, Path out, RunSummary summary) throws IOException {
    Section s = new Section("hardware", "Hardware resources: adder PEs vs MAC twin", out);
    List<Path> reports = folder.files("synth-*.json");
    if (reports.isEmpty()) {
      s.missing("synth-*.json (e.g. synth-array8x8.json from 'addernet synth --mac-twin --report')");
      return s;
    }
    ArrayNode jr = s.json.putArray("reports");
    boolean anyComparison = false;
    boolean anyPnr = false;
    for (Map.Entry<Path, SynthReport> report : s.read(reports, SynthReport.class).entrySet()) {
      String file = folder.rel(report.getKey());
      SynthReport r = report.getValue();
      String rtl = r.rtl() == null ? "" : r.rtl();
      String target = r.target() == null ? "" : r.target();
      ObjectNode o = jr.addObject();
      o.put("file", file);
      o.put("rtl", rtl);
      o.put("target", target);
      s.html.append("<h3>").append(esc(file)).append(": ").append(esc(rtl))
          .append(", target ").append(esc(target)).append("</h3>\n");
      s.html.append("<table><tr><th>design</th><th>flow</th><th>module</th><th>LUTs</th><th>FFs</th>"
          + "<th>carries</th><th>BRAM</th><th>DSP</th><th>multipliers</th></tr>\n");
      ArrayNode runs = o.putArray("runs");
      // flow -> design -> module -> resources, for the ratios below
      Map<String, Map<String, Map<String, ModuleReport>>> byFlow = new LinkedHashMap<>();
      List<String[]> pnrRows = new ArrayList<>();
      for (Run e : r.runs() == null ? List.<Run>of() : r.runs()) {
        String design = e.design() == null ? "?" : e.design();
        String flow = e.flow() == null ? "?" : e.flow();
        Map<String, ModuleReport> modules = e.modules() == null ? Map.of() : e.modules();
        runs.add(Section.JSON.valueToTree(e));
        byFlow.computeIfAbsent(flow, k -> new LinkedHashMap<>()).put(design, modules);
        modules.forEach((name, m) -> s.html.append(row(design, flow, name,
            String.valueOf(m.luts()), String.valueOf(m.flipFlops()), String.valueOf(m.carries()),
            String.valueOf(m.blockRams()), String.valueOf(m.dsps()), String.valueOf(e.multiplierCells()))));
        Pnr pnr = e.pnr();
        if (pnr != null) {
          Double fmax = pnr.fmaxMhz();
          StringBuilder util = new StringBuilder();
          if (pnr.utilisation() != null) {
            pnr.utilisation().forEach((cell, used) -> util.append(util.length() == 0 ? "" : ", ")
                .append(cell).append(' ').append(used.get("used")).append('/').append(used.get("available")));
          }
          pnrRows.add(new String[] {design, flow, orDash(pnr.device()), orDash(pnr.pkg()),
              fmax == null ? "—" : String.format(Locale.ROOT, "%.1f", fmax), util.toString()});
          if (fmax != null) {
            summary.fmax.add(String.format(Locale.ROOT, "%s %.1f MHz (%s)", design, fmax,
                pnr.device() == null ? "?" : pnr.device()));
          }
        }
      }
      s.html.append("</table>\n");
      boolean accelerator = r.activationBitsStored() != null
          || r.runs() != null && r.runs().stream().anyMatch(x -> x.modules() != null && x.modules().containsKey("Requantizer"));
      anyComparison |= ratios(s, o, byFlow, file, accelerator, summary);
      anyPnr |= !pnrRows.isEmpty();
      if (!pnrRows.isEmpty()) {
        s.html.append("<h4>Place and route</h4><table><tr><th>design</th><th>flow</th><th>device</th>"
            + "<th>package</th><th>Fmax (MHz)</th><th>utilisation</th></tr>\n");
        pnrRows.forEach(p -> s.html.append(row(p)));
        s.html.append("</table>\n");
      }
    }
    // A design synthesised alone (a board build) or without place and route is a choice of the
    // run, not a gap; the section lacks something only when no report in the run has it.
    if (!anyComparison) {
      s.missing("an \"adder\" and a \"mac twin\" design synthesised with the same flow in one of the synth reports"
          + " (synth --mac-twin)");
    }
    if (!anyPnr) {
      s.missing("a \"pnr\" entry (device, fmax_mhz) in the runs of a synth report: place and route not in this run");
    }
    return s;
  }

  /** How the summary names a yosys flow: whether DSP blocks were allowed. */
  static String flowLabel(String flow) {
    if (flow.startsWith("synth_ice40")) {
      return flow.contains("-dsp") ? "with DSPs" : "LUT-only";
    }
    if (flow.startsWith("synth_xilinx")) {
      return flow.contains("-nodsp") ? "LUT-only" : "with DSPs";
    }
    return "generic gates";
  }

  private static String orDash(String s) {
    return s == null ? "—" : s;
  }

  /**
   * adder/MAC ratios for every flow that has both designs and every module both have; whether
   * there was any. The whole design's ratios go to the summary, an accelerator's and a bare
   * array's apart.
   */
  private static boolean ratios(Section s, ObjectNode o, Map<String, Map<String, Map<String, ModuleReport>>> byFlow,
      String file, boolean accelerator, RunSummary summary) throws IOException {
    List<String> whole = new ArrayList<>();
    ArrayNode jr = o.putArray("adder_over_mac");
    Map<String, Map<String, Double>> bars = new LinkedHashMap<>();
    List<String> flows = new ArrayList<>();
    StringBuilder t = new StringBuilder("<table><tr><th>flow</th><th>module</th><th>LUTs adder / MAC</th>"
        + "<th>FFs adder / MAC</th><th>LUT ratio</th><th>FF ratio</th></tr>\n");
    for (Map.Entry<String, Map<String, Map<String, ModuleReport>>> f : byFlow.entrySet()) {
      Map<String, ModuleReport> adder = null;
      Map<String, ModuleReport> mac = null;
      for (Map.Entry<String, Map<String, ModuleReport>> d : f.getValue().entrySet()) {
        String name = d.getKey().toLowerCase(Locale.ROOT);
        if (name.equals("adder")) {
          adder = d.getValue();
        } else if (name.contains("mac")) {
          mac = d.getValue();
        }
      }
      if (adder == null || mac == null) {
        continue;
      }
      flows.add(f.getKey());
      for (Map.Entry<String, ModuleReport> m : adder.entrySet()) {
        ModuleReport b = mac.get(m.getKey());
        if (b == null) {
          continue;
        }
        long la = m.getValue().luts();
        long lb = b.luts();
        long fa = m.getValue().flipFlops();
        long fb = b.flipFlops();
        if (la == 0 && lb == 0) {
          continue;
        }
        ObjectNode x = jr.addObject();
        x.put("flow", f.getKey());
        x.put("module", m.getKey());
        x.put("adder_luts", la);
        x.put("mac_luts", lb);
        Double lr = lb > 0 ? (double) la / lb : null;
        Double fr = fb > 0 ? (double) fa / fb : null;
        putNum(x, "lut_ratio", lr);
        putNum(x, "ff_ratio", fr);
        t.append(row(f.getKey(), m.getKey(), la + " / " + lb, fa + " / " + fb, ratio(lr), ratio(fr)));
        if (m.getKey().equals(Design.TOTAL)) {
          bars.computeIfAbsent("adder", k -> new LinkedHashMap<>()).put(f.getKey(), (double) la);
          bars.computeIfAbsent("MAC twin", k -> new LinkedHashMap<>()).put(f.getKey(), (double) lb);
          whole.add(String.format(Locale.ROOT, "%s %s (adder %d LUTs + %d DSP, MAC %d LUTs + %d DSP)",
              ratio(lr), flowLabel(f.getKey()), la, m.getValue().dsps(), lb, b.dsps()));
        }
      }
    }
    if (flows.isEmpty()) {
      return false;
    }
    String line = String.join("; ", whole) + " (" + file + ")";
    if (accelerator && summary.lutsAccelerator == null) {
      summary.lutsAccelerator = line;
    } else if (!accelerator && summary.lutsArray == null) {
      summary.lutsArray = line;
    }
    s.html.append(t).append("</table>\n");
    String png = "hardware-" + safe(file.replace(".json", "")) + ".png";
    s.chart(png, "LUTs of the whole design, adder vs MAC twin, per flow",
        p -> Charts.groupedBars(p, "LUTs, adder vs MAC twin", "LUTs", flows, bars, false));
    return true;
  }
}
