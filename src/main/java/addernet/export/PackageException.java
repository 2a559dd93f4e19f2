package addernet.export;

import java.io.IOException;

/** A model package that cannot be used; the message starts with the file (and field) at fault. */
public final class PackageException extends IOException {
  public PackageException(String message) {
    super(message);
  }
}
