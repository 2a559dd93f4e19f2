package addernet.quant;

import addernet.data.ImageSet;
import addernet.data.Normalization;
import addernet.nn.Layer;
import addernet.nn.Mode;
import addernet.nn.Network;
import addernet.nn.Shape;
import addernet.nn.Tensor;
import addernet.nn.Workers;
import java.util.List;

/**
 * Runs the float network layer by layer so that the input of every adder layer (what its shared
 * scale must cover) and the logits can be looked at.
 */
public final class FloatPass {
  static final int BATCH = 250;

  /** Receives each batch's stage inputs (channel-major copies) and logits. */
  @FunctionalInterface
  public interface Sink {
    void accept(int stage, float[] values, int batch);
  }

  private FloatPass() {}

  /** Images {@code from .. from+n} of {@code set} as the float network's input (N x C x H x W). */
  public static float[] normalized(ImageSet set, int from, int n, Normalization norm) {
    int plane = set.pixelsPerImage();
    float[] out = new float[n * plane];
    for (int i = 0; i < out.length; i++) {
      out[i] = norm.apply(set.pixels()[from * plane + i] & 0xff);
    }
    return out;
  }

  /**
   * Eval-mode pass over the first {@code count} images; stage {@code s} gets the input of adder
   * layer {@code s}, and stage {@code stages.size()} the logits.
   */
  public static void run(
      Network net, List<FloatStage> stages, ImageSet set, int count, Normalization norm,
      Workers workers, Sink sink) {
    net.spec().requireChain("quantization");
    Shape in = net.inputShape();
    List<Layer> layers = net.layers();
    for (int from = 0; from < count; from += BATCH) {
      int n = Math.min(BATCH, count - from);
      Tensor x = Tensor.fromImages(in, n, normalized(set, from, n, norm));
      int s = 0;
      for (int i = 0; i < layers.size(); i++) {
        if (s < stages.size() && stages.get(s).layerIndex() == i) {
          sink.accept(s++, x.data().clone(), n);
        }
        x = layers.get(i).forward(x, Mode.EVAL, workers);
      }
      sink.accept(stages.size(), x.data().clone(), n);
    }
  }

  /** Float test accuracy, for the report beside the integer accuracy. */
  public static double accuracy(Network net, ImageSet set, Normalization norm, Workers workers) {
    long correct = 0;
    Shape in = net.inputShape();
    for (int from = 0; from < set.count(); from += BATCH) {
      int n = Math.min(BATCH, set.count() - from);
      int[] pred = net.predict(Tensor.fromImages(in, n, normalized(set, from, n, norm)), workers);
      for (int j = 0; j < n; j++) {
        if (pred[j] == set.label(from + j)) {
          correct++;
        }
      }
    }
    return (double) correct / set.count();
  }
}
