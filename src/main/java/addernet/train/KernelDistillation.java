package addernet.train;

import addernet.nn.Conv2d;
import addernet.nn.Dense;
import addernet.nn.Layer;
import addernet.nn.Mode;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.Operation;
import addernet.nn.Shape;
import addernet.nn.SoftmaxCrossEntropy;
import addernet.nn.Tensor;
import addernet.nn.Workers;
import java.util.ArrayList;
import java.util.List;

/**
 * Kernel-based progressive distillation (PKKD; Xu et al., NeurIPS 2020) as this project runs it.
 *
 * <p>A CNN of the student's own architecture (its twin: every weighted layer multiplying) starts
 * from scratch with the student and takes one plain SGD step on the labels per batch, on the same
 * batches, with the same recipe and seed: at every step the student learns from a teacher at the
 * same stage of training (the paper's "progressive"). The teacher is never told about the
 * student.
 *
 * <p>Both networks' weighted-layer outputs are distances in disguise: an adder layer's output is
 * {@code -d1}, the l1 distance of patch and filter; a CNN layer's {@code x.w} gives the squared
 * l2 distance {@code d2 = |x|^2 + |w|^2 - 2 x.w}. Each is mapped through its kernel, the
 * student's Laplacian {@code exp(-d1 / mean d1)} and the teacher's Gaussian {@code
 * exp(-d2 / mean d2)} (the batch's mean distance as the width, held constant in the gradient), so
 * both features lie in (0, 1] whatever the layer's fan-in. A learned 1x1 linear map (channels x
 * channels and a bias, starting as the identity) on the student's side aligns the two, and the
 * loss is the square of the difference summed over an image's features (averaged over the batch
 * and the matched layers), for every weighted layer but the last. The outputs
 * are matched by Hinton's softened cross-entropy at a temperature (the usual {@code T^2 KL}).
 *
 * <p>The distillation gradients enter the student at its layers' outputs, so each adder layer's
 * own backward (weight gradient X - F, input gradient HardTanh(F - X)) and the adaptive rate are
 * unchanged. With both weights 0 the student trains bit for bit as without PKKD.
 */
final class KernelDistillation {
  /** The CNN twin, built from the student's seed and trained by the plain recipe on its batches. */
  private final Network teacher;
  private final Sgd teacherSgd;
  private final double featureWeight;
  private final double outputWeight;
  private final double temperature;
  private final double momentum;
  /** Indices of the matched layers (every weighted layer but the last). */
  private final int[] matched;
  /** Per matched layer: the 1x1 map, [out][in] with the bias as column {@code channels}. */
  private final float[][] maps;
  private final float[][] mapVelocity;
  private final Tensor[] teacherInputs;
  private final Tensor[] studentInputs;
  private Tensor teacherGradient;
  private double lastFeatureLoss;
  private double lastOutputLoss;

  KernelDistillation(Network student, Recipe recipe) {
    if (!recipe.pkkd()) {
      throw new IllegalArgumentException("the recipe does not ask for PKKD");
    }
    NetworkSpec spec = student.spec();
    // Features are matched at each weighted layer's output, found as the next layer's input.
    spec.requireChain("PKKD");
    NetworkSpec twin = spec.withOperation(Operation.MULTIPLY, spec.name() + "-teacher");
    this.teacher = Network.build(twin, recipe.seed());
    teacher.restartRunningStatistics();
    this.teacherSgd = new Sgd(recipe.momentum(), recipe.weightDecay(), recipe.eta());
    this.featureWeight = recipe.pkkdFeatureWeight();
    this.outputWeight = recipe.pkkdOutputWeight();
    this.temperature = recipe.pkkdTemperature();
    this.momentum = recipe.momentum();
    List<Integer> weighted = new ArrayList<>();
    List<Layer> layers = student.layers();
    for (int i = 0; i < layers.size(); i++) {
      if (layers.get(i) instanceof Conv2d || layers.get(i) instanceof Dense) {
        weighted.add(i);
      }
    }
    if (weighted.isEmpty()) {
      throw new IllegalArgumentException(spec.name() + " has no weighted layer to distil");
    }
    weighted.remove(weighted.size() - 1);
    this.matched = weighted.stream().mapToInt(Integer::intValue).toArray();
    this.maps = new float[matched.length][];
    this.mapVelocity = new float[matched.length][];
    for (int j = 0; j < matched.length; j++) {
      int c = layers.get(matched[j]).outputShape().channels();
      maps[j] = new float[c * (c + 1)];
      for (int o = 0; o < c; o++) {
        maps[j][o * (c + 1) + o] = 1;
      }
      mapVelocity[j] = new float[maps[j].length];
    }
    this.teacherInputs = new Tensor[layers.size()];
    this.studentInputs = new Tensor[layers.size()];
  }

  Network teacher() {
    return teacher;
  }

