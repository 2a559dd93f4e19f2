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
import com.fasterxml.jackson.databind.JsonNode;
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

  /** Loads a checkpoint from its directory or its {@code checkpoint.json}. */
  public static Checkpoint load(Path path) throws IOException {
    Path manifest = Files.isDirectory(path) ? path.resolve(MANIFEST) : path;
    JsonNode root;
    try {
      root = JSON.readTree(manifest.toFile());
    } catch (java.io.FileNotFoundException | NoSuchFileException e) {
      throw new CheckpointException(manifest + ": no checkpoint here");
    } catch (IOException e) {
      throw new CheckpointException(manifest + ": not a readable checkpoint manifest: " + e.getMessage());
    }
    if (root == null || !FORMAT.equals(root.path("format").asText())) {
      throw new CheckpointException(manifest + ": not an addernet checkpoint (format is not '" + FORMAT + "')");
    }
    if (root.path("version").asInt() != VERSION) {
      throw new CheckpointException(
          manifest + ": checkpoint version " + root.path("version").asText() + ", this build reads " + VERSION);
    }
    String name = root.path("network").asText();
    NetworkSpec spec;
    try {
      spec = NetworkSpec.parse(name, root.path("spec").asText());
    } catch (SpecException e) {
      throw new CheckpointException(manifest + ": its network spec is invalid: " + e.getMessage());
    }
    Network net = Network.build(spec, 0);
    JsonNode data = root.path("data");
    Path dataFile = manifest.resolveSibling(data.path("file").asText());
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(dataFile);
    } catch (NoSuchFileException e) {
      throw new CheckpointException(manifest + ": its data file " + dataFile.getFileName() + " is missing");
    }
    if (bytes.length != data.path("bytes").asLong()) {
      throw new CheckpointException(
          dataFile + ": " + bytes.length + " bytes, the manifest says " + data.path("bytes").asLong());
    }
    CRC32 crc = new CRC32();
    crc.update(bytes);
    if (!Long.toHexString(crc.getValue()).equals(data.path("crc32").asText())) {
      throw new CheckpointException(dataFile + ": damaged (CRC-32 does not match the manifest)");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    Map<String, float[]> stored = new LinkedHashMap<>();
    for (JsonNode t : root.path("tensors")) {
      int offset = t.path("offset").asInt();
      int count = t.path("count").asInt();
      if (offset < 0 || count < 0 || (long) offset + 4L * count > bytes.length) {
        throw new CheckpointException(manifest + ": tensor " + t.path("name").asText() + " lies outside the data file");
      }
      float[] a = new float[count];
      buf.position(offset);
      buf.asFloatBuffer().get(a);
      stored.put(t.path("name").asText(), a);
    }
    for (Map.Entry<String, Tensor> e : tensors(net).entrySet()) {
      float[] a = stored.get(e.getKey());
      float[] target = e.getValue().data();
      if (a == null) {
        throw new CheckpointException(manifest + ": lacks tensor " + e.getKey());
      }
      if (a.length != target.length) {
        throw new CheckpointException(
            manifest + ": tensor " + e.getKey() + " has " + a.length + " values, the network needs " + target.length);
      }
      System.arraycopy(a, 0, target, 0, a.length);
    }
    Map<String, float[]> momentum = new LinkedHashMap<>();
    stored.forEach((k, v) -> {
      if (k.startsWith(MOMENTUM_PREFIX)) {
        momentum.put(k.substring(MOMENTUM_PREFIX.length()), v);
      }
    });
    JsonNode norm = root.path("input_normalization");
    List<EpochMetrics> metrics = new ArrayList<>();
    for (JsonNode m : root.path("metrics")) {
      metrics.add(JSON.treeToValue(m, EpochMetrics.class));
    }
    Recipe recipe;
    try {
      recipe = JSON.treeToValue(root.path("recipe"), Recipe.class);
    } catch (IOException | IllegalArgumentException e) {
      throw new CheckpointException(manifest + ": invalid recipe: " + e.getMessage());
    }
    return new Checkpoint(
        net,
        new Normalization(norm.path("mean").asDouble(), norm.path("std").asDouble()),
        root.path("epoch").asInt(),
        recipe,
        metrics,
        momentum);
  }

  /** Writes metrics.json (a JSON array, one object per epoch) atomically. */
  public static void writeMetrics(Path file, List<EpochMetrics> metrics) throws IOException {
    writeAtomically(file, JSON.writeValueAsBytes(metrics));
  }
}
