package addernet.data;

import addernet.io.UserError;

/** An IDX file that is not what it claims to be; the message names the file and the problem. */
public final class IdxFormatException extends UserError {
  public IdxFormatException(String message) {
    super(message);
  }
}
