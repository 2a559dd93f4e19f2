package addernet.nn;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads that splits an index range into contiguous parts.
 *
 * <p>Every kernel gives each output element to exactly one part and sums in a fixed order inside
 * it, so results do not depend on the number of threads or on scheduling.
 *
 * <p>A training step hands out about 30 jobs of 0.1 to 2 ms each. Waking a parked thread costs
 * tens of microseconds on a VM, so idle workers spin briefly before they park, and the caller
 * runs the first part itself.
 */
public final class Workers implements AutoCloseable {
  /** Runs on one part [from, to) of the range. */
  @FunctionalInterface
  public interface RangeBody {
    void run(int from, int to);
  }

  /**
   * Below this many element operations a job runs on the calling thread: handing it to a worker
   * and waiting costs more than the job itself.
   */
  static final long INLINE_WORK = 40_000;

  private static final long SPIN_NANOS = 200_000;

  private final int threads;
  private final Thread[] team;
  private final boolean[] parkedFlags;
  private final AtomicInteger pending = new AtomicInteger();
  private volatile int generation;
  private volatile boolean closed;
  private volatile RangeBody job;
  private volatile int jobParts;
  private volatile int jobPer;
  private volatile int jobN;
  private volatile Throwable failure;
  private final Object parkLock = new Object();

  public Workers(int threads) {
    if (threads < 1 || threads > 256) {
      throw new IllegalArgumentException("threads must be in 1..256, got " + threads);
    }
    this.threads = threads;
    this.team = new Thread[threads - 1];
    this.parkedFlags = new boolean[threads - 1];
    for (int i = 0; i < team.length; i++) {
      int part = i + 1;
      Thread t = new Thread(() -> loop(part), "addernet-worker-" + part);
      t.setDaemon(true);
      team[i] = t;
      t.start();
    }
  }

  /** One thread, no team: for tests and small jobs. */
  public static Workers single() {
    return new Workers(1);
  }

  public int threads() {
    return threads;
  }

  private void loop(int part) {
    int seen = 0;
    while (true) {
      long spinUntil = System.nanoTime() + SPIN_NANOS;
      while (generation == seen && !closed) {
        if (System.nanoTime() < spinUntil) {
          Thread.onSpinWait();
        } else {
          synchronized (parkLock) {
            parkedFlags[part - 1] = true;
          }
          if (generation == seen && !closed) {
            LockSupport.park(this);
          }
          synchronized (parkLock) {
            parkedFlags[part - 1] = false;
          }
        }
      }
      if (closed) {
        return;
      }
      seen = generation;
      // Every worker reports every job, even without a part, so none can miss the next one.
      if (part < jobParts) {
        int from = Math.min(jobN, part * jobPer);
        int to = Math.min(jobN, from + jobPer);
        try {
          if (from < to) {
            job.run(from, to);
          }
        } catch (Throwable t) {
          failure = t;
        }
      }
      pending.decrementAndGet();
    }
  }

  /** Splits [0, n) into at most {@code threads} parts (each a multiple of {@code grain}). */
  public void forRange(int n, int grain, RangeBody body) {
    forRange(n, grain, Long.MAX_VALUE, body);
  }

  /** As {@link #forRange(int, int, RangeBody)}, inline when {@code work} is small. */
  public void forRange(int n, int grain, long work, RangeBody body) {
    int parts = Math.min(threads, Math.max(1, (n + grain - 1) / grain));
    if (work < INLINE_WORK || parts <= 1) {
      body.run(0, n);
      return;
    }
    int per = ((n + parts - 1) / parts + grain - 1) / grain * grain;
    synchronized (this) {
      job = body;
      jobN = n;
      jobPer = per;
      jobParts = parts;
      failure = null;
      pending.set(team.length);
      generation++;
      synchronized (parkLock) {
        for (int i = 0; i < team.length; i++) {
          if (parkedFlags[i]) {
            LockSupport.unpark(team[i]);
          }
        }
      }
      body.run(0, Math.min(n, per));
      while (pending.get() > 0) {
        Thread.onSpinWait();
      }
      job = null;
      Throwable f = failure;
      if (f instanceof RuntimeException re) {
        throw re;
      }
      if (f instanceof Error err) {
        throw err;
      }
      if (f != null) {
        throw new IllegalStateException(f);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Thread t : team) {
      LockSupport.unpark(t);
    }
  }
}
