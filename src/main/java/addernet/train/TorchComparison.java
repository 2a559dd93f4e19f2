package addernet.train;

import addernet.nn.NetworkSpec;
import addernet.nn.Operation;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code --peer torch} part of {@code bench train}: one {@link TorchPeer} round after each
 * pair of our rounds, and the ratios of adjacent rounds at the end. PyTorch trains the CNN twin
 * of our net with its native layers, and our adder net with the official adder layer at its own
 * (smaller) batch, whose unfold-and-broadcast tensors grow with the batch by outputs x patch rows
 * per image. When torch is not installed the comparison is skipped with a message, and when the
 * peer fails or outlasts its timeout it is stopped with a message; the benchmark carries on
 * without it either way.
 */
public final class TorchComparison implements AutoCloseable {
  /** How the peer is run; see the {@code --peer-*} options of bench train. */
  public record Options(int adderBatch, int adderSteps, double timeoutSeconds) {}

  private final int batch;
  private final int threads;
  private final double warmupSeconds;
  private final Options options;
  private final PrintStream err;
  private boolean started;
  private TorchPeer peer;
  private String skipped;
  private String stopped;
  private String description;
  private String waitPolicy;
  private NetworkSpec adderNet;
  private NetworkSpec cnnNet;
  private final List<Double> nativeRates = new ArrayList<>();
  private final List<Double> adderRates = new ArrayList<>();

  private TorchComparison(
      int batch, int threads, double warmupSeconds, Options options, PrintStream err) {
    this.batch = batch;
    this.threads = threads;
    this.warmupSeconds = warmupSeconds;
    this.options = options;
    this.err = err;
  }

  /**
   * The comparison named by {@code --peer} (only {@code torch}). Nothing starts yet: the peer is
   * looked for and warmed up at the first {@link #round}, after our own warm-up, so that the two
   * never warm up at the same time and an invalid option elsewhere fails before Python starts.
   */
  public static TorchComparison open(
      String name, int batch, int threads, double warmupSeconds, Options options, PrintStream err) {
    if (!"torch".equals(name)) {
      throw new IllegalArgumentException("--peer: expected torch, got '" + name + "'");
    }
    if (options.adderBatch() < 1 || options.adderSteps() < 0 || !(options.timeoutSeconds() > 0)) {
      throw new IllegalArgumentException(
          "--peer-adder-batch must be at least 1, --peer-adder-steps at least 0, --peer-timeout above 0");
    }
    return new TorchComparison(batch, threads, warmupSeconds, options, err);
  }

  public static boolean hasAdder(NetworkSpec spec) {
    return spec.layers().stream().anyMatch(l -> l.operation() == Operation.ADDER);
  }

  private void start(NetworkSpec first, NetworkSpec twin) {
    started = true;
    adderNet = hasAdder(first) ? first : twin;
    cnnNet = hasAdder(first) ? twin : first;
    var missing = TorchPeer.unavailable();
    if (missing.isPresent()) {
      skipped = "--peer torch skipped: " + missing.get();
      err.println("bench train: " + skipped);
      return;
    }
    boolean adder = options.adderSteps() > 0;
    peer = TorchPeer.start(new TorchPeer.Setup(cnnNet, adder ? adderNet : null, batch,
        options.adderBatch(), 1, threads, warmupSeconds, options.timeoutSeconds()));
    description = peer.description();
    waitPolicy = peer.waitPolicy();
    err.printf("bench train: peer %s (OMP_WAIT_POLICY=%s): %s with native layers at batch %d%s;"
        + " parameters equal ours (%,d)%n", description, waitPolicy, cnnNet.name(), batch,
        adder ? String.format(", %s with the official adder layer at batch %d (%d step%s per round)",
            adderNet.name(), options.adderBatch(), options.adderSteps(),
            options.adderSteps() == 1 ? "" : "s") : "",
        cnnNet.parameters());
  }

