package addernet.data;

import java.io.IOException;

/** A CIFAR-10 batch file that is not one; the message names the file and the problem. */
public final class CifarFormatException extends IOException {
  public CifarFormatException(String message) {
    super(message);
  }
}
