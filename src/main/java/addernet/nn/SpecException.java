package addernet.nn;

import addernet.io.UserError;

/** A network spec that cannot be read or whose shapes do not fit; the message names the line. */
public final class SpecException extends UserError {
  public SpecException(String message) {
    super(message);
  }
}
