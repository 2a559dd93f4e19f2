package addernet.train;

import addernet.data.Normalization;
import addernet.io.Names;
import addernet.io.StrictJson;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.Param;
import addernet.nn.SpecException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * One load of a checkpoint, strict because a checkpoint is resumed and quantized without further
 * checks: the manifest is either exactly what {@link CheckpointWriter} writes for the network its
 * spec builds or refused, naming the file and the field, in the order of the format.
 */
final class CheckpointReader {
  /** A manifest larger than this is not one (the spec is at most 1 MiB, the rest is small). */
  static final long MAX_MANIFEST_BYTES = 16 << 20;

  // No missing or null record fields either: a recipe or metrics entry is complete or refused.
  private static final ObjectMapper STRICT =
      StrictJson.builder()
          .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
          .build();

  private final Path manifest;
  private final StrictJson<CheckpointException> json;

  private CheckpointReader(Path manifest) {
    this.manifest = manifest;
    this.json = new StrictJson<>(manifest.toString(), CheckpointException::new);
  }

  static Checkpoint load(Path path) {
    return new CheckpointReader(Files.isDirectory(path) ? path.resolve(Checkpoint.MANIFEST) : path).load();
  }

  private Checkpoint load() {
    JsonNode root = readManifest();
    if (!Checkpoint.FORMAT.equals(root.path("format").textValue())) {
      throw json.refuse("not an addernet checkpoint (format is not '" + Checkpoint.FORMAT + "')");
    }
    JsonNode version = root.path("version");
    if (!version.isInt() || version.intValue() != Checkpoint.VERSION) {
      throw json.bad("version", "checkpoint version " + version + ", this build reads " + Checkpoint.VERSION);
    }
    String name = json.text(root, "network", "network");
    String problem = Names.problem(name);
    if (problem != null) {
      throw json.bad("network", "the name " + Names.printable(name) + " " + problem
          + " (docs/spec-format.md, \"Names\")");
    }
    NetworkSpec spec;
    try {
      spec = NetworkSpec.parse(name, json.text(root, "spec", "spec"));
    } catch (SpecException e) {
      throw json.bad("spec", "the network spec is invalid: " + e.getMessage());
    }
    Recipe recipe = json.value(STRICT, withPlainOptions(json.object(root, "recipe", "recipe")), "recipe", Recipe.class);
    int epoch = json.integer(root, "epoch", "epoch", 0, recipe.epochs(), " (the recipe's epochs)");
    List<EpochMetrics> metrics = metrics(root, epoch);
    try {
      spec.requireFits(1, 1, Runtime.getRuntime().maxMemory());
    } catch (SpecException e) {
      throw json.bad("spec", e.getMessage());
    }
    JsonNode in = json.object(root, "input", "input");
    String fromSpec = " (from the spec)";
    int channels = spec.input().channels();
    Normalization norm = normalization(json.object(root, "input_normalization", "input_normalization"), channels);
    int height = spec.input().height();
    int width = spec.input().width();
    json.integer(in, "channels", "input.channels", channels, channels, fromSpec);
    json.integer(in, "height", "input.height", height, height, fromSpec);
    json.integer(in, "width", "input.width", width, width, fromSpec);
    json.integer(root, "classes", "classes", spec.classes(), spec.classes(), fromSpec);
    Network net = Network.build(spec, 0);
    sameTree(json.array(root, "layers", "layers"), CheckpointWriter.describeLayers(net), "layers");

    Map<String, Checkpoint.Tensor> expected = new LinkedHashMap<>(Checkpoint.tensors(net));
    for (Param p : net.params()) {
      int n = p.value().length;
      expected.put(Checkpoint.MOMENTUM_PREFIX + p.name(), new Checkpoint.Tensor(new float[n], new int[] {n}));
    }
    Map<String, float[]> stored = data(root, expected);
    for (Map.Entry<String, Checkpoint.Tensor> e : Checkpoint.tensors(net).entrySet()) {
      float[] a = stored.get(e.getKey());
      if (a == null) {
        throw json.bad("tensors", "lacks tensor " + e.getKey());
      }
      System.arraycopy(a, 0, e.getValue().data(), 0, a.length);
    }
    Map<String, float[]> momentum = new LinkedHashMap<>();
    stored.forEach((k, v) -> {
      if (k.startsWith(Checkpoint.MOMENTUM_PREFIX)) {
        momentum.put(k.substring(Checkpoint.MOMENTUM_PREFIX.length()), v);
      }
    });
    return new Checkpoint(net, norm, epoch, recipe, metrics, momentum);
  }

