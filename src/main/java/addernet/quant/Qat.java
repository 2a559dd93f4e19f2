package addernet.quant;

import addernet.data.ImageSet;
import addernet.data.Normalization;
import addernet.nn.Layer;
import addernet.nn.Mode;
import addernet.nn.Network;
import addernet.nn.Param;
import addernet.nn.SoftmaxCrossEntropy;
import addernet.nn.Tensor;
import addernet.nn.Workers;
import addernet.train.CosineSchedule;
import addernet.train.Sgd;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Quantization-aware fine-tuning: the float network trains on exactly the values the integer
 * network will see, with a straight-through estimator for the rounding.
 *
 * <ul>
 *   <li>The input is the contract's shifted pixel, (floor(u / 2^shift) + offset) steps of s0,
 *       then normalized as in training (section 5).
 *   <li>Every adder layer's weights are rounded and clipped onto its grid in the forward pass;
 *       the gradient goes to the float master weights unchanged (straight through).
 *   <li>Every later adder layer's input is rounded and clipped onto its grid; the gradient passes
 *       where the activation is inside the clip and is zero above it.
 * </ul>
 *
 * Scales stay fixed (from calibration before fine-tuning), so the weights the fine-tuning puts on
 * the grid are the ones that get exported. Batch norm trains normally and its running statistics
 * follow the quantized values. At the end the weights are snapped onto the grid for good.
 */
public final class Qat {
  /** Told after every step (for progress bars). */
  @FunctionalInterface
  public interface Progress {
    void step(int epoch, int step, int steps, double loss, double accuracy);
  }

  private final Network net;
  private final Normalization norm;
  private final Scales scales;
  private final QuantConfig quant;
  private final List<FloatStage> stages;
  private final float[] inputLut = new float[256];

  public Qat(Network net, Normalization norm, Scales scales, QuantConfig quant) {
    this.net = net;
    this.norm = norm;
    this.scales = scales;
    this.quant = quant;
    this.stages = FloatStage.of(net);
    for (FloatStage st : stages) {
      if (st.op() != addernet.quant.PeOp.ADDER) {
        // Its weight grid and first-layer folding differ from the adder's (Quantizer.onGrid).
        throw new IllegalArgumentException(
            st.name() + " is a multiply layer: quantization-aware fine-tuning is built for adder"
                + " layers only; quantize the CNN twin without --qat-epochs");
      }
    }
    int bits0 = quant.bitsOf(stages.get(0).name());
    int shift = IntNetwork.inputShift(bits0);
    double s0 = scales.input(0);
    double off = Quantizer.firstOffset(bits0);
    for (int u = 0; u < 256; u++) {
      inputLut[u] = (float) (((u >> shift) + off) * s0 - norm.mean()) / (float) norm.std();
    }
  }

  /** Fine-tunes {@code net} in place for {@code config.epochs()} epochs on {@code train}. */
  public void run(QatConfig config, ImageSet train, Workers workers, Progress progress) {
    Sgd sgd = new Sgd(config.momentum(), config.weightDecay(), config.eta());
    int steps = train.count() / config.batch();
    if (steps < 1) {
      throw new IllegalArgumentException(
          "QAT needs at least one batch of " + config.batch() + " images, got " + train.count());
    }
    CosineSchedule schedule = new CosineSchedule(config.learningRate(), (long) steps * config.epochs());
    SplittableRandom random = new SplittableRandom(config.seed());
    int plane = train.pixelsPerImage();
    float[] images = new float[config.batch() * plane];
    int[] labels = new int[config.batch()];
    float[][] master = new float[stages.size()][];
    for (int e = 1; e <= config.epochs(); e++) {
      int[] order = shuffled(train.count(), random);
      double lossSum = 0;
      long correct = 0;
      for (int s = 0; s < steps; s++) {
        fill(train, order, s * config.batch(), images, labels, config.flip(), random);
        for (int i = 0; i < stages.size(); i++) {
          float[] w = stages.get(i).weights();
          master[i] = w.clone();
          fakeQuantizeWeights(i, w);
        }
        SoftmaxCrossEntropy.Result r = step(images, labels, workers);
        for (int i = 0; i < stages.size(); i++) {
          System.arraycopy(master[i], 0, stages.get(i).weights(), 0, master[i].length);
        }
        if (!Double.isFinite(r.loss())) {
          throw new IllegalStateException("QAT loss became " + r.loss() + " in epoch " + e + "; try a lower rate");
        }
        List<Param> params = net.params();
        sgd.step(params, schedule.at((long) (e - 1) * steps + s));
        lossSum += r.loss();
        correct += r.correct();
        progress.step(e, s + 1, steps, lossSum / (s + 1), (double) correct / ((long) (s + 1) * config.batch()));
      }
    }
    for (int i = 0; i < stages.size(); i++) {
      fakeQuantizeWeights(i, stages.get(i).weights());
    }
  }

