package addernet.train;

import addernet.data.Normalization;
import addernet.nn.BatchNorm;
import addernet.nn.Conv2d;
import addernet.nn.Dense;
import addernet.nn.Layer;
import addernet.nn.Network;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
 *   <li>{@code input_normalization} {mean, std}: input = (pixel / 255 - mean) / std, two numbers
 *       for every channel alike or two arrays of one number per input channel;
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
 * <p>{@link CheckpointWriter} writes it; saving writes the data file, then the manifest, each to a temporary name that is renamed into
 * place, so a crash leaves the previous checkpoint readable.
 *
 * <p>{@link CheckpointReader} reads it. Loading is strict, because a checkpoint is resumed and quantized without further checks:
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
  static final String MOMENTUM_PREFIX = "momentum/";

  public Checkpoint {
    metrics = List.copyOf(metrics);
    normalization.requireChannels(network.name(), network.inputShape().channels());
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
    CheckpointWriter.save(this, dir);
  }

  /**
   * Loads a checkpoint from its directory or its {@code checkpoint.json}. Every field of the
   * manifest and every value of the data file is checked against the network its spec builds;
   * whatever is wrong (a missing or mistyped field, a length, a non-finite value, a size the
   * data file does not have) is a {@link CheckpointException} naming the file and the field.
   */
  public static Checkpoint load(Path path) throws CheckpointException {
    return CheckpointReader.load(path);
  }

  /** Writes metrics.json (a JSON array, one object per epoch) atomically. */
  public static void writeMetrics(Path file, List<EpochMetrics> metrics) throws IOException {
    CheckpointWriter.writeMetrics(file, metrics);
  }
}
