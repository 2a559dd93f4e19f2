package addernet.train;

import addernet.data.Normalization;
import addernet.nn.BatchNorm;
import addernet.nn.Conv2d;
import addernet.nn.Dense;
import addernet.nn.Layer;
import addernet.nn.MaxPool;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.SpecException;
import addernet.nn.Param;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * A trained (or partly trained) network with everything needed to use it or go on training it.
 *
 * <h2>On disk</h2>
 *
 * A directory with {@code checkpoint.json} (the manifest) and one data file {@code
 * checkpoint-epochN.bin} of little-endian float32 arrays, back to back. The manifest holds:
 *
 * <ul>
 *   <li>{@code format} "addernet-checkpoint", {@code version} 1;
 *   <li>{@code network} (name) and {@code spec} (the spec file's text, which rebuilds the
 *       network), {@code input} {channels, height, width}, {@code classes};
 *   <li>{@code input_normalization} {mean, std}: input = (pixel / 255 - mean) / std;
 *   <li>{@code epoch} (completed epochs), {@code recipe}, {@code metrics} (one entry per epoch);
 *   <li>{@code layers}: per layer {@code index}, {@code type} (conv, fc, batchnorm, relu,
 *       maxpool, flatten) and its fields: conv {operation (adder|multiply), in, out, kernel,
 *       stride, padding, weight}, fc {operation, in, out, weight}, batchnorm {channels, eps,
 *       momentum, gamma, beta, running_mean, running_var}, maxpool {size}; the tensor-valued
 *       fields name entries of {@code tensors};
 *   <li>{@code data} {file, dtype "float32", byte_order "little-endian", bytes, crc32};
 *   <li>{@code tensors}: {name, shape, offset (bytes into the data file), count}. Conv weights are
 *       [out, in, ky, kx], fc weights [out, in], batch-norm arrays [channels]. Names starting with
 *       {@code momentum/} are optimizer state.
 * </ul>
 *
 * <p>Saving writes the data file, then the manifest, each to a temporary name that is renamed into
 * place, so a crash leaves the previous checkpoint readable.
 *
 * <p>Loading is strict, because a checkpoint is resumed and quantized without further checks:
 * every field above must be present with its JSON type (no coercion, no duplicate keys, no
 * unknown recipe or metrics fields), the layers and tensors must be exactly those the spec's
 * network has (momentum tensors optional, each the length of its parameter), {@code epoch} lies
 * in 0..recipe epochs with one metrics entry per epoch, every stored value is finite (running
 * variances also not negative), and sizes are compared with the file before it is read.
 */
