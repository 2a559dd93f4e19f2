package addernet.fpga;

import addernet.io.UserError;
import java.nio.file.Path;

/** Runs the iCE40 flow of one folder in its own JVM, so that a test can give it another PATH. */
public final class RunFlowMain {
  private RunFlowMain() {}

  public static void main(String[] args) {
    try {
      FpgaFlow.run(Path.of(args[0]), Ice40Device.HX8K, 12);
    } catch (UserError e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
    }
  }
}
