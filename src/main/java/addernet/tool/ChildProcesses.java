package addernet.tool;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Every external process this JVM starts (Verilator, make and the compilers under it, yosys,
 * nextpnr, the Verilated harnesses), so that they end with the command. A shutdown hook (run on
 * SIGINT, SIGTERM and a normal exit) destroys each one's whole process tree: killing only the
 * direct child would leave make's g++ jobs running for half a minute, reparented to init.
 */
public final class ChildProcesses {
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
  /** How long the trees get to end on SIGTERM before they are killed outright. */
  private static final long GRACE_MILLIS = 2000;

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(ChildProcesses::destroyAll, "addernet-children"));
  }

  private ChildProcesses() {}

  /** Starts {@code pb} and keeps the process until {@link #release} or the JVM's end. */
  public static Process start(ProcessBuilder pb) throws IOException {
    Process p = pb.start();
    LIVE.add(p);
    return p;
  }

  /** The process has ended (or been destroyed): nothing left to clean up for it. */
  public static void release(Process p) {
    LIVE.remove(p);
  }

  /**
   * Ends {@code p} and all its descendants: SIGTERM first, SIGKILL for whatever is left after a
   * short grace period. The descendants are listed before anything is signalled, because once the
   * parent is gone its children are no longer its descendants.
   */
  public static void destroyTree(Process p) {
    destroyTrees(List.of(p));
    LIVE.remove(p);
  }

  private static void destroyAll() {
    destroyTrees(new ArrayList<>(LIVE));
  }

  private static void destroyTrees(List<Process> roots) {
    List<ProcessHandle> all = new ArrayList<>();
    for (Process p : roots) {
      p.descendants().forEach(all::add);
      all.add(p.toHandle());
    }
    for (ProcessHandle h : all) {
      h.destroy();
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GRACE_MILLIS);
    for (ProcessHandle h : all) {
      long left = deadline - System.nanoTime();
      if (left > 0) {
        try {
          h.onExit().get(left, TimeUnit.NANOSECONDS);
        } catch (Exception e) {
          // still running (or the wait was cut short): killed below
        }
      }
    }
    for (ProcessHandle h : all) {
      if (h.isAlive()) {
        h.destroyForcibly();
      }
    }
  }
}
