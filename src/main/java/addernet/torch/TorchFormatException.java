package addernet.torch;

import addernet.io.UserError;

/** A PyTorch file that cannot be read, or a state_dict that does not fit the spec; the message names the key. */
public final class TorchFormatException extends UserError {
  public TorchFormatException(String message) {
    super(message);
  }

  public TorchFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