public record Checkpoint(
    Network network,
    Normalization normalization,
    int epoch,
    Recipe recipe,
    List<EpochMetrics> metrics,
    Map<String, float[]> momentum) {

  public static final String MANIFEST = "checkpoint.json";
  static final String FORMAT = "addernet-checkpoint";
  static final int VERSION = 1;
  private static final String MOMENTUM_PREFIX = "momentum/";
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public Checkpoint {
    metrics = List.copyOf(metrics);
  }

  /** Whether {@code dir} already holds a checkpoint. */
  public static boolean exists(Path dir) {
    return Files.isRegularFile(dir.resolve(MANIFEST));
  }

  /** Every array of the network by tensor name, with its shape, in layer order. */
  static Map<String, Tensor> tensors(Network net) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    List<Layer> layers = net.layers();
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      String p = "layers." + i + ".";
      if (l instanceof Conv2d c) {
        out.put(p + "weight", new Tensor(c.weight().value(),
            new int[] {c.outChannels(), c.inChannels(), c.kernel(), c.kernel()}));
      } else if (l instanceof Dense d) {
        out.put(p + "weight", new Tensor(d.weight().value(), new int[] {d.outFeatures(), d.inFeatures()}));
      } else if (l instanceof BatchNorm b) {
        int[] s = {b.channels()};
        out.put(p + "gamma", new Tensor(b.gamma().value(), s));
        out.put(p + "beta", new Tensor(b.beta().value(), s));
        out.put(p + "running_mean", new Tensor(b.runningMean(), s));
        out.put(p + "running_var", new Tensor(b.runningVar(), s));
      }
    }
    return out;
  }

  record Tensor(float[] data, int[] shape) {}

  public void save(Path dir) throws IOException {
    Files.createDirectories(dir);
    Map<String, Tensor> all = new LinkedHashMap<>(tensors(network));
    for (Map.Entry<String, float[]> e : momentum.entrySet()) {
      all.put(MOMENTUM_PREFIX + e.getKey(), new Tensor(e.getValue(), new int[] {e.getValue().length}));
    }
    long bytes = 0;
    for (Tensor t : all.values()) {
      bytes += 4L * t.data().length;
    }
    ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("version", VERSION);
    root.put("network", network.name());
    root.put("spec", network.spec().text());
    ObjectNode in = root.putObject("input");
    in.put("channels", network.inputShape().channels());
    in.put("height", network.inputShape().height());
    in.put("width", network.inputShape().width());
    root.put("classes", network.classes());
    ObjectNode norm = root.putObject("input_normalization");
    norm.put("mean", normalization.mean());
    norm.put("std", normalization.std());
    root.put("epoch", epoch);
    root.set("recipe", JSON.valueToTree(recipe));
    root.set("metrics", JSON.valueToTree(metrics));
    root.set("layers", describeLayers(network));
    ArrayNode tensorList = JSON.createArrayNode();
    for (Map.Entry<String, Tensor> e : all.entrySet()) {
      ObjectNode t = tensorList.addObject();
      t.put("name", e.getKey());
      ArrayNode shape = t.putArray("shape");
      for (int d : e.getValue().shape()) {
        shape.add(d);
      }
      t.put("offset", buf.position());
      t.put("count", e.getValue().data().length);
      for (float f : e.getValue().data()) {
        buf.putFloat(f);
      }
    }
    byte[] data = buf.array();
    CRC32 crc = new CRC32();
    crc.update(data);
    String dataName = "checkpoint-epoch" + epoch + ".bin";
    ObjectNode d = root.putObject("data");
    d.put("file", dataName);
    d.put("dtype", "float32");
    d.put("byte_order", "little-endian");
    d.put("bytes", data.length);
    d.put("crc32", Long.toHexString(crc.getValue()));
    root.set("tensors", tensorList);

    writeAtomically(dir.resolve(dataName), data);
    writeAtomically(dir.resolve(MANIFEST), JSON.writeValueAsBytes(root));
    try (DirectoryStream<Path> old = Files.newDirectoryStream(dir, "checkpoint-epoch*.bin")) {
      for (Path p : old) {
        if (!p.getFileName().toString().equals(dataName)) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  private static ArrayNode describeLayers(Network net) {
    ArrayNode arr = JSON.createArrayNode();
    List<Layer> layers = net.layers();
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i);
      ObjectNode o = arr.addObject();
      o.put("index", i);
      String p = "layers." + i + ".";
      if (l instanceof Conv2d c) {
        o.put("type", "conv");
        o.put("operation", c.operation().keyword());
        o.put("in", c.inChannels());
        o.put("out", c.outChannels());
        o.put("kernel", c.kernel());
        o.put("stride", c.stride());
        o.put("padding", c.padding());
        o.put("weight", p + "weight");
      } else if (l instanceof Dense dn) {
        o.put("type", "fc");
        o.put("operation", dn.operation().keyword());
        o.put("in", dn.inFeatures());
        o.put("out", dn.outFeatures());
        o.put("weight", p + "weight");
      } else if (l instanceof BatchNorm b) {
        o.put("type", "batchnorm");
        o.put("channels", b.channels());
        o.put("eps", b.eps());
        o.put("momentum", b.momentum());
        o.put("gamma", p + "gamma");
        o.put("beta", p + "beta");
        o.put("running_mean", p + "running_mean");
        o.put("running_var", p + "running_var");
      } else if (l instanceof MaxPool m) {
        o.put("type", "maxpool");
        o.put("size", m.size());
      } else {
        o.put("type", l.describe());
      }
      o.put("input", l.inputShape().toString());
      o.put("output", l.outputShape().toString());
    }
    return arr;
  }

  static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
    Files.write(tmp, bytes);
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (java.nio.file.AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** A manifest larger than this is not one (the spec is at most 1 MiB, the rest is small). */
  static final long MAX_MANIFEST_BYTES = 16 << 20;

  // Reading is strict: no type coercion, no duplicate keys, no missing or unknown fields, so a
  // hand-edited manifest is either exactly what save() writes or refused with the field named.
  private static final ObjectMapper STRICT =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
          .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  /**
   * Loads a checkpoint from its directory or its {@code checkpoint.json}. Every field of the
   * manifest and every value of the data file is checked against the network its spec builds;
   * whatever is wrong (a missing or mistyped field, a length, a non-finite value, a size the
   * data file does not have) is a {@link CheckpointException} naming the file and the field.
   */
  public static Checkpoint load(Path path) throws CheckpointException {
    Path manifest = Files.isDirectory(path) ? path.resolve(MANIFEST) : path;
    return new Loader(manifest).load();
  }

  /** One load: the manifest's path for messages, and the checks in the order of the format. */
  private static final class Loader {
    private final Path manifest;

    Loader(Path manifest) {
      this.manifest = manifest;
    }

    private CheckpointException bad(String field, String problem) {
      return new CheckpointException(manifest + ": " + field + ": " + problem);
    }

    Checkpoint load() throws CheckpointException {
      JsonNode root = readManifest();
      if (!FORMAT.equals(root.path("format").textValue())) {
        throw new CheckpointException(
            manifest + ": not an addernet checkpoint (format is not '" + FORMAT + "')");
      }
      JsonNode version = root.path("version");
      if (!version.isInt() || version.intValue() != VERSION) {
        throw bad("version", "checkpoint version " + version + ", this build reads " + VERSION);
      }
      String name = text(root, "network");
      String problem = addernet.io.Names.problem(name);
      if (problem != null) {
        throw bad("network", "the name " + addernet.io.Names.printable(name) + " " + problem
            + " (docs/spec-format.md, \"Names\")");
      }
      NetworkSpec spec;
      try {
        spec = NetworkSpec.parse(name, text(root, "spec"));
      } catch (SpecException e) {
        throw bad("spec", "the network spec is invalid: " + e.getMessage());
      }
      Recipe recipe = value(withPlainOptions(object(root, "recipe")), "recipe", Recipe.class);
      int epoch = integer(root, "epoch", 0, recipe.epochs(), " (the recipe's epochs)");
      List<EpochMetrics> metrics = metrics(root, epoch);
      Normalization norm = normalization(object(root, "input_normalization"));
      try {
        spec.requireFits(1, 1, Runtime.getRuntime().maxMemory());
      } catch (SpecException e) {
        throw bad("spec", e.getMessage());
      }
      JsonNode in = object(root, "input");
      same(in, "input.channels", "channels", spec.input().channels());
      same(in, "input.height", "height", spec.input().height());
      same(in, "input.width", "width", spec.input().width());
      same(root, "classes", "classes", spec.classes());
      Network net = Network.build(spec, 0);
      sameTree(array(root, "layers"), describeLayers(net), "layers");

      Map<String, Tensor> expected = new LinkedHashMap<>(tensors(net));
      for (Param p : net.params()) {
        expected.put(MOMENTUM_PREFIX + p.name(), new Tensor(new float[p.value().length], new int[] {p.value().length}));
      }
      Map<String, float[]> stored = data(root, expected, epoch);
      for (Map.Entry<String, Tensor> e : tensors(net).entrySet()) {
        float[] a = stored.get(e.getKey());
        if (a == null) {
          throw bad("tensors", "lacks tensor " + e.getKey());
        }
        System.arraycopy(a, 0, e.getValue().data(), 0, a.length);
      }
      Map<String, float[]> momentum = new LinkedHashMap<>();
      stored.forEach((k, v) -> {
        if (k.startsWith(MOMENTUM_PREFIX)) {
          momentum.put(k.substring(MOMENTUM_PREFIX.length()), v);
        }
      });
      return new Checkpoint(net, norm, epoch, recipe, metrics, momentum);
    }

    private JsonNode readManifest() throws CheckpointException {
      byte[] bytes;
      try {
        if (Files.isDirectory(manifest)) {
          throw new CheckpointException(manifest + ": is a folder, not a checkpoint manifest");
        }
        long size = Files.size(manifest);
        if (size > MAX_MANIFEST_BYTES) {
          throw new CheckpointException(
              manifest + ": " + size + " bytes; a checkpoint manifest is at most " + MAX_MANIFEST_BYTES);
        }
        bytes = Files.readAllBytes(manifest);
      } catch (NoSuchFileException e) {
        throw new CheckpointException(manifest + ": no checkpoint here");
      } catch (CheckpointException e) {
        throw e;
      } catch (IOException e) {
        throw new CheckpointException(manifest + ": cannot read: " + e.getMessage());
      }
      JsonNode root;
      try {
        root = STRICT.readTree(bytes);
      } catch (JsonProcessingException e) {
        throw new CheckpointException(manifest + ": not a readable checkpoint manifest: " + describe(e));
      } catch (IOException e) {
        throw new CheckpointException(manifest + ": cannot read: " + e.getMessage());
      }
      if (root == null || !root.isObject()) {
        throw new CheckpointException(manifest + ": not an addernet checkpoint (not a JSON object)");
      }
      return root;
    }

    private String text(JsonNode n, String field) throws CheckpointException {
      JsonNode v = n.path(field);
      if (!v.isTextual() || v.textValue().isEmpty()) {
        throw bad(field, "missing or not a non-empty string");
      }
      return v.textValue();
    }

    /**
     * A recipe written before the clamp, shift and l_p options (or before PKKD) existed has none
     * of their fields; it was trained without them, so they read as off. Every other field stays
     * required.
     */
    private static JsonNode withPlainOptions(JsonNode recipe) {
      com.fasterxml.jackson.databind.node.ObjectNode r =
          ((com.fasterxml.jackson.databind.node.ObjectNode) recipe).deepCopy();
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

    private JsonNode object(JsonNode n, String field) throws CheckpointException {
      JsonNode v = n.path(field);
      if (!v.isObject()) {
        throw bad(field, "missing or not an object");
      }
      return v;
    }

    private JsonNode array(JsonNode n, String field) throws CheckpointException {
      JsonNode v = n.path(field);
      if (!v.isArray()) {
        throw bad(field, "missing or not an array");
      }
      return v;
    }

    private int integer(JsonNode n, String field, int min, int max, String why) throws CheckpointException {
      return integer(n, field, field, min, max, why);
    }

    private int integer(JsonNode n, String key, String field, int min, int max, String why)
        throws CheckpointException {
      JsonNode v = n.path(key);
      if (!v.isInt() || v.intValue() < min || v.intValue() > max) {
        throw bad(field, "must be a whole number in " + min + ".." + max + why + ", got " + shown(v));
      }
      return v.intValue();
    }

    private void same(JsonNode n, String field, String key, int expected) throws CheckpointException {
      JsonNode v = n.path(key);
      if (!v.isInt() || v.intValue() != expected) {
        throw bad(field, "must be " + expected + " (from the spec), got " + shown(v));
      }
    }

    private <T> T value(JsonNode n, String field, Class<T> type) throws CheckpointException {
      try {
        return STRICT.treeToValue(n, type);
      } catch (JsonProcessingException e) {
        StringBuilder where = new StringBuilder(field);
        if (e instanceof JsonMappingException m) {
          for (JsonMappingException.Reference r : m.getPath()) {
            if (r.getFieldName() != null) {
              where.append('.').append(r.getFieldName());
            }
          }
        }
        Throwable cause = e.getCause();
        throw bad(where.toString(), cause instanceof IllegalArgumentException ? cause.getMessage() : describe(e));
      } catch (IllegalArgumentException e) {
        throw bad(field, String.valueOf(e.getMessage()));
      }
    }

    private List<EpochMetrics> metrics(JsonNode root, int epoch) throws CheckpointException {
      JsonNode list = array(root, "metrics");
      if (list.size() != epoch) {
        throw bad("metrics", "must hold one entry per completed epoch (" + epoch + "), holds " + list.size());
      }
      List<EpochMetrics> out = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) {
        String f = "metrics[" + i + "]";
        if (!list.get(i).isObject()) {
          throw bad(f, "not an object");
        }
        EpochMetrics m = value(list.get(i), f, EpochMetrics.class);
        if (m.epoch() != i + 1) {
          throw bad(f + ".epoch", "must be " + (i + 1) + ", got " + m.epoch());
        }
        out.add(m);
      }
      return out;
    }

    private Normalization normalization(JsonNode n) throws CheckpointException {
      JsonNode mean = n.path("mean");
      JsonNode std = n.path("std");
      if (!mean.isNumber() || !Double.isFinite(mean.asDouble())) {
        throw bad("input_normalization.mean", "must be a finite number, got " + shown(mean));
      }
      if (!std.isNumber() || !(std.asDouble() > 0) || !Double.isFinite(std.asDouble())) {
        throw bad("input_normalization.std", "must be a finite number > 0, got " + shown(std));
      }
      return new Normalization(mean.asDouble(), std.asDouble());
    }

    /** The stored layer list must say exactly what the spec's network is, field by field. */
    private void sameTree(JsonNode got, JsonNode expected, String field) throws CheckpointException {
      if (got.size() != expected.size()) {
        throw bad(field, "must describe the spec's " + expected.size() + " layers, describes " + got.size());
      }
      for (int i = 0; i < expected.size(); i++) {
        String f = field + "[" + i + "]";
        JsonNode g = got.get(i);
        JsonNode e = expected.get(i);
        if (!g.isObject()) {
          throw bad(f, "not an object");
        }
        for (java.util.Iterator<String> it = g.fieldNames(); it.hasNext(); ) {
          String k = it.next();
          if (!e.has(k)) {
            throw bad(f + "." + k, "unknown field");
          }
        }
        for (java.util.Iterator<Map.Entry<String, JsonNode>> it = e.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> kv = it.next();
          JsonNode want = kv.getValue();
          JsonNode have = g.path(kv.getKey());
          boolean ok = want.isFloatingPointNumber()
              ? have.isNumber() && (float) have.asDouble() == want.floatValue()
              : want.equals(have);
          if (!ok) {
            throw bad(f + "." + kv.getKey(), "must be " + want + " (from the spec), got " + shown(have));
          }
        }
      }
    }

    /** Reads and checks the data file against the tensor list, and the list against the network. */
    private Map<String, float[]> data(JsonNode root, Map<String, Tensor> expected, int epoch)
        throws CheckpointException {
      JsonNode d = object(root, "data");
      String file = text(d, "file");
      if (file.contains("/") || file.contains("\\") || file.startsWith(".")) {
        throw bad("data.file", "must be a plain file name beside the manifest, got '" + file + "'");
      }
      if (!"float32".equals(d.path("dtype").textValue())) {
        throw bad("data.dtype", "must be \"float32\", got " + shown(d.path("dtype")));
      }
      if (!"little-endian".equals(d.path("byte_order").textValue())) {
        throw bad("data.byte_order", "must be \"little-endian\", got " + shown(d.path("byte_order")));
      }
      JsonNode bytesNode = d.path("bytes");
      if (!bytesNode.isIntegralNumber() || !bytesNode.canConvertToLong() || bytesNode.longValue() < 0) {
        throw bad("data.bytes", "must be a whole number of bytes, got " + shown(bytesNode));
      }
      long declared = bytesNode.longValue();
      String crc = text(d, "crc32");
      if (!crc.matches("[0-9a-f]{1,8}")) {
        throw bad("data.crc32", "must be up to 8 lower-case hex digits, got '" + crc + "'");
      }

      JsonNode list = array(root, "tensors");
      Map<String, int[]> place = new LinkedHashMap<>();
      long sum = 0;
      for (int i = 0; i < list.size(); i++) {
        String f = "tensors[" + i + "]";
        JsonNode t = list.get(i);
        if (!t.isObject()) {
          throw bad(f, "not an object");
        }
        String name = text(t, "name");
        Tensor want = expected.get(name);
        if (want == null) {
          throw bad(f + ".name", "'" + name + "' is no tensor of this network (nor momentum of one)");
        }
        if (place.containsKey(name)) {
          throw bad(f + ".name", "'" + name + "' is listed twice");
        }
        JsonNode shape = t.path("shape");
        boolean shapeOk = shape.isArray() && shape.size() == want.shape().length;
        for (int j = 0; shapeOk && j < want.shape().length; j++) {
          shapeOk = shape.get(j).isInt() && shape.get(j).intValue() == want.shape()[j];
        }
        if (!shapeOk) {
          throw bad(f + ".shape", "must be " + Arrays.toString(want.shape()) + " for " + name + ", got " + shown(shape));
        }
        int count = integer(t, "count", f + ".count", want.data().length, want.data().length, " for " + name);
        int offset = integer(t, "offset", f + ".offset", 0, Integer.MAX_VALUE, "");
        if (offset % 4 != 0 || offset + 4L * count > declared) {
          throw bad(f + ".offset", offset + " with " + count + " float32 values must be a multiple of 4"
              + " and end within the data file's " + declared + " bytes");
        }
        place.put(name, new int[] {offset, count});
        sum += 4L * count;
      }
      // The listed tensors are the network's own (or their momentum), so this bounds the file too.
      if (sum != declared) {
        throw bad("data.bytes", "is " + declared + ", but the tensors listed hold " + sum + " bytes");
      }

      Path dataFile = manifest.resolveSibling(file);
      byte[] bytes;
      try {
        long size = Files.size(dataFile);
        if (size != declared) {
          throw new CheckpointException(dataFile + ": " + size + " bytes, the manifest says " + declared);
        }
        bytes = Files.readAllBytes(dataFile);
      } catch (NoSuchFileException e) {
        throw new CheckpointException(manifest + ": its data file " + file + " is missing");
      } catch (CheckpointException e) {
        throw e;
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

    private static String shown(JsonNode v) {
      if (v.isMissingNode()) {
        return "nothing (missing)";
      }
      String s = v.toString();
      return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }

    /** Jackson's message without its multi-line source excerpt, plus where it stopped. */
    private static String describe(JsonProcessingException e) {
      String m = String.valueOf(e.getOriginalMessage()).replaceAll("\\s+", " ");
      if (m.length() > 160) {
        m = m.substring(0, 157) + "...";
      }
      com.fasterxml.jackson.core.JsonLocation at = e.getLocation();
      return at != null && at.getLineNr() > 0 ? m + " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")" : m;
    }
  }

  /** Writes metrics.json (a JSON array, one object per epoch) atomically. */
  public static void writeMetrics(Path file, List<EpochMetrics> metrics) throws IOException {
    writeAtomically(file, JSON.writeValueAsBytes(metrics));
  }
}
