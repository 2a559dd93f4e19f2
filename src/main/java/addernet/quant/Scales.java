package addernet.quant;

/**
 * The real values one integer step stands for (contract section 1): {@code input[l]} is the shared
 * scale of adder layer l's input activations and weights, {@code logit} that of the integer
 * logits. {@code input[0]} is fixed by the contract's section 5; the others come from calibration.
 */
public record Scales(double[] input, double logit) {
  public Scales {
    input = input.clone();
    for (int i = 0; i < input.length; i++) {
      if (!(input[i] > 0) || !Double.isFinite(input[i])) {
        throw new IllegalArgumentException("scale of layer " + i + " must be positive, got " + input[i]);
      }
    }
    if (!(logit > 0) || !Double.isFinite(logit)) {
      throw new IllegalArgumentException("logit scale must be positive, got " + logit);
    }
  }

  @Override
  public double[] input() {
    return input.clone();
  }

  public double input(int layer) {
    return input[layer];
  }
}
