package addernet.data;

import addernet.io.UserError;

/** A CIFAR-10 batch file that is not one; the message names the file and the problem. */
public final class CifarFormatException extends UserError {
  public CifarFormatException(String message) {
    super(message);
  }
}
