package addernet.report;

import addernet.energy.EnergyEstimate;
import addernet.energy.NetworkOps;
import addernet.energy.OperationEnergy;
import addernet.export.ModelPackage;
import addernet.nn.Conv2d;
import addernet.nn.Dense;
import addernet.nn.Layer;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.quant.QuantConfig;
import addernet.train.Checkpoint;
import addernet.train.EpochMetrics;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The evidence of one run folder on one page: training curves, weight distributions, accuracy
 * after quantization, hardware resources, co-simulation and the energy estimate. Inputs are found
 * by the file names the pipeline's commands write (see {@link #CONVENTIONS}); a section whose
 * inputs are absent or unreadable says so and the others still appear, since runs are often
 * partial (a quick demo, a machine without yosys).
 *
 * <p>Writes {@code index.html} (self-contained: no script, no network, inline style only), the
 * PNGs it shows, and {@code report.json} with the same numbers.
 */
public final class RunReport {
  public static final String INDEX = "index.html";
  public static final String JSON_FILE = "report.json";

  /** What the report looks for in a run folder, as documented in the README. */
  public static final Map<String, String> CONVENTIONS = conventions();

  private static Map<String, String> conventions() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("training", "*/metrics.json (one folder per network, e.g. lenet5-adder/, lenet5-cnn/)");
    m.put("weights", "*/checkpoint.json (the same folders)");
    m.put("quantization", "quantize-*.json (reports of 'addernet quantize --report')");
    m.put("hardware", "synth-*.json (reports of 'addernet synth --report')");
    m.put("cosim", "cosim-*.json (reports of 'addernet cosim --report')");
    m.put("energy", "lenet5-adder-8bit/ (a model package), else any model package, else the spec");
    return m;
  }

  static final String ADDER_NET = "lenet5-adder";
  static final String CNN_TWIN = "lenet5-cnn";
  private static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .enable(SerializationFeature.INDENT_OUTPUT);

  /** One titled part of the page with its JSON twin. */
  private static final class Section {
    final String id;
    final String title;
    final StringBuilder html = new StringBuilder();
    final ObjectNode json = JSON.createObjectNode();
    final List<String> missing = new ArrayList<>();

    Section(String id, String title) {
      this.id = id;
      this.title = title;
    }

    void missing(String expected) {
      missing.add(expected);
      html.append("<p class=\"missing\">not in this run: expected ").append(esc(expected)).append("</p>\n");
    }

    void unreadable(Path file, Exception e) {
      String msg = file.getFileName() + ": " + e.getMessage();
      json.withArray("unreadable").add(msg);
      html.append("<p class=\"missing\">could not read ").append(esc(msg)).append("</p>\n");
    }

    /** The JSON files that parse, in order; the others are named as unreadable. */
    Map<Path, JsonNode> read(List<Path> files) {
      Map<Path, JsonNode> out = new LinkedHashMap<>();
      for (Path f : files) {
        try {
          out.put(f, JSON.readTree(f.toFile()));
        } catch (IOException e) {
          unreadable(f, e);
        }
      }
      return out;
    }
  }

  private final Path run;
  private final Path out;
  private final List<Section> sections = new ArrayList<>();
  private final Summary summary = new Summary();

  /** Figures for the plain-text summary, filled while the sections are built. */
  private static final class Summary {
    Double floatAccuracy;
    final Map<Integer, Double> ptq = new TreeMap<>(java.util.Comparator.reverseOrder());
    final Map<Integer, Double> qat = new TreeMap<>(java.util.Comparator.reverseOrder());
    final List<String> mismatches = new ArrayList<>();
    String luts;
    final List<String> fmax = new ArrayList<>();
    final List<String> weights = new ArrayList<>();
    String energy;
    final List<String> missing = new ArrayList<>();
  }

  private RunReport(Path run, Path out) {
    this.run = run;
    this.out = out;
  }

  /**
   * Builds the report of {@code run} into the (empty) folder {@code out} and returns the one-screen
   * summary. Missing inputs never fail it; only an error writing {@code out} does.
   */
  public static String write(Path run, Path out) throws IOException {
    RunReport r = new RunReport(run, out);
    r.sections.add(r.training());
    r.sections.add(r.weights());
    r.sections.add(r.quantization());
    r.sections.add(r.hardware());
    r.sections.add(r.cosim());
    r.sections.add(r.energy());
    r.writeJson();
    r.writeHtml();
    return r.summaryText();
  }

  // ------------------------------------------------------------------ discovery

  private List<Path> files(String glob) throws IOException {
    List<Path> found = new ArrayList<>();
    try (var s = Files.newDirectoryStream(run, glob)) {
      s.forEach(p -> {
        if (Files.isRegularFile(p)) {
          found.add(p);
        }
      });
    }
    found.sort(null);
    return found;
  }

  /** {@code <run>/<folder>/<name>} for every sub-folder that has it, sorted. */
  private List<Path> inSubfolders(String name) throws IOException {
    try (Stream<Path> s = Files.list(run)) {
      return s.filter(Files::isDirectory).map(d -> d.resolve(name)).filter(Files::isRegularFile).sorted().toList();
    }
  }

  private String rel(Path p) {
    return run.relativize(p).toString();
  }

  // ------------------------------------------------------------------ sections

  private Section training() throws IOException {
    Section s = new Section("training", "Training: adder net and CNN twin");
    Map<String, List<EpochMetrics>> nets = new LinkedHashMap<>();
    for (Path f : inSubfolders("metrics.json")) {
      try {
        nets.put(f.getParent().getFileName().toString(), List.of(JSON.readValue(f.toFile(), EpochMetrics[].class)));
      } catch (IOException e) {
        s.unreadable(f, e);
      }
    }
    for (String expected : List.of(ADDER_NET, CNN_TWIN)) {
      if (!nets.containsKey(expected)) {
        s.missing(expected + "/metrics.json");
      }
    }
    nets.values().removeIf(List::isEmpty);
    if (nets.isEmpty()) {
      return s;
    }
    Map<String, double[]> acc = new LinkedHashMap<>();
    Map<String, double[]> loss = new LinkedHashMap<>();
    ObjectNode j = s.json.putObject("networks");
    s.html.append("<table><tr><th>network</th><th>epochs</th><th>final test accuracy</th>"
        + "<th>best test accuracy</th><th>final train loss</th></tr>\n");
    nets.forEach((name, ms) -> {
      acc.put(name, ms.stream().mapToDouble(m -> 100 * m.testAccuracy()).toArray());
      loss.put(name, ms.stream().mapToDouble(EpochMetrics::trainLoss).toArray());
      j.set(name, JSON.valueToTree(ms));
      EpochMetrics last = ms.get(ms.size() - 1);
      double best = ms.stream().mapToDouble(EpochMetrics::testAccuracy).max().orElseThrow();
      s.html.append(row(name, String.valueOf(ms.size()), pct(last.testAccuracy()), pct(best),
          String.format(Locale.ROOT, "%.4f", last.trainLoss())));
    });
    s.html.append("</table>\n");
    chart(s, "training-accuracy.png", "test accuracy per epoch",
        p -> Charts.epochLines(p, "Test accuracy", "test accuracy (%)", acc));
    chart(s, "training-loss.png", "training loss per epoch",
        p -> Charts.epochLines(p, "Training loss", "train loss (cross-entropy)", loss));
    return s;
  }

  private Section weights() throws IOException {
    Section s = new Section("weights", "Trained weights: Laplace or Gaussian?");
    s.html.append("<p>The AdderNet paper reports adder-layer weights to be Laplacian and"
        + " CNN weights Gaussian. Both distributions are fitted by maximum likelihood (Laplace:"
        + " median and mean absolute deviation; Gaussian: mean and standard deviation); the"
        + " Kolmogorov-Smirnov statistic D (largest gap between the empirical and the fitted CDF)"
        + " says which fits better: the smaller D. No p-value is given: parameters fitted on the same"
        + " sample invalidate it. Histograms cover the 0.5th to 99.5th percentile; the fits use"
        + " every weight. For comparison with the starting point: this project initializes adder"
        + " weights from a standard normal and CNN weights uniformly in +-1/sqrt(fan-in)"
        + " (nn.Conv2d), so a Laplace shape of adder weights is the training's doing.</p>\n");
    List<Path> checkpoints = inSubfolders(Checkpoint.MANIFEST);
    List<String> found = new ArrayList<>();
    for (Path f : checkpoints) {
      String folder = f.getParent().getFileName().toString();
      Checkpoint ck;
      try {
        ck = Checkpoint.load(f.getParent());
      } catch (RuntimeException e) {
        s.unreadable(f, e);
        continue;
      }
      found.add(folder);
      netWeights(s, folder, ck.network());
    }
    for (String expected : List.of(ADDER_NET, CNN_TWIN)) {
      if (!found.contains(expected)) {
        s.missing(expected + "/" + Checkpoint.MANIFEST);
      }
    }
    return s;
  }

  private void netWeights(Section s, String folder, Network net) throws IOException {
    Map<String, double[]> layers = new LinkedHashMap<>();
    String kind = "";
    int convs = 0;
    int fcs = 0;
    for (Layer l : net.layers()) {
      float[] w;
      if (l instanceof Conv2d c) {
        w = c.weight().value();
        kind = c.operation().keyword();
        layers.put("conv" + (++convs), toDouble(w));
      } else if (l instanceof Dense d) {
        w = d.weight().value();
        kind = d.operation().keyword();
        layers.put("fc" + (++fcs), toDouble(w));
      }
    }
    double[] pooled = layers.values().stream().flatMapToDouble(java.util.Arrays::stream).toArray();
    ObjectNode j = s.json.withObject("/networks").putObject(folder);
    j.put("network", net.name());
    j.put("operation", kind);
    s.html.append("<h3>").append(esc(folder)).append(" (").append(esc(kind)).append(" layers)</h3>\n");
    s.html.append("<table><tr><th>layer</th><th>weights</th><th>Laplace location, scale</th>"
        + "<th>Gaussian mean, sd</th><th>KS D Laplace</th><th>KS D Gaussian</th><th>better fit</th></tr>\n");
    int laplaceWins = 0;
    ArrayNode jl = j.putArray("layers");
    List<String> pictures = new ArrayList<>();
    for (Map.Entry<String, double[]> e : layers.entrySet()) {
      WeightFit fit = WeightFit.of(e.getValue());
      laplaceWins += fit.betterFit().equals(WeightFit.LAPLACE) ? 1 : 0;
      s.html.append(fitRow(e.getKey(), fit));
      ObjectNode o = JSON.valueToTree(fit);
      o.put("layer", e.getKey());
      o.put("better_fit", fit.betterFit());
      jl.add(o);
      String png = "weights-" + safe(folder) + "-" + e.getKey() + ".png";
      if (draw(s, png, file -> Charts.histogramWithFits(file, folder + " " + e.getKey(), e.getValue(), fit))) {
        pictures.add(png);
      }
    }
    WeightFit all = WeightFit.of(pooled);
    s.html.append(fitRow("all layers pooled", all)).append("</table>\n");
    ObjectNode p = JSON.valueToTree(all);
    p.put("better_fit", all.betterFit());
    j.set("pooled", p);
    j.put("layers_laplace_better", laplaceWins);
    j.put("layer_count", layers.size());
    String verdict = String.format(Locale.ROOT,
        "%s: the Laplace fit is better in %d of %d layers; pooled over all layers the %s fits better"
            + " (KS D %.3f Laplace vs %.3f Gaussian).",
        folder, laplaceWins, layers.size(), all.betterFit(), all.ksLaplace(), all.ksNormal());
    j.put("verdict", verdict);
    s.html.append("<p class=\"verdict\">").append(esc(verdict)).append("</p>\n");
    summary.weights.add(String.format(Locale.ROOT, "%s %s (KS D %.3f Laplace, %.3f Gaussian)",
        folder, all.betterFit(), all.ksLaplace(), all.ksNormal()));
    String pooledPng = "weights-" + safe(folder) + "-pooled.png";
    chart(s, pooledPng, folder + " weights pooled",
        png -> Charts.histogramWithFits(png, folder + ", all weighted layers pooled", pooled, all));
    s.html.append("<div class=\"small\">");
    for (String png : pictures) {
      s.html.append(img(png, png));
    }
    s.html.append("</div>\n");
    j.put("chart", pooledPng);
  }

  private static String fitRow(String name, WeightFit f) {
    return row(name, String.valueOf(f.count()),
        String.format(Locale.ROOT, "%.4g, %.4g", f.laplaceLocation(), f.laplaceScale()),
        String.format(Locale.ROOT, "%.4g, %.4g", f.normalMean(), f.normalSd()),
        String.format(Locale.ROOT, "%.4f", f.ksLaplace()),
        String.format(Locale.ROOT, "%.4f", f.ksNormal()), f.betterFit());
  }

  private Section quantization() throws IOException {
    Section s = new Section("quantization", "Accuracy: float vs fixed point");
    List<Path> reports = files("quantize-*.json");
    if (reports.isEmpty()) {
      s.missing("quantize-8bit.json, quantize-6bit.json, quantize-4bit.json");
      return s;
    }
    ArrayNode jr = s.json.putArray("reports");
    s.html.append("<table><tr><th>report</th><th>network</th><th>bits</th><th>QAT epochs</th>"
        + "<th>test images</th><th>float</th><th>post-training</th><th>after QAT</th></tr>\n");
    Map<String, Map<String, Double>> bars = new LinkedHashMap<>();
    List<String> categories = new ArrayList<>(List.of("float"));
    TreeMap<Integer, String> bitCategories = new TreeMap<>(java.util.Comparator.reverseOrder());
    for (Map.Entry<Path, JsonNode> report : s.read(reports).entrySet()) {
      Path f = report.getKey();
      JsonNode r = report.getValue();
      int bits = r.path("bits").asInt();
      int qat = r.path("qat_epochs").asInt(0);
      Double fl = num(r, "float_accuracy");
      Double q = num(r, "quantized_accuracy");
      Double ptq = qat > 0 ? num(r, "post_training_accuracy") : q;
      Double afterQat = qat > 0 ? q : null;
      ObjectNode o = jr.addObject();
      o.put("file", rel(f));
      o.put("network", r.path("network").asText(""));
      o.put("bits", bits);
      o.put("qat_epochs", qat);
      o.set("layer_bits", r.path("layer_bits"));
      o.put("test_images", r.path("test_images").asInt());
      putNum(o, "float_accuracy", fl);
      putNum(o, "post_training_accuracy", ptq);
      putNum(o, "qat_accuracy", afterQat);
      s.html.append(row(rel(f), r.path("network").asText(""), bits + bitsNote(r), String.valueOf(qat),
          String.valueOf(r.path("test_images").asInt()), pct(fl), pct(ptq), pct(afterQat)));
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
      chart(s, "quantization-accuracy.png", "test accuracy, float and fixed point",
          p -> Charts.groupedBars(p, "Test accuracy", "accuracy (%), axis not from 0", categories, bars,
              false, false));
    }
    return s;
  }

  private static String bitsNote(JsonNode r) {
    JsonNode lb = r.path("layer_bits");
    return lb.isObject() && lb.size() > 0 ? " " + lb : "";
  }

  private Section hardware() throws IOException {
    Section s = new Section("hardware", "Hardware resources: adder PEs vs MAC twin");
    List<Path> reports = files("synth-*.json");
    if (reports.isEmpty()) {
      s.missing("synth-*.json (e.g. synth-array8x8.json from 'addernet synth --mac-twin --report')");
      return s;
    }
    ArrayNode jr = s.json.putArray("reports");
    for (Map.Entry<Path, JsonNode> report : s.read(reports).entrySet()) {
      Path f = report.getKey();
      JsonNode r = report.getValue();
      ObjectNode o = jr.addObject();
      o.put("file", rel(f));
      o.put("rtl", r.path("rtl").asText(""));
      o.put("target", r.path("target").asText(""));
      s.html.append("<h3>").append(esc(rel(f))).append(": ").append(esc(r.path("rtl").asText("")))
          .append(", target ").append(esc(r.path("target").asText(""))).append("</h3>\n");
      s.html.append("<table><tr><th>design</th><th>flow</th><th>module</th><th>LUTs</th><th>FFs</th>"
          + "<th>carries</th><th>BRAM</th><th>DSP</th><th>multipliers</th></tr>\n");
      ArrayNode runs = o.putArray("runs");
      // flow -> design -> module -> resources, for the ratios below
      Map<String, Map<String, JsonNode>> byFlow = new LinkedHashMap<>();
      List<String[]> pnrRows = new ArrayList<>();
      for (JsonNode e : r.path("runs")) {
        String design = e.path("design").asText("?");
        String flow = e.path("flow").asText("?");
        runs.add(e);
        byFlow.computeIfAbsent(flow, k -> new LinkedHashMap<>()).put(design, e.path("modules"));
        e.path("modules").fields().forEachRemaining(m -> s.html.append(row(design, flow, m.getKey(),
            intText(m.getValue(), "luts"), intText(m.getValue(), "flip_flops"), intText(m.getValue(), "carries"),
            intText(m.getValue(), "block_rams"), intText(m.getValue(), "dsps"),
            e.path("multiplier_cells").asText("—"))));
        JsonNode pnr = e.path("pnr");
        if (pnr.isObject()) {
          Double fmax = num(pnr, "fmax_mhz");
          StringBuilder util = new StringBuilder();
          pnr.path("utilisation").fields().forEachRemaining(u ->
              util.append(util.length() == 0 ? "" : ", ").append(u.getKey()).append(' ').append(u.getValue().asText()));
          pnrRows.add(new String[] {design, flow, pnr.path("device").asText("—"), pnr.path("package").asText("—"),
              fmax == null ? "—" : String.format(Locale.ROOT, "%.1f", fmax), util.toString()});
          if (fmax != null) {
            summary.fmax.add(String.format(Locale.ROOT, "%s %.1f MHz (%s)", design, fmax, pnr.path("device").asText("?")));
          }
        }
      }
      s.html.append("</table>\n");
      ratios(s, o, byFlow, rel(f));
      if (pnrRows.isEmpty()) {
        s.missing("a \"pnr\" entry (device, fmax_mhz) in the runs of " + rel(f) + ": place and route not in this report");
      } else {
        s.html.append("<h4>Place and route</h4><table><tr><th>design</th><th>flow</th><th>device</th>"
            + "<th>package</th><th>Fmax (MHz)</th><th>utilisation</th></tr>\n");
        pnrRows.forEach(p -> s.html.append(row(p)));
        s.html.append("</table>\n");
      }
    }
    return s;
  }

  /** adder/MAC ratios for every flow that has both designs and every module both have. */
  private void ratios(Section s, ObjectNode o, Map<String, Map<String, JsonNode>> byFlow, String file) throws IOException {
    ArrayNode jr = o.putArray("adder_over_mac");
    Map<String, Map<String, Double>> bars = new LinkedHashMap<>();
    List<String> flows = new ArrayList<>();
    StringBuilder t = new StringBuilder("<table><tr><th>flow</th><th>module</th><th>LUTs adder / MAC</th>"
        + "<th>FFs adder / MAC</th><th>LUT ratio</th><th>FF ratio</th></tr>\n");
    for (Map.Entry<String, Map<String, JsonNode>> f : byFlow.entrySet()) {
      JsonNode adder = null;
      JsonNode mac = null;
      for (Map.Entry<String, JsonNode> d : f.getValue().entrySet()) {
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
      for (var it = adder.fields(); it.hasNext();) {
        var m = it.next();
        JsonNode b = mac.path(m.getKey());
        if (!b.isObject()) {
          continue;
        }
        long la = m.getValue().path("luts").asLong();
        long lb = b.path("luts").asLong();
        long fa = m.getValue().path("flip_flops").asLong();
        long fb = b.path("flip_flops").asLong();
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
        if (m.getKey().equals("(total)")) {
          bars.computeIfAbsent("adder", k -> new LinkedHashMap<>()).put(f.getKey(), (double) la);
          bars.computeIfAbsent("MAC twin", k -> new LinkedHashMap<>()).put(f.getKey(), (double) lb);
          if (summary.luts == null) {
            summary.luts = String.format(Locale.ROOT, "%d adder vs %d MAC, ratio %s (%s, %s; DSP adder %d, MAC %d)",
                la, lb, ratio(lr), file, f.getKey(), m.getValue().path("dsps").asLong(), b.path("dsps").asLong());
          }
        }
      }
    }
    if (flows.isEmpty()) {
      s.missing("an \"adder\" and a \"mac twin\" design synthesised with the same flow in " + file
          + " (synth --mac-twin)");
      return;
    }
    s.html.append(t).append("</table>\n");
    String png = "hardware-" + safe(file.replace(".json", "")) + ".png";
    chart(s, png, "LUTs of the whole design, adder vs MAC twin, per flow",
        p -> Charts.groupedBars(p, "LUTs, adder vs MAC twin", "LUTs", flows, bars, false));
  }

  private Section cosim() throws IOException {
    Section s = new Section("cosim", "Co-simulation: RTL against the Java integer reference");
    List<Path> reports = files("cosim-*.json");
    if (reports.isEmpty()) {
      s.missing("cosim-*.json (reports of 'addernet cosim --report')");
      return s;
    }
    ArrayNode jr = s.json.putArray("reports");
    s.html.append("<table><tr><th>report</th><th>design</th><th>images / tiles</th><th>values compared</th>"
        + "<th>mismatches</th><th>RTL accuracy</th><th>reference accuracy</th><th>cycles/image (x ideal)</th>"
        + "<th>first mismatch</th></tr>\n");
    for (Map.Entry<Path, JsonNode> report : s.read(reports).entrySet()) {
      Path f = report.getKey();
      JsonNode r = report.getValue();
      ObjectNode o = jr.addObject();
      o.put("file", rel(f));
      r.fields().forEachRemaining(e -> {
        if (e.getValue().isValueNode()) {
          o.set(e.getKey(), e.getValue());
        }
      });
      o.set("first_mismatch", r.path("first_mismatch"));
      String design = r.has("network") ? r.path("network").asText() + ", " + r.path("rows").asText() + "x"
          + r.path("cols").asText() + " array" : r.path("rows").asText("?") + "x" + r.path("cols").asText("?")
          + " bare array, " + r.path("data_bits").asText("?") + "-bit";
      String count = r.has("images") ? r.path("images").asText() + " images"
          + (r.path("layers_compared").asBoolean() ? ", every layer" : "")
          + (r.path("stall_percent").asInt() > 0 ? ", " + r.path("stall_percent").asInt() + "% stalls" : "")
          : r.has("tiles") ? r.path("tiles").asText() + " tiles" : "—";
      Double cyc = num(r, "cycles_per_image");
      Double over = num(r, "cycles_over_ideal");
      JsonNode first = r.path("first_mismatch");
      s.html.append(row(rel(f), design, count, r.path("compared").asText("—"), r.path("mismatches").asText("—"),
          pct(num(r, "rtl_accuracy")), pct(num(r, "reference_accuracy")),
          cyc == null ? "—" : String.format(Locale.ROOT, "%.0f (%.2f)", cyc, over == null ? Double.NaN : over),
          first.isMissingNode() || first.isNull() ? "none" : first.toString()));
      summary.mismatches.add(String.format("%s %s of %s", rel(f), r.path("mismatches").asText("?"),
          r.path("compared").asText("?")));
    }
    s.html.append("</table>\n");
    return s;
  }

  private Section energy() throws IOException {
    Section s = new Section("energy", "Energy per inference: ESTIMATE");
    Path pkg = run.resolve(ADDER_NET + "-8bit");
    if (!Files.isRegularFile(pkg.resolve(ModelPackage.MANIFEST))) {
      List<Path> any = inSubfolders(ModelPackage.MANIFEST);
      pkg = any.isEmpty() ? null : any.get(0).getParent();
    }
    NetworkOps ops = null;
    if (pkg != null) {
      try {
        ops = NetworkOps.of(ModelPackage.read(pkg).network());
        s.json.put("counted_from", rel(pkg));
      } catch (RuntimeException e) {
        s.unreadable(pkg, e);
      }
    } else {
      s.missing(ADDER_NET + "-8bit/" + ModelPackage.MANIFEST + " (a model package): counted from the spec instead");
    }
    if (ops == null) {
      ops = NetworkOps.of(NetworkSpec.resolve(ADDER_NET), QuantConfig.DEFAULT_BITS, QuantConfig.DEFAULT_REQUANT_TERMS);
      s.json.put("counted_from", "spec " + ADDER_NET);
    }
    EnergyEstimate.Result r = EnergyEstimate.of(ops, OperationEnergy.HOROWITZ_45NM);
    s.json.set("estimate", JSON.valueToTree(r));
    s.html.append("<p class=\"verdict\">An <b>estimate</b> of the arithmetic energy only, from operation counts"
        + " and published per-operation energies: ").append(esc(r.source())).append(
        ". Counted from the ").append(esc(r.countedFrom())).append(".</p>\n");
    s.html.append("<table><tr><th>layer</th><th>weight uses</th><th>B</th><th>accumulator adder / MAC</th>"
        + "<th>requantization adds</th><th>adder net (pJ)</th><th>CNN twin (pJ)</th></tr>\n");
    for (EnergyEstimate.LayerEnergy l : r.layers()) {
      s.html.append(row(l.ops().name(), String.format("%,d", l.ops().weightUses()), String.valueOf(l.ops().dataBits()),
          l.ops().adderAccBits() + " / " + l.ops().macAccBits(), String.format("%,d", l.ops().requantAdds()),
          pj(l.adder().totalPj()), pj(l.cnn().totalPj())));
    }
    s.html.append("</table>\n<table><tr><th></th><th>adder net</th><th>CNN twin</th><th>adder / CNN</th></tr>\n");
    s.html.append(row("integer, per inference", nj(r.adder().totalPj()), nj(r.cnn().totalPj()), ratio(r.adderOverCnn())));
    s.html.append(row("float32, per inference", nj(r.adderFloat32().totalPj()), nj(r.cnnFloat32().totalPj()),
        ratio(r.adderOverCnnFloat32())));
    s.html.append(row("integer, by kind (pJ)", kinds(r.adder()), kinds(r.cnn()), ""));
    s.html.append(row("float32, by kind (pJ)", kinds(r.adderFloat32()), kinds(r.cnnFloat32()), ""));
    s.html.append("</table>\n<p>Assumptions:</p>\n<ul>\n");
    r.assumptions().forEach(a -> s.html.append("<li>").append(esc(a)).append("</li>\n"));
    s.html.append("</ul>\n");
    Map<String, Map<String, Double>> bars = new LinkedHashMap<>();
    r.adder().perKindPj().forEach((k, v) -> bars.computeIfAbsent(k, x -> new LinkedHashMap<>()).put("adder net", v / 1000));
    r.cnn().perKindPj().forEach((k, v) -> bars.computeIfAbsent(k, x -> new LinkedHashMap<>()).put("CNN twin", v / 1000));
    chart(s, "energy.png", "integer arithmetic energy per inference by kind of operation (estimate)",
        p -> Charts.groupedBars(p, "Arithmetic energy per inference (estimate, 45 nm)", "nJ",
            List.of("adder net", "CNN twin"), bars, true));
    summary.energy = String.format(Locale.ROOT, "adder %s vs CNN %s, ratio %.3f (integer, %s; float32: %s vs %s)",
        nj(r.adder().totalPj()), nj(r.cnn().totalPj()), r.adderOverCnn(), r.countedFrom(),
        nj(r.adderFloat32().totalPj()), nj(r.cnnFloat32().totalPj()));
    return s;
  }

  private static String kinds(EnergyEstimate.Breakdown b) {
    StringBuilder sb = new StringBuilder();
    b.perKindPj().forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ")
        .append(String.format(Locale.ROOT, "%s %,.0f", k, v)));
    return sb.toString();
  }

  // ------------------------------------------------------------------ output

  @FunctionalInterface
  private interface Drawing {
    void draw(Path png) throws IOException;
  }

  private void chart(Section s, String png, String alt, Drawing d) throws IOException {
    if (draw(s, png, d)) {
      s.html.append(img(png, alt));
    }
  }

  /**
   * Draws one PNG. Java2D needs fonts and the FreeType library even headless; where a machine
   * lacks them the chart is named as not drawn and the page keeps its tables, which carry the
   * same numbers.
   */
  private boolean draw(Section s, String png, Drawing d) throws IOException {
    try {
      d.draw(out.resolve(png));
      s.json.withArray("charts").add(png);
      return true;
    } catch (RuntimeException | LinkageError | InternalError e) {
      String why = png + ": " + e;
      s.json.withArray("charts_not_drawn").add(why);
      s.html.append("<p class=\"missing\">chart not drawn (").append(esc(why))
          .append("); the table has the numbers</p>\n");
      return false;
    }
  }

  private void writeJson() throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("run", run.toString());
    ObjectNode conv = root.putObject("conventions");
    CONVENTIONS.forEach(conv::put);
    ObjectNode secs = root.putObject("sections");
    for (Section s : sections) {
      ObjectNode o = secs.putObject(s.id);
      o.put("title", s.title);
      ArrayNode m = o.putArray("missing");
      s.missing.forEach(m::add);
      o.setAll(s.json);
      s.missing.forEach(x -> summary.missing.add(s.id + ": " + x));
    }
    JSON.writeValue(out.resolve(JSON_FILE).toFile(), root);
  }

  private void writeHtml() throws IOException {
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>addernet run report: ")
        .append(esc(run.getFileName().toString())).append("</title>\n<style>\n")
        .append("body{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em;line-height:1.4}\n")
        .append("table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #bbb;padding:2px 8px;")
        .append("text-align:left}th{background:#eee}.missing{color:#a33}.verdict{font-weight:bold}\n")
        .append("img{max-width:100%;border:1px solid #ddd;margin:4px 0}.small img{width:32%}\n")
        .append("pre{background:#f6f6f6;padding:0.5em}</style></head><body>\n");
    h.append("<h1>Run report: ").append(esc(run.getFileName().toString())).append("</h1>\n");
    h.append("<p>Run folder <code>").append(esc(run.toString())).append("</code>. Numbers also in <a href=\"")
        .append(JSON_FILE).append("\">").append(JSON_FILE).append("</a>.</p>\n<h2>Summary</h2>\n<pre>")
        .append(esc(summaryText())).append("</pre>\n<ul>\n");
    for (Section s : sections) {
      h.append("<li><a href=\"#").append(s.id).append("\">").append(esc(s.title)).append("</a></li>\n");
    }
    h.append("</ul>\n");
    for (Section s : sections) {
      h.append("<h2 id=\"").append(s.id).append("\">").append(esc(s.title)).append("</h2>\n").append(s.html);
    }
    h.append("<h2>Where the report looks</h2>\n<table><tr><th>section</th><th>files in the run folder</th></tr>\n");
    CONVENTIONS.forEach((k, v) -> h.append(row(k, v)));
    h.append("</table>\n</body></html>\n");
    Files.writeString(out.resolve(INDEX), h, StandardCharsets.UTF_8);
  }

  private String summaryText() {
    StringBuilder t = new StringBuilder();
    t.append(String.format("%-22s %s%n", "run", run));
    StringBuilder acc = new StringBuilder();
    acc.append("float ").append(summary.floatAccuracy == null ? "—" : pct(summary.floatAccuracy));
    summary.ptq.forEach((b, a) -> acc.append(", ").append(b).append("-bit ").append(pct(a)));
    summary.qat.forEach((b, a) -> acc.append(", ").append(b).append("-bit QAT ").append(pct(a)));
    t.append(String.format("%-22s %s%n", "test accuracy",
        summary.floatAccuracy == null && summary.ptq.isEmpty() ? "not in this run" : acc));
    t.append(String.format("%-22s %s%n", "weights fit better",
        summary.weights.isEmpty() ? "not in this run" : String.join("; ", summary.weights)));
    t.append(String.format("%-22s %s%n", "RTL mismatches",
        summary.mismatches.isEmpty() ? "not in this run" : String.join("; ", summary.mismatches)));
    t.append(String.format("%-22s %s%n", "LUTs adder vs MAC", summary.luts == null ? "not in this run" : summary.luts));
    t.append(String.format("%-22s %s%n", "Fmax", summary.fmax.isEmpty() ? "not in this run" : String.join("; ", summary.fmax)));
    t.append(String.format("%-22s %s%n", "energy/inference", summary.energy == null ? "—" : summary.energy + ", ESTIMATE"));
    if (!summary.missing.isEmpty()) {
      t.append(String.format("%-22s %d expected input(s) missing, each named in the report (%s)%n", "not in this run",
          summary.missing.size(),
          String.join(", ", sections.stream().filter(x -> !x.missing.isEmpty()).map(x -> x.id).toList())));
    }
    return t.toString();
  }

  // ------------------------------------------------------------------ small helpers

  /** Everything that goes into the page from a file passes here, in text and in attributes alike. */
  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
        .replace("'", "&#39;");
  }

  private static String row(String... cells) {
    StringBuilder sb = new StringBuilder("<tr>");
    for (String c : cells) {
      sb.append("<td>").append(esc(c)).append("</td>");
    }
    return sb.append("</tr>\n").toString();
  }

  private static String img(String png, String alt) {
    return "<img src=\"" + esc(png) + "\" alt=\"" + esc(alt) + "\">\n";
  }

  private static String safe(String s) {
    return s.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  private static double[] toDouble(float[] w) {
    double[] d = new double[w.length];
    for (int i = 0; i < w.length; i++) {
      d[i] = w[i];
    }
    return d;
  }

  private static Double num(JsonNode n, String field) {
    JsonNode v = n.path(field);
    return v.isNumber() ? v.asDouble() : null;
  }

  private static void putNum(ObjectNode o, String field, Double v) {
    if (v == null) {
      o.putNull(field);
    } else {
      o.put(field, v);
    }
  }

  private static String intText(JsonNode n, String field) {
    return n.path(field).isNumber() ? String.valueOf(n.path(field).asLong()) : "—";
  }

  static String pct(Double fraction) {
    return fraction == null ? "—" : String.format(Locale.ROOT, "%.2f%%", 100 * fraction);
  }

  private static String ratio(Double r) {
    return r == null ? "—" : String.format(Locale.ROOT, "%.3f", r);
  }

  private static String pj(double pj) {
    return String.format(Locale.ROOT, "%,.1f", pj);
  }

  private static String nj(double pj) {
    return String.format(Locale.ROOT, "%,.1f nJ", pj / 1000);
  }
}
