package addernet.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/** Grey images with one label each, kept as bytes (pixels 0..255). */
public record ImageSet(String name, int count, int rows, int cols, byte[] pixels, byte[] labels) {
  public ImageSet {
    if (pixels.length != (long) count * rows * cols || labels.length != count) {
      throw new IllegalArgumentException(name + ": " + count + " images need " + (long) count * rows * cols
          + " pixels and " + count + " labels, got " + pixels.length + " and " + labels.length);
    }
  }

  /** Reads an images file (idx3) and a labels file (idx1) and checks that they belong together. */
  public static ImageSet read(String name, Path images, Path labels) throws IOException {
    IdxFile im = IdxFile.read(images, 3);
    IdxFile lb = IdxFile.read(labels, 1);
    if (im.count() != lb.count()) {
      throw new IdxFormatException(
          images + " holds " + im.count() + " images but " + labels + " holds " + lb.count() + " labels");
    }
    return new ImageSet(name, im.count(), im.dims()[1], im.dims()[2], im.data(), lb.data());
  }

  public int label(int i) {
    return labels[i] & 0xff;
  }

  /** The largest label + 1. */
  public int classes() {
    int max = 0;
    for (byte b : labels) {
      max = Math.max(max, b & 0xff);
    }
    return max + 1;
  }

  /** The first {@code n} images (for tests and quick runs); {@code n} must be at least 1. */
  public ImageSet head(int n) {
    if (n < 1) {
      throw new IllegalArgumentException(
          "the first " + n + " of the " + count + " " + name + " images: the number must be at least 1");
    }
    int k = Math.min(n, count);
    byte[] p = java.util.Arrays.copyOf(pixels, k * rows * cols);
    byte[] l = java.util.Arrays.copyOf(labels, k);
    return new ImageSet(name, k, rows, cols, p, l);
  }

  /**
   * The one rule for images meeting a network, the same for training, quantization and
   * co-simulation: the images are {@code height x width} grey images (IDX images have one
   * channel) and every label names one of the network's {@code classes} scores, 0..classes-1.
   *
   * @throws DataMismatchException naming the set, the sizes or the first label out of range
   */
  public void requireFits(String network, int channels, int height, int width, int classes) {
    if (channels != 1 || height != rows || width != cols) {
      throw new DataMismatchException(
          "the " + name + " images are 1x" + rows + "x" + cols + " but " + network + " takes "
              + channels + "x" + height + "x" + width + " inputs");
    }
    for (int i = 0; i < count; i++) {
      if (label(i) >= classes) {
        throw new DataMismatchException(
            "label " + label(i) + " of " + name + " image " + i + " is not one of " + network + "'s "
                + classes + " classes (0.." + (classes - 1) + ")");
      }
    }
  }

  /** Mean and standard deviation of all pixels scaled to [0, 1]. */
  public Normalization statistics() {
    double s = 0;
    double sq = 0;
    for (byte b : pixels) {
      double v = (b & 0xff) / 255.0;
      s += v;
      sq += v * v;
    }
    double n = pixels.length;
    double mean = s / n;
    return new Normalization(mean, Math.sqrt(Math.max(sq / n - mean * mean, 1e-12)));
  }

  /**
   * Writes images {@code order[from..from+batch)} as normalized floats, one image after another,
   * and their labels. With {@code augment} each image is flipped left-right with probability 1/2
   * and shifted by up to {@code shift} pixels each way (vacated pixels are background, 0).
   */
  public void fill(
      int[] order,
      int from,
      int batch,
      Normalization norm,
      Augmentation augment,
      SplittableRandom random,
      float[] out,
      int[] outLabels) {
    int plane = rows * cols;
    float background = norm.apply(0);
    for (int b = 0; b < batch; b++) {
      int idx = order[from + b];
      outLabels[b] = label(idx);
      int src = idx * plane;
      int dst = b * plane;
      boolean flip = augment.flip() && random.nextBoolean();
      int dy = augment.shift() > 0 ? random.nextInt(-augment.shift(), augment.shift() + 1) : 0;
      int dx = augment.shift() > 0 ? random.nextInt(-augment.shift(), augment.shift() + 1) : 0;
      for (int y = 0; y < rows; y++) {
        int sy = y - dy;
        for (int x = 0; x < cols; x++) {
          int sx = x - dx;
          if (sy < 0 || sy >= rows || sx < 0 || sx >= cols) {
            out[dst + y * cols + x] = background;
            continue;
          }
          int px = flip ? cols - 1 - sx : sx;
          out[dst + y * cols + x] = norm.apply(pixels[src + sy * cols + px] & 0xff);
        }
      }
    }
  }
}
