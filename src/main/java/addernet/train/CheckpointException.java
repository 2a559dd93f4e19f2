package addernet.train;

import java.io.IOException;

/** A checkpoint that cannot be read, is damaged, or belongs to another network. */
public final class CheckpointException extends IOException {
  public CheckpointException(String message) {
    super(message);
  }
}
