package addernet.cosim;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs numbered batches on up to {@code jobs} Verilated accelerators at once, one harness process
 * each, and hands the results back in batch order, so that whoever compares them sees exactly the
 * sequence one simulator would have produced. A simulator is a single-threaded process: the pool
 * gets its parallelism from processes, which scale with cores where one harness cannot.
 */
final class SimulatorPool<T> implements AutoCloseable {
  /** The work of one batch, on a simulator the pool lends for its duration. */
  @FunctionalInterface
  interface Task<T> {
    T run(int batch, AccelSimulator sim);
  }

  private final Path rtlDir;
  // Built (or found up to date) once: each check hashes the RTL and asks Verilator its version.
  private final Path exe;
  private final int batches;
  private final Task<T> task;
  private final ExecutorService threads;
  private final ConcurrentLinkedQueue<AccelSimulator> idle = new ConcurrentLinkedQueue<>();
  private final List<AccelSimulator> started = new ArrayList<>();
  private final ArrayDeque<Future<T>> pending = new ArrayDeque<>();
  // Batches in flight beyond the running ones, so that a simulator never waits for the comparing
  // thread; bounded because a batch with its layer trace can hold megabytes.
  private final int window;
  private int submitted;

  SimulatorPool(Path rtlDir, int jobs, int batches, Task<T> task) {
    this.rtlDir = rtlDir;
    this.exe = AccelSimulator.prepare(rtlDir);
    this.batches = batches;
    this.task = task;
    this.window = 2 * jobs;
    this.threads = Executors.newFixedThreadPool(jobs, r -> {
      Thread t = new Thread(r, "cosim-simulator");
      t.setDaemon(true);
      return t;
    });
    while (submitted < Math.min(window, batches)) {
      submit();
    }
  }

  /** The result of the next batch in order; the task's own exception if it failed. */
  T next() {
    Future<T> f = pending.poll();
    if (f == null) {
      throw new IllegalStateException("all " + batches + " batches were already taken");
    }
    if (submitted < batches) {
      submit();
    }
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the simulator", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  private void submit() {
    int batch = submitted++;
    pending.add(threads.submit(() -> {
      AccelSimulator sim = borrow();
      T out = task.run(batch, sim);
      // Only a harness that finished its batch goes back: one that failed mid-batch may be out of
      // step with its pipe. It stays in the started list and is closed with the pool.
      idle.add(sim);
      return out;
    }));
  }

  private AccelSimulator borrow() {
    AccelSimulator sim = idle.poll();
    if (sim != null) {
      return sim;
    }
    sim = new AccelSimulator(exe, rtlDir, null);
    synchronized (started) {
      started.add(sim);
    }
    return sim;
  }

  @Override
  public void close() {
    for (Future<T> f : pending) {
      f.cancel(false);
    }
    threads.shutdown();
    try {
      threads.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (started) {
      for (AccelSimulator sim : started) {
        sim.close();
      }
    }
  }
}
