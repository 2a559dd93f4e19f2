package addernet.train;

import addernet.data.ImageSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Small learnable image sets and a small network for tests (a full run is not a unit test). */
public final class TinyData {
  /** 8x8 images, 3 classes, every weighted layer an adder layer; ends in 3 scores. */
  public static final String ADDER_SPEC =
      String.join("\n",
          "input 1x8x8",
          "conv adder 1->3 kernel=3 padding=1",
          "batchnorm",
          "relu",
          "maxpool 2",
          "conv adder 3->4 kernel=3 stride=2",
          "batchnorm",
          "relu",
          "flatten",
          "fc adder 4->3",
          "batchnorm");

  private TinyData() {}

  /** Class k is a bright bar in row band k, plus noise. */
  public static ImageSet images(String name, int count, long seed) {
    Random r = new Random(seed);
    byte[] px = new byte[count * 64];
    byte[] labels = new byte[count];
    for (int i = 0; i < count; i++) {
      int k = r.nextInt(3);
      labels[i] = (byte) k;
      for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 8; x++) {
          int v = r.nextInt(60) + (y / 3 == k ? 150 : 0);
          px[i * 64 + y * 8 + x] = (byte) Math.min(255, v);
        }
      }
    }
    return new ImageSet(name, count, 8, 8, px, labels);
  }

  /** Writes a set as Fashion-MNIST-named gzip'd IDX files into {@code dir}. */
  public static void writeIdx(Path dir, ImageSet train, ImageSet test) throws IOException {
    Files.createDirectories(dir);
    write(dir, "train", train);
    write(dir, "t10k", test);
  }

  private static void write(Path dir, String prefix, ImageSet s) throws IOException {
    ByteBuffer im = ByteBuffer.allocate(16 + s.pixels().length);
    im.putInt(0x803).putInt(s.count()).putInt(s.rows()).putInt(s.cols()).put(s.pixels());
    ByteBuffer lb = ByteBuffer.allocate(8 + s.count());
    lb.putInt(0x801).putInt(s.count()).put(s.labels());
    Files.write(dir.resolve(prefix + "-images-idx3-ubyte.gz"), gzip(im.array()));
    Files.write(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), gzip(lb.array()));
  }

  private static byte[] gzip(byte[] raw) throws IOException {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(out)) {
      gz.write(raw);
    }
    return out.toByteArray();
  }
}
