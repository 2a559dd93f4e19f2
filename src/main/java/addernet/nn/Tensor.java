package addernet.nn;

/**
 * A batch of activations in channel-major layout C x N x H x W: element (c, n, y, x) sits at
 * {@code ((c * batch + n) * height + y) * width + x}.
 *
 * <p>Channel-major because every weighted layer multiplies (or subtracts) a weight row against
 * all positions of all images at once, and batch norm reduces over one contiguous block per
 * channel. Use {@link #fromImages} and {@link #toImages} to convert from/to the usual N x C x H x W.
 */
public final class Tensor {
  private final Shape shape;
  private final int batch;
  private final float[] data;

  public Tensor(Shape shape, int batch) {
    this(shape, batch, new float[checkedSize(shape, batch)]);
  }

  public Tensor(Shape shape, int batch, float[] data) {
    if (batch < 1) {
      throw new IllegalArgumentException("batch must be at least 1, got " + batch);
    }
    if (data.length != checkedSize(shape, batch)) {
      throw new IllegalArgumentException(
          "data holds " + data.length + " floats, shape " + shape + " x batch " + batch + " needs "
              + (long) shape.size() * batch);
    }
    this.shape = shape;
    this.batch = batch;
    this.data = data;
  }

  private static int checkedSize(Shape shape, int batch) {
    long n = (long) shape.size() * batch;
    if (n > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("tensor of " + n + " elements does not fit a Java array");
    }
    return (int) n;
  }

  /** Builds a tensor from images stored one after another (N x C x H x W). */
  public static Tensor fromImages(Shape shape, int batch, float[] images) {
    if (images.length != shape.size() * batch) {
      throw new IllegalArgumentException(
          "expected " + shape.size() * batch + " floats for " + batch + " images of " + shape
              + ", got " + images.length);
    }
    Tensor t = new Tensor(shape, batch);
    int plane = shape.height() * shape.width();
    for (int n = 0; n < batch; n++) {
      for (int c = 0; c < shape.channels(); c++) {
        System.arraycopy(
            images, (n * shape.channels() + c) * plane, t.data, (c * batch + n) * plane, plane);
      }
    }
    return t;
  }

  /** Copies the activations out image by image (N x C x H x W). */
  public float[] toImages() {
    float[] out = new float[data.length];
    int plane = shape.height() * shape.width();
    for (int n = 0; n < batch; n++) {
      for (int c = 0; c < shape.channels(); c++) {
        System.arraycopy(
            data, (c * batch + n) * plane, out, (n * shape.channels() + c) * plane, plane);
      }
    }
    return out;
  }

  public Shape shape() {
    return shape;
  }

  public int batch() {
    return batch;
  }

  /** The live backing array (channel-major, see class comment). */
  public float[] data() {
    return data;
  }

  public float get(int c, int n, int y, int x) {
    return data[((c * batch + n) * shape.height() + y) * shape.width() + x];
  }

  boolean sameLayout(Shape s, int b) {
    return shape.equals(s) && batch == b;
  }
}
