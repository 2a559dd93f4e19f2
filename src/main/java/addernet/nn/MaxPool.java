package addernet.nn;

import java.util.Arrays;

/** Max over non-overlapping size x size windows (stride = size); leftover rows/columns drop. */
public final class MaxPool implements Layer {
  private final int size;
  private final Shape inputShape;
  private final Shape outputShape;
  private int[] argmax = new int[0];
  private Tensor output;
  private Tensor inputGrad;

  public MaxPool(Shape inputShape, int size) {
    this.size = size;
    this.inputShape = inputShape;
    this.outputShape =
        new Shape(inputShape.channels(), inputShape.height() / size, inputShape.width() / size);
  }

  public int size() {
    return size;
  }

  @Override
  public Shape inputShape() {
    return inputShape;
  }

  @Override
  public Shape outputShape() {
    return outputShape;
  }

  @Override
  public String describe() {
    return "maxpool " + size;
  }

  @Override
  public Tensor forward(Tensor input, Mode mode, Workers workers) {
    int batch = input.batch();
    if (output == null || !output.sameLayout(outputShape, batch)) {
      output = new Tensor(outputShape, batch);
    }
    if (argmax.length < output.data().length) {
      argmax = new int[output.data().length];
    }
    int h = inputShape.height();
    int w = inputShape.width();
    int oh = outputShape.height();
    int ow = outputShape.width();
    float[] x = input.data();
    float[] y = output.data();
    int[] arg = argmax;
    workers.forRange(
        inputShape.channels() * batch,
        1,
        x.length,
        (from, to) -> {
          float[] tmp = size == 2 && Operation.VECTOR ? new float[4 * ow + 32] : null;
          for (int plane = from; plane < to; plane++) {
            int src = plane * h * w;
            int dst = plane * oh * ow;
            if (tmp != null) {
              for (int oy = 0; oy < oh; oy++) {
                VectorKernels.maxPool2Row(x, src + 2 * oy * w, w, ow, y, dst + oy * ow, arg, tmp);
              }
              continue;
            }
            for (int oy = 0; oy < oh; oy++) {
              for (int ox = 0; ox < ow; ox++) {
                int corner = src + oy * size * w + ox * size;
                if (size == 2) {
                  window2(x, corner, w, y, arg, dst + oy * ow + ox);
                  continue;
                }
                int best = corner;
                float bv = x[best];
                for (int dy = 0; dy < size; dy++) {
                  for (int dx = 0; dx < size; dx++) {
                    int i = corner + dy * w + dx;
                    if (x[i] > bv) {
                      bv = x[i];
                      best = i;
                    }
                  }
                }
                y[dst + oy * ow + ox] = bv;
                arg[dst + oy * ow + ox] = best;
              }
            }
          }
        });
    return output;
  }

  @Override
  public Tensor backward(Tensor outputGradient, boolean needInputGradient, Workers workers) {
    if (!needInputGradient) {
      return null;
    }
    int batch = outputGradient.batch();
    if (inputGrad == null || !inputGrad.sameLayout(inputShape, batch)) {
      inputGrad = new Tensor(inputShape, batch);
    }
    float[] dx = inputGrad.data();
    float[] dy = outputGradient.data();
    int inPlane = inputShape.height() * inputShape.width();
    int outPlane = outputShape.height() * outputShape.width();
    int[] arg = argmax;
    workers.forRange(
        inputShape.channels() * batch,
        1,
        dx.length,
        (from, to) -> {
          Arrays.fill(dx, from * inPlane, to * inPlane, 0f);
          for (int i = from * outPlane; i < to * outPlane; i++) {
            dx[arg[i]] += dy[i];
          }
        });
    return inputGrad;
  }

  /**
   * One 2x2 window at {@code corner} of rows {@code w} wide: its maximum into {@code y[at]} and
   * where it was into {@code arg[at]}. Branch-free selects: on random activations the branchy
   * version mispredicts half the time. Ties go to the first position in row-major order.
   */
  static void window2(float[] x, int corner, int w, float[] y, int[] arg, int at) {
    float a = x[corner];
    float b = x[corner + 1];
    float c = x[corner + w];
    float d = x[corner + w + 1];
    int top = b > a ? corner + 1 : corner;
    float topV = b > a ? b : a;
    int bottom = d > c ? corner + w + 1 : corner + w;
    float bottomV = d > c ? d : c;
    boolean lower = bottomV > topV;
    y[at] = lower ? bottomV : topV;
    arg[at] = lower ? bottom : top;
  }
}
