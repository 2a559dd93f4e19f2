package addernet.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Images with one label each, kept as bytes (pixels 0..255): image i is {@code channels} planes
 * of {@code rows x cols}, channel slowest, at {@code pixels[i * pixelsPerImage()]}.
 */
public record ImageSet(
    String name, int count, int channels, int rows, int cols, byte[] pixels, byte[] labels) {
  public ImageSet {
    if (channels < 1 || rows < 1 || cols < 1 || count < 0) {
      throw new IllegalArgumentException(
          name + ": " + count + " images of " + channels + "x" + rows + "x" + cols + " are not a set");
    }
    long size = (long) count * channels * rows * cols;
    if (pixels.length != size || labels.length != count) {
      throw new IllegalArgumentException(name + ": " + count + " images need " + size
          + " pixels and " + count + " labels, got " + pixels.length + " and " + labels.length);
    }
  }

  /** Grey images, one channel (IDX files). */
  public ImageSet(String name, int count, int rows, int cols, byte[] pixels, byte[] labels) {
    this(name, count, 1, rows, cols, pixels, labels);
  }

  /** Pixels of one image, all channels. */
  public int pixelsPerImage() {
    return channels * rows * cols;
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
    byte[] p = java.util.Arrays.copyOf(pixels, k * pixelsPerImage());
    byte[] l = java.util.Arrays.copyOf(labels, k);
    return new ImageSet(name, k, channels, rows, cols, p, l);
  }

  /**
   * The images zero-padded (pixel value 0, the background) to {@code size x size}, centred: the
   * extra rows and columns split evenly, the odd one at the bottom and right. This is how 28 x 28
   * Fashion-MNIST takes the 32 x 32 layout of the residual networks.
   */
  public ImageSet padded(int size) {
    if (size < rows || size < cols) {
      throw new IllegalArgumentException(
          name + ": cannot pad " + rows + "x" + cols + " images to " + size + "x" + size);
    }
    int top = (size - rows) / 2;
    int left = (size - cols) / 2;
    byte[] p = new byte[Math.multiplyExact(Math.multiplyExact(count, channels), size * size)];
    for (int plane = 0; plane < count * channels; plane++) {
      for (int y = 0; y < rows; y++) {
        System.arraycopy(pixels, (plane * rows + y) * cols, p, (plane * size + top + y) * size + left, cols);
      }
    }
    return new ImageSet(name, count, channels, size, size, p, labels.clone());
  }

  /**
   * The set as the network takes it: padded with zeros to the network's square input when its
   * images have the network's channels and are smaller (28 x 28 Fashion-MNIST for a 32 x 32
   * ResNet, see {@link #padded}), then checked by {@link #requireFits}.
   */
  public ImageSet fitted(String network, int channels, int height, int width, int classes) {
    ImageSet set = this;
    if (channels == this.channels && height == width && rows <= height && cols <= width
        && (rows < height || cols < width)) {
      set = padded(height);
    }
    set.requireFits(network, channels, height, width, classes);
    return set;
  }

  /**
   * The one rule for images meeting a network, the same for training, quantization and
   * co-simulation: the images are {@code channels x height x width} (IDX images have one
   * channel) and every label names one of the network's {@code classes} scores, 0..classes-1.
   *
   * @throws DataMismatchException naming the set, the sizes or the first label out of range
   */
  public void requireFits(String network, int channels, int height, int width, int classes) {
    if (channels != this.channels || height != rows || width != cols) {
      throw new DataMismatchException(
          "the " + name + " images are " + this.channels + "x" + rows + "x" + cols + " but " + network + " takes "
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

  /** Mean and standard deviation of each channel's pixels scaled to [0, 1] (one pair per channel). */
  public Normalization channelStatistics() {
    double[] mean = new double[channels];
    double[] std = new double[channels];
    int plane = rows * cols;
    for (int c = 0; c < channels; c++) {
      double s = 0;
      double sq = 0;
      for (int i = 0; i < count; i++) {
        int from = i * pixelsPerImage() + c * plane;
        for (int j = from; j < from + plane; j++) {
          double v = (pixels[j] & 0xff) / 255.0;
          s += v;
          sq += v * v;
        }
      }
      double n = (double) count * plane;
      mean[c] = s / n;
      std[c] = Math.sqrt(Math.max(sq / n - mean[c] * mean[c], 1e-12));
    }
    return Normalization.perChannel(mean, std);
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
    int image = pixelsPerImage();
    norm.requireChannels(name, channels);
    for (int b = 0; b < batch; b++) {
      int idx = order[from + b];
      outLabels[b] = label(idx);
      // One draw per image, shared by its channels: a flip or shift moves the whole picture.
      boolean flip = augment.flip() && random.nextBoolean();
      int dy = augment.shift() > 0 ? random.nextInt(-augment.shift(), augment.shift() + 1) : 0;
      int dx = augment.shift() > 0 ? random.nextInt(-augment.shift(), augment.shift() + 1) : 0;
      for (int c = 0; c < channels; c++) {
        float background = norm.apply(c, 0);
        int src = idx * image + c * plane;
        int dst = b * image + c * plane;
        for (int y = 0; y < rows; y++) {
          int sy = y - dy;
          for (int x = 0; x < cols; x++) {
            int sx = x - dx;
            if (sy < 0 || sy >= rows || sx < 0 || sx >= cols) {
              out[dst + y * cols + x] = background;
              continue;
            }
            int px = flip ? cols - 1 - sx : sx;
            out[dst + y * cols + x] = norm.apply(c, pixels[src + sy * cols + px] & 0xff);
          }
        }
      }
    }
  }
}
