package addernet.cosim;

import addernet.gen.AccelManifest;
import addernet.gen.AcceleratorGenerator;
import addernet.quant.IntLayer;
import addernet.quant.IntNode;
import addernet.quant.IntNetwork;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.stream.IntStream;

/**
 * Runs images through the Verilated whole-network accelerator and compares its logits (and, when
 * asked, every layer's output as seen on the writeback trace port) with the Java integer
 * reference, bit for bit.
 */
public final class AccelCosim {
  /** How to drive the streams. */
  public record Options(int stallPercent, int seed, boolean compareLayers, Path waveform, int jobs) {
    public Options {
      if (stallPercent < 0 || stallPercent > 90) {
        throw new addernet.io.UserError("--stall must be a percentage in 0..90, got " + stallPercent);
      }
      if (jobs < 1 || jobs > MAX_JOBS) {
        throw new addernet.io.UserError("simulator processes must be in 1.." + MAX_JOBS + ", got " + jobs);
      }
    }

    /** One simulator process. */
    public Options(int stallPercent, int seed, boolean compareLayers, Path waveform) {
      this(stallPercent, seed, compareLayers, waveform, 1);
    }
  }

  /** More simulator processes than this only queue for the same cores. */
  public static final int MAX_JOBS = 256;

  /** The first output that differed: a logit, or an element of a layer's output. */
  public record Mismatch(
      String kind, int image, String layer, int channel, int position, long expected, Long got) {
    public String describe() {
      return kind + " of image " + image + (layer == null ? "" : ", layer " + layer) + ", "
          + (position < 0 ? "class " + channel : "channel " + channel + ", position " + position)
          + ": expected " + expected + ", got " + (got == null ? "nothing" : got);
    }
  }

  public record Report(
      String rtl,
      String network,
      int rows,
      int cols,
      int batch,
      int images,
      long compared,
      long mismatches,
      Double rtlAccuracy,
      Double referenceAccuracy,
      double cyclesPerImage,
      double idealCyclesPerImage,
      double cyclesOverIdeal,
      double imagesPerSecond,
      double simulatedCyclesPerSecond,
      double seconds,
      boolean layersCompared,
      int stallPercent,
      Mismatch firstMismatch,
      String waveform) {}

  /** A batch as the simulator returned it, with the reference's trace of its images. */
  private record Simulated(List<List<int[]>> expected, AccelSimulator.Batch batch) {}

  private final Path rtlDir;
  private final IntNetwork net;
  /** For each engine layer, the node whose output it stores (BufferPlan). */
  private final int[] stored;
  private final AccelManifest manifest;

  public AccelCosim(Path rtlDir, IntNetwork net) {
    this.rtlDir = rtlDir;
    this.net = net;
    this.stored = addernet.gen.BufferPlan.of(net).stored();
    this.manifest = AccelManifest.read(rtlDir);
    requireSameNetwork(rtlDir, manifest, net);
    int inSize = net.inChannels() * net.inHeight() * net.inWidth();
    if (manifest.inSize() != inSize || manifest.classes() != net.classes()) {
      throw new addernet.io.UserError(
          rtlDir + " was generated for " + manifest.inSize() + " pixels and " + manifest.classes()
              + " classes, but the model has " + inSize + " and " + net.classes()
              + "; generate the RTL from this model");
    }
    addernet.quant.PeOp op = manifest.peOp();
    for (IntLayer l : net.layers()) {
      if (l.op() != op) {
        throw new addernet.io.UserError(
            rtlDir + " has " + op.word() + " PEs, but layer " + l.name() + " of the model is a "
                + l.op().word() + " layer; generate the RTL from this model");
      }
    }
  }

  /**
   * Refuses a model whose network is not the one the RTL was generated from (the {@code
   * networkSha256} of accel.json), before anything is built: otherwise every logit differs and
   * the report reads like a hardware bug. Folders written before the digest existed are refused
   * too, with the command that writes a current one (docs/accelerator.md, "accel.json").
   */
  static void requireSameNetwork(Path rtlDir, AccelManifest m, IntNetwork net) {
    if (m.networkSha256() == null) {
      throw new addernet.io.UserError(
          rtlDir.resolve(AcceleratorGenerator.CONFIG_FILE) + " records no networkSha256 (written"
              + " by an older version), so it cannot be checked against " + net.name()
              + "; generate it again: addernet generate --model PKG --rows " + m.rows() + " --cols "
              + m.cols() + " --batch " + m.batch() + " --out " + rtlDir);
    }
    String digest = AcceleratorGenerator.digest(net);
    if (!digest.equals(m.networkSha256())) {
      throw new addernet.io.UserError(
          "--rtl " + rtlDir + " was generated from network " + m.network() + " (sha256 "
              + m.networkSha256().substring(0, 12) + "...), not from the model's network "
              + net.name() + " (sha256 " + digest.substring(0, 12) + "...); generate the RTL from"
              + " this model or pass the model it was generated from");
    }
  }

