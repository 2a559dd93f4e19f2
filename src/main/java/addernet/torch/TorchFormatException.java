package addernet.torch;

/** A PyTorch file that cannot be read, or a state_dict that does not fit the spec; the message names the key. */
public final class TorchFormatException extends RuntimeException {
  public TorchFormatException(String message) {
    super(message);
  }

  public TorchFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
