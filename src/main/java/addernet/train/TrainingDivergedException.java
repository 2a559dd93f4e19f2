package addernet.train;

/** The loss became NaN or infinite; training stopped without overwriting the last checkpoint. */
public final class TrainingDivergedException extends RuntimeException {
  public TrainingDivergedException(String message) {
    super(message);
  }
}
