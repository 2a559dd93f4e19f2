package addernet.nn;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The time one convolution pass spends in each {@link LayerTimer.Phase}, summed over the threads
 * that ran it, then shared out of the pass's wall time in proportion (see {@link LayerTimer}).
 * One per convolution; only made while a timer is set.
 */
final class PhaseClock {
  private static final LayerTimer.Phase[] PHASES = LayerTimer.Phase.values();

  private final LayerTimer timer;
  private final int node;
  private final AtomicLongArray threadNanos = new AtomicLongArray(PHASES.length);
  private long start;

  PhaseClock(LayerTimer timer, int node) {
    this.timer = timer;
    this.node = node;
  }

  /** Starts a pass. */
  void begin() {
    for (int p = 0; p < PHASES.length; p++) {
      threadNanos.set(p, 0);
    }
    start = System.nanoTime();
  }

  /** Adds the time since {@code since} to {@code phase}; returns the clock for the next phase. */
  long lap(LayerTimer.Phase phase, long since) {
    long now = System.nanoTime();
    threadNanos.addAndGet(phase.ordinal(), now - since);
    return now;
  }

  /** Ends a pass: hands its wall time to the timer, split by the phases' shares. */
  void end() {
    long wall = System.nanoTime() - start;
    long total = 0;
    for (int p = 0; p < PHASES.length; p++) {
      total += threadNanos.get(p);
    }
    if (total == 0) {
      return;
    }
    for (int p = 0; p < PHASES.length; p++) {
      long t = threadNanos.get(p);
      if (t > 0) {
        timer.record(node, PHASES[p], Math.round((double) wall * t / total));
      }
    }
  }
}
