package addernet.train;

/** lr(t) = base * (1 + cos(pi * t / total)) / 2, per step, from base down to 0. */
public record CosineSchedule(double base, long totalSteps) {
  public CosineSchedule {
    if (totalSteps < 1) {
      throw new IllegalArgumentException("total steps must be at least 1, got " + totalSteps);
    }
  }

  public double at(long step) {
    double t = Math.min(1.0, (double) step / totalSteps);
    return base * 0.5 * (1 + Math.cos(Math.PI * t));
  }
}
