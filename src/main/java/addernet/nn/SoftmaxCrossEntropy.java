package addernet.nn;

/** Mean softmax cross-entropy over a batch of class scores (classes x 1 x 1, channel-major). */
public final class SoftmaxCrossEntropy {
  /** Mean loss and the number of images whose highest score is their label. */
  public record Result(double loss, int correct) {}

  private SoftmaxCrossEntropy() {}

  /**
   * Computes the loss and writes dL/d(scores) into {@code gradient} (same shape), or skips the
   * gradient when it is null.
   */
  public static Result evaluate(Tensor scores, int[] labels, Tensor gradient) {
    int classes = scores.shape().channels();
    int batch = scores.batch();
    if (labels.length < batch) {
      throw new IllegalArgumentException("need " + batch + " labels, got " + labels.length);
    }
    float[] s = scores.data();
    float[] g = gradient == null ? null : gradient.data();
    double loss = 0;
    int correct = 0;
    for (int n = 0; n < batch; n++) {
      int label = labels[n];
      if (label < 0 || label >= classes) {
        throw new IllegalArgumentException("label " + label + " outside 0.." + (classes - 1));
      }
      float max = Float.NEGATIVE_INFINITY;
      int best = 0;
      for (int c = 0; c < classes; c++) {
        float v = s[c * batch + n];
        if (v > max) {
          max = v;
          best = c;
        }
      }
      if (best == label) {
        correct++;
      }
      double sum = 0;
      for (int c = 0; c < classes; c++) {
        sum += Math.exp(s[c * batch + n] - max);
      }
      double logSum = Math.log(sum) + max;
      loss += logSum - s[label * batch + n];
      if (g != null) {
        for (int c = 0; c < classes; c++) {
          double p = Math.exp(s[c * batch + n] - logSum);
          g[c * batch + n] = (float) ((p - (c == label ? 1 : 0)) / batch);
        }
      }
    }
    return new Result(loss / batch, correct);
  }
}
