package addernet.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "train", mixinStandardHelpOptions = true, description = "Not built yet.")
final class TrainCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("addernet train: not built yet");
    return 3;
  }
}
