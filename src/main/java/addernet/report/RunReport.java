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
import static addernet.report.Html.esc;
import static addernet.report.Html.img;
import static addernet.report.Html.nj;
import static addernet.report.Html.pct;
import static addernet.report.Html.pj;
import static addernet.report.Html.ratio;
import static addernet.report.Html.row;
import static addernet.report.Html.safe;

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
  private static final ObjectMapper JSON = Section.JSON;

  private final Path run;
  private final Path out;
  private final RunFolder folder;
  private final List<Section> sections = new ArrayList<>();
  private final RunSummary summary = new RunSummary();
  private RunReport(Path run, Path out) {
    this.run = run;
    this.out = out;
    this.folder = new RunFolder(run);
  }

  /**
   * Builds the report of {@code run} into the (empty) folder {@code out} and returns the one-screen
   * summary. Missing inputs never fail it; only an error writing {@code out} does.
   */
  public static String write(Path run, Path out) throws IOException {
    RunReport r = new RunReport(run, out);
    r.sections.add(r.training());
    r.sections.add(r.weights());
    r.sections.add(QuantizationSection.build(r.folder, out, r.summary));
    r.sections.add(HardwareSection.build(r.folder, out, r.summary));
    r.sections.add(CosimSection.build(r.folder, out, r.summary));
    r.sections.add(r.energy());
    r.writeJson();
    r.writeHtml();
    return r.summaryText();
  }

  // ------------------------------------------------------------------ sections

  private Section training() throws IOException {
    Section s = new Section("training", "Training: adder net and CNN twin", out);
    Map<String, List<EpochMetrics>> nets = new LinkedHashMap<>();
    for (Path f : folder.inSubfolders("metrics.json")) {
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
    s.chart("training-accuracy.png", "test accuracy per epoch",
        p -> Charts.epochLines(p, "Test accuracy", "test accuracy (%)", acc));
    s.chart("training-loss.png", "training loss per epoch",
        p -> Charts.epochLines(p, "Training loss", "train loss (cross-entropy)", loss));
    return s;
  }

  private Section weights() throws IOException {
    Section s = new Section("weights", "Trained weights: Laplace or Gaussian?", out);
    s.html.append("<p>The AdderNet paper reports adder-layer weights to be Laplacian and"
        + " CNN weights Gaussian. Both distributions are fitted by maximum likelihood (Laplace:"
        + " median and mean absolute deviation; Gaussian: mean and standard deviation); the"
        + " Kolmogorov-Smirnov statistic D (largest gap between the empirical and the fitted CDF)"
        + " says which fits better: the smaller D. No p-value is given: parameters fitted on the same"
        + " sample invalidate it. Histograms cover the 0.5th to 99.5th percentile; the fits use"
        + " every weight. For comparison with the starting point: this project initializes adder"
        + " weights from a standard normal and CNN weights uniformly in +-1/sqrt(fan-in)"
        + " (nn.Conv2d), so a Laplace shape of adder weights is the training's doing.</p>\n");
    List<Path> checkpoints = folder.inSubfolders(Checkpoint.MANIFEST);
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
      if (s.draw(png, file -> Charts.histogramWithFits(file, folder + " " + e.getKey(), e.getValue(), fit))) {
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
    s.chart(pooledPng, folder + " weights pooled",
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

  private Section energy() throws IOException {
    Section s = new Section("energy", "Energy per inference: ESTIMATE", out);
    Path pkg = run.resolve(ADDER_NET + "-8bit");
    if (!Files.isRegularFile(pkg.resolve(ModelPackage.MANIFEST))) {
      List<Path> any = folder.inSubfolders(ModelPackage.MANIFEST);
      pkg = any.isEmpty() ? null : any.get(0).getParent();
    }
    NetworkOps ops = null;
    if (pkg != null) {
      try {
        ops = NetworkOps.of(ModelPackage.read(pkg).network());
        s.json.put("counted_from", folder.rel(pkg));
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
    s.chart("energy.png", "integer arithmetic energy per inference by kind of operation (estimate)",
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
    return summary.text(run, sections);
  }

  // ------------------------------------------------------------------ small helpers

  private static double[] toDouble(float[] w) {
    double[] d = new double[w.length];
    for (int i = 0; i < w.length; i++) {
      d[i] = w[i];
    }
    return d;
  }


}
