package addernet.nn;

/** The shape of one image's activations: channels x height x width (the batch is not part). */
public record Shape(int channels, int height, int width) {
  public Shape {
    if (channels < 1 || height < 1 || width < 1) {
      throw new IllegalArgumentException(
          "shape must be positive in every dimension, got " + channels + "x" + height + "x" + width);
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
