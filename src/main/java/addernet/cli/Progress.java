package addernet.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of long work on stderr: a bar on a terminal; in a log (no console), where a bar's
 * carriage-return redraws are noise, one plain line at every tenth of the work.
 */
final class Progress implements AutoCloseable {
  private final ProgressBar bar;
  private final String task;
  private final String unit;
  private final long max;
  private long done;
  private long lastTenth;

  Progress(String task, long max, String unit) {
    this.task = task;
    this.unit = unit;
    this.max = Math.max(1, max);
    this.bar = System.console() == null ? null : new ProgressBarBuilder()
        .setTaskName(task)
        .setInitialMax(max)
        .setUnit(unit, 1)
        .setStyle(ProgressBarStyle.ASCII)
        .continuousUpdate()
        .build();
  }

  synchronized void stepBy(long n) {
    if (bar != null) {
      bar.stepBy(n);
      return;
    }
    done += n;
    long tenth = Math.min(10, done * 10 / max);
    if (tenth > lastTenth) {
      lastTenth = tenth;
      System.err.printf("%s: %,d of %,d%s (%d%%)%n", task, done, max, unit, done * 100 / max);
    }
  }

  void step() {
    stepBy(1);
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
