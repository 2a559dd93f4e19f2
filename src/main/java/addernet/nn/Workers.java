package addernet.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A fixed team of threads that splits an index range into contiguous parts.
 *
 * <p>Every kernel gives each output element to exactly one part and sums in a fixed order inside
 * it, so results do not depend on the number of threads or on scheduling.
 */
public final class Workers implements AutoCloseable {
  /** Runs on one part [from, to) of the range. */
  @FunctionalInterface
  public interface RangeBody {
    void run(int from, int to);
  }

  private final int threads;
  private final ExecutorService pool;

  public Workers(int threads) {
    if (threads < 1 || threads > 256) {
      throw new IllegalArgumentException("threads must be in 1..256, got " + threads);
    }
    this.threads = threads;
    this.pool =
        threads == 1
            ? null
            : Executors.newFixedThreadPool(
                threads - 1,
                r -> {
                  Thread t = new Thread(r, "addernet-worker");
                  t.setDaemon(true);
                  return t;
                });
  }

  /** One thread, no pool: for tests and small jobs. */
  public static Workers single() {
    return new Workers(1);
  }

  public int threads() {
    return threads;
  }

  /**
   * Below this many element operations a job runs on the calling thread: handing it to a worker
   * and waiting costs tens of microseconds, more than the job itself.
   */
  static final long INLINE_WORK = 40_000;

  /** Splits [0, n) into at most {@code threads} parts (each a multiple of {@code grain}). */
  public void forRange(int n, int grain, RangeBody body) {
    forRange(n, grain, Long.MAX_VALUE, body);
  }

  /** As {@link #forRange(int, int, RangeBody)}, inline when {@code work} is small. */
  public void forRange(int n, int grain, long work, RangeBody body) {
    if (work < INLINE_WORK) {
      body.run(0, n);
      return;
    }
    int parts = Math.min(threads, Math.max(1, (n + grain - 1) / grain));
    if (parts <= 1) {
      body.run(0, n);
      return;
    }
    int per = ((n + parts - 1) / parts + grain - 1) / grain * grain;
    List<Future<?>> futures = new ArrayList<>(parts - 1);
    for (int p = 1; p < parts; p++) {
      int from = Math.min(n, p * per);
      int to = Math.min(n, from + per);
      if (from < to) {
        futures.add(pool.submit(() -> body.run(from, to)));
      }
    }
    body.run(0, Math.min(n, per));
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for a worker", e);
      } catch (ExecutionException e) {
        Throwable c = e.getCause();
        if (c instanceof RuntimeException re) {
          throw re;
        }
        if (c instanceof Error err) {
          throw err;
        }
        throw new IllegalStateException(c);
      }
    }
  }

  @Override
  public void close() {
    if (pool != null) {
      pool.shutdownNow();
    }
  }
}
