package addernet.io;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Another process writing an output, for OutputsTest: claims {@code args[0]} as a folder for
 * "generate", writes a file into its temporary, says "claimed" and waits until it is killed (or
 * its standard input closes), so that it dies with the lock held and the temporary left behind.
 */
public final class LockHolder {
  private LockHolder() {}

  /**
   * Starts a LockHolder on {@code out} in another JVM and returns once it has claimed it; the
   * caller kills it.
   */
  public static Process start(Path out) throws IOException {
    String java = ProcessHandle.current().info().command().orElseThrow();
    Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), LockHolder.class.getName(),
        out.toString()).redirectErrorStream(true).start();
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = r.readLine();
    if (!"claimed".equals(line)) {
      p.destroyForcibly();
      throw new IllegalStateException("the lock holder said " + line + " instead of claimed");
    }
    return p;
  }

  public static void main(String[] args) throws Exception {
    Outputs out = Outputs.begin("generate", false, List.of());
    Path tmp = out.folder("--out", Path.of(args[0]));
    Files.writeString(tmp.resolve("half-written.sv"), "module half;");
    System.out.println("claimed");
    System.out.flush();
    System.in.read();
    // Exit without closing: the OS drops the lock, the temporary stays, as after a kill.
    Runtime.getRuntime().halt(3);
  }
}
