package addernet.nn;

/**
 * One trainable array and its gradient from the last backward pass.
 *
 * <p>{@code adaptive} marks adder-layer weights, whose gradient the optimizer rescales per layer
 * (AdderNet paper, eq. 13).
 */
public final class Param {
  private final String name;
  private final float[] value;
  private final float[] grad;
  private final boolean adaptive;

  Param(String name, float[] value, boolean adaptive) {
    this.name = name;
    this.value = value;
    this.grad = new float[value.length];
    this.adaptive = adaptive;
  }

  public String name() {
    return name;
  }

  /** The live values; the optimizer updates them in place. */
  public float[] value() {
    return value;
  }

  /** The live gradient, overwritten by every backward pass. */
  public float[] grad() {
    return grad;
  }

  public boolean adaptive() {
    return adaptive;
  }
}