  private JsonNode readManifest() {
    if (Files.isDirectory(manifest)) {
      throw json.refuse("is a folder, not a checkpoint manifest");
    }
    if (!Files.exists(manifest)) {
      throw json.refuse("no checkpoint here");
    }
    String text = json.readText(manifest, MAX_MANIFEST_BYTES, " (a checkpoint manifest holds no tensors)");
    JsonNode root = json.parse(text);
    if (!root.isObject()) {
      throw json.refuse("not an addernet checkpoint (not a JSON object)");
    }
    return root;
  }

  /**
   * A recipe written before the clamp, shift and l_p options (or before PKKD) existed has none
   * of their fields; it was trained without them, so they read as off. Every other field stays
   * required.
   */
  private static JsonNode withPlainOptions(JsonNode recipe) {
    ObjectNode r = ((ObjectNode) recipe).deepCopy();
    if (!r.has("weight_clamp") && !r.has("input_shifts") && !r.has("lp_start") && !r.has("lp_epochs")) {
      r.put("weight_clamp", "none").put("input_shifts", 1).put("lp_start", 1.0).put("lp_epochs", 0);
    }
    if (!r.has("pkkd") && !r.has("pkkd_feature_weight") && !r.has("pkkd_output_weight")
        && !r.has("pkkd_temperature")) {
      r.put("pkkd", false).put("pkkd_feature_weight", 0.0).put("pkkd_output_weight", 0.0)
          .put("pkkd_temperature", 0.0);
    }
    return r;
  }

