package addernet.nn;

/**
 * The sum of two tensors of one shape: where a residual block's shortcut joins its main branch.
 * The gradient of the sum is the output's gradient for both inputs.
 */
public final class Add implements Layer {
  private final Shape shape;
  private Tensor output;

  public Add(Shape shape) {
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
    return "add";
  }

  /** An add has two inputs: {@link #forward(Tensor, Tensor, Workers)}. */
  @Override
  public Tensor forward(Tensor input, Mode mode, Workers workers) {
    throw new UnsupportedOperationException("an add takes two inputs");
  }

  public Tensor forward(Tensor a, Tensor b, Workers workers) {
    int batch = a.batch();
    if (!a.sameLayout(shape, batch) || !b.sameLayout(shape, batch)) {
      throw new IllegalArgumentException("add of " + shape + " got " + a.shape() + " and " + b.shape());
    }
    if (output == null || !output.sameLayout(shape, batch)) {
      output = new Tensor(shape, batch);
    }
    float[] x = a.data();
    float[] y = b.data();
    float[] z = output.data();
    workers.forRange(z.length, 1024, z.length, (from, to) -> {
      for (int i = from; i < to; i++) {
        z[i] = x[i] + y[i];
      }
    });
    return output;
  }

  /** The output's gradient, which is each input's; the caller gives it to both. */
  @Override
  public Tensor backward(Tensor outputGradient, boolean needInputGradient, Workers workers) {
    return needInputGradient ? outputGradient : null;
  }
}
