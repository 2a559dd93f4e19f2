package addernet.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "quantize", mixinStandardHelpOptions = true, description = "Not built yet.")
final class QuantizeCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("addernet quantize: not built yet");
    return 3;
  }
}
