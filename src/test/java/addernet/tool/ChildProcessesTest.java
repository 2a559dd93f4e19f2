package addernet.tool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ChildProcessesTest {
  /** One of the tool's two sleeps (not the one-second naps of the group's watcher). */
  private static boolean isSleep(ProcessHandle h) {
    return h.info().command().map(c -> c.endsWith("/sleep") || c.equals("sleep")).orElse(false)
        && h.info().arguments().map(a -> List.of(a).contains("300")).orElse(false);
  }

  /**
   * Alive and not a zombie: once the JVM is gone, its ended children are reparented to whatever
   * reaps orphans here, and until it does they still answer {@code isAlive()}.
   */
  private static boolean running(ProcessHandle h) {
    if (!h.isAlive()) {
      return false;
    }
    try {
      String stat = java.nio.file.Files.readString(Path.of("/proc", Long.toString(h.pid()), "stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (java.io.IOException | RuntimeException e) {
      return h.isAlive();
    }
  }

  @Test
  void sigtermOfTheJvmEndsTheWholeTreeOfItsExternalTool() throws Exception {
    endTheJvmAndCheckItsToolsEnd(false);
  }

  /** SIGKILL runs no shutdown hook: the group's own watcher has to end the tool. */
  @Test
  void sigkillOfTheJvmStillEndsTheWholeTreeOfItsExternalTool() throws Exception {
    endTheJvmAndCheckItsToolsEnd(true);
  }

  private static void endTheJvmAndCheckItsToolsEnd(boolean kill) throws Exception {
    Path out = java.nio.file.Files.createTempFile("long-tool", ".out");
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process jvm = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"),
        LongToolMain.class.getName()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    List<ProcessHandle> tree = List.of();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        tree = jvm.descendants().toList();
        if (tree.stream().filter(ChildProcessesTest::isSleep).count() >= 2) {
          break;
        }
        Thread.sleep(50);
      }
      assertEquals(2, tree.stream().filter(ChildProcessesTest::isSleep).count(),
          "the child JVM never started its tool: " + tree);
      if (kill) {
        jvm.destroyForcibly(); // SIGKILL, as kill -9 or the OOM killer sends
      } else {
        jvm.destroy(); // SIGTERM, as kill(1) sends
      }
      assertTrue(jvm.waitFor(30, TimeUnit.SECONDS), "the JVM did not end on its signal");
      // What the child JVM printed (a failing shutdown hook says why) and how it ended, for the
      // message below.
      String said = java.nio.file.Files.readString(out).strip();
      String how = "the JVM ended with " + jvm.exitValue() + (said.isEmpty() ? ", printing nothing" : ", printing: " + said)
          + "; JAVA_TOOL_OPTIONS=" + System.getenv("JAVA_TOOL_OPTIONS");
      for (ProcessHandle h : tree) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (running(h) && System.nanoTime() < until) {
          Thread.sleep(50);
        }
        assertFalse(running(h), () -> "still running after the JVM ended: " + h.pid() + " " + h.info() + "; " + how);
      }
    } finally {
      tree.forEach(ProcessHandle::destroyForcibly);
      jvm.destroyForcibly();
      java.nio.file.Files.deleteIfExists(out);
    }
  }

  @Test
  void aToolThatOutlivesItsTimeOutIsStoppedWithItsChildrenAndNamed() throws Exception {
    Path log = java.nio.file.Files.createTempFile("timeout", ".log");
    ToolFailure f = org.junit.jupiter.api.Assertions.assertThrows(ToolFailure.class,
        () -> ExternalTool.run(List.of("sh", "-c", "echo started; sleep 307 & sleep 307; wait"), null,
            java.time.Duration.ofSeconds(1), log));
    java.nio.file.Files.delete(log);
    assertTrue(f.getMessage().startsWith("sh did not finish in 1 s and was stopped"), f.getMessage());
    assertTrue(f.getMessage().contains("last lines: started"), f.getMessage());
    assertTrue(f.getMessage().contains("full log: "), f.getMessage());
    assertFalse(f.getMessage().contains("\n"), f.getMessage());
    // Orphans are no longer our descendants: look for them among all processes.
    List<ProcessHandle> left = ProcessHandle.allProcesses()
        .filter(h -> running(h) && isSleep(h) && h.info().arguments().map(a -> List.of(a).contains("307")).orElse(false))
        .toList();
    left.forEach(ProcessHandle::destroyForcibly);
    assertEquals(List.of(), left, "sleeps of the stopped tool are still running");
  }
}
