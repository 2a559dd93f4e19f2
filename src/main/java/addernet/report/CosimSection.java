package addernet.report;

import static addernet.report.Html.pct;
import static addernet.report.Html.row;

import addernet.cosim.AccelCosim;
import addernet.cosim.ArrayCosim;
import addernet.cosim.NetworkCampaign;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The RTL against the Java integer reference, from cosim's reports of its three modes. */
final class CosimSection {
  private CosimSection() {}

  /** One report's cells, whichever mode of cosim wrote it. */
  private record Line(String design, String count, long compared, long mismatches, Double rtlAccuracy,
      Double referenceAccuracy, Double cyclesPerImage, Double cyclesOverIdeal, Object firstMismatch) {
    static Line of(AccelCosim.Report r) {
      return new Line(r.network() + ", " + r.rows() + "x" + r.cols() + " array",
          r.images() + " images" + (r.layersCompared() ? ", every layer" : "")
              + (r.stallPercent() > 0 ? ", " + r.stallPercent() + "% stalls" : ""),
          r.compared(), r.mismatches(), r.rtlAccuracy(), r.referenceAccuracy(), r.cyclesPerImage(),
          r.cyclesOverIdeal(), r.firstMismatch());
    }

    static Line of(ArrayCosim.Report r) {
      return new Line(r.rows() + "x" + r.cols() + " bare array, " + r.dataBits() + "-bit", r.tiles() + " tiles",
          r.compared(), r.mismatches(), null, null, null, null, r.firstMismatch());
    }

    static Line of(NetworkCampaign.NetworksReport r) {
      long mismatches = r.runs() == null ? 0 : r.runs().stream().mapToLong(NetworkCampaign.NetworkRun::mismatches).sum();
      Object first = r.runs() == null ? null : r.runs().stream()
          .filter(n -> n.firstMismatch() != null).map(n -> n.network() + ": " + n.firstMismatch())
          .findFirst().orElse(null);
      return new Line(r.networks() + " random networks", r.failed() + " of " + r.networks() + " failed",
          r.compared(), mismatches, null, null, null, null, first);
    }
  }

  static Section build(RunFolder folder, Path out, RunSummary summary) throws IOException {
    Section s = new Section("cosim", "Co-simulation: RTL against the Java integer reference", out);
    List<Path> reports = folder.files("cosim-*.json");
    if (reports.isEmpty()) {
      s.missing("cosim-*.json (reports of 'addernet cosim --report')");
      return s;
    }
    ArrayNode jr = s.json.putArray("reports");
    s.html.append("<table><tr><th>report</th><th>design</th><th>images / tiles</th><th>values compared</th>"
        + "<th>mismatches</th><th>RTL accuracy</th><th>reference accuracy</th><th>cycles/image (x ideal)</th>"
        + "<th>first mismatch</th></tr>\n");
    for (Map.Entry<Path, JsonNode> report : s.read(reports, JsonNode.class).entrySet()) {
      String file = folder.rel(report.getKey());
      JsonNode tree = report.getValue();
      Object record;
      Line line;
      // The three modes' reports are told apart by the figures only each has.
      try {
        if (tree.has("tiles")) {
          ArrayCosim.Report r = s.convert(tree, ArrayCosim.Report.class);
          record = r;
          line = Line.of(r);
        } else if (tree.has("networks")) {
          NetworkCampaign.NetworksReport r = s.convert(tree, NetworkCampaign.NetworksReport.class);
          record = r;
          line = Line.of(r);
        } else {
          AccelCosim.Report r = s.convert(tree, AccelCosim.Report.class);
          record = r;
          line = Line.of(r);
        }
      } catch (IOException | IllegalArgumentException e) {
        s.unreadable(report.getKey(), e);
        continue;
      }
      ObjectNode o = jr.addObject();
      o.put("file", file);
      Section.JSON.valueToTree(record).fields().forEachRemaining(e -> {
        if (e.getValue().isValueNode()) {
          o.set(e.getKey(), e.getValue());
        }
      });
      JsonNode first = Section.JSON.valueToTree(line.firstMismatch());
      o.set("first_mismatch", first);
      Double cyc = line.cyclesPerImage();
      Double over = line.cyclesOverIdeal();
      s.html.append(row(file, line.design(), line.count(), String.valueOf(line.compared()),
          String.valueOf(line.mismatches()), pct(line.rtlAccuracy()), pct(line.referenceAccuracy()),
          cyc == null ? "—" : String.format(Locale.ROOT, "%.0f (%.2f)", cyc, over == null ? Double.NaN : over),
          first.isNull() ? "none" : first.isTextual() ? first.asText() : first.toString()));
      summary.mismatches.add(String.format("%s %s of %s", file, line.mismatches(), line.compared()));
    }
    s.html.append("</table>\n");
    return s;
  }
}
