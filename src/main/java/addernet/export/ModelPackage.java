package addernet.export;

import addernet.io.Outputs;
import addernet.gen.PeOp;
import addernet.quant.IntLayer;
import addernet.quant.IntNetwork;
import addernet.quant.Requant;
import addernet.quant.Scales;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A quantized network on disk: {@code manifest.json}, every layer's weights as {@code .mem} (for
 * {@code $readmemh}) and little-endian {@code .bin}, and golden vectors (input images and every
 * layer's expected integer output from {@link IntNetwork#trace}). The format is specified in
 * docs/model-package.md; this class is its reference writer and reader.
 *
 * @param network the integer network (numeric contract, sections 5 to 7)
 * @param scales the real value of one step of each layer's input and of the logits (informative:
 *     the integers alone define the computation)
 * @param provenance free-form facts about how the package was made (checkpoint, bits, accuracy)
 * @param golden the golden vectors
 */
public record ModelPackage(
    IntNetwork network, Scales scales, Map<String, Object> provenance, Golden golden) {

  public static final String FORMAT = "addernet-model-package";
  public static final int VERSION = 1;
  public static final String MANIFEST = "manifest.json";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * Golden vectors: raw input images (0..255, channel-major) with their data-set labels and, per
   * image, the trace of the network (element 0 the shifted input, element i + 1 layer i's output).
   */
  public record Golden(int[][] pixels, int[] labels, List<List<int[]>> traces) {
    public static Golden of(IntNetwork net, int[][] pixels, int[] labels) {
      List<List<int[]>> traces = new ArrayList<>();
      for (int[] p : pixels) {
        traces.add(net.trace(p));
      }
      return new Golden(pixels, labels, traces);
    }

    public int count() {
      return pixels.length;
    }
  }

  public ModelPackage {
    provenance = Map.copyOf(new LinkedHashMap<>(provenance));
    if (scales.input().length != network.layers().size()) {
      throw new IllegalArgumentException(
          "scales for " + scales.input().length + " layers, network has " + network.layers().size());
    }
  }

  // ---------------------------------------------------------------- writing

  /** Writes the package into {@code dir} atomically: a failure leaves nothing half-written. */
  public void write(Path dir) {
    Outputs.writeFolder("quantize", dir, false, java.util.List.of(), this::writeInto);
  }

  /**
   * Writes the package's files into the existing, empty folder {@code dir}, for a command that
   * claims its outputs itself ({@code addernet.io.Outputs}) and commits the package with its report.
   */
  public void writeInto(Path dir) throws IOException {
    Files.createDirectories(dir.resolve("weights"));
    Files.createDirectories(dir.resolve("golden"));
    Map<String, String> files = new LinkedHashMap<>();
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("version", VERSION);
    root.put("network", network.name());
    root.put("contract", "docs/numeric-contract.md, sections 1-7");
    ObjectNode in = root.putObject("input");
    in.put("channels", network.inChannels());
    in.put("height", network.inHeight());
    in.put("width", network.inWidth());
    in.put("pixel_bits", 8);
    in.put("input_shift", network.inputShift());
    root.put("classes", network.classes());
    root.put("logit_bits", network.logitBits());
    root.put("logit_scale", scales.logit());
    ArrayNode layers = root.putArray("layers");
    for (int i = 0; i < network.layers().size(); i++) {
      IntLayer l = network.layers().get(i);
      ObjectNode n = layers.addObject();
      n.put("name", l.name());
      n.put("type", l.fullyConnected() ? "fc" : "conv");
      n.put("operation", operationKeyword(l.op()));
      n.put("in_channels", l.inChannels());
      n.put("in_height", l.inHeight());
      n.put("in_width", l.inWidth());
      n.put("out_channels", l.outChannels());
      n.put("kernel", l.kernel());
      n.put("stride", l.stride());
      n.put("padding", l.padding());
      n.put("pool", l.pool());
      n.put("out_height", l.outHeight());
      n.put("out_width", l.outWidth());
      n.put("data_bits", l.dataBits());
      n.put("acc_bits", network.accBits(i));
      n.put("scale", scales.input(i));
      n.set("weights", array(dir, files, "weights/" + l.name(), l.weights(), l.dataBits(), true,
          new int[] {l.outChannels(), l.inChannels(), l.kernel(), l.kernel()}));
      Requant r = l.requant();
      ObjectNode rq = n.putObject("requant");
      rq.put("shift", r.shift());
      rq.put("lo", r.lo());
      rq.put("hi", r.hi());
      rq.put("max_terms", r.maxTerms());
      ArrayNode terms = rq.putArray("terms");
      ArrayNode bias = rq.putArray("bias");
      for (int c = 0; c < r.channels(); c++) {
        ArrayNode t = terms.addArray();
        Arrays.stream(r.terms()[c]).forEach(t::add);
        bias.add(r.bias()[c]);
      }
    }
    ObjectNode g = root.putObject("golden");
    g.put("count", golden.count());
    ArrayNode labels = g.putArray("labels");
    ArrayNode predictions = g.putArray("predictions");
    int size = network.inChannels() * network.inHeight() * network.inWidth();
    for (int v = 0; v < golden.count(); v++) {
      labels.add(golden.labels()[v]);
      predictions.add(argmax(last(golden.traces().get(v))));
    }
    g.set("input", array(dir, files, "golden/input", concat(Arrays.asList(golden.pixels()), size),
        8, false, new int[] {golden.count(), network.inChannels(), network.inHeight(), network.inWidth()}));
    ArrayNode outs = g.putArray("outputs");
    for (int i = 0; i < network.layers().size(); i++) {
      IntLayer l = network.layers().get(i);
      int bits = outputBits(network, i);
      List<int[]> per = new ArrayList<>();
      for (List<int[]> t : golden.traces()) {
        per.add(t.get(i + 1));
      }
      ObjectNode o = outs.addObject();
      o.put("layer", l.name());
      o.set("values", array(dir, files, "golden/" + l.name(), concat(per, l.outSize()), bits, true,
          new int[] {golden.count(), l.outChannels(), l.outHeight(), l.outWidth()}));
    }
    ObjectNode prov = root.putObject("provenance");
    prov.setAll((ObjectNode) JSON.valueToTree(provenance));
    ObjectNode sums = root.putObject("files");
    files.forEach(sums::put);
    JSON.writeValue(dir.resolve(MANIFEST).toFile(), root);
  }

  /** The package's name for a layer's operation: the network spec's keyword (adder, multiply). */
  static String operationKeyword(PeOp op) {
    return op == PeOp.ADDER ? "adder" : "multiply";
  }

  /** Width of layer i's output: the next layer's data bits, or the logit bits for the last. */
  static int outputBits(IntNetwork net, int i) {
    return i + 1 < net.layers().size() ? net.layers().get(i + 1).dataBits() : net.logitBits();
  }

  private static int[] last(List<int[]> trace) {
    return trace.get(trace.size() - 1);
  }

  static int argmax(int[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  private static int[] concat(List<int[]> parts, int each) {
    int[] out = new int[parts.size() * each];
    for (int i = 0; i < parts.size(); i++) {
      System.arraycopy(parts.get(i), 0, out, i * each, each);
    }
    return out;
  }

  private static ObjectNode array(Path dir, Map<String, String> files, String base, int[] values,
      int bits, boolean signed, int[] shape) throws IOException {
    String mem = base + ".mem";
    String bin = base + ".bin";
    IntArrayFiles.writeMem(dir.resolve(mem), values, bits);
    IntArrayFiles.writeBin(dir.resolve(bin), values, bits);
    files.put(mem, sha256(dir.resolve(mem)));
    files.put(bin, sha256(dir.resolve(bin)));
    ObjectNode n = JSON.createObjectNode();
    n.put("mem", mem);
    n.put("bin", bin);
    n.put("count", values.length);
    n.put("bits", bits);
    n.put("signed", signed);
    ArrayNode s = n.putArray("shape");
    Arrays.stream(shape).forEach(s::add);
    return n;
  }

  static String sha256(Path file) throws IOException {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  // ---------------------------------------------------------------- reading

  /**
   * Reads and validates a package: format and version, every checksum, every shape, every value
   * range, the requantization bound (contract section 7), and finally that the network reproduces
   * its own golden vectors. The first problem found is thrown, naming its file and field.
   */
  public static ModelPackage read(Path dir) throws PackageException {
    try {
      return new Reader(dir).read();
    } catch (PackageException e) {
      throw e;
    } catch (IOException e) {
      throw new PackageException(dir + ": cannot read: " + e.getMessage());
    }
  }

  private static final class Reader {
    private final Path dir;
    private JsonNode root;
    private Map<String, String> files;

    Reader(Path dir) {
      this.dir = dir;
    }

    PackageException bad(String field, String problem) {
      return new PackageException(MANIFEST + ": " + field + ": " + problem);
    }

    ModelPackage read() throws IOException {
      if (!Files.isDirectory(dir)) {
        throw new PackageException(dir + ": no such folder");
      }
      try {
        root = JSON.readTree(dir.resolve(MANIFEST).toFile());
      } catch (NoSuchFileException | java.io.FileNotFoundException e) {
        throw new PackageException(MANIFEST + ": missing in " + dir);
      } catch (IOException e) {
        throw new PackageException(MANIFEST + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
      }
      if (root == null || !root.isObject()) {
        throw new PackageException(MANIFEST + ": not a JSON object");
      }
      if (!FORMAT.equals(root.path("format").asText())) {
        throw bad("format", "expected '" + FORMAT + "', got " + root.path("format"));
      }
      if (!root.path("version").isInt() || root.path("version").asInt() != VERSION) {
        throw bad("version", "unsupported package version " + root.path("version")
            + " (this reader knows version " + VERSION + ")");
      }
      checkFiles();
      JsonNode in = obj(root, "input", "input");
      int ch = integer(in, "channels", "input.channels", 1, 1 << 16);
      int h = integer(in, "height", "input.height", 1, 1 << 16);
      int w = integer(in, "width", "input.width", 1, 1 << 16);
      integer(in, "pixel_bits", "input.pixel_bits", 8, 8);
      int logitBits = integer(root, "logit_bits", "logit_bits", 2, 32);
      double logitScale = positive(root, "logit_scale", "logit_scale");
      JsonNode layersNode = root.path("layers");
      if (!layersNode.isArray() || layersNode.isEmpty()) {
        throw bad("layers", "must be a non-empty array");
      }
      int n = layersNode.size();
      // Data bits first: each layer's clamp is checked against the next layer's width.
      int[] dataBits = new int[n];
      for (int i = 0; i < n; i++) {
        dataBits[i] = integer(layersNode.get(i), "data_bits", "layers[" + i + "].data_bits", 2, 16);
      }
      integer(in, "input_shift", "input.input_shift", IntNetwork.inputShift(dataBits[0]),
          IntNetwork.inputShift(dataBits[0]));
      List<IntLayer> layers = new ArrayList<>();
      double[] scales = new double[n];
      int c = ch;
      int hh = h;
      int ww = w;
      for (int i = 0; i < n; i++) {
        JsonNode l = layersNode.get(i);
        String f = "layers[" + i + "]";
        String name = text(l, "name", f + ".name");
        String type = text(l, "type", f + ".type");
        if (!type.equals("conv") && !type.equals("fc")) {
          throw bad(f + ".type", "must be conv or fc, got '" + type + "'");
        }
        // Packages written before the CNN twin have no operation: every layer was an adder layer.
        PeOp op = PeOp.ADDER;
        if (l.has("operation")) {
          JsonNode o = l.get("operation");
          if (o.isTextual() && o.asText().equals("adder")) {
            op = PeOp.ADDER;
          } else if (o.isTextual() && o.asText().equals("multiply")) {
            op = PeOp.MAC;
          } else {
            throw bad(f + ".operation", "must be adder or multiply, got " + o);
          }
        }
        int inC = integer(l, "in_channels", f + ".in_channels", c, c);
        int inH = integer(l, "in_height", f + ".in_height", hh, hh);
        int inW = integer(l, "in_width", f + ".in_width", ww, ww);
        int outC = integer(l, "out_channels", f + ".out_channels", 1, 1 << 16);
        int k = integer(l, "kernel", f + ".kernel", 1, 1 << 10);
        int stride = integer(l, "stride", f + ".stride", 1, 1 << 10);
        int pad = integer(l, "padding", f + ".padding", 0, 1 << 10);
        if (!l.path("pool").isBoolean()) {
          throw bad(f + ".pool", "must be true or false");
        }
        boolean pool = l.path("pool").asBoolean();
        int bits = dataBits[i];
        scales[i] = positive(l, "scale", f + ".scale");
        JsonNode wn = obj(l, "weights", f + ".weights");
        int[] weights = readArray(wn, f + ".weights", bits, true,
            new int[] {outC, inC, k, k});
        boolean last = i == n - 1;
        int outBits = last ? logitBits : dataBits[i + 1];
        Requant rq = requant(obj(l, "requant", f + ".requant"), f + ".requant", outC, last, outBits);
        IntLayer layer;
        try {
          layer = new IntLayer(name, op, type.equals("fc"), inC, inH, inW, outC, k, stride, pad, bits,
              weights, rq, pool);
        } catch (IllegalArgumentException e) {
          throw bad(f, e.getMessage());
        }
        integer(l, "out_height", f + ".out_height", layer.outHeight(), layer.outHeight());
        integer(l, "out_width", f + ".out_width", layer.outWidth(), layer.outWidth());
        layers.add(layer);
        // The MAC's bound depends on the input range, i.e. on the layers before (section 3).
        int acc = partial(ch, h, w, layers, logitBits).accBits(i);
        integer(l, "acc_bits", f + ".acc_bits", acc, acc);
        checkBound(rq, acc, f + ".requant");
        c = layer.outChannels();
        hh = layer.outHeight();
        ww = layer.outWidth();
      }
      IntNetwork net;
      try {
        net = new IntNetwork(text(root, "network", "network"), ch, h, w, layers, logitBits);
      } catch (IllegalArgumentException e) {
        throw bad("layers", e.getMessage());
      }
      integer(root, "classes", "classes", net.classes(), net.classes());
      Golden golden = golden(net);
      Map<String, Object> prov = new LinkedHashMap<>();
      JsonNode p = root.path("provenance");
      if (p.isObject()) {
        Iterator<Map.Entry<String, JsonNode>> it = p.fields();
        while (it.hasNext()) {
          Map.Entry<String, JsonNode> e = it.next();
          prov.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class));
        }
      }
      return new ModelPackage(net, new Scales(scales, logitScale), prov, golden);
    }

    /** The layers read so far as a network, for the accumulator bound of the last one. */
    private IntNetwork partial(int ch, int h, int w, List<IntLayer> layers, int logitBits)
        throws PackageException {
      try {
        return new IntNetwork("partial", ch, h, w, layers, logitBits);
      } catch (IllegalArgumentException e) {
        throw bad("layers", e.getMessage());
      }
    }

    private void checkFiles() throws IOException {
      JsonNode f = root.path("files");
      if (!f.isObject()) {
        throw bad("files", "must map every data file to its SHA-256");
      }
      files = new LinkedHashMap<>();
      Iterator<Map.Entry<String, JsonNode>> it = f.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        String rel = e.getKey();
        Path p = dir.resolve(rel).normalize();
        if (!p.startsWith(dir.normalize()) || rel.equals(MANIFEST)) {
          throw bad("files." + rel, "names a file outside the package");
        }
        if (!Files.isRegularFile(p)) {
          throw new PackageException(rel + ": missing (listed in " + MANIFEST + " files)");
        }
        String want = e.getValue().asText();
        String got = sha256(p);
        if (!got.equalsIgnoreCase(want)) {
          throw new PackageException(rel + ": SHA-256 is " + got + " but " + MANIFEST + " files."
              + rel + " says " + want + " (file changed or damaged)");
        }
        files.put(rel, got);
      }
    }

    private int[] readArray(JsonNode a, String f, int bits, boolean signed, int[] shape)
        throws IOException {
      long count = 1;
      for (int s : shape) {
        count *= s;
      }
      integer(a, "count", f + ".count", (int) count, (int) count);
      integer(a, "bits", f + ".bits", bits, bits);
      if (!a.path("signed").isBoolean() || a.path("signed").asBoolean() != signed) {
        throw bad(f + ".signed", "must be " + signed);
      }
      JsonNode sh = a.path("shape");
      if (!sh.isArray() || sh.size() != shape.length) {
        throw bad(f + ".shape", "expected " + Arrays.toString(shape) + ", got " + sh);
      }
      for (int i = 0; i < shape.length; i++) {
        if (!sh.get(i).isInt() || sh.get(i).asInt() != shape[i]) {
          throw bad(f + ".shape", "expected " + Arrays.toString(shape) + ", got " + sh);
        }
      }
      String bin = text(a, "bin", f + ".bin");
      String mem = text(a, "mem", f + ".mem");
      for (String file : new String[] {bin, mem}) {
        if (!files.containsKey(file)) {
          throw bad(f, file + " is not listed (with its SHA-256) in files");
        }
      }
      int[] v = IntArrayFiles.readBin(dir.resolve(bin), bin, (int) count, bits, signed);
      IntArrayFiles.checkMem(dir.resolve(mem), mem, v, bits, signed);
      return v;
    }

    private Requant requant(JsonNode r, String f, int channels, boolean last, int outBits)
        throws PackageException {
      int shift = integer(r, "shift", f + ".shift", 0, 62);
      long outMin = -(1L << (outBits - 1));
      long outMax = (1L << (outBits - 1)) - 1;
      // After ReLU the clamp starts at 0; the logits are clamped to the logit width.
      int lo = integer(r, "lo", f + ".lo", last ? (int) outMin : 0, last ? (int) outMin : 0);
      int hi = integer(r, "hi", f + ".hi", lo, (int) outMax);
      JsonNode terms = r.path("terms");
      JsonNode bias = r.path("bias");
      if (!terms.isArray() || terms.size() != channels) {
        throw bad(f + ".terms", "must hold one list per output channel (" + channels + ")");
      }
      if (!bias.isArray() || bias.size() != channels) {
        throw bad(f + ".bias", "must hold one integer per output channel (" + channels + ")");
      }
      int[][] t = new int[channels][];
      long[] b = new long[channels];
      for (int c = 0; c < channels; c++) {
        JsonNode tc = terms.get(c);
        if (!tc.isArray()) {
          throw bad(f + ".terms[" + c + "]", "must be a list of integers");
        }
        t[c] = new int[tc.size()];
        for (int j = 0; j < tc.size(); j++) {
          JsonNode d = tc.get(j);
          if (!d.isInt() || d.asInt() == 0 || Math.abs(d.asInt()) - 1 > Requant.MAX_EXPONENT) {
            throw bad(f + ".terms[" + c + "][" + j + "]", "must be a non-zero integer in +-1..+-"
                + (Requant.MAX_EXPONENT + 1) + ", got " + d);
          }
          t[c][j] = d.asInt();
        }
        if (!bias.get(c).isIntegralNumber() || !bias.get(c).canConvertToLong()) {
          throw bad(f + ".bias[" + c + "]", "must be a 64-bit integer, got " + bias.get(c));
        }
        b[c] = bias.get(c).asLong();
      }
      integer(r, "max_terms", f + ".max_terms", 0, 64);
      return new Requant(shift, t, b, lo, hi);
    }

    /** Contract section 7: |v| <= D 2^(A + e_max) + |bias| must stay below 2^62. */
    private void checkBound(Requant r, int accBits, String f) throws PackageException {
      for (int c = 0; c < r.channels(); c++) {
        int emax = 0;
        for (int t : r.terms()[c]) {
          emax = Math.max(emax, Math.abs(t) - 1);
        }
        double bound = r.terms()[c].length * Math.pow(2, accBits + emax) + Math.abs((double) r.bias()[c]);
        if (bound >= Math.pow(2, 62)) {
          throw bad(f + ".terms[" + c + "]", "the requantized sum can reach 2^"
              + Math.round(Math.log(bound) / Math.log(2)) + ", beyond the contract's 2^62");
        }
      }
    }

    private Golden golden(IntNetwork net) throws IOException {
      JsonNode g = obj(root, "golden", "golden");
      int count = integer(g, "count", "golden.count", 1, 1 << 16);
      int size = net.inChannels() * net.inHeight() * net.inWidth();
      int[] pix = readArray(obj(g, "input", "golden.input"), "golden.input", 8, false,
          new int[] {count, net.inChannels(), net.inHeight(), net.inWidth()});
      JsonNode labels = g.path("labels");
      JsonNode preds = g.path("predictions");
      if (!labels.isArray() || labels.size() != count) {
        throw bad("golden.labels", "must hold " + count + " labels");
      }
      if (!preds.isArray() || preds.size() != count) {
        throw bad("golden.predictions", "must hold " + count + " predictions");
      }
      JsonNode outs = g.path("outputs");
      if (!outs.isArray() || outs.size() != net.layers().size()) {
        throw bad("golden.outputs", "must hold one entry per layer (" + net.layers().size() + ")");
      }
      int[][] pixels = new int[count][];
      int[] lab = new int[count];
      List<List<int[]>> traces = new ArrayList<>();
      for (int v = 0; v < count; v++) {
        pixels[v] = Arrays.copyOfRange(pix, v * size, (v + 1) * size);
        lab[v] = labels.get(v).asInt();
        traces.add(net.trace(pixels[v]));
      }
      for (int i = 0; i < net.layers().size(); i++) {
        IntLayer l = net.layers().get(i);
        String f = "golden.outputs[" + i + "]";
        String layer = text(outs.get(i), "layer", f + ".layer");
        if (!layer.equals(l.name())) {
          throw bad(f + ".layer", "expected " + l.name() + ", got " + layer);
        }
        JsonNode a = obj(outs.get(i), "values", f + ".values");
        int[] want = readArray(a, f + ".values", outputBits(net, i), true,
            new int[] {count, l.outChannels(), l.outHeight(), l.outWidth()});
        for (int v = 0; v < count; v++) {
          int[] got = traces.get(v).get(i + 1);
          for (int e = 0; e < got.length; e++) {
            if (got[e] != want[v * l.outSize() + e]) {
              throw new PackageException(a.path("bin").asText() + ": vector " + v + " element " + e
                  + " is " + want[v * l.outSize() + e] + " but the network computes " + got[e]);
            }
          }
        }
      }
      // Layer outputs first: the first layer that differs says more than a changed prediction.
      for (int v = 0; v < count; v++) {
        int pred = argmax(traces.get(v).get(net.layers().size()));
        if (preds.get(v).asInt() != pred) {
          throw bad("golden.predictions[" + v + "]", "says " + preds.get(v) + ", the network gives " + pred);
        }
      }
      return new Golden(pixels, lab, traces);
    }

    private JsonNode obj(JsonNode n, String key, String f) throws PackageException {
      JsonNode v = n.path(key);
      if (!v.isObject()) {
        throw bad(f, "missing or not an object");
      }
      return v;
    }

    private String text(JsonNode n, String key, String f) throws PackageException {
      JsonNode v = n.path(key);
      if (!v.isTextual() || v.asText().isEmpty()) {
        throw bad(f, "missing or not a string");
      }
      return v.asText();
    }

    private int integer(JsonNode n, String key, String f, int min, int max) throws PackageException {
      JsonNode v = n.path(key);
      if (!v.isInt()) {
        throw bad(f, "missing or not an integer");
      }
      int i = v.asInt();
      if (i < min || i > max) {
        throw bad(f, min == max ? "must be " + min + ", got " + i
            : "must be in " + min + ".." + max + ", got " + i);
      }
      return i;
    }

    private double positive(JsonNode n, String key, String f) throws PackageException {
      JsonNode v = n.path(key);
      if (!v.isNumber() || !(v.asDouble() > 0) || !Double.isFinite(v.asDouble())) {
        throw bad(f, "missing or not a positive number");
      }
      return v.asDouble();
    }
  }
}
