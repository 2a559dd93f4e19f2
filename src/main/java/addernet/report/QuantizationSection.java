package addernet.report;

import static addernet.report.Html.pct;
import static addernet.report.Html.putNum;
import static addernet.report.Html.row;

import addernet.quant.QuantizeReport;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Float against fixed-point accuracy, from quantize's reports. */
final class QuantizationSection {
  private QuantizationSection() {}

  static Section build(RunFolder folder, Path out, RunSummary summary) throws IOException {
    Section s = new Section("quantization", "Accuracy: float vs fixed point", out);
    List<Path> reports = folder.files("quantize-*.json");
    if (reports.isEmpty()) {
      s.missing("quantize-8bit.json, quantize-6bit.json, quantize-4bit.json");
      return s;
    }
    ArrayNode jr = s.json.putArray("reports");
    s.html.append("<table><tr><th>report</th><th>network</th><th>bits</th><th>QAT epochs</th>"
        + "<th>test images</th><th>float</th><th>post-training</th><th>after QAT</th></tr>\n");
    Map<String, Map<String, Double>> bars = new LinkedHashMap<>();
    List<String> categories = new ArrayList<>(List.of("float"));
    TreeMap<Integer, String> bitCategories = new TreeMap<>(Comparator.reverseOrder());
    for (Map.Entry<Path, QuantizeReport> report : s.read(reports, QuantizeReport.class).entrySet()) {
      String file = folder.rel(report.getKey());
      QuantizeReport r = report.getValue();
      int bits = r.bits();
      int qat = r.qatEpochs();
      Double fl = r.floatAccuracy();
      Double q = r.quantizedAccuracy();
      Double ptq = qat > 0 ? r.postTrainingAccuracy() : q;
      Double afterQat = qat > 0 ? q : null;
      String network = r.network() == null ? "" : r.network();
      ObjectNode o = jr.addObject();
      o.put("file", file);
      o.put("network", network);
      o.put("bits", bits);
      o.put("qat_epochs", qat);
      o.set("layer_bits", Section.JSON.valueToTree(r.layerBits()));
      o.put("test_images", r.testImages());
      putNum(o, "float_accuracy", fl);
      putNum(o, "post_training_accuracy", ptq);
      putNum(o, "qat_accuracy", afterQat);
      s.html.append(row(file, network, bits + bitsNote(r), String.valueOf(qat),
          String.valueOf(r.testImages()), pct(fl), pct(ptq), pct(afterQat)));
      String cat = bits + "-bit";
      bitCategories.put(bits, cat);
      if (fl != null) {
        bars.computeIfAbsent("without QAT", k -> new LinkedHashMap<>()).put("float", 100 * fl);
        summary.floatAccuracy = summary.floatAccuracy == null ? fl : summary.floatAccuracy;
      }
      if (ptq != null) {
        bars.computeIfAbsent("without QAT", k -> new LinkedHashMap<>()).put(cat, 100 * ptq);
        summary.ptq.putIfAbsent(bits, ptq);
      }
      if (afterQat != null) {
        bars.computeIfAbsent("with QAT", k -> new LinkedHashMap<>()).put(cat, 100 * afterQat);
        summary.qat.putIfAbsent(bits, afterQat);
      }
    }
    s.html.append("</table>\n");
    for (int b : List.of(8, 6, 4)) {
      if (!bitCategories.containsKey(b)) {
        s.missing("quantize-" + b + "bit.json");
      }
    }
    categories.addAll(bitCategories.values());
    if (!bars.isEmpty()) {
      s.chart("quantization-accuracy.png", "test accuracy, float and fixed point",
          p -> Charts.groupedBars(p, "Test accuracy", "accuracy (%), axis not from 0", categories, bars,
              false, false));
    }
    return s;
  }

  private static String bitsNote(QuantizeReport r) {
    return r.layerBits() != null && !r.layerBits().isEmpty() ? " " + Section.JSON.valueToTree(r.layerBits()) : "";
  }
}