  /** The student's layer inputs of the forward just run, for {@link Network#forward} to fill. */
  Tensor[] studentInputs() {
    return studentInputs;
  }

  double lastFeatureLoss() {
    return lastFeatureLoss;
  }

  double lastOutputLoss() {
    return lastOutputLoss;
  }

  /**
   * Runs the teacher's step on the batch and returns what the student must match: per matched
   * layer its Gaussian-kernel features (channel-major, as the layer's output), then, last, its
   * scores softened by the temperature (classes x batch). Takes the teacher's SGD step.
   */
  float[][] teacherStep(Tensor images, int[] labels, double learningRate, Workers workers) {
    Tensor scores = teacher.forward(images, Mode.TRAIN, workers, teacherInputs);
    float[][] targets = new float[matched.length + 1][];
    for (int j = 0; j < matched.length && featureWeight != 0; j++) {
      int i = matched[j];
      targets[j] = gaussianFeatures(teacher.layers().get(i), teacherInputs[i], teacherInputs[i + 1]);
    }
    targets[matched.length] = softened(scores.data(), scores.shape().channels(), scores.batch(), temperature);
    if (teacherGradient == null || teacherGradient.batch() != scores.batch()) {
      teacherGradient = new Tensor(scores.shape(), scores.batch());
    }
    SoftmaxCrossEntropy.evaluate(scores, labels, teacherGradient);
    teacher.backward(teacherGradient, workers);
    teacherSgd.step(teacher.params(), learningRate);
    return targets;
  }

  /**
   * After the student's TRAIN forward (run with {@link #studentInputs()}): adds the softened
   * output loss's gradient to {@code scoreGradient} and returns the feature losses' gradients at
   * the matched layers' outputs (null entries elsewhere, or all null at feature weight 0). Moves
   * the 1x1 maps by their own SGD step (momentum of the recipe, no weight decay).
   */
  Tensor[] studentGradients(
      Tensor scores, Tensor scoreGradient, float[][] targets, double learningRate) {
    int classes = scores.shape().channels();
    int batch = scores.batch();
    lastOutputLoss = 0;
    if (outputWeight != 0) {
      float[] soft = targets[matched.length];
      float[] mine = softened(scores.data(), classes, batch, temperature);
      float[] g = scoreGradient.data();
      double kl = 0;
      for (int e = 0; e < g.length; e++) {
        // d(T^2 KL(teacher || student)) / d(score) = T (p_student - p_teacher), mean over the batch.
        g[e] += (float) (outputWeight * temperature * (mine[e] - soft[e]) / batch);
        if (soft[e] > 0) {
          kl += soft[e] * Math.log(soft[e] / Math.max(mine[e], 1e-30));
        }
      }
      lastOutputLoss = outputWeight * temperature * temperature * kl / batch;
    }
    Tensor[] grads = new Tensor[studentInputs.length];
    lastFeatureLoss = 0;
    if (featureWeight == 0) {
      return grads;
    }
    for (int j = 0; j < matched.length; j++) {
      int i = matched[j];
      Tensor out = studentInputs[i + 1];
      Tensor g = new Tensor(out.shape(), out.batch());
      float[] mapGrad = new float[maps[j].length];
      lastFeatureLoss += matchLaplacian(
          out.data(), out.shape().channels(), out.batch(), targets[j], maps[j], featureWeight / matched.length,
          g.data(), mapGrad);
      grads[i] = g;
      float[] v = mapVelocity[j];
      float[] a = maps[j];
      for (int e = 0; e < a.length; e++) {
        v[e] = (float) (momentum * v[e] + mapGrad[e]);
        a[e] -= (float) (learningRate * v[e]);
      }
    }
    return grads;
  }

