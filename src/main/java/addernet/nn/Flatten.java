package addernet.nn;

/** C x H x W to (C*H*W) x 1 x 1, feature index (c * H + y) * W + x, as PyTorch's flatten. */
public final class Flatten implements Layer {
  private final Shape inputShape;
  private final Shape outputShape;
  private Tensor output;
  private Tensor inputGrad;

  public Flatten(Shape inputShape) {
    this.inputShape = inputShape;
    this.outputShape = new Shape(inputShape.size(), 1, 1);
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
    return "flatten";
  }

  @Override
  public Tensor forward(Tensor input, Mode mode, Workers workers) {
    int batch = input.batch();
    if (output == null || !output.sameLayout(outputShape, batch)) {
      output = new Tensor(outputShape, batch);
    }
    move(input.data(), output.data(), batch, true);
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
    move(outputGradient.data(), inputGrad.data(), batch, false);
    return inputGrad;
  }

  private void move(float[] a, float[] b, int batch, boolean forward) {
    int plane = inputShape.height() * inputShape.width();
    for (int c = 0; c < inputShape.channels(); c++) {
      for (int n = 0; n < batch; n++) {
        for (int p = 0; p < plane; p++) {
          int spatial = (c * batch + n) * plane + p;
          int flat = (c * plane + p) * batch + n;
          if (forward) {
            b[flat] = a[spatial];
          } else {
            b[spatial] = a[flat];
          }
        }
      }
    }
  }
}
