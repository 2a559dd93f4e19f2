package addernet.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * Builds what a killed run leaves beside an output, in the documented form (docs/outputs.md):
 * a folder ".NAME.tmp-PID" or ".NAME.old-PID" holding a run marker and the output under its name,
 * and a lock file ".NAME.lock" holding a lock marker.
 */
public final class Leftovers {
  private Leftovers() {}

  /** A process that has exited, for the pid of a dead run. */
  public static ProcessHandle deadProcess() throws IOException, InterruptedException {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return p.toHandle();
  }

  public static String marker(String kind, String name, long pid, String start) {
    return "{\"addernet\":\"" + kind + "\",\"name\":\"" + name + "\",\"pid\":" + pid + ",\"start\":\"" + start
        + "\",\"command\":\"addernet generate\"}\n";
  }

  private static String startOf(ProcessHandle p) {
    return p.info().startInstant().map(Instant::toString).orElse("");
  }

  /** A temporary (kind "tmp") or aside ("old") of {@code name} made by {@code run}; returns the folder. */
  public static Path folder(Path parent, String name, String kind, ProcessHandle run) throws IOException {
    return folder(parent, name, kind, run.pid(), startOf(run));
  }

  public static Path folder(Path parent, String name, String kind, long pid, String start) throws IOException {
    Path dir = Files.createDirectory(parent.resolve("." + name + "." + kind + "-" + pid));
    Files.writeString(dir.resolve(Outputs.RUN_MARKER),
        marker(kind.equals("tmp") ? "temporary" : "aside", name, pid, start));
    return dir;
  }

  /** A lock file of {@code name} that names {@code run}. */
  public static Path lock(Path parent, String name, ProcessHandle run) throws IOException {
    return Files.writeString(parent.resolve("." + name + ".lock"), marker("lock", name, run.pid(), startOf(run)));
  }
}
