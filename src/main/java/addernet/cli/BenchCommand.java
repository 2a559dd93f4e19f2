package addernet.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "bench", mixinStandardHelpOptions = true, description = "Not built yet.")
final class BenchCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("addernet bench: not built yet");
    return 3;
  }
}
