package addernet.export;

import addernet.io.UserError;

/**
 * A model package that cannot be used; the message starts with the file (and field) at fault and
 * says what was expected. It is always one line: the CLI prints it as one {@code error:} line, so
 * any line break or control character that reached it from the package's own text (a file name, a
 * JSON string) is shown as '?'.
 */
public final class PackageException extends UserError {
  public PackageException(String message) {
    super(message.replaceAll("\\p{Cntrl}", "?"));
  }
}
