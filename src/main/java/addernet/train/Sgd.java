package addernet.train;

import addernet.nn.Param;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SGD with momentum and weight decay in PyTorch's form (v = mu * v + g + wd * w; w -= lr * v),
 * where the gradient g of an adder layer's weights is first rescaled by the adaptive learning
 * rate of the AdderNet paper.
 */
public final class Sgd {
  private final double momentum;
  private final double weightDecay;
  private final double eta;
  private final Map<String, float[]> velocity = new LinkedHashMap<>();

  public Sgd(double momentum, double weightDecay, double eta) {
    this.momentum = momentum;
    this.weightDecay = weightDecay;
    this.eta = eta;
  }

  /** Momentum buffers by parameter name (live; saved in checkpoints). */
  public Map<String, float[]> velocity() {
    return velocity;
  }

  /**
   * Paper eq. 13 as in the official code: an adder layer's whole weight gradient is scaled to
   * L2 norm eta * sqrt(k), k = number of weights in the layer, so every adder layer moves at the
   * same pace however large its raw gradient (which grows with the layer's fan-in) is. Returns
   * the factor applied.
   */
  public static double adaptiveScale(float[] grad, double eta) {
    double sq = 0;
    for (float g : grad) {
      sq += (double) g * g;
    }
    double norm = Math.max(Math.sqrt(sq), 1e-12);
    double factor = eta * Math.sqrt(grad.length) / norm;
    for (int i = 0; i < grad.length; i++) {
      grad[i] = (float) (grad[i] * factor);
    }
    return factor;
  }

  public void step(List<Param> params, double learningRate) {
    for (Param p : params) {
      float[] g = p.grad();
      if (p.adaptive()) {
        adaptiveScale(g, eta);
      }
      float[] w = p.value();
      float[] v = velocity.computeIfAbsent(p.name(), n -> new float[w.length]);
      float mu = (float) momentum;
      float wd = (float) weightDecay;
      float lr = (float) learningRate;
      for (int i = 0; i < w.length; i++) {
        float d = g[i] + wd * w[i];
        v[i] = mu * v[i] + d;
        w[i] -= lr * v[i];
      }
    }
  }
}
