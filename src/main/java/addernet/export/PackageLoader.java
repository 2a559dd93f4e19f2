package addernet.export;

import addernet.io.UserError;
import addernet.quant.IntNetwork;
import java.nio.file.Path;

/** A model package read for a command that was given its folder: a refusal names the package. */
public final class PackageLoader {
  private PackageLoader() {}

  /** The package in {@code dir}. */
  public static ModelPackage read(Path dir) {
    try {
      return ModelPackage.read(dir);
    } catch (PackageException e) {
      // The reader names files inside the package; say which package, unless it already does.
      String msg = String.valueOf(e.getMessage());
      throw new UserError(msg.startsWith(dir.toString()) ? msg : dir + ": " + msg, e);
    }
  }

  /** The integer network of the package in {@code dir}. */
  public static IntNetwork network(Path dir) {
    return read(dir).network();
  }
}
