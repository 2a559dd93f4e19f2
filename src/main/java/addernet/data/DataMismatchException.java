package addernet.data;

import addernet.io.UserError;

/**
 * Images or labels that a network cannot take (another image size, a label outside its classes);
 * the message names the set, the network and what was expected.
 */
public final class DataMismatchException extends UserError {
  public DataMismatchException(String message) {
    super(message);
  }
}
