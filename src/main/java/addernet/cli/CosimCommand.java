package addernet.cli;

import addernet.io.UserError;
import addernet.cosim.AccelCosim;
import addernet.cosim.AccelSimulator;
import addernet.cosim.ArrayCosim;
import addernet.cosim.ArrayHarness;
import addernet.data.FashionMnist;
import addernet.data.ImageSet;
import addernet.gen.AcceleratorGenerator;
import addernet.io.Outputs;
import addernet.quant.IntNetwork;
import addernet.quant.RandomNetworks;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
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
      "Whole network (--model with --rtl from 'generate --model'): Fashion-MNIST test images"
          + " stream through the Verilated accelerator, a batch at a time; every logit is"
          + " compared with the reference, and with --layers every layer's output too (read"
          + " from the accelerator's writeback trace port). --stall P makes both AXI4-Streams"
          + " stall P%% of the cycles at random.",
      "",
      "Bare array (--rtl from 'generate --bits'): with --random N, random signed matrix"
          + " products (shapes up to 3x the array, K up to the array's max K) are cut into N"
          + " output tiles and every output is compared. The first product is the accumulator's"
          + " worst case.",
      "",
      "Random networks (--random-networks N): N small random AdderNets with random array"
          + " sizes are generated, co-simulated layer by layer under random stalls, and"
          + " discarded; failing ones are kept under --keep.",
      "",
      "The harness is built once per RTL version into RTL/verilator-build/. On a mismatch the"
          + " first differing output is named, the failing batch is replayed with FST tracing"
          + " into --wave, and the exit status is 1.",
      "",
      "Examples:",
      "  addernet cosim --model model/lenet5-adder-8bit --rtl build/lenet --images 10000",
      "  addernet cosim --rtl build/array8x8 --random 1000 --seed 1 --report cosim.json",
      "  addernet cosim --random-networks 20 --seed 7",
      "  addernet cosim --random-networks 20 --op mac   (the CNN twin on MAC PEs)"
    })
final class CosimCommand implements Callable<Integer> {
  @Option(names = "--rtl", description = "A folder written by 'addernet generate'.")
  Path rtl;

  @Option(names = "--model", description = "The model package the accelerator in --rtl was generated from.")
  Path model;

  @Option(names = "--images", description = "With --model: how many test images (default: all 10,000).")
  Integer images;

  @Option(names = "--data", description = "Fashion-MNIST folder (default: Debian's /usr/share/datasets/fashion-mnist).")
  Path data;

  @Option(names = "--layers", description = "With --model: also compare every layer's output.")
  boolean layers;

  @Option(names = "--stall", defaultValue = "0", description = "Percent of cycles each stream stalls at random (default ${DEFAULT-VALUE}).")
  int stall;

  @Option(names = "--jobs", description = "With --model: Verilated simulator processes run side by side, each on its own batches; results are compared in image order, so the outcome does not depend on it (default: the number of cores, ${DEFAULT-VALUE} here).")
  int jobs = Runtime.getRuntime().availableProcessors();

  @Option(names = "--random", description = "Bare array: number of random output tiles to check.")
  Integer random;

  @Option(names = "--random-networks", description = "Number of random networks to generate and check.")
  Integer randomNetworks;

  @Option(names = "--op", defaultValue = "adder", description = "With --random-networks: adder networks, or mac for the CNN twin's multiply networks on MAC PEs (default ${DEFAULT-VALUE}).")
  String op;

  @Option(names = "--keep", description = "With --random-networks: folder for the RTL of failing networks (default: runs/failing-networks).")
  Path keep;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of random data, stalls and networks (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--report", description = "Also write the summary as JSON to this file.")
  Path report;

  @Option(names = "--wave", description = "Where to keep the waveform of a failing run (default: RTL/cosim-failure.fst).")
  Path wave;

  @Override
  public Integer call() throws IOException {
    int modes = (model != null ? 1 : 0) + (random != null ? 1 : 0) + (randomNetworks != null ? 1 : 0);
    if (modes != 1) {
      throw new UserError("choose exactly one of --model, --random or --random-networks (see --help)");
    }
    if (report != null) {
      checkWritable(report);
    }
    if (randomNetworks != null) {
      return randomNetworks();
    }
    if (rtl == null) {
      throw new UserError("--rtl is required with --model and --random");
    }
    if (!Files.isDirectory(rtl)) {
      throw new UserError("--rtl " + rtl + " is not a folder; generate one with 'addernet generate'");
    }
    Path waveFile = wave != null ? wave : rtl.resolve("cosim-failure.fst");
    return model != null ? network(waveFile) : array(waveFile);
  }

  private int array(Path waveFile) throws IOException {
    if (random < 1) {
      throw new UserError("--random must be a positive number of tiles, got " + random);
    }
    ArrayHarness harness = ArrayHarness.build(rtl);
    ArrayCosim.Report r;
    try (ProgressBar bar = bar("cosim", random, " tiles")) {
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
      System.out.println("waveform of the failing product: " + r.waveform());
    }
    if (report != null) {
      writeJson(report, r);
    }
    return r.mismatches() == 0 ? 0 : 1;
  }

  private int network(Path waveFile) throws IOException {
    IntNetwork net = GenerateCommand.readModel(model);
    ImageSet test;
    try {
      test = FashionMnist.read(data != null ? data : FashionMnist.DEFAULT_DIR).test();
    } catch (IOException e) {
      throw new UserError(e.getMessage(), e);
    }
    int n = images == null ? test.count() : images;
    if (n < 1 || n > test.count()) {
      throw new UserError("--images must be in 1.." + test.count() + ", got " + n);
    }
    int size = test.rows() * test.cols();
    int[][] pixels = new int[n][size];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      for (int p = 0; p < size; p++) {
        pixels[i][p] = test.pixels()[i * size + p] & 0xff;
      }
      labels[i] = test.label(i);
    }
    AccelCosim cosim = new AccelCosim(rtl, net);
    System.err.println("cosim: building the Verilator model of " + rtl + " (once per RTL version)");
    AccelSimulator.prepare(rtl);
    AccelCosim.Report r;
    try (ProgressBar bar = bar("cosim", n, " images")) {
      r = cosim.run(pixels, labels, new AccelCosim.Options(stall, (int) seed, layers, waveFile, jobs), bar::stepBy);
    }
    System.out.printf(
        "cosim %s on a %dx%d array, batch %d: %d images, %d values compared%s, %d mismatches%n",
        r.network(), r.rows(), r.cols(), r.batch(), r.images(), r.compared(),
        layers ? " (every layer)" : " (logits)", r.mismatches());
    System.out.printf(
        "accuracy: RTL %.2f%%, Java reference %.2f%%%n", 100 * r.rtlAccuracy(), 100 * r.referenceAccuracy());
    System.out.printf(
        "%.0f cycles per image (ideal %.0f = PE operations / PEs; %.2fx), %.1f images/s, %.0f"
            + " simulated cycles/s, %.1f s%n",
        r.cyclesPerImage(), r.idealCyclesPerImage(), r.cyclesOverIdeal(), r.imagesPerSecond(),
        r.simulatedCyclesPerSecond(), r.seconds());
    if (r.firstMismatch() != null) {
      System.out.println("first mismatch: " + r.firstMismatch().describe());
      System.out.println("waveform of the failing batch: " + r.waveform());
    }
    if (report != null) {
      writeJson(report, r);
    }
    return r.mismatches() == 0 ? 0 : 1;
  }

