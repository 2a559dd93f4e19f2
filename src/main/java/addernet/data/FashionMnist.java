package addernet.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Fashion-MNIST in IDX files, by default where Debian's {@code dataset-fashion-mnist} puts it. */
public final class FashionMnist {
  public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

  /** The training and test images. */
  public record Split(ImageSet train, ImageSet test) {
    /** {@link ImageSet#requireFits} for both sets. */
    public void requireFits(String network, int channels, int height, int width, int classes) {
      train.requireFits(network, channels, height, width, classes);
      test.requireFits(network, channels, height, width, classes);
    }
  }

  private FashionMnist() {}

  /** Reads {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] from {@code dir}. */
  public static Split read(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IdxFormatException(
          dir + ": no such directory; install Debian's dataset-fashion-mnist (scripts/setup) or pass --data DIR");
    }
    return new Split(
        ImageSet.read("train", find(dir, "train-images-idx3-ubyte"), find(dir, "train-labels-idx1-ubyte")),
        ImageSet.read("test", find(dir, "t10k-images-idx3-ubyte"), find(dir, "t10k-labels-idx1-ubyte")));
  }

  private static Path find(Path dir, String base) throws IdxFormatException {
    for (String name : new String[] {base + ".gz", base}) {
      Path p = dir.resolve(name);
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    throw new IdxFormatException(dir + ": missing " + base + ".gz (or " + base + ")");
  }
}
