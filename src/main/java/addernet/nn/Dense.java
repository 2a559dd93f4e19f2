package addernet.nn;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A fully connected layer without bias (batch norm follows), adder or ordinary. Weights are laid
 * out [out][in]. Takes a flat input (features x 1 x 1); in channel-major layout that input already
 * is the patch matrix (features x batch), so no unfolding is needed.
 */
public final class Dense implements Layer {
  private final Operation operation;
  private final int inFeatures;
  private final int outFeatures;
  private final Shape inputShape;
  private final Shape outputShape;
  private final Param weight;

  private Tensor input;
  private Tensor output;
  private Tensor inputGrad;
  private double exponent = 1;

  public Dense(String name, Operation operation, int inFeatures, int outFeatures) {
    this.operation = operation;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.inputShape = new Shape(inFeatures, 1, 1);
    this.outputShape = new Shape(outFeatures, 1, 1);
    this.weight =
        new Param(name + ".weight", new float[outFeatures * inFeatures], operation == Operation.ADDER);
  }

  void initialize(SplittableRandom random) {
    Conv2d.initializeWeights(weight.value(), operation, inFeatures, random);
  }

  public Operation operation() {
    return operation;
  }

  public int inFeatures() {
    return inFeatures;
  }

  public int outFeatures() {
    return outFeatures;
  }

  /** The weights, [out][in] row-major, live. */
  public Param weight() {
    return weight;
  }

  /** See {@link Conv2d#setExponent}. */
  public void setExponent(double p) {
    exponent = LpKernels.checkExponent(operation, p);
  }

  public double exponent() {
    return exponent;
  }

  /** {min, max} of the input of the last TRAIN forward (for the weight clamp). */
  public float[] trainedInputRange() {
    if (input == null) {
      throw new IllegalStateException(describe() + ": no TRAIN forward to take the input range of");
    }
    return LpKernels.range(input.data());
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
  public List<Param> params() {
    return List.of(weight);
  }

  @Override
  public String describe() {
    return "fc " + operation.keyword() + " " + inFeatures + "->" + outFeatures;
  }

  @Override
  public Tensor forward(Tensor in, Mode mode, Workers workers) {
    int batch = in.batch();
    if (output == null || !output.sameLayout(outputShape, batch)) {
      output = new Tensor(outputShape, batch);
    }
    if (exponent == 1) {
      operation.forward(in.data(), inFeatures, batch, weight.value(), outFeatures, output.data(), workers);
    } else {
      LpKernels.forward(in.data(), inFeatures, batch, weight.value(), outFeatures, output.data(),
          (float) exponent, workers);
    }
    input = mode == Mode.TRAIN ? in : null;
    return output;
  }

  @Override
  public Tensor backward(Tensor outputGradient, boolean needInputGradient, Workers workers) {
    int batch = outputGradient.batch();
    if (input == null || input.batch() != batch) {
      throw new IllegalStateException(describe() + ": backward without a matching TRAIN forward");
    }
    float[] g = outputGradient.data();
    operation.weightGradient(
        input.data(), inFeatures, batch, weight.value(), outFeatures, g, weight.grad(), workers);
    if (!needInputGradient) {
      return null;
    }
    if (inputGrad == null || !inputGrad.sameLayout(inputShape, batch)) {
      inputGrad = new Tensor(inputShape, batch);
    }
    operation.patchGradient(
        input.data(), inFeatures, batch, weight.value(), outFeatures, g, inputGrad.data(), workers);
    return inputGrad;
  }
}
