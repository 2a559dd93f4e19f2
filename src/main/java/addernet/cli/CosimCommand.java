package addernet.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "cosim", mixinStandardHelpOptions = true, description = "Not built yet.")
final class CosimCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("addernet cosim: not built yet");
    return 3;
  }
}
