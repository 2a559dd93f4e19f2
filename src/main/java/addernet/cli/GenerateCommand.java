package addernet.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "generate", mixinStandardHelpOptions = true, description = "Not built yet.")
final class GenerateCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("addernet generate: not built yet");
    return 3;
  }
}
