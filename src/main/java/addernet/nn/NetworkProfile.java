package addernet.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a network's training steps spend their time: a {@link LayerTimer} that sums each node's
 * phases over the steps it sees, then groups them by the kind of node (adder or multiply
 * convolutions by their kernel and stride, batch norm, ReLU, add, pooling), with the weighted
 * layers' element operations (output x patch row x column triples, O x K x M) per phase, so
 * that a phase's rate can be read against {@link KernelPeak}.
 */
public final class NetworkProfile implements LayerTimer {
  private static final Phase[] PHASES = Phase.values();

  /** Which peak a kernel phase is read against. */
  public enum Ceiling {
    /** |x - w| accumulated. */
    ADDER,
    /** A fused multiply-add. */
    FMA,
    /** Not a kernel phase: no operation count. */
    NONE
  }

  /**
   * One line of the profile.
   *
   * @param nanos summed over the steps
   * @param operations element operations (triples) over the steps, 0 where not counted
   */
  public record Row(String kind, String phase, int nodes, long nanos, long operations, Ceiling ceiling) {}

  private final Network network;
  private final long[][] nanos;

  public NetworkProfile(Network network) {
    this.network = network;
    this.nanos = new long[network.layers().size()][PHASES.length];
  }

  @Override
  public void record(int node, Phase phase, long t) {
    nanos[node][phase.ordinal()] += t;
  }

  /** Sum of the nodes' forward and backward times. */
  public long networkNanos() {
    long s = 0;
    for (long[] n : nanos) {
      s += n[Phase.FORWARD.ordinal()] + n[Phase.BACKWARD.ordinal()];
    }
    return s;
  }

  /** The rows, grouped by kind, in the order the kinds first appear in the network. */
  public List<Row> rows(int batch, int steps) {
    Map<String, long[]> time = new LinkedHashMap<>();
    Map<String, long[]> ops = new LinkedHashMap<>();
    Map<String, Integer> count = new LinkedHashMap<>();
    Map<String, Operation> operation = new LinkedHashMap<>();
    NetworkSpec spec = network.spec();
    for (int i = 0; i < nanos.length; i++) {
      long[] n = nanos[i];
      if (n[Phase.FORWARD.ordinal()] == 0 && n[Phase.BACKWARD.ordinal()] == 0) {
        continue;
      }
      NetworkSpec.LayerSpec s = spec.layers().get(i);
      String kind = kind(i);
      count.merge(kind, 1, Integer::sum);
      long[] t = time.computeIfAbsent(kind, k -> new long[PHASES.length]);
      long[] o = ops.computeIfAbsent(kind, k -> new long[PHASES.length]);
      for (int p = 0; p < PHASES.length; p++) {
        t[p] += n[p];
      }
      if (s.kind() == NetworkSpec.Kind.CONV || s.kind() == NetworkSpec.Kind.FC) {
        operation.put(kind, s.operation());
        long m = (long) batch * s.outputShape().height() * s.outputShape().width();
        long triples = (long) s.out() * s.in() * s.kernel() * s.kernel() * m * steps;
        if (s.kind() == NetworkSpec.Kind.FC) {
          triples = (long) s.out() * s.in() * batch * steps;
        }
        o[Phase.FORWARD_KERNEL.ordinal()] += triples;
        o[Phase.WEIGHT_GRADIENT.ordinal()] += triples;
        if (s.input() != NetworkSpec.NETWORK_INPUT) {
          o[Phase.INPUT_GRADIENT.ordinal()] += triples;
        }
      }
    }
    List<Row> rows = new ArrayList<>();
    for (String kind : time.keySet()) {
      long[] t = time.get(kind);
      long[] o = ops.get(kind);
      Operation op = operation.get(kind);
      boolean split = t[Phase.UNFOLD.ordinal()] + t[Phase.FORWARD_KERNEL.ordinal()]
          + t[Phase.WEIGHT_GRADIENT.ordinal()] > 0;
      if (!split) {
        // A dense layer or a node without a weighted kernel: forward and backward only.
        boolean dense = op != null;
        rows.add(new Row(kind, "forward", count.get(kind), t[Phase.FORWARD.ordinal()],
            dense ? o[Phase.FORWARD_KERNEL.ordinal()] : 0,
            dense ? (op == Operation.ADDER ? Ceiling.ADDER : Ceiling.FMA) : Ceiling.NONE));
        rows.add(new Row(kind, "backward", count.get(kind), t[Phase.BACKWARD.ordinal()], 0, Ceiling.NONE));
        continue;
      }
      Ceiling forward = op == Operation.ADDER ? Ceiling.ADDER : Ceiling.FMA;
      rows.add(new Row(kind, "im2col (forward, and a blocked backward's)", count.get(kind),
          t[Phase.UNFOLD.ordinal()], 0, Ceiling.NONE));
      rows.add(new Row(kind, "forward kernel", count.get(kind), t[Phase.FORWARD_KERNEL.ordinal()],
          o[Phase.FORWARD_KERNEL.ordinal()], forward));
      rows.add(new Row(kind, "backward weight gradient", count.get(kind),
          t[Phase.WEIGHT_GRADIENT.ordinal()], o[Phase.WEIGHT_GRADIENT.ordinal()], Ceiling.FMA));
      rows.add(new Row(kind, "backward input gradient", count.get(kind),
          t[Phase.INPUT_GRADIENT.ordinal()], o[Phase.INPUT_GRADIENT.ordinal()], forward));
      rows.add(new Row(kind, "backward col2im", count.get(kind), t[Phase.FOLD.ordinal()], 0, Ceiling.NONE));
      // What the phases do not cover (buffer checks, handing work to the threads).
      long covered = 0;
      for (Phase p : List.of(Phase.UNFOLD, Phase.FORWARD_KERNEL, Phase.WEIGHT_GRADIENT,
          Phase.INPUT_GRADIENT, Phase.FOLD)) {
        covered += t[p.ordinal()];
      }
      long whole = t[Phase.FORWARD.ordinal()] + t[Phase.BACKWARD.ordinal()];
      rows.add(new Row(kind, "rest of the node", count.get(kind), Math.max(0, whole - covered), 0, Ceiling.NONE));
    }
    return rows;
  }

  /**
   * The node's kind as the profile groups it: "adder conv 3x3 stride 2", "batchnorm + relu"
   * (fused), "add", ...
   */
  private String kind(int i) {
    NetworkSpec.LayerSpec s = network.spec().layers().get(i);
    return switch (s.kind()) {
      case CONV -> s.operation().keyword() + " conv " + s.kernel() + "x" + s.kernel()
          + (s.stride() != 1 ? " stride " + s.stride() : "");
      case FC -> s.operation().keyword() + " fc";
      case BATCHNORM -> i + 1 < network.layers().size() && nanos[i + 1][Phase.FORWARD.ordinal()] == 0
          && network.spec().layers().get(i + 1).kind() == NetworkSpec.Kind.RELU
          ? "batchnorm + relu" : "batchnorm";
      default -> s.kind().name().toLowerCase(java.util.Locale.ROOT);
    };
  }
}
