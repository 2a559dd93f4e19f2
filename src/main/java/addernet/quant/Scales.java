package addernet.quant;

/**
 * The real values one integer step stands for (contract section 1): {@code input[l]} is the shared
 * scale of weighted layer l's input activations and weights, {@code logit} that of the integer
 * logits, and in a network with branches {@code nodes[j]} that of node j's output (empty for a
 * chain, whose layer outputs are the next layers' inputs). {@code input[0]} is fixed by the
 * contract's section 5; the others come from calibration.
 */
public record Scales(double[] input, double logit, double[] nodes) {
  /** The scales of a chain. */
  public Scales(double[] input, double logit) {
    this(input, logit, new double[0]);
  }

  public Scales {
    input = input.clone();
    nodes = nodes.clone();
    for (int i = 0; i < input.length; i++) {
      if (!(input[i] > 0) || !Double.isFinite(input[i])) {
        throw new IllegalArgumentException("scale of layer " + i + " must be positive, got " + input[i]);
      }
    }
    for (int j = 0; j < nodes.length; j++) {
      if (!(nodes[j] > 0) || !Double.isFinite(nodes[j])) {
        throw new IllegalArgumentException("scale of node " + j + " must be positive, got " + nodes[j]);
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

  @Override
  public double[] nodes() {
    return nodes.clone();
  }

  public double input(int layer) {
    return input[layer];
  }

  public double node(int node) {
    return nodes[node];
  }
}
