package addernet.io;

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
