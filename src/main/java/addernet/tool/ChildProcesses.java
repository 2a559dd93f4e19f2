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
 * Tools started in a process group of their own ({@link #startInOwnGroup}) are ended by group,
 * which also reaches a grandchild forked just before its parent died (no longer a descendant).
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

  /**
   * Starts {@code pb}'s command through {@code setsid}, so that it and everything it forks share a
   * process group whose id is the returned process's pid. Without setsid on PATH it starts as is.
   */
  public static Process startInOwnGroup(ProcessBuilder pb) throws IOException {
    if (SETSID != null) {
      List<String> cmd = new ArrayList<>(List.of(SETSID, "/bin/sh", "-c", WATCHDOG, "sh",
          Long.toString(ProcessHandle.current().pid())));
      cmd.addAll(pb.command());
      pb.command(cmd);
    }
    Process p = pb.start();
    if (SETSID != null) {
      GROUPS.add(p.pid());
    }
    LIVE.add(p);
    return p;
  }

  private static final String SETSID = findSetsid();

  /**
   * Runs in the new group before it becomes the tool ({@code exec} keeps the pid): a watcher that
   * ends the group once this JVM is gone. The shutdown hook is not enough alone, as a JVM killed
   * outright (SIGKILL, the OOM killer, -Xrs) runs no hooks and would leave make's compilers or a
   * long yosys run behind. The watcher leaves by itself when the tool has ended ({@code $$} is the
   * tool's pid), and holds none of the tool's streams. A zombie counts as gone: a JVM killed outright
   * stays one until its parent reaps it. A tool that outlives SIGTERM by two seconds (one that
   * handles or is slow to act on it) gets SIGKILL, as {@link #destroyTree} does.
   */
  private static final String WATCHDOG = "j=$1; shift; "
      + "( alive() { s=; read -r s < /proc/$1/stat 2>/dev/null || return 1; s=${s##*) }; [ \"${s%% *}\" != Z ]; }; "
      + "while alive \"$j\" && alive $$; do sleep 1; done; "
      + "alive \"$j\" || { kill -TERM -$$ 2>/dev/null; sleep 2; kill -KILL -$$ 2>/dev/null; } ) </dev/null >/dev/null 2>&1 & "
      + "exec \"$@\"";
  private static final Set<Long> GROUPS = ConcurrentHashMap.newKeySet();

  private static String findSetsid() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      java.nio.file.Path p = java.nio.file.Path.of(dir.isEmpty() ? "." : dir, "setsid");
      if (java.nio.file.Files.isExecutable(p)) {
        return p.toString();
      }
    }
    return null;
  }

  /** The process group of {@code pid} from /proc, or -1 when it is gone or unreadable. */
  private static long groupOf(long pid) {
    try {
      String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "stat"));
      // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(f[2]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The process has ended (or been destroyed): nothing left to clean up for it. */
  public static void release(Process p) {
    LIVE.remove(p);
    // A group whose leader has exited may still hold its children: end them too.
    if (GROUPS.contains(p.pid())) {
      destroyTrees(List.of(p));
    }
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
    try {
      destroyTrees(new ArrayList<>(LIVE));
    } catch (Throwable t) {
      // A shutdown hook that throws ends silently and leaves the tools running: say so, and still
      // end what can be reached by a plain kill of each root.
      System.err.println("addernet: ending external tools at exit failed: " + t);
      for (Process p : LIVE) {
        p.destroyForcibly();
      }
    }
  }

  private static void destroyTrees(List<Process> roots) {
    List<ProcessHandle> all = members(roots);
    for (ProcessHandle h : all) {
      h.destroy();
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GRACE_MILLIS);
    // Polled rather than onExit(): a process outside our children that has ended stays a zombie
    // until whatever adopted it reaps it, and onExit() would wait out the whole grace for it.
    while (all.stream().anyMatch(ChildProcesses::running) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    for (ProcessHandle h : members(roots)) {
      if (running(h)) {
        h.destroyForcibly();
      }
    }
    for (Process p : roots) {
      GROUPS.remove(p.pid());
    }
  }

  /** Alive and not a zombie (state Z in /proc: ended, not yet reaped). */
  private static boolean running(ProcessHandle h) {
    if (!h.isAlive()) {
      return false;
    }
    try {
      String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(h.pid()), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (IOException | RuntimeException e) {
      return h.isAlive();
    }
  }

  /** Every process of the roots' trees and of their own process groups. */
  private static List<ProcessHandle> members(List<Process> roots) {
    List<ProcessHandle> all = new ArrayList<>();
    Set<Long> groups = new java.util.HashSet<>();
    for (Process p : roots) {
      p.descendants().forEach(all::add);
      all.add(p.toHandle());
      if (GROUPS.contains(p.pid())) {
        groups.add(p.pid());
      }
    }
    if (!groups.isEmpty()) {
      ProcessHandle.allProcesses()
          .filter(h -> groups.contains(groupOf(h.pid())) && !all.contains(h))
          .forEach(all::add);
    }
    return all;
  }
}
