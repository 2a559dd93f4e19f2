package addernet.cli;

import addernet.cosim.ArrayCosim;
import addernet.cosim.ArrayHarness;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "cosim",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Check generated RTL against the Java integer reference, bit for bit, in Verilator.",
      "",
      "With --random N, random signed integer matrix products (shapes up to 3x the array, K up"
          + " to the array's max K) are cut into N output tiles, streamed through the Verilated"
          + " array and every output is compared with the reference. The first product is the"
          + " accumulator's worst case. The harness is built once per RTL version into"
          + " DIR/verilator-build/.",
      "",
      "On a mismatch the first differing output is named (tile, row, column, expected, got),"
          + " the failing product is replayed with FST tracing into --wave, and the exit status"
          + " is 1.",
      "",
      "Example:  addernet cosim --rtl build/array8x8 --random 1000 --seed 1 --report cosim.json"
    })
final class CosimCommand implements Callable<Integer> {
  @Option(names = "--rtl", required = true, description = "A folder written by 'addernet generate'.")
  Path rtl;

  @Option(names = "--random", required = true, description = "Number of random output tiles to check.")
  int random;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the random products (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--report", description = "Also write the summary as JSON to this file.")
  Path report;

  @Option(names = "--wave", description = "Where to keep the waveform of a failing run (default: RTL/cosim-failure.fst).")
  Path wave;

  @Override
  public Integer call() throws IOException {
    if (!Files.isDirectory(rtl)) {
      throw new UserError("--rtl " + rtl + " is not a folder; generate one with 'addernet generate'");
    }
    if (random < 1) {
      throw new UserError("--random must be a positive number of tiles, got " + random);
    }
    if (report != null) {
      checkWritable(report);
    }
    ArrayHarness harness = ArrayHarness.build(rtl);
    Path waveFile = wave != null ? wave : rtl.resolve("cosim-failure.fst");
    ArrayCosim.Report r;
    try (ProgressBar bar =
        new ProgressBarBuilder()
            .setTaskName("cosim")
            .setInitialMax(random)
            .setUnit(" tiles", 1)
            .setStyle(ProgressBarStyle.ASCII)
            .continuousUpdate()
            .build()) {
      r = new ArrayCosim(harness).runRandom(random, seed, waveFile, bar::stepBy);
    }
    System.out.printf(
        "cosim %dx%d, %d-bit data, %d-bit accumulator: %d tiles, %d outputs compared, %d mismatches%n",
        r.rows(), r.cols(), r.dataBits(), r.accBits(), r.tiles(), r.compared(), r.mismatches());
    System.out.printf(
        "%d cycles in %.2f s (%.0f cycles/s, including stimulus and checking)%n",
        r.cycles(), r.seconds(), r.cyclesPerSecond());
    if (r.firstMismatch() != null) {
      System.out.println("first mismatch: " + r.firstMismatch().describe());
      System.out.println("waveform of the failing batch: " + r.waveform());
    }
    if (report != null) {
      writeJson(report, r);
    }
    return r.mismatches() == 0 ? 0 : 1;
  }

  static void checkWritable(Path file) {
    Path parent = file.toAbsolutePath().getParent();
    if (parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)) {
      throw new UserError("cannot write " + file + ": folder " + parent + " is missing or not writable");
    }
  }

  /** Writes JSON reports with snake_case keys, through a temporary file renamed into place. */
  static void writeJson(Path file, Object value) throws IOException {
    ObjectMapper json =
        new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    json.writeValue(tmp.toFile(), value);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }
}
