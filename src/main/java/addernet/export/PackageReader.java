package addernet.export;

import addernet.io.StrictJson;
import addernet.quant.PeOp;
import addernet.quant.IntLayer;
import addernet.quant.IntNode;
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
        || (version.intValue() != ModelPackage.VERSION && version.intValue() != ModelPackage.GRAPH_VERSION)) {
      throw json.bad("version", "unsupported package version " + StrictJson.shown(version) + " (this reader knows versions "
          + ModelPackage.VERSION + " and " + ModelPackage.GRAPH_VERSION + ")");
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
    if (version.intValue() == ModelPackage.GRAPH_VERSION) {
      return finish(readNodes(network, ch, h, w, logitBits, logitScale));
    }
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
      PeOp op = operation(l, f);
      if (networkOp == null) {
        networkOp = op;
      } else if (op != networkOp) {
        throw json.bad(f + ".operation", "must be " + networkOp.word() + " like layers[0]"
            + " (all layers of a package share one operation, contract section 6), got "
            + (l.has("operation") ? StrictJson.shown(l.get("operation")) : "nothing (adder)"));
      }
      boolean last = i == n - 1;
      long[] range = i == 0 ? new long[] {0, 255 >> IntNetwork.inputShift(dataBits[0])}
          : new long[] {0, (1L << (dataBits[i] - 1)) - 1};
      double[] scale = new double[1];
      IntLayer layer = layerBody(l, f, name, op, c, hh, ww, dataBits[i], last, last ? logitBits : dataBits[i + 1],
          null, range, scale);
      scales[i] = scale[0];
      layers.add(layer);
      c = layer.outChannels();
      hh = layer.outHeight();
      ww = layer.outWidth();
    }
    IntNetwork net = network(network, ch, h, w, layers, logitBits);
    return finish(new Scales(scales, logitScale), net);
  }

  private ModelPackage finish(Object[] read) throws IOException {
    return finish((Scales) read[0], (IntNetwork) read[1]);
  }

  /** Steps 6 and 7: classes, the golden vectors, the files all named, provenance. */
  private ModelPackage finish(Scales scales, IntNetwork net) throws IOException {
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
    return new ModelPackage(net, scales, prov, golden);
  }

  /**
   * One weighted layer's fields after its name and operation (docs/model-package.md, "Layers"):
   * type, shapes against its input c x hh x ww, weights, requantization (clamped to signed or
   * non-negative {@code outBits}-bit data; {@code why} null for a chain's wording), output size,
   * acc_bits for inputs in {@code inRange}, the 64-bit bound. Its scale goes into {@code scale[0]}.
   */
  private IntLayer layerBody(JsonNode l, String f, String name, PeOp op, int c, int hh, int ww, int bits,
      boolean signed, int outBits, String why, long[] inRange, double[] scale) throws IOException {
    String type = json.text(l, "type", f + ".type");
    if (!type.equals("conv") && !type.equals("fc")) {
      throw json.bad(f + ".type", "must be conv or fc, got " + StrictJson.shown(l.get("type")));
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
    scale[0] = json.number(l, "scale", f + ".scale", true);
    int[] weights = files.readArray(json.object(l, "weights", f + ".weights"), f + ".weights", "weights/" + name, bits, true,
        new long[] {outC, inC, k, k});
    Requant rq = why == null
        ? PackageRequant.read(json, json.object(l, "requant", f + ".requant"), f + ".requant", outC, signed, outBits)
        : PackageRequant.read(json, json.object(l, "requant", f + ".requant"), f + ".requant", outC, signed, outBits,
            why);
    IntLayer layer;
    try {
      layer = new IntLayer(name, op, fc, inC, inH, inW, outC, k, stride, pad, bits, weights, rq, pool);
    } catch (IllegalArgumentException e) {
      throw json.bad(f, e.getMessage()); // the checks above leave nothing for it; kept as a guard
    }
    json.integer(l, "out_height", f + ".out_height", layer.outHeight(), layer.outHeight());
    json.integer(l, "out_width", f + ".out_width", layer.outWidth(), layer.outWidth());
    // The MAC's bound depends on the input range, i.e. on the layers before (section 3).
    long wMax = (1L << (bits - 1)) - 1;
    int acc = op == PeOp.ADDER ? PeOp.ADDER.accumulatorBits(bits, layer.k())
        : PeOp.multiplyAccumulatorBits(layer.k(), inRange[0], inRange[1], -wMax - 1, wMax);
    json.integer(l, "acc_bits", f + ".acc_bits", acc, acc);
    PackageRequant.checkBound(rq, acc, f + ".requant");
    return layer;
  }

  /**
   * Version 2's {@code nodes} (docs/model-package.md, "Version 2: nodes"), in order: each node's
   * name, kind and inputs, then its kind's fields against its inputs; then the network's rules
   * (contract section 8). Returns {scales, network}.
   */
  private Object[] readNodes(String network, int ch, int h, int w, int logitBits, double logitScale)
      throws IOException {
    JsonNode list = json.array(root, "nodes", "nodes");
    if (list.isEmpty()) {
      throw json.bad("nodes", "must hold at least one node, got []");
    }
    int n = list.size();
    List<IntNode> nodes = new ArrayList<>();
    List<Double> layerScales = new ArrayList<>();
    double[] outScales = new double[n];
    int[] readers = new int[n];
    Map<String, String> names = new HashMap<>();
    PeOp networkOp = null;
    for (int j = 0; j < n; j++) {
      String f = "nodes[" + j + "]";
      JsonNode nd = json.object(list, j, f);
      String name = json.text(nd, "name", f + ".name");
      if (!LAYER_NAME.matcher(name).matches() || name.equalsIgnoreCase("input")) {
        throw json.bad(f + ".name", "must be " + LAYER_NAME_RULE + ", and not \"input\" in any case (the name is also a file"
            + " name: golden/<name>.mem), got " + StrictJson.shown(nd.get("name")));
      }
      String earlier = names.putIfAbsent(name.toLowerCase(Locale.ROOT), f);
      if (earlier != null) {
        throw json.bad(f + ".name", "\"" + name + "\" is already the name of " + earlier
            + " (node names are unique, ignoring case: each names its own files)");
      }
      String kindWord = json.text(nd, "kind", f + ".kind");
      IntNode.Kind kind = null;
      for (IntNode.Kind k : IntNode.Kind.values()) {
        if (k.word().equals(kindWord)) {
          kind = k;
        }
      }
      if (kind == null) {
        throw json.bad(f + ".kind", "must be layer, add or avgpool, got " + StrictJson.shown(nd.get("kind")));
      }
      JsonNode inputs = json.array(nd, "inputs", f + ".inputs");
      int want = kind == IntNode.Kind.ADD ? 2 : 1;
      if (inputs.size() != want) {
        throw json.bad(f + ".inputs", "a " + kind.word() + " node reads " + want + " node" + (want > 1 ? "s" : "")
            + ", got " + inputs.size());
      }
      int[] in = new int[want];
      for (int k = 0; k < want; k++) {
        in[k] = json.integer(inputs, k, f + ".inputs[" + k + "]", j == 0 ? -1 : 0, j - 1,
            j == 0 ? " (node 0 reads the network's input, -1)" : " (an earlier node; only node 0 reads the network's input)");
        if (j == 0 && kind != IntNode.Kind.LAYER) {
          throw json.bad(f + ".kind", "node 0 reads the network's input and must be a layer, got " + kind.word());
        }
        if (in[k] >= 0) {
          readers[in[k]]++;
        }
      }
      // The input's shape, width and scale (the pixels' for node 0).
      IntNode from = in[0] >= 0 ? nodes.get(in[0]) : null;
      if (from != null && from.signed() && kind != IntNode.Kind.ADD) {
        throw json.bad(f + ".inputs[0]", "reads " + from.name() + ", a layer without ReLU: only an add may read a signed"
            + " output (contract section 8)");
      }
      int bits = json.integer(nd, "data_bits", f + ".data_bits", 2, 16);
      if (from != null && from.outBits() != bits) {
        throw json.bad(f + ".data_bits", "must be " + from.outBits() + ", the out_bits of " + from.name() + ", got " + bits);
      }
      if (j == 0) {
        json.integer(json.object(root, "input", "input"), "input_shift", "input.input_shift", IntNetwork.inputShift(bits),
            IntNetwork.inputShift(bits));
      }
      boolean last = j == n - 1;
      IntNode made;
      switch (kind) {
        case LAYER -> {
          PeOp op = operation(nd, f);
          if (networkOp == null) {
            networkOp = op;
          } else if (op != networkOp) {
            throw json.bad(f + ".operation", "must be " + networkOp.word() + " like the first layer"
                + " (all layers of a package share one operation, contract section 6), got "
                + (nd.has("operation") ? StrictJson.shown(nd.get("operation")) : "nothing (adder)"));
          }
          boolean relu = json.bool(nd, "relu", f + ".relu");
          if (last && relu) {
            throw json.bad(f + ".relu", "must be false: the last node's outputs are the signed logits");
          }
          int outBits = last ? json.integer(nd, "out_bits", f + ".out_bits", logitBits, logitBits, " (logit_bits)")
              : json.integer(nd, "out_bits", f + ".out_bits", 2, 16);
          long[] range = from == null ? new long[] {0, 255 >> IntNetwork.inputShift(bits)}
              : new long[] {0, (1L << (from.outBits() - 1)) - 1};
          double[] scale = new double[1];
          IntLayer l = layerBody(nd, f, name, op, from == null ? ch : from.channels(), from == null ? h : from.height(),
              from == null ? w : from.width(), bits, !relu, outBits,
              relu ? " (ReLU into " + outBits + "-bit data)" : last ? " (the " + outBits + "-bit logit range)"
                  : " (no ReLU: signed " + outBits + "-bit data)", range, scale);
          if (from != null && scale[0] != outScales[in[0]]) {
            throw json.bad(f + ".scale", "must be " + outScales[in[0]] + ", the out_scale of " + from.name()
                + " (a layer's input and weights share its input's scale), got " + scale[0]);
          }
          layerScales.add(scale[0]);
          made = IntNode.layer(l, in[0], outBits);
        }
        case ADD -> {
          IntNode a = nodes.get(in[0]);
          IntNode b = nodes.get(in[1]);
          if (!a.signed()) {
            throw json.bad(f + ".inputs[0]", "must be a layer without ReLU (the main branch, contract section 9), got "
                + a.name());
          }
          if (b.outBits() != bits) {
            throw json.bad(f + ".data_bits", "must be " + b.outBits() + ", the out_bits of " + b.name() + ", got " + bits);
          }
          if (a.channels() != b.channels() || a.height() != b.height() || a.width() != b.width()) {
            throw json.bad(f + ".inputs", "adds " + a.name() + " (" + shape(a) + ") and " + b.name() + " (" + shape(b)
                + "): an add needs two tensors of one shape");
          }
          if (outScales[in[0]] != outScales[in[1]]) {
            throw json.bad(f + ".inputs", "adds " + a.name() + " on scale " + outScales[in[0]] + " and " + b.name()
                + " on scale " + outScales[in[1]] + ": both inputs of an add share one scale (contract section 9)");
          }
          int shift = json.integer(nd, "shift", f + ".shift", 0, bits);
          made = IntNode.add(name, in[0], in[1], a.channels(), a.height(), a.width(), bits, shift);
        }
        default -> {
          int inC = json.integer(nd, "in_channels", f + ".in_channels", from.channels(), from.channels());
          int inH = json.integer(nd, "in_height", f + ".in_height", from.height(), from.height());
          int inW = json.integer(nd, "in_width", f + ".in_width", from.width(), from.width());
          int k = json.integer(nd, "window", f + ".window", 1, MAX_SIZE);
          if (inH % k != 0 || inW % k != 0) {
            throw json.bad(f + ".window", "a " + k + "x" + k + " window does not tile the " + inH + "x" + inW
                + " map (it must divide both sides, contract section 10)");
          }
          Requant rq = PackageRequant.read(json, json.object(nd, "requant", f + ".requant"), f + ".requant", 1, false, bits,
              " (the input's non-negative " + bits + "-bit data)");
          Requant exact = IntNode.poolRequant(k, bits, 16, 31);
          if (Integer.bitCount(k * k) == 1 && (rq.shift() != exact.shift() || rq.bias()[0] != exact.bias()[0]
              || !Arrays.equals(rq.terms()[0], exact.terms()[0]))) {
            throw json.bad(f + ".requant", "a " + k + "x" + k + " window is 2^" + exact.shift() + " values: its requant must"
                + " be shift " + exact.shift() + ", terms [[1]], bias [" + exact.bias()[0] + "] (contract section 10)");
          }
          made = IntNode.avgPool(name, in[0], inC, inH, inW, bits, k, rq);
          json.integer(nd, "sum_bits", f + ".sum_bits", made.poolSumBits(), made.poolSumBits());
          PackageRequant.checkBound(rq, made.poolSumBits(), f + ".requant");
        }
      }
      json.integer(nd, "out_channels", f + ".out_channels", made.channels(), made.channels());
      json.integer(nd, "out_height", f + ".out_height", made.height(), made.height());
      json.integer(nd, "out_width", f + ".out_width", made.width(), made.width());
      json.integer(nd, "out_bits", f + ".out_bits", made.outBits(), made.outBits());
      checkElements(json, f, (long) made.outSize(), "its output");
      outScales[j] = json.number(nd, "out_scale", f + ".out_scale", true);
      double expected = kind == IntNode.Kind.ADD ? Math.scalb(outScales[in[0]], made.shift())
          : kind == IntNode.Kind.AVGPOOL ? outScales[in[0]] : last ? logitScale : outScales[j];
      if (outScales[j] != expected) {
        throw json.bad(f + ".out_scale", "must be " + expected + (kind == IntNode.Kind.ADD ? " (the inputs' scale times 2^shift)"
            : kind == IntNode.Kind.AVGPOOL ? " (an average pool keeps its input's scale)" : " (logit_scale)") + ", got "
            + outScales[j]);
      }
      nodes.add(made);
    }
    for (int j = 0; j < n; j++) {
      IntNode nd = nodes.get(j);
      if (j < n - 1 && nd.signed() && readers[j] != 1) {
        throw json.bad("nodes[" + j + "]", nd.name() + " has no ReLU, so exactly one add must read it (contract section 8),"
            + " but " + readers[j] + " nodes do");
      }
    }
    if (!nodes.get(n - 1).signed()) {
      throw json.bad("nodes[" + (n - 1) + "].kind", "the last node gives the logits and must be a layer, got "
          + nodes.get(n - 1).kind().word());
    }
    IntNetwork net;
    try {
      net = IntNetwork.graph(network, ch, h, w, nodes, logitBits);
    } catch (IllegalArgumentException e) {
      throw json.bad("nodes", e.getMessage()); // the checks above leave nothing for it; kept as a guard
    }
    return new Object[] {new Scales(layerScales.stream().mapToDouble(Double::doubleValue).toArray(), logitScale,
        outScales), net};
  }

  private static String shape(IntNode n) {
    return n.channels() + "x" + n.height() + "x" + n.width();
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
    boolean graph = root.path("version").intValue() == ModelPackage.GRAPH_VERSION;
    String per = graph ? "node" : "layer";
    int entries = graph ? net.nodes().size() : net.layers().size();
    if (outs.size() != entries) {
      throw json.bad("golden.outputs", "must hold one entry per " + per + " (" + entries + "), got " + outs.size());
    }
    int[][] pixels = new int[count][];
    List<List<int[]>> traces = new ArrayList<>();
    for (int v = 0; v < count; v++) {
      pixels[v] = Arrays.copyOfRange(pix, v * size, (v + 1) * size);
      traces.add(net.trace(pixels[v]));
    }
    for (int i = 0; i < entries; i++) {
      IntNode l = net.nodes().get(i);
      String f = "golden.outputs[" + i + "]";
      JsonNode o = json.object(outs, i, f);
      String layer = json.text(o, per, f + "." + per);
      if (!layer.equals(l.name())) {
        throw json.bad(f + "." + per, "must be \"" + l.name() + "\" (" + per + "s[" + i + "].name), got "
            + StrictJson.shown(o.get(per)));
      }
      String base = "golden/" + l.name();
      int[] want = files.readArray(json.object(o, "values", f + ".values"), f + ".values", base, l.outBits(),
          true, new long[] {count, l.channels(), l.height(), l.width()});
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
      int pred = ModelPackage.argmax(traces.get(v).get(entries));
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
