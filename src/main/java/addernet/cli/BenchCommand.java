package addernet.cli;

import addernet.io.UserError;
import addernet.data.FashionMnist;
import addernet.data.ImageSet;
import addernet.io.Outputs;
import addernet.nn.NetworkSpec;
import addernet.nn.Operation;
import addernet.nn.Workers;
import addernet.train.Recipe;
import addernet.train.TorchComparison;
import addernet.train.TorchPeer;
import addernet.train.Trainer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Benchmarks; one subcommand per stage ({@code train} for now). */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Measure throughput. Subcommands: train.",
    subcommands = {BenchCommand.Train.class})
final class BenchCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (train)");
  }

  @Command(
      name = "train",
      mixinStandardHelpOptions = true,
      description = {
        "Steady-state training throughput (images/s, after warm-up) of a network and of its twin",
        "(every adder layer multiplying, or the reverse), measured in the same run with their timed",
        "rounds alternating, and the median ratio of adjacent rounds. Compare ratios, not images/s,",
        "across runs: on a shared machine the absolute figures drift by 10-20%%."
      })
  static final class Train implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "lenet5-adder", description = "model name or .spec file (default: ${DEFAULT-VALUE})")
    String model;

    @Option(names = "--batch", defaultValue = "128", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--threads", description = "worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--warmup-seconds", defaultValue = "6", description = "warm-up per network (default: ${DEFAULT-VALUE})")
    double warmup;

    @Option(names = "--rounds", defaultValue = "5", description = "timed rounds per network, alternating between the two; medians are reported (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--round-steps", defaultValue = "60", description = "training steps per round (default: ${DEFAULT-VALUE})")
    int roundSteps;

    @Option(names = "--data", description = "Fashion-MNIST directory; random images if it is missing")
    Path data;

    @Option(names = "--peer", paramLabel = "torch", description = "also time PyTorch (Debian's python3-torch, run by /usr/bin/python3) training the same graph, built from the spec's nodes: the CNN twin with native layers (same batch and threads) and the adder net with the official adder layer (unfold + broadcast |x-w| sum, at --peer-adder-batch), its rounds alternating with ours; a peer whose parameter counts differ from ours is refused, and the peer is skipped with a message when torch is missing")
    String peer;

    @Option(names = "--peer-adder-batch", description = "batch of the official-adder net (its broadcast tensors grow by outputs x patch rows per image; default: --batch, at most 16)")
    Integer peerAdderBatch;

    @Option(names = "--peer-adder-steps", defaultValue = "1", description = "official-adder steps per round, 0 to leave it out (default: ${DEFAULT-VALUE})")
    int peerAdderSteps;

    @Option(names = "--peer-timeout", defaultValue = "900", description = "seconds to wait for any one answer of the peer (its warm-up, one round) before stopping it (default: ${DEFAULT-VALUE})")
    double peerTimeout;

    @Option(names = "--profile", description = "after the rounds, time every node's phases over --round-steps steps of each net, and measure the machine's peak for the adder and multiply inner loops")
    boolean profile;

    @Option(names = "--report", description = "write the figures as JSON to this file")
    Path report;

    @Option(names = "--force", description = "replace --report if it holds an earlier output of bench train")
    boolean force;

    @Override
    public Integer call() {
      if (rounds < 1 || roundSteps < 1 || !(warmup >= 0)) {
        throw new UserError("--rounds and --round-steps must be at least 1, --warmup-seconds at least 0");
      }
      List<Path> inputs = new ArrayList<>(List.of(data == null ? FashionMnist.DEFAULT_DIR : data));
      if (CliInputs.specFile(model) != null) {
        inputs.add(CliInputs.specFile(model));
      }
      try (Outputs outputs = Outputs.begin("bench train", force, inputs);
          Workers workers = new Workers(threads == null ? Runtime.getRuntime().availableProcessors() : threads);
          TorchComparison torch = peer == null ? null : TorchComparison.open(peer, batch, workers.threads(), warmup,
              new TorchComparison.Options(peerAdderBatch == null ? Math.min(batch, 16) : peerAdderBatch,
                  peerAdderSteps, peerTimeout), System.err)) {
        Path reportFile = report == null ? null : outputs.file("--report", report);
        NetworkSpec first = NetworkSpec.resolve(model);
        NetworkSpec twin = twinOf(first);
        String source;
        ImageSet images;
        Path dir = data == null ? FashionMnist.DEFAULT_DIR : data;
        if (Files.isDirectory(dir)) {
          images = FashionMnist.read(dir).train().fitted(first.name(), first.input().channels(),
              first.input().height(), first.input().width(), first.classes());
          source = "fashion-mnist train";
        } else {
          images = randomImages(first, 4096);
          source = "random images (no data set at " + dir + ")";
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("batch", batch);
        root.put("threads", workers.threads());
        root.put("kernels", Operation.VECTOR ? "vector-api" : "plain-java");
        root.put("data", source);
        root.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        root.put("warmup_seconds", warmup);
        root.put("rounds", rounds);
        root.put("round_steps", roundSteps);
        ArrayNode results = root.putArray("results");
        ObjectNode byName = root.putObject("images_per_second");
        System.err.printf("bench train: batch %d, %d thread%s, %s kernels, %s%n", batch, workers.threads(),
            workers.threads() == 1 ? "" : "s", Operation.VECTOR ? "vector-API" : "plain-Java", source);
        // Both nets warm up first, then their timed rounds alternate, so that a slow spell of the
        // machine (these are shared virtual machines) falls on both and the ratio holds.
        List<NetworkSpec> specs = List.of(first, twin);
        List<Stepper> steps = new ArrayList<>();
        for (NetworkSpec s : specs) {
          steps.add(warmedUp(s, images, workers));
        }
        double[][] rates = new double[specs.size()][rounds];
        for (int r = 0; r < rounds; r++) {
          for (int n = 0; n < specs.size(); n++) {
            long t0 = System.nanoTime();
            for (int k = 0; k < roundSteps; k++) {
              steps.get(n).run();
            }
            rates[n][r] = (double) roundSteps * batch / ((System.nanoTime() - t0) / 1e9);
          }
          if (torch != null) {
            torch.round(first, twin, roundSteps);
          }
        }
        for (int n = 0; n < specs.size(); n++) {
          NetworkSpec s = specs.get(n);
          double[] sorted = rates[n].clone();
          Arrays.sort(sorted);
          double median = sorted[sorted.length / 2];
          System.out.printf("%-16s %8.0f images/s (median of %d rounds; min %.0f, max %.0f)%n",
              s.name(), median, rounds, sorted[0], sorted[sorted.length - 1]);
          ObjectNode r = results.addObject();
          r.put("model", s.name());
          r.put("images_per_second", median);
          ArrayNode all = r.putArray("rounds_images_per_second");
          for (double v : rates[n]) {
            all.add(v);
          }
          byName.put(s.name(), median);
        }
        double[] ratios = new double[rounds];
        for (int r = 0; r < rounds; r++) {
          ratios[r] = rates[0][r] / rates[1][r];
        }
        double ratio = median(ratios);
        System.out.printf("%s / %s: %.3f (median over the %d pairs of adjacent rounds)%n",
            first.name(), twin.name(), ratio, rounds);
        root.put("ratio_to_twin", ratio);
        if (torch != null) {
          torch.report(first, rates[0], twin, rates[1], root, System.out);
        }
        if (profile) {
          BenchProfile.run(specs, steps, roundSteps, batch, workers, root.putObject("profile"), System.out);
        }
        if (reportFile != null) {
          outputs.writeJson(reportFile, root);
          outputs.commit();
          System.err.println("report: " + report);
        }
        return 0;
      } catch (IllegalArgumentException | TorchPeer.PeerException e) {
        throw new UserError(e.getMessage(), e);
      } catch (IOException e) {
        throw new UserError("cannot read the data: " + e.getMessage(), e);
      }
    }

    /** lenet5-adder <-> lenet5-cnn: the same spec with every weighted layer switched. */
    static NetworkSpec twinOf(NetworkSpec spec) {
      boolean adder = spec.layers().stream().anyMatch(l -> l.operation() == Operation.ADDER);
      Operation to = adder ? Operation.MULTIPLY : Operation.ADDER;
      String name = spec.name();
      String twinName =
          adder && name.endsWith("-adder") ? name.substring(0, name.length() - 6) + "-cnn"
              : !adder && name.endsWith("-cnn") ? name.substring(0, name.length() - 4) + "-adder"
              : name + "-" + to.keyword();
      return spec.withOperation(to, twinName);
    }

    private static double median(double[] values) {
      double[] sorted = values.clone();
      Arrays.sort(sorted);
      return sorted[sorted.length / 2];
    }

    /** A trainer and one training step of it at a time. */
    record Stepper(Trainer trainer, Runnable step) implements Runnable {
      @Override
      public void run() {
        step.run();
      }
    }

    /** One training step of {@code spec} at a time, after --warmup-seconds of them. */
    private Stepper warmedUp(NetworkSpec spec, ImageSet images, Workers workers) {
      Recipe recipe = new Recipe(1, batch, Recipe.DEFAULT_LEARNING_RATE, Recipe.DEFAULT_MOMENTUM,
          Recipe.DEFAULT_WEIGHT_DECAY, Recipe.DEFAULT_ETA, 1, Recipe.DEFAULT_AUGMENTATION);
      Trainer trainer = Trainer.start(spec, recipe, images, images.head(Math.min(images.count(), 1000)), workers);
      int size = spec.input().size();
      int[] order = new int[images.count()];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      float[] x = new float[batch * size];
      int[] labels = new int[batch];
      java.util.SplittableRandom random = new java.util.SplittableRandom(1);
      addernet.data.Normalization norm = images.statistics();
      int[] cursor = {0};
      Runnable step = () -> {
        if (cursor[0] + batch > order.length) {
          cursor[0] = 0;
        }
        images.fill(order, cursor[0], batch, norm, recipe.augment(), random, x, labels);
        cursor[0] += batch;
        trainer.step(x, labels, 0.01);
      };
      long end = System.nanoTime() + (long) (warmup * 1e9);
      do {
        step.run();
      } while (System.nanoTime() < end);
      return new Stepper(trainer, step);
    }

    private static ImageSet randomImages(NetworkSpec spec, int count) {
      Random random = new Random(1);
      int plane = spec.input().height() * spec.input().width();
      byte[] pixels = new byte[count * plane];
      random.nextBytes(pixels);
      byte[] labels = new byte[count];
      for (int i = 0; i < count; i++) {
        labels[i] = (byte) random.nextInt(spec.classes());
      }
      return new ImageSet("random", count, spec.input().height(), spec.input().width(), pixels, labels);
    }
  }
}
