package addernet.nn;

/**
 * The mean over non-overlapping size x size windows (stride = size), which tile the map exactly;
 * with size equal to the map's side, the global average pool of a ResNet's head.
 */
public final class AvgPool implements Layer {
  private final int size;
  private final Shape inputShape;
  private final Shape outputShape;
  private Tensor output;
  private Tensor inputGrad;

  public AvgPool(Shape inputShape, int size) {
    if (inputShape.height() % size != 0 || inputShape.width() % size != 0) {
      throw new IllegalArgumentException("window " + size + " does not tile " + inputShape);
    }
    this.size = size;
    this.inputShape = inputShape;
    this.outputShape = new Shape(inputShape.channels(), inputShape.height() / size, inputShape.width() / size);
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
    return "avgpool " + size;
  }

  @Override
  public Tensor forward(Tensor input, Mode mode, Workers workers) {
    int batch = input.batch();
    if (output == null || !output.sameLayout(outputShape, batch)) {
      output = new Tensor(outputShape, batch);
    }
    int w = inputShape.width();
    int oh = outputShape.height();
    int ow = outputShape.width();
    float scale = 1f / (size * size);
    float[] x = input.data();
    float[] y = output.data();
    workers.forRange(inputShape.channels() * batch, 1, x.length, (from, to) -> {
      for (int plane = from; plane < to; plane++) {
        int src = plane * inputShape.height() * w;
        int dst = plane * oh * ow;
        for (int oy = 0; oy < oh; oy++) {
          for (int ox = 0; ox < ow; ox++) {
            float sum = 0;
            int corner = src + oy * size * w + ox * size;
            for (int dy = 0; dy < size; dy++) {
              for (int dx = 0; dx < size; dx++) {
                sum += x[corner + dy * w + dx];
              }
            }
            y[dst + oy * ow + ox] = sum * scale;
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
    int h = inputShape.height();
    int w = inputShape.width();
    int ow = outputShape.width();
    int outPlane = outputShape.height() * ow;
    float scale = 1f / (size * size);
    float[] dy = outputGradient.data();
    float[] dx = inputGrad.data();
    workers.forRange(inputShape.channels() * batch, 1, dx.length, (from, to) -> {
      for (int plane = from; plane < to; plane++) {
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < w; x++) {
            dx[(plane * h + y) * w + x] = dy[plane * outPlane + (y / size) * ow + x / size] * scale;
          }
        }
      }
    });
    return inputGrad;
  }
}
