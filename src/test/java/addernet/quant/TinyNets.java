package addernet.quant;

import addernet.data.ImageSet;
import addernet.data.Normalization;
import addernet.nn.Mode;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.Tensor;
import addernet.nn.Workers;
import java.util.SplittableRandom;

/** Small random float AdderNets with settled batch-norm statistics, for quantizer tests. */
final class TinyNets {
  static final String SPEC = String.join("\n",
      "input 1x10x10",
      "conv adder 1->4 kernel=3",
      "batchnorm",
      "relu",
      "maxpool 2",
      "conv adder 4->6 kernel=4",
      "batchnorm",
      "relu",
      "flatten",
      "fc adder 6->5",
      "batchnorm");

  static final Normalization NORM = new Normalization(0.3, 0.35);

  private TinyNets() {}

  /** Images with smooth blobs (so activations are not pure noise) and random labels. */
  static ImageSet images(int count, int side, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    byte[] pixels = new byte[count * side * side];
    byte[] labels = new byte[count];
    for (int n = 0; n < count; n++) {
      double cy = rnd.nextDouble(side);
      double cx = rnd.nextDouble(side);
      double r = 1 + rnd.nextDouble(side / 2.0);
      for (int y = 0; y < side; y++) {
        for (int x = 0; x < side; x++) {
          double d = Math.hypot(y - cy, x - cx) / r;
          int v = (int) Math.max(0, Math.min(255, 255 * Math.exp(-d * d) + rnd.nextInt(-20, 21)));
          pixels[(n * side + y) * side + x] = (byte) v;
        }
      }
      labels[n] = (byte) rnd.nextInt(5);
    }
    return new ImageSet("blobs", count, side, side, pixels, labels);
  }

  /**
   * A random network whose batch norms have seen the data: TRAIN-mode passes move the running
   * statistics (momentum 0.1) until they describe the activations, as after real training.
   */
  static Network network(String spec, long seed, ImageSet data) {
    Network net = Network.build(NetworkSpec.parse("tiny", spec), seed);
    SplittableRandom rnd = new SplittableRandom(seed);
    for (var p : net.params()) {
      if (p.name().endsWith("gamma") || p.name().endsWith("beta")) {
        float[] v = p.value();
        for (int i = 0; i < v.length; i++) {
          v[i] = p.name().endsWith("gamma") ? (float) (0.5 + rnd.nextDouble()) : (float) rnd.nextDouble(-0.5, 1);
        }
      }
    }
    int side = data.rows();
    int batch = Math.min(64, data.count());
    try (Workers w = Workers.single()) {
      for (int pass = 0; pass < 60; pass++) {
        int from = (pass * batch) % (data.count() - batch + 1);
        float[] x = FloatPass.normalized(data, from, batch, NORM);
        net.forward(Tensor.fromImages(net.inputShape(), batch, x), Mode.TRAIN, w);
      }
    }
    return net;
  }

  /** Float logits of image {@code i} in eval mode. */
  static float[] floatLogits(Network net, ImageSet data, int i) {
    try (Workers w = Workers.single()) {
      Tensor t = net.forward(
          Tensor.fromImages(net.inputShape(), 1, FloatPass.normalized(data, i, 1, NORM)), Mode.EVAL, w);
      return t.data().clone();
    }
  }
}
