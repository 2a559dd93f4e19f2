package addernet.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "synth", mixinStandardHelpOptions = true, description = "Not built yet.")
final class SynthCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("addernet synth: not built yet");
    return 3;
  }
}