  /** One entry of the random-networks report. */
  record NetworkRun(long seed, String network, int rows, int cols, int batch, int images,
      long compared, long mismatches, String firstMismatch, String keptRtl) {}

  record NetworksReport(long seed, int networks, int failed, long compared, List<NetworkRun> runs) {}

  private int randomNetworks() throws IOException {
    if (randomNetworks < 1) {
      throw new UserError("--random-networks must be positive, got " + randomNetworks);
    }
    addernet.gen.PeOp peOp;
    try {
      peOp = addernet.gen.PeOp.fromId(op);
    } catch (IllegalArgumentException e) {
      throw new UserError("--op: " + e.getMessage());
    }
    Path keepDir = keep != null ? keep : Path.of("runs", "failing-networks");
    List<NetworkRun> runs = new ArrayList<>();
    int failed = 0;
    long compared = 0;
    Path work = Files.createTempDirectory("addernet-random-networks");
    try (ProgressBar bar = bar("networks", randomNetworks, " nets")) {
      for (int i = 0; i < randomNetworks; i++) {
        long s = seed * 1_000_003L + i;
        IntNetwork net = RandomNetworks.create(s, peOp);
        SplittableRandom rnd = new SplittableRandom(s);
        var opt = AcceleratorGenerator.fit(net, 1 + rnd.nextInt(6), 1 + rnd.nextInt(6), 1 + rnd.nextInt(3));
        Path dir = work.resolve("net" + i);
        AcceleratorGenerator.generate(net, opt, dir);
        int count = 2 * opt.batch() + 1;
        int size = net.inChannels() * net.inHeight() * net.inWidth();
        int[][] pixels = new int[count][size];
        for (int[] img : pixels) {
          for (int p = 0; p < size; p++) {
            img[p] = rnd.nextInt(256);
          }
        }
        AccelCosim.Report r =
            new AccelCosim(dir, net).run(pixels, null,
                new AccelCosim.Options(1 + rnd.nextInt(40), (int) s, true, dir.resolve("failure.fst")), n -> {});
        compared += r.compared();
        String kept = null;
        if (r.mismatches() > 0) {
          failed++;
          Files.createDirectories(keepDir);
          Path dest = keepDir.resolve(net.name());
          Outputs.deleteTree(dest);
          Files.move(dir, dest);
          kept = dest.toString();
          System.err.println("\n" + net.name() + " (" + opt + "): " + r.firstMismatch().describe() + "; RTL kept in " + dest);
        } else {
          Outputs.deleteTree(dir);
        }
        runs.add(new NetworkRun(s, net.name(), opt.rows(), opt.cols(), opt.batch(), count,
            r.compared(), r.mismatches(),
            r.firstMismatch() == null ? null : r.firstMismatch().describe(), kept));
        bar.step();
      }
    } finally {
      Outputs.deleteTree(work);
    }
    System.out.printf("%d random networks, %d values compared layer by layer, %d failed%n",
        randomNetworks, compared, failed);
    if (report != null) {
      writeJson(report, new NetworksReport(seed, randomNetworks, failed, compared, runs));
    }
    return failed == 0 ? 0 : 1;
  }

  static ProgressBar bar(String task, long max, String unit) {
    return new ProgressBarBuilder()
        .setTaskName(task)
        .setInitialMax(max)
        .setUnit(unit, 1)
        .setStyle(ProgressBarStyle.ASCII)
        .continuousUpdate()
        .build();
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
