package addernet.nn;

import java.util.List;

/**
 * One layer of a {@link Network}, with a hand-written forward and backward pass.
 *
 * <p>Layers keep their output and gradient buffers between calls, so a tensor returned by {@code
 * forward} or {@code backward} is valid until the next call on the same layer.
 */
public sealed interface Layer permits Conv2d, Dense, BatchNorm, Relu, MaxPool, Flatten, Add, AvgPool {
  Shape inputShape();

  Shape outputShape();

  /** In {@link Mode#TRAIN} the layer remembers what its backward pass needs. */
  Tensor forward(Tensor input, Mode mode, Workers workers);

  /**
   * Fills the gradients of {@link #params()} from dL/d(output) and returns dL/d(input), or null
   * when {@code needInputGradient} is false (the first layer).
   */
  Tensor backward(Tensor outputGradient, boolean needInputGradient, Workers workers);

  default List<Param> params() {
    return List.of();
  }

  /** The layer as written in a spec file, e.g. {@code conv adder 1->6 kernel=5}. */
  String describe();
}
