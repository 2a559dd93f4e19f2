package addernet.train;

import addernet.data.Normalization;
import addernet.nn.BatchNorm;
import addernet.nn.Conv2d;
import addernet.nn.Dense;
import addernet.nn.Layer;
import addernet.nn.MaxPool;
import addernet.nn.Network;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Writes a {@link Checkpoint} in the layout its class comment describes, and the training run's
 * metrics.json. Each file goes to a temporary name that is renamed into place, so a crash while
 * saving leaves the checkpoint before it readable.
 */
final class CheckpointWriter {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private CheckpointWriter() {}

  static void save(Checkpoint ck, Path dir) throws IOException {
    Network network = ck.network();
    Files.createDirectories(dir);
    Map<String, Checkpoint.Tensor> all = new LinkedHashMap<>(Checkpoint.tensors(network));
    for (Map.Entry<String, float[]> e : ck.momentum().entrySet()) {
      all.put(Checkpoint.MOMENTUM_PREFIX + e.getKey(), new Checkpoint.Tensor(e.getValue(), new int[] {e.getValue().length}));
    }
    long bytes = 0;
    for (Checkpoint.Tensor t : all.values()) {
      bytes += 4L * t.data().length;
    }
    ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    ObjectNode root = JSON.createObjectNode();
    root.put("format", Checkpoint.FORMAT);
    root.put("version", Checkpoint.VERSION);
    root.put("network", network.name());
    root.put("spec", network.spec().text());
    ObjectNode in = root.putObject("input");
    in.put("channels", network.inputShape().channels());
    in.put("height", network.inputShape().height());
    in.put("width", network.inputShape().width());
    root.put("classes", network.classes());
    ObjectNode norm = root.putObject("input_normalization");
    Normalization n = ck.normalization();
    if (n.uniform()) {
      norm.put("mean", n.mean());
      norm.put("std", n.std());
    } else {
      ArrayNode means = norm.putArray("mean");
      ArrayNode stds = norm.putArray("std");
      for (int c = 0; c < n.pairs(); c++) {
        means.add(n.mean(c));
        stds.add(n.std(c));
      }
    }
    root.put("epoch", ck.epoch());
    root.set("recipe", JSON.valueToTree(ck.recipe()));
    root.set("metrics", JSON.valueToTree(ck.metrics()));
    root.set("layers", describeLayers(network));
    ArrayNode tensorList = JSON.createArrayNode();
    for (Map.Entry<String, Checkpoint.Tensor> e : all.entrySet()) {
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
    String dataName = "checkpoint-epoch" + ck.epoch() + ".bin";
    ObjectNode d = root.putObject("data");
    d.put("file", dataName);
    d.put("dtype", "float32");
    d.put("byte_order", "little-endian");
    d.put("bytes", data.length);
    d.put("crc32", Long.toHexString(crc.getValue()));
    root.set("tensors", tensorList);

    writeAtomically(dir.resolve(dataName), data);
    writeAtomically(dir.resolve(Checkpoint.MANIFEST), JSON.writeValueAsBytes(root));
    try (DirectoryStream<Path> old = Files.newDirectoryStream(dir, "checkpoint-epoch*.bin")) {
      for (Path p : old) {
        if (!p.getFileName().toString().equals(dataName)) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** The layer list as the manifest holds it; the reader compares a stored one with it field by field. */
  static ArrayNode describeLayers(Network net) {
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

  /** Writes metrics.json (a JSON array, one object per epoch) atomically. */
  static void writeMetrics(Path file, List<EpochMetrics> metrics) throws IOException {
    writeAtomically(file, JSON.writeValueAsBytes(metrics));
  }
}
