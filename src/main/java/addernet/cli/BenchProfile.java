package addernet.cli;

import addernet.nn.KernelPeak;
import addernet.nn.Network;
import addernet.nn.NetworkProfile;
import addernet.nn.NetworkSpec;
import addernet.nn.Operation;
import addernet.nn.Workers;
import addernet.train.Recipe;
import addernet.train.Sgd;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code bench train --profile}: each net's steps timed node by node ({@link NetworkProfile}),
 * grouped by kind of node and phase, with the rest of the step (loss, SGD step, batch fill) as
 * one more line and the SGD step timed on its own; the weighted kernels' rates against the
 * machine's measured peak ({@link KernelPeak}).
 */
final class BenchProfile {
  private BenchProfile() {}

  static void run(
      List<NetworkSpec> specs, List<BenchCommand.Train.Stepper> steppers, int steps, int batch,
      Workers workers, ObjectNode node, PrintStream out) {
    node.put("steps", steps);
    KernelPeak.Peak peak = null;
    if (Operation.VECTOR) {
      peak = KernelPeak.measure(workers, 1.5);
      ObjectNode p = node.putObject("peak");
      p.put("threads", peak.threads());
      p.put("adder_giga_per_second", peak.adderPerSecond() / 1e9);
      p.put("fma_giga_per_second", peak.fmaPerSecond() / 1e9);
      p.put("method", "12 independent 256-bit sums over 2 x 64 vectors in L1, on every worker"
          + " thread at once, best of tries over 1.5 s; one operation is one lane of"
          + " |x - w| accumulated (sub, abs, add) or of a fused multiply-add");
      out.printf("%npeak on %d thread%s (L1-resident microkernel): |x-w| accumulate %.1f G/s,"
          + " fused multiply-add %.1f G/s (lanes per second)%n", peak.threads(),
          peak.threads() == 1 ? "" : "s", peak.adderPerSecond() / 1e9, peak.fmaPerSecond() / 1e9);
    } else {
      node.put("peak", "not measured: plain-Java kernels");
    }
    ArrayNode nets = node.putArray("networks");
    for (int n = 0; n < specs.size(); n++) {
      profileOne(specs.get(n), steppers.get(n), steps, batch, peak, nets.addObject(), out);
    }
  }

  private static void profileOne(
      NetworkSpec spec, BenchCommand.Train.Stepper stepper, int steps, int batch,
      KernelPeak.Peak peak, ObjectNode node, PrintStream out) {
    Network net = stepper.trainer().network();
    NetworkProfile profile = new NetworkProfile(net);
    net.time(profile);
    long t0 = System.nanoTime();
    try {
      for (int k = 0; k < steps; k++) {
        stepper.run();
      }
    } finally {
      net.time(null);
    }
    long whole = System.nanoTime() - t0;
    // The optimizer alone, on a second momentum state (the net's weights move once more per call).
    Recipe r = stepper.trainer().recipe();
    Sgd sgd = new Sgd(r.momentum(), r.weightDecay(), r.eta());
    sgd.step(net.params(), 1e-6);
    long s0 = System.nanoTime();
    for (int k = 0; k < steps; k++) {
      sgd.step(net.params(), 1e-6);
    }
    long sgdNanos = System.nanoTime() - s0;
    double stepMs = whole / 1e6 / steps;
    node.put("model", spec.name());
    node.put("step_ms", stepMs);
    node.put("images_per_second", (double) steps * batch / (whole / 1e9));
    ArrayNode rows = node.putArray("rows");
    out.printf("%nprofile of %s: %.1f ms per step of %d images (%.1f images/s), %d steps%n",
        spec.name(), stepMs, batch, steps * batch / (whole / 1e9), steps);
    out.printf("  %-26s %5s  %-42s %9s %6s %9s %10s%n", "kind", "nodes", "phase", "ms/step", "share",
        "G op/s", "of peak");
    for (NetworkProfile.Row row : profile.rows(batch, steps)) {
      double ms = row.nanos() / 1e6 / steps;
      ObjectNode j = rows.addObject();
      j.put("kind", row.kind());
      j.put("phase", row.phase());
      j.put("nodes", row.nodes());
      j.put("ms_per_step", ms);
      j.put("share", row.nanos() / (double) whole);
      String rate = "";
      String fraction = "";
      if (row.operations() > 0 && row.nanos() > 0) {
        double gops = row.operations() / (row.nanos() / 1e9) / 1e9;
        j.put("operations_per_step", row.operations() / steps);
        j.put("giga_operations_per_second", gops);
        j.put("ceiling", row.ceiling().name().toLowerCase(java.util.Locale.ROOT));
        rate = String.format("%.2f", gops);
        if (peak != null) {
          double ceiling = row.ceiling() == NetworkProfile.Ceiling.ADDER ? peak.adderPerSecond()
              : peak.fmaPerSecond();
          double f = gops * 1e9 / ceiling;
          j.put("fraction_of_peak", f);
          fraction = String.format("%.0f%% %s", 100 * f,
              row.ceiling() == NetworkProfile.Ceiling.ADDER ? "|x-w|" : "fma");
        }
      }
      out.printf("  %-26s %5d  %-42s %9.2f %5.1f%% %9s %10s%n", row.kind(), row.nodes(), row.phase(),
          ms, 100.0 * row.nanos() / whole, rate, fraction);
    }
    long rest = Math.max(0, whole - profile.networkNanos());
    ObjectNode j = rows.addObject();
    j.put("kind", "outside the network");
    j.put("phase", "batch fill, loss, SGD step");
    j.put("ms_per_step", rest / 1e6 / steps);
    j.put("share", rest / (double) whole);
    j.put("sgd_step_alone_ms", sgdNanos / 1e6 / steps);
    out.printf("  %-26s %5s  %-42s %9.2f %5.1f%%   (SGD step alone: %.2f ms)%n",
        "outside the network", "", "batch fill, loss, SGD step", rest / 1e6 / steps,
        100.0 * rest / whole, sgdNanos / 1e6 / steps);
  }
}
