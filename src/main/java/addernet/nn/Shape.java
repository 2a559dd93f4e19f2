package addernet.nn;

/** The shape of one image's activations: channels x height x width (the batch is not part). */
public record Shape(int channels, int height, int width) {
  public Shape {
    if (channels < 1 || height < 1 || width < 1) {
      throw new IllegalArgumentException(
          "shape must be positive in every dimension, got " + channels + "x" + height + "x" + width);
    }
    // size() is an int; a shape beyond it would wrap around silently in every index computation.
    if ((long) channels * height * width > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "shape " + channels + "x" + height + "x" + width + " holds more than 2^31 - 1 values");
    }
  }

  public int size() {
    return channels * height * width;
  }

  @Override
  public String toString() {
    return channels + "x" + height + "x" + width;
  }
}
