package addernet.cosim;

import addernet.gen.AcceleratorGenerator;
import addernet.quant.PeOp;
import addernet.io.Outputs;
import addernet.quant.IntNetwork;
import addernet.quant.RandomNetworks;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Small random networks on random array sizes, each generated, co-simulated layer by layer under
 * random stalls and discarded; a failing one's RTL is kept.
 */
public final class NetworkCampaign {
  /** One entry of the campaign's report. */
  public record NetworkRun(long seed, String network, int rows, int cols, int batch, int images,
      long compared, long mismatches, String firstMismatch, String keptRtl) {}

  /** The campaign's report. */
  public record NetworksReport(long seed, int networks, int failed, long compared, List<NetworkRun> runs) {}

  /**
   * Where failing networks' RTL goes.
   */
  public interface Keep {
    /** The folder to move a failing network's RTL into, asked for at the first failure. */
    Path folder() throws IOException;

    /** The folder as the user sees it once the run is committed. */
    Path shown();
  }

  private NetworkCampaign() {}

  /**
   * Checks {@code networks} random networks of {@code op} PEs from {@code seed} (residual ones if
   * {@code residual}); {@code step} runs after each, and each failure is described on {@code log}.
   */
  public static NetworksReport run(long seed, int networks, PeOp op, boolean residual, Keep keep, Runnable step,
      PrintStream log)
      throws IOException {
    List<NetworkRun> runs = new ArrayList<>();
    int failed = 0;
    long compared = 0;
    Path keepFolder = null;
    Path work = Files.createTempDirectory("addernet-random-networks");
    try {
      for (int i = 0; i < networks; i++) {
        long s = seed * 1_000_003L + i;
        IntNetwork net = residual ? RandomNetworks.residual(s, op) : RandomNetworks.create(s, op);
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
          if (keepFolder == null) {
            keepFolder = keep.folder();
          }
          moveTree(dir, keepFolder.resolve(net.name()));
          Path dest = keep.shown().resolve(net.name());
          kept = dest.toString();
          log.println("\n" + net.name() + " (" + opt + "): " + r.firstMismatch().describe() + "; RTL kept in " + dest);
        } else {
          Outputs.deleteTree(dir);
        }
        runs.add(new NetworkRun(s, net.name(), opt.rows(), opt.cols(), opt.batch(), count,
            r.compared(), r.mismatches(),
            r.firstMismatch() == null ? null : r.firstMismatch().describe(), kept));
        step.run();
      }
    } finally {
      Outputs.deleteTree(work);
    }
    return new NetworksReport(seed, networks, failed, compared, runs);
  }

  /** Moves a folder, copying it when it lies on another file system than the system's temporary folder. */
  private static void moveTree(Path from, Path to) throws IOException {
    try {
      Files.move(from, to);
    } catch (IOException e) {
      try (var s = Files.walk(from)) {
        for (Path p : s.toList()) {
          Files.copy(p, to.resolve(from.relativize(p).toString()));
        }
      }
      Outputs.deleteTree(from);
    }
  }
}
