package addernet.quant;

import addernet.data.ImageSet;
import addernet.data.Normalization;
import addernet.nn.BatchNorm;
import addernet.nn.Network;
import addernet.nn.Workers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Post-training quantization of a float AdderNet into the integer network of the numeric
 * contract.
 *
 * <h2>Scales (contract sections 1 and 5)</h2>
 *
 * Layer 0's scale is fixed by the input: the hardware takes {@code u >> input_shift}, so one step
 * is {@code 2^input_shift / 255} in the [0, 1] pixel domain. The training normalization
 * {@code x = (u/255 - mean) / std} is folded into layer 0's weights: {@code |x - w| = |u/255 -
 * (mean + std w)| / std}, so the weights move to {@code mean + std w} and the 1/std goes into the
 * requantization. Because the shift truncates, a quantized pixel q stands on average for
 * {@code (q + 1/2)} steps; the weights are shifted by the same half step so the difference stays
 * centred.
 *
 * <p>Every later adder layer's input is a ReLU output, so it lies in [0, hi]. Its shared scale is
 * chosen from the activations alone, by calibration: the clip value c (mapped to hi = 2^(B-1)-1)
 * minimises the mean squared quantization error of the calibration activations (or, if asked, is
 * a fixed percentile of them). The weights need no say in it: a weight beyond the grid is clipped
 * to its edge, and because every activation lies inside the grid, |x - w| then changes by the
 * same amount (w - edge) for every x. That constant is folded exactly into the requantization
 * bias, so clipping weights costs nothing and the grid can be as fine as the activations allow.
 *
 * <h2>Requantization (contract section 7)</h2>
 *
 * With y = g (acc - E) the float pre-BN output (g the layer's step, E the clipped weights'
 * correction), BN's eval form z = k y + h, ReLU and the next scale s' give q = a acc + b with
 * a = k g / s', b = (h - k g E) / s'. Cutting a to D signed digits shifts it slightly; the bias is
 * moved so the cut costs nothing at the batch-norm mean, where most accumulators are.
 */
public final class Quantizer {
  private static final int SAMPLES = 200_000;
  private static final int CANDIDATES = 256;
  /** The logits keep this much headroom above the largest calibration logit. */
  private static final double LOGIT_HEADROOM = 2.0;

  private Quantizer() {}

  /** Chooses every scale from the first {@code config.calibrationImages()} images of {@code set}. */
  public static Scales calibrate(
      Network net, Normalization norm, ImageSet set, QuantConfig config, Workers workers) {
    if (!net.spec().isChain()) {
      return calibrateGraph(FloatGraph.of(net), norm, set, config, workers);
    }
    List<FloatStage> stages = FloatStage.of(net);
    int count = Math.min(config.calibrationImages(), set.count());
    int layers = stages.size();
    float[][] samples = new float[layers + 1][SAMPLES];
    int[] seen = new int[layers + 1];
    double[] maxAbs = new double[layers + 1];
    SplittableRandom rnd = new SplittableRandom(17);
    FloatPass.run(net, stages, set, count, norm, workers, (s, values, batch) -> {
      for (float v : values) {
        maxAbs[s] = Math.max(maxAbs[s], Math.abs(v));
        // Reservoir sampling keeps a uniform sample whatever the number of activations.
        int n = seen[s]++;
        if (n < SAMPLES) {
          samples[s][n] = v;
        } else {
          long j = rnd.nextLong(n + 1L);
          if (j < SAMPLES) {
            samples[s][(int) j] = v;
          }
        }
      }
    });
    double[] scales = new double[layers];
    scales[0] = firstScale(config.bitsOf(stages.get(0).name()));
    for (int s = 1; s < layers; s++) {
      int hi = (1 << (config.bitsOf(stages.get(s).name()) - 1)) - 1;
      float[] x = Arrays.copyOf(samples[s], Math.min(seen[s], SAMPLES));
      double clip = config.clipPercentile() > 0
          ? percentile(x, config.clipPercentile())
          : mseClip(x, maxAbs[s], hi);
      if (!(clip > 0)) {
        clip = 1; // a layer whose input is all zero: any scale represents it exactly
      }
      scales[s] = clip / hi;
    }
    double logitMax = Math.max(maxAbs[layers], 1e-6);
    double logit = logitMax * LOGIT_HEADROOM / ((1L << (config.logitBits() - 1)) - 1);
    return new Scales(scales, logit);
  }

