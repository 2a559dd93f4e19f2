package addernet.io;

/**
 * A problem with what the user asked for (bad size, missing tool, unreadable file). The launcher
 * prints its message as one line and exits with status 2; no stack trace.
 */
public class UserError extends RuntimeException {
  public UserError(String message) {
    super(message);
  }

  public UserError(String message, Throwable cause) {
    super(message, cause);
  }
}
