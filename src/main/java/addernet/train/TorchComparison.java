package addernet.train;

import addernet.nn.NetworkSpec;
import addernet.nn.Operation;
import com.fasterxml.jackson.databind.node.ArrayNode;
import addernet.nn.NetworkSpec;
import addernet.nn.Operation;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code --peer torch} part of {@code bench train}: one {@link TorchPeer} round after each
 * pair of our rounds, and the ratios of adjacent rounds at the end. When torch is not installed
 * the comparison is skipped with a message and the benchmark carries on without it.
 */
public final class TorchComparison implements AutoCloseable {
  /** Adder-layer steps per round: PyTorch's unfold-and-broadcast layer runs at a few hundred images/s. */
  private static final int ADDER_STEPS = 2;

  private final int batch;
  private final int threads;
  private final double warmupSeconds;
  private final PrintStream err;
  private boolean started;
  private TorchPeer peer;
  private String skipped;
  private final List<Double> nativeRates = new ArrayList<>();
  private final List<Double> adderRates = new ArrayList<>();

  private TorchComparison(int batch, int threads, double warmupSeconds, PrintStream err) {
    this.batch = batch;
    this.threads = threads;
    this.warmupSeconds = warmupSeconds;
    this.err = err;
  }

  /**
   * The comparison named by {@code --peer} (only {@code torch}: native convolutions and the
   * adder-layer net). Nothing starts yet: the peer is looked for and warmed up at the first
   * {@link #round}, after our own warm-up, so that the two never warm up at the same time and an
   * invalid option elsewhere fails before Python is even started.
   */
  public static TorchComparison open(
      String name, int batch, int threads, double warmupSeconds, PrintStream err) {
    if (!"torch".equals(name)) {
      throw new IllegalArgumentException("--peer: expected torch, got '" + name + "'");
    }
    return new TorchComparison(batch, threads, warmupSeconds, err);
  }

  private void start() {
    started = true;
    var missing = TorchPeer.unavailable();
    if (missing.isPresent()) {
      skipped = "--peer torch skipped: " + missing.get();
      err.println("bench train: " + skipped);
      return;
    }
    peer = TorchPeer.start(batch, threads, warmupSeconds, true);
    err.printf("bench train: peer %s (OMP_WAIT_POLICY=%s), LeNet-5-BN with native convolutions"
        + " and with unfold-and-broadcast adder layers (%d steps per round)%n",
        peer.description(), peer.waitPolicy(), ADDER_STEPS);
  }

  /** One timed round of the peer, to alternate with ours; the first one starts it. */
  public void round(int steps) {
    if (!started) {
      start();
    }
    if (peer == null) {
      return;
    }
    nativeRates.add(peer.nativeRound(steps));
    adderRates.add(peer.adderRound(ADDER_STEPS));
  }

  /**
   * Prints and records the peer's medians and the median ratios of adjacent rounds: our net and
   * its twin against PyTorch's native convolution, our adder net against PyTorch's adder layer.
   */
  public void report(
      NetworkSpec first, double[] firstRounds, NetworkSpec twin, double[] twinRounds,
      ObjectNode root, PrintStream out) {
    boolean firstAdder = first.layers().stream().anyMatch(l -> l.operation() == Operation.ADDER);
    String adderName = firstAdder ? first.name() : twin.name();
    double[] adderRounds = firstAdder ? firstRounds : twinRounds;
    String twinName = firstAdder ? twin.name() : first.name();
    twinRounds = firstAdder ? twinRounds : firstRounds;
    ObjectNode node = root.putObject("peer");
    node.put("name", "torch");
    if (peer == null) {
      node.put("skipped", skipped);
      return;
    }
    node.put("version", peer.description());
    node.put("omp_wait_policy", peer.waitPolicy());
    double[] nat = nativeRates.stream().mapToDouble(Double::doubleValue).toArray();
    double[] add = adderRates.stream().mapToDouble(Double::doubleValue).toArray();
    put(node, "native_conv", nat);
    put(node, "adder_unfold_broadcast", add);
    out.printf("%-16s %8.0f images/s (%s, native convolutions; median of %d rounds)%n",
        "torch-lenet5-bn", median(nat), peer.description(), nat.length);
    out.printf("%-16s %8.0f images/s (%s, adder layers as unfold + broadcast, %d steps per round)%n",
        "torch-adder", median(add), peer.description(), ADDER_STEPS);
    ObjectNode ratios = node.putObject("ratios");
    {
      double r = medianRatio(adderRounds, nat);
      ratios.put(adderName + "_to_torch_native", r);
      out.printf("%s / torch native conv: %.3f%n", adderName, r);
      double ra = medianRatio(adderRounds, add);
      ratios.put(adderName + "_to_torch_adder", ra);
      out.printf("%s / torch adder layer: %.1f%n", adderName, ra);
    }
    {
      double r = medianRatio(twinRounds, nat);
      ratios.put(twinName + "_to_torch_native", r);
      out.printf("%s / torch native conv: %.3f%n", twinName, r);
    }
  }

  private static void put(ObjectNode node, String name, double[] rates) {
    ObjectNode n = node.putObject(name);
    n.put("images_per_second", median(rates));
    ArrayNode all = n.putArray("rounds_images_per_second");
    for (double v : rates) {
      all.add(v);
    }
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
