package addernet.fuzz;

import addernet.synth.Yosys;
import java.nio.file.Path;
import java.util.List;

/** A JVM that synthesises {@code ARG/big.v} (module m) until it is killed. */
public final class YosysRunMain {
  private YosysRunMain() {}

  public static void main(String[] args) {
    Yosys.synthesizedCells(Path.of(args[0]), List.of("big.v"), "m");
  }
}
