package addernet.data;

import java.io.IOException;
import java.nio.file.Path;

/** A `--data` folder: CIFAR-10's binary batches when it holds them, else Fashion-MNIST's IDX files. */
public final class DataFolder {
  private DataFolder() {}

  public static FashionMnist.Split read(Path dir) throws IOException {
    return Cifar10.isCifar(dir) ? Cifar10.read(dir) : FashionMnist.read(dir);
  }
}