  /** Layer-by-layer comparison reads the trace port, which an FPGA build may have left out. */
  private void requireTrace() {
    if (!manifest.trace()) {
      throw new addernet.io.UserError(
          rtlDir + " was generated with --no-trace, so only logits can be compared; regenerate"
              + " without --no-trace to compare every layer");
    }
  }

  /**
   * The images a batch of {@code count} real ones runs: all of them under AXI4-Lite control, whose
   * IMAGES register takes a short last batch as it is; the whole batch, padded, on the plain ports.
   */
  private int sent(int count) {
    return manifest.axiControl() ? count : manifest.batch();
  }

  /** Streams {@code images} (pixels 0..255) through the RTL; {@code labels} may be null. */
  public Report run(int[][] images, int[] labels, Options opt, LongConsumer progress) {
    if (opt.compareLayers()) {
      requireTrace();
    }
    int n = manifest.batch();
    int inSize = manifest.inSize();
    int classes = manifest.classes();
    long start = System.nanoTime();
    long compared = 0;
    long mismatches = 0;
    long accCycles = 0;
    long simCycles = 0;
    int rtlCorrect = 0;
    int refCorrect = 0;
    Mismatch first = null;
    int failingBatch = -1;
    int batches = (images.length + n - 1) / n;
    long imagesRun = 0;
    try (SimulatorPool<Simulated> runner = new SimulatorPool<>(rtlDir, opt.jobs(), batches, (batchIdx, sim) -> {
      int b0 = batchIdx * n;
      int count = Math.min(n, images.length - b0);
      byte[] pixels = new byte[sent(count) * inSize];
      for (int i = 0; i < count; i++) {
        for (int p = 0; p < inSize; p++) {
          pixels[i * inSize + p] = (byte) images[b0 + i][p];
        }
      }
      // With several simulators the cores are already busy: the reference runs on the job's thread.
      IntStream idx = IntStream.range(0, count);
      List<List<int[]>> expected = (opt.jobs() == 1 ? idx.parallel() : idx)
          .mapToObj(i -> net.trace(images[b0 + i]))
          .toList();
      // The seed goes with the batch, not the simulator, so results do not depend on --threads.
      return new Simulated(expected, sim.run(pixels, opt.stallPercent(), opt.seed() + batchIdx,
          opt.compareLayers()));
    })) {
      for (int b0 = 0, batchIdx = 0; b0 < images.length; b0 += n, batchIdx++) {
        int count = Math.min(n, images.length - b0);
        Simulated done = runner.next();
        List<List<int[]>> expected = done.expected();
        AccelSimulator.Batch out = done.batch();
        accCycles += out.acceleratorCycles();
        simCycles += out.simCycles();
        long before = mismatches;
        List<int[][]> seen = opt.compareLayers() ? decode(out.writes(), n) : null;
        for (int i = 0; i < count; i++) {
          int img = b0 + i;
          List<int[]> exp = expected.get(i);
          if (seen != null) {
            for (int l = 0; l < net.layers().size(); l++) {
              // What layer l stores: its output, its add's sum or its pool's means.
              IntNode node = net.nodes().get(stored[l]);
              int[] e = exp.get(stored[l] + 1);
              int[] g = seen.get(l)[i];
              int plane = node.height() * node.width();
              for (int q = 0; q < e.length; q++) {
                compared++;
                if (g[q] != e[q]) {
                  mismatches++;
                  if (first == null) {
                    first = new Mismatch(node.kind() == IntNode.Kind.LAYER ? "layer output" : node.kind().word() + " output",
                        img, node.name(), q / plane, q % plane,
                        e[q], g[q] == Integer.MIN_VALUE ? null : (long) g[q]);
                  }
                }
              }
            }
          }
          int[] e = exp.get(exp.size() - 1);
          for (int t = 0; t < classes; t++) {
            int at = i * classes + t;
            Long got = at < out.logits().length ? (long) out.logits()[at] : null;
            compared++;
            if (got == null || got != e[t]) {
              mismatches++;
              if (first == null) {
                first = new Mismatch("logit", img, null, t, -1, e[t], got);
              }
            }
          }
          int[] got = Arrays.copyOfRange(out.logits(), Math.min(out.logits().length, i * classes),
              Math.min(out.logits().length, (i + 1) * classes));
          if (labels != null) {
            refCorrect += argmax(e) == labels[img] ? 1 : 0;
            rtlCorrect += got.length == classes && argmax(got) == labels[img] ? 1 : 0;
          }
        }
        // Every image ends with tlast on its last logit, and nothing more comes out.
        int run = sent(count);
        imagesRun += run;
        int[] wantLast = IntStream.range(0, run).map(i -> (i + 1) * classes - 1).toArray();
        if (out.logits().length != run * classes || !Arrays.equals(out.lastBeats(), wantLast)) {
          mismatches++;
          if (first == null) {
            first = new Mismatch("stream framing (beats " + out.logits().length + ", tlast at "
                + Arrays.toString(out.lastBeats()) + ")", b0, null, -1, -1, run * classes,
                (long) out.logits().length);
          }
        }
        if (mismatches > before && failingBatch < 0) {
          failingBatch = batchIdx;
        }
        progress.accept(count);
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    String wave = null;
    if (failingBatch >= 0 && opt.waveform() != null) {
      int b0 = failingBatch * n;
      byte[] pixels = new byte[sent(Math.min(n, images.length - b0)) * inSize];
      for (int i = 0; i < n && b0 + i < images.length; i++) {
        for (int p = 0; p < inSize; p++) {
          pixels[i * inSize + p] = (byte) images[b0 + i][p];
        }
      }
      try (AccelSimulator traced = new AccelSimulator(rtlDir, opt.waveform())) {
        traced.run(pixels, opt.stallPercent(), opt.seed() + failingBatch, false);
      }
      wave = opt.waveform().toString();
    }
    double cyclesPerImage = imagesRun == 0 ? 0 : (double) accCycles / imagesRun;
    double ideal = (double) net.adderOpsPerImage() / (manifest.rows() * manifest.cols());
    return new Report(
        rtlDir.toString(), net.name(), manifest.rows(), manifest.cols(), n, images.length,
        compared, mismatches,
        labels == null ? null : (double) rtlCorrect / images.length,
        labels == null ? null : (double) refCorrect / images.length,
        cyclesPerImage, ideal, cyclesPerImage / ideal, images.length / seconds,
        simCycles / seconds, seconds, opt.compareLayers(), opt.stallPercent(), first, wave);
  }

  /**
   * Rebuilds every layer's output, per image, from the writeback trace (docs/accelerator.md,
   * "Storage": image n in lane n mod R at word (n div R) x S + c x H x W + y x W + x of its tensor,
   * the logits at word ((n div R) x M + m) x classes + t; the last write of a word wins, as in
   * the buffer). Words never written read as
   * Integer.MIN_VALUE.
   */
  List<int[][]> decode(List<AccelSimulator.Write> writes, int batch) {
    int rows = manifest.rows();
    int layers = net.layers().size();
    int[][][] out = new int[layers][][];
    for (int l = 0; l < layers; l++) {
      out[l] = new int[batch][net.nodes().get(stored[l]).outSize()];
      for (int[] img : out[l]) {
        Arrays.fill(img, Integer.MIN_VALUE);
      }
    }
    for (AccelSimulator.Write w : writes) {
      if (w.layer() < 0 || w.layer() >= layers) {
        continue;
      }
      int size = net.nodes().get(stored[w.layer()]).outSize();
      // The logits memory holds a group's images in M = ceil(R / Q) blocks of classes.
      int group = w.layer() == layers - 1 ? size * ((rows + manifest.requantizers() - 1) / manifest.requantizers()) : size;
      int img = (w.addr() / group) * rows + w.lane();
      int at = w.addr() % size;
      if (img < batch && w.lane() < rows) {
        out[w.layer()][img][at] = w.value();
      }
    }
    return Arrays.asList(out);
  }

  static int argmax(int[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }
}