  /** Contract section 5: one step of the first layer's input, in the [0, 1] pixel domain. */
  public static double firstScale(int bits) {
    return Math.scalb(1.0, IntNetwork.inputShift(bits)) / 255.0;
  }

  /** The half-step offset of a truncated pixel (see the class comment); 0 when nothing is cut. */
  static double firstOffset(int bits) {
    return IntNetwork.inputShift(bits) > 0 ? 0.5 : 0.0;
  }

  static double percentile(float[] x, double p) {
    if (x.length == 0) {
      return 0;
    }
    float[] s = x.clone();
    Arrays.sort(s);
    int i = (int) Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100 * s.length) - 1));
    return s[i];
  }

  /** The clip in (0, max] that minimises the squared error of quantizing x onto 0..hi. */
  static double mseClip(float[] x, double max, int hi) {
    double best = max;
    double bestErr = Double.POSITIVE_INFINITY;
    for (int j = CANDIDATES; j >= 1; j--) {
      double clip = max * j / CANDIDATES;
      double s = clip / hi;
      double err = 0;
      for (float v : x) {
        double q = Math.min(hi, Math.max(0, Math.rint(v / s)));
        double d = v - q * s;
        err += d * d;
      }
      if (err < bestErr) {
        bestErr = err;
        best = clip;
      }
    }
    return best;
  }

  /** The weights of stage {@code s} on its grid, and each output channel's clipping correction. */
  record GridWeights(int[] q, double[] correction) {}

  /**
   * Stage weights in grid units: w / s for hidden layers, (mean + std w) / s0 - offset for the
   * first adder layer (normalization folded in, section 5). A first multiply layer sees the
   * normalized input (x - mean) / std, so its weights become w / std and the mean goes into the
   * bias instead (see {@link #multiplyOffsets}).
   */
  static double[] onGrid(FloatStage st, int index, double scale, int bits, Normalization norm) {
    float[] w = st.weights();
    double[] r = new double[w.length];
    if (st.op() == PeOp.MULTIPLY) {
      for (int i = 0; i < w.length; i++) {
        r[i] = index == 0 ? w[i] / norm.std() / scale : w[i] / scale;
      }
      return r;
    }
    double offset = index == 0 ? firstOffset(bits) : 0;
    for (int i = 0; i < w.length; i++) {
      r[i] = index == 0 ? (norm.mean() + norm.std() * w[i]) / scale - offset : w[i] / scale;
    }
    return r;
  }

  /**
   * The real value of one weight step of stage {@code index} (in the units {@link #onGrid}
   * divides by): the input's shared scale for adder layers, and for multiply layers either that
   * too ({@link QuantConfig#macSharedScale}) or their own, max |w| / (2^(B-1) - 1), so no weight
   * is clipped.
   */
  public static double weightScale(FloatStage st, int index, double inputScale, int bits,
      Normalization norm, QuantConfig config) {
    if (st.op() == PeOp.ADDER || config.macSharedScale()) {
      return inputScale;
    }
    double[] r = onGrid(st, index, 1.0, bits, norm);
    double max = 0;
    for (double v : r) {
      max = Math.max(max, Math.abs(v));
    }
    return max > 0 ? max / ((1 << (bits - 1)) - 1) : inputScale;
  }

  /**
   * The first multiply layer's constant per output channel, in the units of the float pre-BN
   * output: a pixel q stands for (q + offset) s0 in [0, 1], normalized ((q + offset) s0 - mean) /
   * std, so sum_k x_k w_k = s0 s_w sum_k q_k wq_k + (offset s0 - mean) s_w sum_k wq_k, with wq the
   * grid weights (w / std = wq s_w). Later layers' inputs are exact multiples of their scale: no
   * constant.
   */
  static double[] multiplyOffsets(int[] q, int channels, double s0, double weightScale,
      int bits, Normalization norm) {
    int per = q.length / channels;
    double[] d = new double[channels];
    double pixelOffset = firstOffset(bits) * s0 - norm.mean();
    for (int t = 0; t < channels; t++) {
      long sum = 0;
      for (int i = t * per; i < (t + 1) * per; i++) {
        sum += q[i];
      }
      d[t] = pixelOffset * weightScale * sum;
    }
    return d;
  }

  static GridWeights toGrid(double[] r, int channels, int bits) {
    int lo = -(1 << (bits - 1));
    int hi = (1 << (bits - 1)) - 1;
    int per = r.length / channels;
    int[] q = new int[r.length];
    double[] e = new double[channels];
    for (int i = 0; i < r.length; i++) {
      q[i] = (int) Math.max(lo, Math.min(hi, Math.rint(r[i])));
      e[i / per] += r[i] < lo ? lo - r[i] : r[i] > hi ? r[i] - hi : 0;
    }
    return new GridWeights(q, e);
  }

  /** Builds the integer network (contract sections 5 to 7) with the given scales. */
  public static IntNetwork quantize(Network net, Normalization norm, Scales scales, QuantConfig config) {
    if (!net.spec().isChain()) {
      return quantizeGraph(FloatGraph.of(net), norm, scales, config);
    }
    List<FloatStage> stages = FloatStage.of(net);
    if (scales.input().length != stages.size()) {
      throw new IllegalArgumentException(
          "scales for " + scales.input().length + " layers, network has " + stages.size());
    }
    for (String name : config.layerBits().keySet()) {
      if (stages.stream().noneMatch(s -> s.name().equals(name))) {
        throw new IllegalArgumentException(
            "no layer named '" + name + "'; this network has "
                + stages.stream().map(FloatStage::name).toList());
      }
    }
    FloatStage first = stages.get(0);
    if (first.padding() > 0 && norm.mean() != 0) {
      // The hardware pads with raw pixel 0, the float network with normalized 0 (pixel = mean).
      throw new IllegalArgumentException(
          first.name() + ": zero padding in the first layer differs between raw and normalized pixels");
    }
    List<IntLayer> out = new ArrayList<>();
    for (int s = 0; s < stages.size(); s++) {
      FloatStage st = stages.get(s);
      int bits = config.bitsOf(st.name());
      double scale = scales.input(s);
      if (s == 0 && Math.abs(scale - firstScale(bits)) > 1e-12 * scale) {
        throw new IllegalArgumentException(
            "layer 0's scale must be " + firstScale(bits) + " (contract section 5), got " + scale);
      }
      boolean last = s == stages.size() - 1;
      double next;
      int lo;
      int hi;
      if (last) {
        next = scales.logit();
        lo = -(1 << (config.logitBits() - 1));
        hi = (1 << (config.logitBits() - 1)) - 1;
      } else {
        next = scales.input(s + 1);
        lo = 0;
        hi = (1 << (config.bitsOf(stages.get(s + 1).name()) - 1)) - 1;
      }
      out.add(layer(st, s, scale, bits, next, lo, hi, norm, config));
    }
    return new IntNetwork(net.name(), net.inputShape().channels(), net.inputShape().height(),
        net.inputShape().width(), out, config.logitBits());
  }

  /**
   * Stage {@code st} as an integer layer (sections 6 and 7): its weights on the grid of its input
   * scale {@code scale} (layer {@code index}; 0 is the one reading the pixels, section 5), batch
   * norm and the output scale {@code next} folded into the requantization, clamped to [lo, hi].
   */
  static IntLayer layer(FloatStage st, int index, double scale, int bits, double next, int lo, int hi,
      Normalization norm, QuantConfig config) {
    int s = index;
    double weightScale = weightScale(st, s, scale, bits, norm, config);
    GridWeights gw = toGrid(onGrid(st, s, weightScale, bits, norm), st.outChannels(), bits);
    double g;
    double[] correction;
    long accMin;
    long accMax;
    if (st.op() == PeOp.ADDER) {
      g = s == 0 ? scale / norm.std() : scale;
      correction = gw.correction();
      accMin = -(long) st.reduction() * ((1L << bits) - 1);
      accMax = 0;
    } else {
      // A product needs no common grid: the accumulator's step is s_x s_w whatever the two
      // are, and the requantization absorbs it. Sharing the input's grid (as the adder must)
      // leaves a CNN's small weights a few levels (docs/quantization.md).
      g = scale * weightScale;
      double[] d = s == 0
          ? multiplyOffsets(gw.q(), st.outChannels(), scale, weightScale, bits, norm)
          : new double[st.outChannels()];
      correction = new double[d.length];
      for (int c = 0; c < d.length; c++) {
        correction[c] = -d[c] / g; // y = g acc + d = g (acc - correction)
      }
      long reach = (long) st.reduction() << (2 * bits - 2);
      accMin = -reach;
      accMax = reach;
    }
    Requant rq = requant(st.batchNorm(), g, correction, next, config, lo, hi, accMin, accMax);
    return new IntLayer(st.name(), st.op(), st.fullyConnected(), st.inputShape().channels(),
        st.inputShape().height(), st.inputShape().width(), st.outChannels(), st.kernel(),
        st.stride(), st.padding(), bits, gw.q(), rq, st.pool());
  }

  // ---------------------------------------------------------------- networks with branches

  /**
   * A uniform reservoir sample of up to {@link #SAMPLES} values per slot, with each slot's
   * largest magnitude.
   */
  private static final class Reservoir {
    final float[][] samples;
    final int[] seen;
    final double[] maxAbs;
    final SplittableRandom rnd = new SplittableRandom(17);

    Reservoir(int slots) {
      samples = new float[slots][];
      seen = new int[slots];
      maxAbs = new double[slots];
    }

    void add(int slot, float[] values, boolean abs) {
      if (samples[slot] == null) {
        samples[slot] = new float[SAMPLES];
      }
      for (float v0 : values) {
        float v = abs ? Math.abs(v0) : v0;
        maxAbs[slot] = Math.max(maxAbs[slot], Math.abs(v));
        int n = seen[slot]++;
        if (n < SAMPLES) {
          samples[slot][n] = v;
        } else {
          long j = rnd.nextLong(n + 1L);
          if (j < SAMPLES) {
            samples[slot][(int) j] = v;
          }
        }
      }
    }

    float[] values(int slot) {
      return samples[slot] == null ? new float[0] : Arrays.copyOf(samples[slot], Math.min(seen[slot], SAMPLES));
    }
  }

  /** The clip of non-negative values onto 0..hi by the configured rule (MSE or a percentile). */
  private static double clip(float[] x, double max, int hi, QuantConfig config) {
    double clip = config.clipPercentile() > 0 ? percentile(x, config.clipPercentile()) : mseClip(x, max, hi);
    return clip > 0 ? clip : 1; // an all-zero tensor: any scale represents it exactly
  }

  /** The hardware pads with raw pixel 0, the float network with normalized 0 (pixel = mean). */
  static void requireRawPadding(FloatStage first, Normalization norm) {
    if (first.padding() > 0 && norm.mean() != 0) {
      throw new IllegalArgumentException(
          first.name() + ": zero padding in the first layer differs between raw and normalized pixels");
    }
  }

  /** Everything {@link #calibrate} and {@link #quantize} refuse in a network with branches, before any work. */
  static void requireQuantizableGraph(Network net, Normalization norm, QuantConfig config) {
    FloatGraph g = FloatGraph.of(net);
    graphBits(g, config);
    requireRawPadding(g.nodes().get(0).stage(), norm);
  }

  /** The residual nets' rule needs one data width: refuse --layer-bits rather than guess a mix. */
  static int graphBits(FloatGraph g, QuantConfig config) {
    if (!config.layerBits().isEmpty()) {
      throw new IllegalArgumentException(g.net().name() + ": per-layer widths (--layer-bits) are for chains of"
          + " layers; a network with branches is quantized to one width (--bits)");
    }
    return config.bits();
  }

  /**
   * Scales of a network with branches (docs/quantization.md): a ReLU layer's output by the clip
   * rule; an add's common scale s_a is its identity shortcut's scale, or for a convolution
   * shortcut the clip of both branches' magnitudes; its output scale s_a 2^shift with the smallest
   * shift whose range covers the clip of the sum after ReLU; a pool keeps its input's scale.
   */
  static Scales calibrateGraph(FloatGraph g, Normalization norm, ImageSet set, QuantConfig config, Workers workers) {
    int bits = graphBits(g, config);
    int hi = (1 << (bits - 1)) - 1;
    List<FloatGraph.Node> nodes = g.nodes();
    int count = Math.min(config.calibrationImages(), set.count());
    Reservoir r = new Reservoir(nodes.size());
    g.run(set, count, norm, workers, (out, batch) -> {
      for (int j = 0; j < nodes.size(); j++) {
        FloatGraph.Node n = nodes.get(j);
        r.add(j, out[n.value()].data(), n.signed());
      }
    });
    double[] out = new double[nodes.size()];
    double logit = 0;
    for (int j = 0; j < nodes.size(); j++) {
      FloatGraph.Node n = nodes.get(j);
      boolean last = j == nodes.size() - 1;
      if (last) {
        logit = Math.max(r.maxAbs[j], 1e-6) * LOGIT_HEADROOM / ((1L << (config.logitBits() - 1)) - 1);
        out[j] = logit;
      } else if (n.kind() == IntNode.Kind.LAYER && !n.signed()) {
        out[j] = clip(r.values(j), r.maxAbs[j], hi, config) / hi;
      } else if (n.kind() == IntNode.Kind.AVGPOOL) {
        out[j] = out[n.inputs()[0]];
      } else if (n.kind() == IntNode.Kind.ADD) {
        int a = n.inputs()[0];
        int b = n.inputs()[1];
        double common;
        if (nodes.get(b).signed()) {
          float[] both = concat(r.values(a), r.values(b));
          common = clip(both, Math.max(r.maxAbs[a], r.maxAbs[b]), hi, config) / hi;
          out[b] = common;
        } else {
          common = out[b];
        }
        out[a] = common;
        double sum = clip(r.values(j), r.maxAbs[j], hi, config);
        int shift = 0;
        while (shift < bits && Math.scalb(common, shift) * hi < sum) {
          shift++;
        }
        out[j] = Math.scalb(common, shift);
      }
    }
    List<Double> inputs = new ArrayList<>();
    for (FloatGraph.Node n : nodes) {
      if (n.kind() == IntNode.Kind.LAYER) {
        int src = n.inputs()[0];
        inputs.add(src == IntNode.NETWORK_INPUT ? firstScale(bits) : out[src]);
      }
    }
    return new Scales(inputs.stream().mapToDouble(Double::doubleValue).toArray(), logit, out);
  }

  private static float[] concat(float[] a, float[] b) {
    float[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  /** The integer network of contract section 8 with the given scales. */
  static IntNetwork quantizeGraph(FloatGraph g, Normalization norm, Scales scales, QuantConfig config) {
    int bits = graphBits(g, config);
    List<FloatGraph.Node> nodes = g.nodes();
    double[] out = scales.nodes();
    if (out.length != nodes.size()) {
      throw new IllegalArgumentException("scales for " + out.length + " nodes, network has " + nodes.size());
    }
    List<IntNode> made = new ArrayList<>();
    for (int j = 0; j < nodes.size(); j++) {
      FloatGraph.Node n = nodes.get(j);
      int src = n.inputs()[0];
      switch (n.kind()) {
        case LAYER -> {
          FloatStage st = n.stage();
          boolean first = src == IntNode.NETWORK_INPUT;
          if (first) {
            requireRawPadding(st, norm);
          }
          double scale = first ? firstScale(bits) : out[src];
          boolean last = j == nodes.size() - 1;
          int outBits = last ? config.logitBits() : bits;
          int top = (1 << (outBits - 1)) - 1;
          int lo = n.signed() ? -top - 1 : 0;
          IntLayer l = layer(st, first ? 0 : 1, scale, bits, out[j], lo, top, norm, config);
          made.add(IntNode.layer(l, src, outBits));
        }
        case ADD -> {
          int shift = Math.getExponent(out[j] / out[src]);
          made.add(IntNode.add(n.name(), src, n.inputs()[1], n.shape().channels(), n.shape().height(),
              n.shape().width(), bits, shift));
        }
        case AVGPOOL -> {
          IntNode from = made.get(src);
          made.add(IntNode.avgPool(n.name(), src, from.channels(), from.height(), from.width(), bits, n.window(),
              IntNode.poolRequant(n.window(), bits, config.requantPrecision(), config.requantTerms())));
        }
      }
    }
    Network net = g.net();
    return IntNetwork.graph(net.name(), net.inputShape().channels(), net.inputShape().height(),
        net.inputShape().width(), made, config.logitBits());
  }

  /** Folds batch norm (eval form), the clipping correction and the next scale (section 7). */
  static Requant requant(BatchNorm bn, double g, double[] correction, double next,
      QuantConfig config, int lo, int hi, long accMin, long accMax) {
    int c = bn.channels();
    double[] a = new double[c];
    double[] b = new double[c];
    double[] center = new double[c];
    for (int i = 0; i < c; i++) {
      double k = bn.gamma().value()[i] / Math.sqrt(bn.runningVar()[i] + (double) bn.eps());
      double h = bn.beta().value()[i] - bn.runningMean()[i] * k;
      a[i] = k * g / next;
      b[i] = (h - k * g * correction[i]) / next;
      center[i] = Math.max(accMin, Math.min(accMax, bn.runningMean()[i] / g + correction[i]));
    }
    Requant cut = Requant.fromAffine(a, b, config.requantPrecision(), config.requantTerms(), lo, hi);
    for (int i = 0; i < c; i++) {
      b[i] += (a[i] - cut.multiplier(i)) * center[i];
    }
    // Same multipliers (they depend on a only), bias corrected at the batch-norm mean.
    return Requant.fromAffine(a, b, config.requantPrecision(), config.requantTerms(), lo, hi);
  }
}
