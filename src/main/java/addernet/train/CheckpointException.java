package addernet.train;

import addernet.io.UserError;

/** A checkpoint that cannot be read, is damaged, or belongs to another network. */
public final class CheckpointException extends UserError {
  public CheckpointException(String message) {
    super(message);
  }
}