  /**
   * One layer's feature loss {@code weight * sum((A k + b - target)^2) / images} with {@code k =
   * exp(y / mean(-y))}, y an adder layer's output for a batch of {@code images} (channel-major,
   * {@code channels} blocks); writes dLoss/dy into {@code yGrad}, returns the loss.
   *
   * <p>Summed over an image's features and averaged over images, as the cross-entropy is, so its
   * gradient at a layer's output has the cross-entropy's scale (a mean over every feature would
   * leave it a thousand times smaller in the first layer). The map's gradient, written into
   * {@code mapGrad}, is that of the mean over features instead: the same direction at a step size
   * the map can take at the recipe's learning rate (the sum's would move it by about one per step).
   */
  static double matchLaplacian(float[] y, int channels, int images, float[] target, float[] map,
      double weight, float[] yGrad, float[] mapGrad) {
    int cols = y.length / channels;
    double sum = 0;
    for (float v : y) {
      sum -= v;
    }
    double width = Math.max(sum / y.length, 1e-12);
    float[] k = new float[y.length];
    for (int e = 0; e < y.length; e++) {
      k[e] = (float) Math.exp(y[e] / width);
    }
    int row = channels + 1;
    double scale = 2 * weight / images;
    double mapScale = (double) images / y.length;
    double loss = 0;
    float[] residual = new float[cols];
    java.util.Arrays.fill(yGrad, 0);
    java.util.Arrays.fill(mapGrad, 0);
    for (int o = 0; o < channels; o++) {
      float bias = map[o * row + channels];
      java.util.Arrays.fill(residual, bias);
      for (int c = 0; c < channels; c++) {
        float a = map[o * row + c];
        if (a != 0) {
          for (int t = 0; t < cols; t++) {
            residual[t] += a * k[c * cols + t];
          }
        }
      }
      double biasGrad = 0;
      for (int t = 0; t < cols; t++) {
        float r = residual[t] - target[o * cols + t];
        loss += (double) r * r;
        float dz = (float) (scale * r);
        residual[t] = dz;
        biasGrad += dz;
      }
      mapGrad[o * row + channels] = (float) (mapScale * biasGrad);
      for (int c = 0; c < channels; c++) {
        float a = map[o * row + c];
        double ga = 0;
        for (int t = 0; t < cols; t++) {
          float kk = k[c * cols + t];
          ga += residual[t] * kk;
          yGrad[c * cols + t] += a * residual[t];
        }
        mapGrad[o * row + c] = (float) (mapScale * ga);
      }
    }
    for (int e = 0; e < y.length; e++) {
      yGrad[e] = (float) (yGrad[e] * k[e] / width);
    }
    return weight * loss / images;
  }

  /**
   * A CNN layer's Gaussian-kernel features {@code exp(-d2 / mean d2)}, d2 the squared l2 distance
   * of each input patch (or, for a dense layer, the whole input) to each filter, from the layer's
   * input, weights and output.
   */
  static float[] gaussianFeatures(Layer layer, Tensor input, Tensor output) {
    float[] y = output.data();
    int batch = output.batch();
    Shape os = output.shape();
    int positions = os.height() * os.width();
    float[] patchNorm = new float[batch * positions];
    float[] w;
    if (layer instanceof Conv2d c) {
      Shape is = input.shape();
      float[] x = input.data();
      int kk = c.kernel();
      for (int ch = 0; ch < is.channels(); ch++) {
        for (int n = 0; n < batch; n++) {
          int base = (ch * batch + n) * is.height() * is.width();
          for (int oy = 0; oy < os.height(); oy++) {
            for (int ox = 0; ox < os.width(); ox++) {
              double s = 0;
              for (int ky = 0; ky < kk; ky++) {
                int iy = oy * c.stride() - c.padding() + ky;
                if (iy < 0 || iy >= is.height()) {
                  continue;
                }
                for (int kx = 0; kx < kk; kx++) {
                  int ix = ox * c.stride() - c.padding() + kx;
                  if (ix >= 0 && ix < is.width()) {
                    float v = x[base + iy * is.width() + ix];
                    s += v * v;
                  }
                }
              }
              patchNorm[n * positions + oy * os.width() + ox] += (float) s;
            }
          }
        }
      }
      w = c.weight().value();
    } else if (layer instanceof Dense d) {
      float[] x = input.data();
      for (int f = 0; f < d.inFeatures(); f++) {
        for (int n = 0; n < batch; n++) {
          float v = x[f * batch + n];
          patchNorm[n] += v * v;
        }
      }
      w = d.weight().value();
    } else {
      throw new IllegalArgumentException("not a weighted layer: " + layer.describe());
    }
    int channels = os.channels();
    int fanIn = w.length / channels;
    float[] d2 = new float[y.length];
    double sum = 0;
    for (int o = 0; o < channels; o++) {
      double wn = 0;
      for (int e = o * fanIn; e < (o + 1) * fanIn; e++) {
        wn += (double) w[e] * w[e];
      }
      for (int t = 0; t < batch * positions; t++) {
        int e = o * batch * positions + t;
        float v = (float) Math.max(0, patchNorm[t] + wn - 2.0 * y[e]);
        d2[e] = v;
        sum += v;
      }
    }
    double width = Math.max(sum / y.length, 1e-12);
    for (int e = 0; e < d2.length; e++) {
      d2[e] = (float) Math.exp(-d2[e] / width);
    }
    return d2;
  }

  /** Softmax of scores / T per image (classes x batch, channel-major). */
  static float[] softened(float[] scores, int classes, int batch, double temperature) {
    float[] p = new float[scores.length];
    for (int n = 0; n < batch; n++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < classes; c++) {
        max = Math.max(max, scores[c * batch + n] / temperature);
      }
      double sum = 0;
      for (int c = 0; c < classes; c++) {
        sum += Math.exp(scores[c * batch + n] / temperature - max);
      }
      for (int c = 0; c < classes; c++) {
        p[c * batch + n] = (float) (Math.exp(scores[c * batch + n] / temperature - max) / sum);
      }
    }
    return p;
  }
}
