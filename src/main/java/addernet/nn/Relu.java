package addernet.nn;

/** max(0, x). */
public final class Relu implements Layer {
  private final Shape shape;
  private Tensor output;
  private Tensor inputGrad;

  public Relu(Shape shape) {
    this.shape = shape;
  }

  @Override
  public Shape inputShape() {
    return shape;
  }

  @Override
  public Shape outputShape() {
    return shape;
  }

  @Override
  public String describe() {
    return "relu";
  }

  @Override
  public Tensor forward(Tensor input, Mode mode, Workers workers) {
    int batch = input.batch();
    if (output == null || !output.sameLayout(shape, batch)) {
      output = new Tensor(shape, batch);
    }
    float[] x = input.data();
    float[] y = output.data();
    workers.forRange(
        x.length,
        1024,
        x.length,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            y[i] = Math.max(0f, x[i]);
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
    if (inputGrad == null || !inputGrad.sameLayout(shape, batch)) {
      inputGrad = new Tensor(shape, batch);
    }
    float[] y = output.data();
    float[] dy = outputGradient.data();
    float[] dx = inputGrad.data();
    workers.forRange(
        dx.length,
        1024,
        dx.length,
        (from, to) -> {
          if (Operation.VECTOR) {
            VectorKernels.reluGradient(y, dy, dx, from, to);
            return;
          }
          for (int i = from; i < to; i++) {
            dx[i] = y[i] > 0f ? dy[i] : 0f;
          }
        });
    return inputGrad;
  }
}
