package addernet.cli;

import addernet.io.UserError;
import addernet.cosim.AccelCosim;
import addernet.cosim.AccelSimulator;
import addernet.cosim.ArrayCosim;
import addernet.cosim.ArrayHarness;
import addernet.cosim.NetworkCampaign;
import addernet.data.FashionMnist;
import addernet.data.ImageSet;
import addernet.export.PackageLoader;
import addernet.gen.AccelManifest;
import addernet.gen.AcceleratorGenerator;
import addernet.quant.PeOp;
import addernet.io.Outputs;
import addernet.quant.IntNetwork;
import java.util.ArrayList;
import java.util.List;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
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
          + " discarded; failing ones are kept under --keep. With --residual they are residual"
          + " networks: identity and convolution shortcuts, global average pools.",
      "",
      "Every file of RTL is first checked against the SHA-256 that generate recorded in its"
          + " manifest; a changed or missing file is refused by name. The harness is built once"
          + " per RTL version, from private copies of the sources, into this user's cache"
          + " ($XDG_CACHE_HOME or ~/.cache, addernet/verilator/); nothing found in RTL is run."
          + " On a mismatch the first differing output is named, the failing batch is replayed"
          + " with FST tracing into --wave, and the exit status is 1.",
      "",
      "RTL/cosim-failure.fst is a build product kept inside the folder"
          + " generate wrote; everything else (--report, --wave, --keep) follows the output rule:"
          + " a new path, or an earlier output of cosim replaced only with --force, never inside"
          + " an input (docs/outputs.md).",
      "",
      "Examples:",
      "  addernet cosim --model model/lenet5-adder-8bit --rtl build/lenet --images 10000",
      "  addernet cosim --rtl build/array8x8 --random 1000 --seed 1 --report cosim.json",
      "  addernet cosim --random-networks 20 --seed 7",
      "  addernet cosim --random-networks 20 --op mac   (the CNN twin on MAC PEs)",
      "  addernet cosim --random-networks 20 --residual"
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

  @Option(names = "--threads", description = "With --model: Verilated simulator processes run side by side, one per thread, each on its own batches; results are compared in image order, so the outcome does not depend on it (default: the number of cores, ${DEFAULT-VALUE} here).")
  int threads = Runtime.getRuntime().availableProcessors();

  @Option(names = "--jobs", hidden = true, parameterConsumer = OptionAlias.class)
  @OptionAlias.Of("--threads")
  String threadsSpelling;

  @Option(names = "--random", description = "Bare array: number of random output tiles to check.")
  Integer random;

  @Option(names = "--random-networks", description = "Number of random networks to generate and check.")
  Integer randomNetworks;

  @Option(names = "--op", defaultValue = "adder", description = "With --random-networks: adder networks, or mac for the CNN twin's multiply networks on MAC PEs (default ${DEFAULT-VALUE}).")
  String op;

  @Option(names = "--residual", description = "With --random-networks: residual networks (a stem, one to three identity or convolution-shortcut blocks, a global average pool or a fully-connected layer, the classifier).")
  boolean residual;

  @Option(names = "--keep", description = "With --random-networks: folder for the RTL of failing networks (default: runs/failing-networks).")
  Path keep;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of random data, stalls and networks (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--report", description = "Also write the summary as JSON to this file.")
  Path report;

  @Option(names = "--wave", description = "Where to keep the waveform of a failing run (default: RTL/cosim-failure.fst).")
  Path wave;

  @Option(names = "--force", description = "Replace --report, --wave or --keep when they hold an earlier output of cosim.")
  boolean force;

  /** The default waveform inside the RTL folder: a build product, outside the output rule. */
  static final String DEFAULT_WAVE = "cosim-failure.fst";

  /** This run's outputs, claimed before any work; the temporaries it writes. */
  private Outputs outputs;
  private Path reportFile;
  private Path waveFile;

  @Override
  public Integer call() throws IOException {
    if (residual && randomNetworks == null) {
      throw new UserError("--residual chooses the kind of --random-networks; give --random-networks N with it");
    }
    int modes = (model != null ? 1 : 0) + (random != null ? 1 : 0) + (randomNetworks != null ? 1 : 0);
    if (modes != 1) {
      throw new UserError("choose exactly one of --model, --random or --random-networks (see --help)");
    }
    if (randomNetworks != null) {
      try (Outputs out = Outputs.begin("cosim", force, List.of())) {
        outputs = out;
        return randomNetworks();
      }
    }
    if (rtl == null) {
      throw new UserError("--rtl is required with --model and --random");
    }
    if (!Files.isDirectory(rtl)) {
      throw new UserError("--rtl " + rtl + " is not a folder; generate one with 'addernet generate'");
    }
    List<Path> inputs = new ArrayList<>(List.of(rtl));
    if (model != null) {
      inputs.add(model);
      inputs.add(data != null ? data : FashionMnist.DEFAULT_DIR);
    }
    try (Outputs out = Outputs.begin("cosim", force, inputs)) {
      outputs = out;
      reportFile = report == null ? null : out.file("--report", report);
      Path defaultWave = rtl.resolve(DEFAULT_WAVE);
      waveFile = wave == null || wave.toAbsolutePath().normalize().equals(defaultWave.toAbsolutePath().normalize())
          ? defaultWave
          : out.optionalFile("--wave", wave, CosimCommand::isWaveform);
      return model != null ? network() : array();
    }
  }

  /** An FST file opens with its header block: block type 0, then a 64-bit big-endian length of 329. */
  static boolean isWaveform(Path file) {
    try (var in = Files.newInputStream(file)) {
      byte[] head = in.readNBytes(9);
      return head.length == 9 && head[0] == 0 && java.nio.ByteBuffer.wrap(head, 1, 8).getLong() == 329;
    } catch (IOException e) {
      return false;
    }
  }

  /** The waveform's path as the user gave it, not the temporary the harness wrote. */
  private String shownWave(String written) {
    return written != null && wave != null && written.equals(waveFile.toString()) ? wave.toString() : written;
  }

  /** Writes the report (if asked) and puts every output in place; returns the exit code. */
  private int finish(Object value, String waveform, boolean passed) {
    if (reportFile != null) {
      ObjectNode tree = Outputs.toJson(value);
      if (tree.has("waveform")) {
        tree.put("waveform", shownWave(waveform));
      }
      outputs.writeJson(reportFile, tree);
    }
    outputs.commit();
    return passed ? 0 : 1;
  }

  private int array() throws IOException {
    if (random < 1) {
      throw new UserError("--random must be a positive number of tiles, got " + random);
    }
    ArrayHarness harness = ArrayHarness.build(rtl);
    ArrayCosim.Report r;
    try (Progress bar = new Progress("cosim", random, " tiles")) {
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
      System.out.println("waveform of the failing product: " + shownWave(r.waveform()));
    }
    return finish(r, r.waveform(), r.mismatches() == 0);
  }

  private int network() throws IOException {
    // Checked before the Verilator build, which takes minutes.
    if (threads < 1 || threads > AccelCosim.MAX_JOBS) {
      throw new UserError("--threads must be in 1.." + AccelCosim.MAX_JOBS + ", got " + threads);
    }
    AccelCosim.Options options = new AccelCosim.Options(stall, (int) seed, layers, waveFile, threads);
    IntNetwork net = PackageLoader.network(model);
    ImageSet test;
    try {
      test = addernet.data.DataFolder.read(data != null ? data : FashionMnist.DEFAULT_DIR).test()
          .fitted(net.name(), net.inChannels(), net.inHeight(), net.inWidth(), net.classes());
    } catch (IOException e) {
      throw new UserError(e.getMessage(), e);
    }
    int n = images == null ? test.count() : images;
    if (n < 1 || n > test.count()) {
      throw new UserError("--images must be in 1.." + test.count() + ", got " + n);
    }
    int size = test.pixelsPerImage();
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
    try (Progress bar = new Progress("cosim", n, " images")) {
      r = cosim.run(pixels, labels, options, bar::stepBy);
    }
    System.out.printf(
        "cosim %s on a %dx%d array, batch %d: %d images, %d values compared%s, %d mismatches%n",
        r.network(), r.rows(), r.cols(), r.batch(), r.images(), r.compared(),
        layers ? " (every layer)" : " (logits)", r.mismatches());
    System.out.printf(
        "accuracy: RTL %.2f%%, Java reference %.2f%%%n", 100 * r.rtlAccuracy(), 100 * r.referenceAccuracy());
    var manifest = AccelManifest.read(rtl);
    if (manifest.board() != null) {
      // The UART carries logits, not the accelerator's cycle counter; the time is the UART's.
      System.out.printf(
          "cycles: not measured through the %s's UART (the accelerator inside has %.0f issue cycles"
              + " per image, ideal %.0f); %.1f images/s, %.0f simulated cycles/s at %d clocks per"
              + " UART bit, %.1f s%n",
          manifest.board(), (double) manifest.issueCyclesPerBatch() / manifest.batch(),
          r.idealCyclesPerImage(), r.imagesPerSecond(), r.simulatedCyclesPerSecond(),
          manifest.simUartDivisor(),
          r.seconds());
    } else {
      System.out.printf(
          "%.0f cycles per image (ideal %.0f = PE operations / PEs; %.2fx), %.1f images/s, %.0f"
              + " simulated cycles/s, %.1f s%n",
          r.cyclesPerImage(), r.idealCyclesPerImage(), r.cyclesOverIdeal(), r.imagesPerSecond(),
          r.simulatedCyclesPerSecond(), r.seconds());
    }
    if (r.firstMismatch() != null) {
      System.out.println("first mismatch: " + r.firstMismatch().describe());
      System.out.println("waveform of the failing batch: " + shownWave(r.waveform()));
    }
    return finish(r, r.waveform(), r.mismatches() == 0);
  }

  private int randomNetworks() throws IOException {
    if (randomNetworks < 1) {
      throw new UserError("--random-networks must be positive, got " + randomNetworks);
    }
    PeOp peOp = GenerateCommand.peOp(op);
    Path keepDir = keep != null ? keep : Path.of("runs", "failing-networks");
    reportFile = report == null ? null : outputs.file("--report", report);
    // Put in place only when a network fails; an earlier one stays otherwise. The default's
    // folder runs/ is made only for a failure: where it is missing, nothing can be in the way.
    Path claimed = keep != null || Files.isDirectory(keepDir.getParent())
        ? outputs.optionalFolder("--keep", keepDir) : null;
    NetworkCampaign.Keep kept = new NetworkCampaign.Keep() {
      @Override
      public Path folder() throws IOException {
        if (claimed != null) {
          return claimed;
        }
        Files.createDirectories(keepDir.getParent());
        return outputs.optionalFolder("--keep", keepDir);
      }

      @Override
      public Path shown() {
        return keepDir;
      }
    };
    NetworkCampaign.NetworksReport r;
    try (Progress bar = new Progress("networks", randomNetworks, " nets")) {
      r = NetworkCampaign.run(seed, randomNetworks, peOp, residual, kept, bar::step, System.err);
    }
    System.out.printf("%d random networks, %d values compared layer by layer, %d failed%n",
        randomNetworks, r.compared(), r.failed());
    return finish(r, null, r.failed() == 0);
  }
}