  /** One timed round of the peer, to alternate with ours; the first one starts it. */
  public void round(NetworkSpec first, NetworkSpec twin, int steps) {
    if (!started) {
      start(first, twin);
    }
    if (peer == null) {
      return;
    }
    try {
      nativeRates.add(peer.nativeRound(steps));
      if (peer.hasAdder()) {
        adderRates.add(peer.adderRound(options.adderSteps()));
      }
    } catch (TorchPeer.PeerException e) {
      // A peer that fails mid-run leaves our own figures standing.
      stopped = e.getMessage();
      err.println("bench train: " + stopped + "; carrying on without it");
      peer.close();
      peer = null;
    }
  }

  /**
   * Prints and records the peer's medians and the median ratios of adjacent rounds: our adder
   * net and its twin against PyTorch's native layers, our adder net against the official adder
   * layer (images/s at the two batches).
   */
  public void report(
      NetworkSpec first, double[] firstRounds, NetworkSpec twin, double[] twinRounds,
      ObjectNode root, PrintStream out) {
    boolean firstAdder = hasAdder(first);
    double[] adderRounds = firstAdder ? firstRounds : twinRounds;
    double[] cnnRounds = firstAdder ? twinRounds : firstRounds;
    ObjectNode node = root.putObject("peer");
    node.put("name", "torch");
    if (skipped != null) {
      node.put("skipped", skipped);
      return;
    }
    if (description == null) {
      return;
    }
    node.put("version", description);
    node.put("omp_wait_policy", waitPolicy);
    node.put("parameters", cnnNet.parameters());
    node.put("parameters_equal", true);
    if (stopped != null) {
      node.put("stopped", stopped);
    }
    double[] nat = nativeRates.stream().mapToDouble(Double::doubleValue).toArray();
    double[] add = adderRates.stream().mapToDouble(Double::doubleValue).toArray();
    if (nat.length == 0) {
      return;
    }
    ObjectNode n = put(node, "native_conv", nat);
    n.put("model", cnnNet.name());
    n.put("batch", batch);
    String torchName = "torch-" + cnnNet.name();
    out.printf("%-22s %8.1f images/s (%s, native layers, batch %d; median of %d rounds)%n",
        torchName, median(nat), description, batch, nat.length);
    if (add.length > 0) {
      ObjectNode a = put(node, "adder_unfold_broadcast", add);
      a.put("model", adderNet.name());
      a.put("batch", options.adderBatch());
      a.put("steps_per_round", options.adderSteps());
      out.printf("%-22s %8.2f images/s (%s, official adder layer: unfold + broadcast |x-w| sum,"
          + " batch %d, %d step%s per round, median of %d rounds)%n", "torch-" + adderNet.name(),
          median(add), description, options.adderBatch(), options.adderSteps(),
          options.adderSteps() == 1 ? "" : "s", add.length);
    }
    ObjectNode ratios = node.putObject("ratios");
    double r = medianRatio(adderRounds, nat);
    ratios.put(adderNet.name() + "_to_torch_native", r);
    out.printf("%s / %s: %.3f%n", adderNet.name(), torchName, r);
    if (add.length > 0) {
      double ra = medianRatio(adderRounds, add);
      ratios.put(adderNet.name() + "_to_torch_adder", ra);
      out.printf("%s / torch official adder: %.1f%s%n", adderNet.name(), ra,
          options.adderBatch() == batch ? "" : String.format(
              " (images/s at batch %d against batch %d)", batch, options.adderBatch()));
    }
    double rc = medianRatio(cnnRounds, nat);
    ratios.put(cnnNet.name() + "_to_torch_native", rc);
    out.printf("%s / %s: %.3f%n", cnnNet.name(), torchName, rc);
  }

  private static ObjectNode put(ObjectNode node, String name, double[] rates) {
    ObjectNode n = node.putObject(name);
    n.put("images_per_second", median(rates));
    ArrayNode all = n.putArray("rounds_images_per_second");
    for (double v : rates) {
      all.add(v);
    }
    return n;
  }

  private static double medianRatio(double[] ours, double[] theirs) {
    int n = Math.min(ours.length, theirs.length);
    double[] r = new double[n];
    for (int i = 0; i < n; i++) {
      r[i] = ours[i] / theirs[i];
    }
    return median(r);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted.length == 0 ? Double.NaN : sorted[sorted.length / 2];
  }

  @Override
  public void close() {
    if (peer != null) {
      peer.close();
    }
  }
}