  private List<EpochMetrics> metrics(JsonNode root, int epoch) {
    JsonNode list = json.array(root, "metrics", "metrics");
    if (list.size() != epoch) {
      throw json.bad("metrics", "must hold one entry per completed epoch (" + epoch + "), holds " + list.size());
    }
    List<EpochMetrics> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String f = "metrics[" + i + "]";
      EpochMetrics m = json.value(STRICT, json.object(list, i, f), f, EpochMetrics.class);
      if (m.epoch() != i + 1) {
        throw json.bad(f + ".epoch", "must be " + (i + 1) + ", got " + m.epoch());
      }
      out.add(m);
    }
    return out;
  }

  /** A number each (every channel alike) or, both, arrays of one number per input channel. */
  private Normalization normalization(JsonNode n, int channels) {
    JsonNode m = n.get("mean");
    if (m == null || !m.isArray()) {
      double mean = json.number(n, "mean", "input_normalization.mean", false);
      double std = json.number(n, "std", "input_normalization.std", true);
      return new Normalization(mean, std);
    }
    double[] mean = numbers(n, "mean", channels, false);
    double[] std = numbers(n, "std", channels, true);
    return Normalization.perChannel(mean, std);
  }

  private double[] numbers(JsonNode n, String key, int channels, boolean positive) {
    String field = "input_normalization." + key;
    JsonNode a = json.array(n, key, field);
    if (a.size() != channels) {
      throw json.bad(field, "must hold one number per input channel (" + channels + "), holds " + a.size());
    }
    double[] v = new double[channels];
    for (int c = 0; c < channels; c++) {
      JsonNode x = a.get(c);
      if (!x.isNumber() || !Double.isFinite(x.doubleValue()) || (positive && !(x.doubleValue() > 0))) {
        throw json.bad(field + "[" + c + "]",
            "must be a " + (positive ? "positive " : "") + "finite number, got " + StrictJson.shown(x));
      }
      v[c] = x.doubleValue();
    }
    return v;
  }

  /** The stored layer list must say exactly what the spec's network is, field by field. */
  private void sameTree(JsonNode got, JsonNode expected, String field) {
    if (got.size() != expected.size()) {
      throw json.bad(field, "must describe the spec's " + expected.size() + " layers, describes " + got.size());
    }
    for (int i = 0; i < expected.size(); i++) {
      String f = field + "[" + i + "]";
      JsonNode g = json.object(got, i, f);
      JsonNode e = expected.get(i);
      for (Iterator<String> it = g.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (!e.has(k)) {
          throw json.bad(f + "." + k, "unknown field");
        }
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = e.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> kv = it.next();
        JsonNode want = kv.getValue();
        JsonNode have = g.path(kv.getKey());
        boolean ok = want.isFloatingPointNumber()
            ? have.isNumber() && (float) have.asDouble() == want.floatValue()
            : want.equals(have);
        if (!ok) {
          throw json.bad(f + "." + kv.getKey(), "must be " + want + " (from the spec), got " + StrictJson.shown(have));
        }
      }
    }
  }

  /** Reads and checks the data file against the tensor list, and the list against the network. */
  private Map<String, float[]> data(JsonNode root, Map<String, Checkpoint.Tensor> expected) {
    JsonNode d = json.object(root, "data", "data");
    String file = json.text(d, "file", "data.file");
    if (file.contains("/") || file.contains("\\") || file.startsWith(".")) {
      throw json.bad("data.file", "must be a plain file name beside the manifest, got '" + file + "'");
    }
    json.same(d, "dtype", "data.dtype", "float32");
    json.same(d, "byte_order", "data.byte_order", "little-endian");
    long declared = json.count(d, "bytes", "data.bytes", "bytes");
    String crc = json.text(d, "crc32", "data.crc32");
    if (!crc.matches("[0-9a-f]{1,8}")) {
      throw json.bad("data.crc32", "must be up to 8 lower-case hex digits, got '" + crc + "'");
    }

    JsonNode list = json.array(root, "tensors", "tensors");
    Map<String, int[]> place = new LinkedHashMap<>();
    long sum = 0;
    for (int i = 0; i < list.size(); i++) {
      String f = "tensors[" + i + "]";
      JsonNode t = json.object(list, i, f);
      String name = json.text(t, "name", f + ".name");
      Checkpoint.Tensor want = expected.get(name);
      if (want == null) {
        throw json.bad(f + ".name", "'" + name + "' is no tensor of this network (nor momentum of one)");
      }
      if (place.containsKey(name)) {
        throw json.bad(f + ".name", "'" + name + "' is listed twice");
      }
      JsonNode shape = t.path("shape");
      boolean shapeOk = shape.isArray() && shape.size() == want.shape().length;
      for (int j = 0; shapeOk && j < want.shape().length; j++) {
        shapeOk = shape.get(j).isInt() && shape.get(j).intValue() == want.shape()[j];
      }
      if (!shapeOk) {
        throw json.bad(f + ".shape", "must be " + Arrays.toString(want.shape()) + " for " + name + ", got "
            + StrictJson.shown(shape));
      }
      int count = json.integer(t, "count", f + ".count", want.data().length, want.data().length, " for " + name);
      int offset = json.integer(t, "offset", f + ".offset", 0, Integer.MAX_VALUE);
      if (offset % 4 != 0 || offset + 4L * count > declared) {
        throw json.bad(f + ".offset", offset + " with " + count + " float32 values must be a multiple of 4"
            + " and end within the data file's " + declared + " bytes");
      }
      place.put(name, new int[] {offset, count});
      sum += 4L * count;
    }
    // The listed tensors are the network's own (or their momentum), so this bounds the file too.
    if (sum != declared) {
      throw json.bad("data.bytes", "is " + declared + ", but the tensors listed hold " + sum + " bytes");
    }
    return floats(manifest.resolveSibling(file), file, declared, crc, place);
  }

  /** The data file's arrays at their places, after its size and CRC-32; every value finite. */
  private Map<String, float[]> floats(Path dataFile, String file, long declared, String crc,
      Map<String, int[]> place) {
    byte[] bytes;
    try {
      long size = Files.size(dataFile);
      if (size != declared) {
        throw new CheckpointException(dataFile + ": " + size + " bytes, the manifest says " + declared);
      }
      bytes = Files.readAllBytes(dataFile);
    } catch (NoSuchFileException e) {
      throw json.refuse("its data file " + file + " is missing");
    } catch (IOException e) {
      throw new CheckpointException(dataFile + ": cannot read: " + e.getMessage());
    }
    if (bytes.length != declared) {
      throw new CheckpointException(dataFile + ": " + bytes.length + " bytes, the manifest says " + declared);
    }
    CRC32 sum32 = new CRC32();
    sum32.update(bytes);
    if (!Long.toHexString(sum32.getValue()).equals(crc)) {
      throw new CheckpointException(dataFile + ": damaged (CRC-32 does not match the manifest)");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    Map<String, float[]> stored = new LinkedHashMap<>();
    for (Map.Entry<String, int[]> e : place.entrySet()) {
      float[] a = new float[e.getValue()[1]];
      buf.position(e.getValue()[0]);
      buf.asFloatBuffer().get(a);
      boolean variance = e.getKey().endsWith(".running_var");
      for (int i = 0; i < a.length; i++) {
        if (!Float.isFinite(a[i]) || (variance && a[i] < 0)) {
          throw new CheckpointException(dataFile + ": tensor " + e.getKey() + "[" + i + "] is " + a[i]
              + ", must be a finite number" + (variance ? " >= 0 (a variance)" : ""));
        }
      }
      stored.put(e.getKey(), a);
    }
    return stored;
  }
}
