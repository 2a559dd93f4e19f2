package addernet.export;

import addernet.io.StrictJson;
import addernet.quant.PeOp;
import addernet.quant.IntLayer;
import addernet.quant.IntNetwork;
import addernet.quant.Requant;
import addernet.quant.Scales;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The validating reader of docs/model-package.md ("What the reader checks"): every rule of that
 * page is enforced here, in the page's order, and each refusal is a {@link PackageException} that
 * names the file, the field (as a JSON path) and what was expected. Sizes declared in the manifest
 * are compared with the real files before anything is allocated for them, so no input can end in
 * another exception.
 */
final class PackageReader {
  /** The manifest holds no bulk data; a bigger one is not a package (and would fill the heap). */
  static final long MAX_MANIFEST_BYTES = 64L << 20;
  /** Largest element count of one array: a signed 32-bit index (a Java array, a $readmemh address). */
  static final long MAX_ELEMENTS = Integer.MAX_VALUE;
  /** Contract section 3: the reduction length K is limited to 2^24. */
  static final long MAX_K = 1L << 24;
  static final int MAX_SIZE = 1 << 16;
  static final int MAX_KERNEL = 1 << 10;
  static final int MAX_GOLDEN = 1 << 16;
  static final String LAYER_NAME_RULE = "a letter, then up to 63 letters, digits, '_' or '-'";
  private static final Pattern LAYER_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,63}");
  private static final ObjectMapper STRICT = StrictJson.builder().build();

  private final Path given;
  private final StrictJson<PackageException> json = new StrictJson<>(ModelPackage.MANIFEST, PackageException::new);
  private Path dir;
  private JsonNode root;
  private PackageFiles files;

  private PackageReader(Path dir) {
    this.given = dir;
  }

  static ModelPackage read(Path dir) throws PackageException {
    try {
      return new PackageReader(dir).read();
    } catch (IOException e) {
      throw new PackageException(dir + ": cannot read: " + StrictJson.describe(e));
    }
  }

  // ---------------------------------------------------------------- the steps, in the doc's order

  private ModelPackage read() throws IOException {
    if (!Files.isDirectory(given)) {
      throw new PackageException(given + ": " + (Files.exists(given) ? "not a folder" : "no such folder")
          + "; a model package is a folder holding " + ModelPackage.MANIFEST);
    }
    dir = given.toRealPath();
    root = manifest();
    files = new PackageFiles(dir, json);
    if (!ModelPackage.FORMAT.equals(root.path("format").textValue())) {
      throw json.bad("format", "must be \"" + ModelPackage.FORMAT + "\", got " + StrictJson.shown(root.get("format")));
    }
    JsonNode version = root.get("version");
    if (version == null || !version.isIntegralNumber() || !version.canConvertToInt()
        || version.intValue() != ModelPackage.VERSION) {
      throw json.bad("version", "unsupported package version " + StrictJson.shown(version) + " (this reader knows version "
          + ModelPackage.VERSION + ")");
    }
    files.checkListed(root);
    files.checkFolderContents();
    String network = json.text(root, "network", "network");
    String problem = addernet.io.Names.problem(network);
    if (problem != null) {
      throw json.bad("network", "must be a name without control characters, line separators or bidirectional controls"
          + " (docs/spec-format.md, \"Names\"): " + addernet.io.Names.printable(network) + " " + problem);
    }
    JsonNode in = json.object(root, "input", "input");
    int ch = json.integer(in, "channels", "input.channels", 1, MAX_SIZE);
    int h = json.integer(in, "height", "input.height", 1, MAX_SIZE);
    int w = json.integer(in, "width", "input.width", 1, MAX_SIZE);
    checkElements(json, "input", (long) ch * h * w, "the input image");
    json.integer(in, "pixel_bits", "input.pixel_bits", 8, 8);
    int logitBits = json.integer(root, "logit_bits", "logit_bits", 2, 32);
    double logitScale = json.number(root, "logit_scale", "logit_scale", true);
    JsonNode layersNode = json.array(root, "layers", "layers");
    if (layersNode.isEmpty()) {
      throw json.bad("layers", "must hold at least one layer, got []");
    }
    int n = layersNode.size();
    // Data bits first: each layer's clamp is the next layer's range (contract section 7).
    int[] dataBits = new int[n];
    for (int i = 0; i < n; i++) {
      dataBits[i] = json.integer(json.object(layersNode, i, "layers[" + i + "]"), "data_bits", "layers[" + i + "].data_bits", 2, 16);
    }
    json.integer(in, "input_shift", "input.input_shift", IntNetwork.inputShift(dataBits[0]),
        IntNetwork.inputShift(dataBits[0]));
    List<IntLayer> layers = new ArrayList<>();
    double[] scales = new double[n];
    Map<String, String> names = new HashMap<>();
    PeOp networkOp = null;
    int c = ch;
    int hh = h;
    int ww = w;
    for (int i = 0; i < n; i++) {
      JsonNode l = layersNode.get(i);
      String f = "layers[" + i + "]";
      String name = json.text(l, "name", f + ".name");
      // "input" names the golden input's files; on a case-insensitive file system so does "INPUT".
      if (!LAYER_NAME.matcher(name).matches() || name.equalsIgnoreCase("input")) {
        throw json.bad(f + ".name", "must be " + LAYER_NAME_RULE + ", and not \"input\" in any case (the name is also a file"
            + " name: weights/<name>.mem), got " + StrictJson.shown(l.get("name")));
      }
      String earlier = names.putIfAbsent(name.toLowerCase(Locale.ROOT), f);
      if (earlier != null) {
        throw json.bad(f + ".name", "\"" + name + "\" is already the name of " + earlier
            + " (layer names are unique, ignoring case: each names its own files)");
      }
      String type = json.text(l, "type", f + ".type");
      if (!type.equals("conv") && !type.equals("fc")) {
        throw json.bad(f + ".type", "must be conv or fc, got " + StrictJson.shown(l.get("type")));
      }
      PeOp op = operation(l, f);
      if (networkOp == null) {
        networkOp = op;
      } else if (op != networkOp) {
        throw json.bad(f + ".operation", "must be " + networkOp.word() + " like layers[0]"
            + " (all layers of a package share one operation, contract section 6), got "
            + (l.has("operation") ? StrictJson.shown(l.get("operation")) : "nothing (adder)"));
      }
      int inC = json.integer(l, "in_channels", f + ".in_channels", c, c);
      int inH = json.integer(l, "in_height", f + ".in_height", hh, hh);
      int inW = json.integer(l, "in_width", f + ".in_width", ww, ww);
      int outC = json.integer(l, "out_channels", f + ".out_channels", 1, MAX_SIZE);
      int k = json.integer(l, "kernel", f + ".kernel", 1, MAX_KERNEL);
      int stride = json.integer(l, "stride", f + ".stride", 1, MAX_KERNEL);
      int pad = json.integer(l, "padding", f + ".padding", 0, MAX_KERNEL);
      boolean pool = json.bool(l, "pool", f + ".pool");
      boolean fc = type.equals("fc");
      if (fc) {
        json.integer(l, "kernel", f + ".kernel", inH, inH); // an fc layer covers its input
        if (inW != inH) {
          throw json.bad(f + ".kernel", "an fc layer's kernel covers its whole square input, but the input is "
              + inH + "x" + inW);
        }
        json.integer(l, "stride", f + ".stride", 1, 1);
        json.integer(l, "padding", f + ".padding", 0, 0);
      }
      if (inH + 2L * pad < k || inW + 2L * pad < k) {
        throw json.bad(f + ".kernel", "must fit the " + inH + "x" + inW + " input with padding " + pad + ", got " + k);
      }
      long kk = (long) inC * k * k;
      if (kk > MAX_K) {
        throw json.bad(f, "K = in_channels * kernel^2 = " + kk + " exceeds the contract's 2^24 (section 3)");
      }
      int convH = (inH + 2 * pad - k) / stride + 1;
      int convW = (inW + 2 * pad - k) / stride + 1;
      if (pool && (convH < 2 || convW < 2)) {
        throw json.bad(f + ".pool", "a 2x2 max-pool needs a convolution output of at least 2x2, got " + convH + "x" + convW);
      }
      checkElements(json, f, (long) outC * convH * convW, "its output before pooling");
      int bits = dataBits[i];
      scales[i] = json.number(l, "scale", f + ".scale", true);
      int[] weights = files.readArray(json.object(l, "weights", f + ".weights"), f + ".weights", "weights/" + name, bits, true,
          new long[] {outC, inC, k, k});
      boolean last = i == n - 1;
      Requant rq = PackageRequant.read(json, json.object(l, "requant", f + ".requant"), f + ".requant", outC, last,
          last ? logitBits : dataBits[i + 1]);
      IntLayer layer;
      try {
        layer = new IntLayer(name, op, fc, inC, inH, inW, outC, k, stride, pad, bits, weights, rq, pool);
      } catch (IllegalArgumentException e) {
        throw json.bad(f, e.getMessage()); // the checks above leave nothing for it; kept as a guard
      }
      json.integer(l, "out_height", f + ".out_height", layer.outHeight(), layer.outHeight());
      json.integer(l, "out_width", f + ".out_width", layer.outWidth(), layer.outWidth());
      layers.add(layer);
      // The MAC's bound depends on the input range, i.e. on the layers before (section 3).
      int acc = network("partial", ch, h, w, layers, logitBits).accBits(i);
      json.integer(l, "acc_bits", f + ".acc_bits", acc, acc);
      PackageRequant.checkBound(rq, acc, f + ".requant");
      c = layer.outChannels();
      hh = layer.outHeight();
      ww = layer.outWidth();
    }
    IntNetwork net = network(network, ch, h, w, layers, logitBits);
    json.integer(root, "classes", "classes", net.classes(), net.classes());
    ModelPackage.Golden golden = golden(net);
    files.checkAllNamed();
    Map<String, Object> prov = new LinkedHashMap<>();
    JsonNode p = root.get("provenance");
    if (p != null) {
      if (!p.isObject()) {
        throw json.bad("provenance", "must be an object, got " + StrictJson.shown(p));
      }
      Iterator<Map.Entry<String, JsonNode>> it = p.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        try {
          prov.put(e.getKey(), STRICT.convertValue(e.getValue(), Object.class));
        } catch (IllegalArgumentException x) {
          throw json.bad(StrictJson.shownField("provenance", e.getKey()),
              "cannot be read as a JSON value: " + StrictJson.oneLine(x.getMessage()));
        }
      }
    }
    return new ModelPackage(net, new Scales(scales, logitScale), prov, golden);
  }

  private JsonNode manifest() {
    Path m = dir.resolve(ModelPackage.MANIFEST);
    if (!Files.exists(m, LinkOption.NOFOLLOW_LINKS)) {
      throw json.refuse("missing in " + given);
    }
    if (!Files.isRegularFile(m, LinkOption.NOFOLLOW_LINKS)) {
      throw json.refuse("must be a regular file (not a folder or a link)");
    }
    return json.parseObject(json.readText(m, MAX_MANIFEST_BYTES, " (a manifest holds no bulk data)"));
  }

  private PeOp operation(JsonNode l, String f) throws PackageException {
    // Packages written before the CNN twin have no operation: every layer was an adder layer.
    if (!l.has("operation")) {
      return PeOp.ADDER;
    }
    JsonNode o = l.get("operation");
    try {
      return PeOp.fromWord(o.isTextual() ? o.textValue() : null);
    } catch (IllegalArgumentException e) {
      throw json.bad(f + ".operation", "must be adder or multiply, got " + StrictJson.shown(o));
    }
  }

  private IntNetwork network(String name, int ch, int h, int w, List<IntLayer> layers, int logitBits)
      throws PackageException {
    try {
      return new IntNetwork(name, ch, h, w, layers, logitBits);
    } catch (IllegalArgumentException e) {
      throw json.bad("layers", e.getMessage()); // the reader's own checks come first; kept as a guard
    }
  }

  static void checkElements(StrictJson<PackageException> json, String f, long count, String what) {
    if (count > MAX_ELEMENTS) {
      throw json.bad(f, what + " has " + count + " elements, more than the 2^31 - 1 of any array of this format");
    }
  }

  private ModelPackage.Golden golden(IntNetwork net) throws IOException {
    JsonNode g = json.object(root, "golden", "golden");
    int count = json.integer(g, "count", "golden.count", 1, MAX_GOLDEN);
    int size = net.inChannels() * net.inHeight() * net.inWidth();
    int classes = net.classes();
    int[] labels = integers(g, "labels", "golden.labels", count, classes);
    int[] preds = integers(g, "predictions", "golden.predictions", count, classes);
    int[] pix = files.readArray(json.object(g, "input", "golden.input"), "golden.input", "golden/input", 8, false,
        new long[] {count, net.inChannels(), net.inHeight(), net.inWidth()});
    JsonNode outs = json.array(g, "outputs", "golden.outputs");
    if (outs.size() != net.layers().size()) {
      throw json.bad("golden.outputs", "must hold one entry per layer (" + net.layers().size() + "), got " + outs.size());
    }
    int[][] pixels = new int[count][];
    List<List<int[]>> traces = new ArrayList<>();
    for (int v = 0; v < count; v++) {
      pixels[v] = Arrays.copyOfRange(pix, v * size, (v + 1) * size);
      traces.add(net.trace(pixels[v]));
    }
    for (int i = 0; i < net.layers().size(); i++) {
      IntLayer l = net.layers().get(i);
      String f = "golden.outputs[" + i + "]";
      JsonNode o = json.object(outs, i, f);
      String layer = json.text(o, "layer", f + ".layer");
      if (!layer.equals(l.name())) {
        throw json.bad(f + ".layer", "must be \"" + l.name() + "\" (layers[" + i + "].name), got " + StrictJson.shown(o.get("layer")));
      }
      String base = "golden/" + l.name();
      int[] want = files.readArray(json.object(o, "values", f + ".values"), f + ".values", base, ModelPackage.outputBits(net, i),
          true, new long[] {count, l.outChannels(), l.outHeight(), l.outWidth()});
      for (int v = 0; v < count; v++) {
        int[] got = traces.get(v).get(i + 1);
        for (int e = 0; e < got.length; e++) {
          if (got[e] != want[v * l.outSize() + e]) {
            throw new PackageException(base + ".bin: vector " + v + " element " + e + " is "
                + want[v * l.outSize() + e] + " but the network computes " + got[e]);
          }
        }
      }
    }
    // Layer outputs first: the first layer that differs says more than a changed prediction.
    for (int v = 0; v < count; v++) {
      int pred = ModelPackage.argmax(traces.get(v).get(net.layers().size()));
      if (preds[v] != pred) {
        throw json.bad("golden.predictions[" + v + "]", "says " + preds[v] + ", the network gives " + pred);
      }
    }
    return new ModelPackage.Golden(pixels, labels, traces);
  }

  /** {@code count} integers in 0..classes-1 (labels and predictions are class indices). */
  private int[] integers(JsonNode n, String key, String f, int count, int classes) {
    JsonNode a = json.array(n, key, f);
    if (a.size() != count) {
      throw json.bad(f, "must hold golden.count = " + count + " entries, got " + a.size());
    }
    int[] out = new int[count];
    for (int i = 0; i < count; i++) {
      out[i] = json.integer(a, i, f + "[" + i + "]", 0, classes - 1, " (a class index)");
    }
    return out;
  }
}