  private SoftmaxCrossEntropy.Result step(float[] images, int[] labels, Workers workers) {
    int batch = labels.length;
    List<Layer> layers = net.layers();
    Tensor x = Tensor.fromImages(net.inputShape(), batch, images);
    float[][] clipMask = new float[stages.size()][];
    int s = 0;
    for (int i = 0; i < layers.size(); i++) {
      if (s < stages.size() && stages.get(s).layerIndex() == i) {
        if (s > 0) {
          Tensor q = new Tensor(x.shape(), batch);
          clipMask[s] = fakeQuantizeActivations(s, x.data(), q.data());
          x = q;
        }
        s++;
      }
      x = layers.get(i).forward(x, Mode.TRAIN, workers);
    }
    Tensor grad = new Tensor(x.shape(), batch);
    SoftmaxCrossEntropy.Result r = SoftmaxCrossEntropy.evaluate(x, labels, grad);
    if (!Double.isFinite(r.loss())) {
      return r;
    }
    Tensor g = grad;
    s = stages.size() - 1;
    for (int i = layers.size() - 1; i >= 0; i--) {
      g = layers.get(i).backward(g, i > 0, workers);
      if (s >= 0 && stages.get(s).layerIndex() == i) {
        if (s > 0) {
          float[] gd = g.data();
          float[] m = clipMask[s];
          for (int j = 0; j < gd.length; j++) {
            gd[j] *= m[j];
          }
        }
        s--;
      }
    }
    return r;
  }

  /** Rounds x onto stage s's input grid; returns the straight-through mask (1 inside the clip). */
  float[] fakeQuantizeActivations(int s, float[] x, float[] out) {
    double scale = scales.input(s);
    int hi = (1 << (quant.bitsOf(stages.get(s).name()) - 1)) - 1;
    float[] mask = new float[x.length];
    for (int j = 0; j < x.length; j++) {
      double q = Math.rint(x[j] / scale);
      if (q > hi) {
        q = hi;
      } else {
        mask[j] = 1;
      }
      out[j] = (float) (Math.max(0, q) * scale);
    }
    return mask;
  }

  /** Replaces stage i's weights by the float values of their grid points (as the export will). */
  void fakeQuantizeWeights(int i, float[] w) {
    int bits = quant.bitsOf(stages.get(i).name());
    double scale = scales.input(i);
    double[] r = Quantizer.onGrid(stages.get(i), i, scale, bits, norm);
    int[] q = Quantizer.toGrid(r, stages.get(i).outChannels(), bits).q();
    double off = i == 0 ? Quantizer.firstOffset(bits) : 0;
    for (int j = 0; j < w.length; j++) {
      w[j] = i == 0
          ? (float) (((q[j] + off) * scale - norm.mean()) / norm.std())
          : (float) (q[j] * scale);
    }
  }

  private void fill(ImageSet set, int[] order, int from, float[] out, int[] labels, boolean flips,
      SplittableRandom random) {
    int rows = set.rows();
    int cols = set.cols();
    int image = set.pixelsPerImage();
    for (int b = 0; b < labels.length; b++) {
      int idx = order[from + b];
      labels[b] = set.label(idx);
      // Flips when the training recipe used them; no shifts (they would pad with background).
      boolean flip = flips && random.nextBoolean();
      for (int c = 0; c < set.channels(); c++) {
        int base = c * rows * cols;
        for (int y = 0; y < rows; y++) {
          for (int x = 0; x < cols; x++) {
            int sx = flip ? cols - 1 - x : x;
            out[b * image + base + y * cols + x] = inputLut[set.pixels()[idx * image + base + y * cols + sx] & 0xff];
          }
        }
      }
    }
  }

  private static int[] shuffled(int n, SplittableRandom random) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }
}
