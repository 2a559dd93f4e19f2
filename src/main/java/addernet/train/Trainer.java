package addernet.train;

import addernet.data.Augmentation;
import addernet.data.ImageSet;
import addernet.data.Normalization;
import addernet.nn.Mode;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.Shape;
import addernet.nn.SoftmaxCrossEntropy;
import addernet.nn.Tensor;
import addernet.nn.Workers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Mini-batch training of one network on one image set: seeded shuffling, optional augmentation,
 * SGD with momentum, weight decay and a per-step cosine schedule, evaluation and a checkpoint
 * after every epoch.
 *
 * <p>The epoch's shuffle and augmentation come from a generator seeded by (seed, epoch), so a run
 * resumed from a checkpoint continues exactly as the uninterrupted run would have.
 */
public final class Trainer {
  /** Receives progress; every method is optional. */
  public interface Progress {
    default void epochStarted(int epoch, int epochs, int steps) {}

    default void stepDone(int step, double meanLoss, double accuracy, double imagesPerSecond) {}

    default void epochDone(EpochMetrics metrics) {}
  }

  public static final Progress SILENT = new Progress() {};

  private static final int EVAL_BATCH = 500;

  private final Network network;
  private final Recipe recipe;
  private final ImageSet train;
  private final ImageSet test;
  private final Normalization normalization;
  private final Workers workers;
  private final Sgd sgd;
  private final List<EpochMetrics> metrics;
  private final Augmentation augment;
  private final int stepsPerEpoch;
  private final CosineSchedule schedule;
  private int epochsDone;

  private final float[] batchImages;
  /** The batch as the data gives it (one channel), before the shifted copies; else null. */
  private final float[] batchPlain;
  private final int[] batchLabels;
  private Tensor scoreGradient;
  /** The reparameterised clamp's ranges from the previous step of this epoch, or null. */
  private float[][][] clampRanges;
  /** The CNN teacher trained alongside (PKKD), or null. */
  private final KernelDistillation distillation;

  private Trainer(
      Network network,
      Recipe recipe,
      ImageSet train,
      ImageSet test,
      Normalization normalization,
      Workers workers,
      int epochsDone,
      List<EpochMetrics> metrics,
      Map<String, float[]> momentum) {
    this.network = network;
    this.recipe = recipe;
    this.train = check(train, network, recipe.inputShifts());
    this.test = check(test, network, recipe.inputShifts());
    this.normalization = normalization;
    this.workers = workers;
    this.epochsDone = epochsDone;
    this.metrics = new ArrayList<>(metrics);
    this.sgd = new Sgd(recipe.momentum(), recipe.weightDecay(), recipe.eta());
    momentum.forEach((k, v) -> sgd.velocity().put(k, v.clone()));
    this.augment = recipe.augment();

    if (train.count() < recipe.batch()) {
      throw new IllegalArgumentException(
          "batch " + recipe.batch() + " is larger than the " + train.count() + " training images");
    }
    this.stepsPerEpoch = train.count() / recipe.batch();
    this.schedule = new CosineSchedule(recipe.learningRate(), (long) stepsPerEpoch * recipe.epochs());
    this.batchImages = new float[recipe.batch() * network.inputShape().size()];
    this.batchPlain = recipe.inputShifts() == 1 ? null
        : new float[recipe.batch() * network.inputShape().size() / recipe.inputShifts()];
    this.batchLabels = new int[recipe.batch()];
    setExponent(network, recipe.exponentAt(epochsDone));
    this.distillation = recipe.pkkd() ? new KernelDistillation(network, recipe) : null;
  }

  /** Sets p of every adder layer's l_p forward (1: the plain adder layer). */
  static void setExponent(Network net, double p) {
    for (addernet.nn.Layer l : net.layers()) {
      if (l instanceof addernet.nn.Conv2d c && c.operation() == addernet.nn.Operation.ADDER) {
        c.setExponent(p);
      } else if (l instanceof addernet.nn.Dense d && d.operation() == addernet.nn.Operation.ADDER) {
        d.setExponent(p);
      }
    }
  }

  /**
   * The recipe's shifted copies of one-channel images (N x H x W): image n's channel j is 2^j
   * times the image (N x shifts x H x W). Shifts are free in hardware; in float, exact doublings.
   */
  static void expand(float[] plain, int images, int plane, int shifts, float[] out) {
    for (int n = 0; n < images; n++) {
      for (int j = 0; j < shifts; j++) {
        float f = Recipe.shiftFactor(j);
        int s = n * plane;
        int d = (n * shifts + j) * plane;
        for (int i = 0; i < plane; i++) {
          out[d + i] = f * plain[s + i];
        }
      }
    }
  }

  /** A new network with weights drawn from the recipe's seed. */
  public static Trainer start(
      NetworkSpec spec, Recipe recipe, ImageSet train, ImageSet test, Workers workers) {
    return start(spec, recipe, train, test, defaultNormalization(spec, train), workers);
  }

  /**
   * The training images' mean and std over all pixels, except that a network whose first layer
   * zero-pads gets mean 0: its padding is then pixel 0 both in the float network (normalized 0)
   * and in the hardware, which pads with raw pixel 0 (docs/quantization.md), so such a network
   * stays quantizable.
   */
  public static Normalization defaultNormalization(NetworkSpec spec, ImageSet train) {
    Normalization all = train.statistics();
    NetworkSpec.LayerSpec first = spec.layers().get(0);
    boolean pads = first.kind() == NetworkSpec.Kind.CONV && first.padding() > 0;
    return pads ? new Normalization(0, all.std()) : all;
  }

  /** A new network fed through {@code normalization}. */
  public static Trainer start(
      NetworkSpec spec, Recipe recipe, ImageSet train, ImageSet test, Normalization normalization,
      Workers workers) {
    normalization.requireChannels(spec.name(), spec.input().channels());
    spec.requireFits(recipe.batch(), EVAL_BATCH, Runtime.getRuntime().maxMemory());
    Network network = Network.build(spec, recipe.seed());
    network.restartRunningStatistics();
    return new Trainer(
        network, recipe, train, test, normalization, workers, 0, List.of(), Map.of());
  }

  /** Continues from a checkpoint with its recipe, weights, momentum and metrics. */
  public static Trainer resume(Checkpoint ck, ImageSet train, ImageSet test, Workers workers) {
    if (ck.recipe().pkkd()) {
      throw new IllegalArgumentException(
          "a PKKD run cannot be resumed: its CNN teacher is not in the checkpoint (start it over with --force)");
    }
    ck.network().spec().requireFits(ck.recipe().batch(), EVAL_BATCH, Runtime.getRuntime().maxMemory());
    return new Trainer(
        ck.network(), ck.recipe(), train, test, ck.normalization(), workers, ck.epoch(), ck.metrics(),
        ck.momentum());
  }

  /** {@link ImageSet#fitted} for the network's input (of one shifted copy): the set it trains on. */
  private static ImageSet check(ImageSet set, Network net, int shifts) {
    Shape in = net.inputShape();
    if (in.channels() % shifts != 0) {
      throw new IllegalArgumentException(
          net.name() + " takes " + in.channels() + " input channels, not a multiple of the recipe's "
              + shifts + " shifted copies");
    }
    return set.fitted(net.name(), in.channels() / shifts, in.height(), in.width(), net.classes());
  }

  public Network network() {
    return network;
  }

  /** The test images as the network takes them (padded to its input, see {@link ImageSet#fitted}). */
  public ImageSet testImages() {
    return test;
  }

  public Recipe recipe() {
    return recipe;
  }

  public int epochsDone() {
    return epochsDone;
  }

  public List<EpochMetrics> metrics() {
    return List.copyOf(metrics);
  }

  /** PKKD's CNN teacher, trained alongside the network, or null without PKKD. */
  public Network teacher() {
    return distillation == null ? null : distillation.teacher();
  }

  public int stepsPerEpoch() {
    return stepsPerEpoch;
  }

  public Checkpoint checkpoint() {
    Map<String, float[]> momentum = new LinkedHashMap<>();
    sgd.velocity().forEach((k, v) -> momentum.put(k, v.clone()));
    return new Checkpoint(network, normalization, epochsDone, recipe, metrics, momentum);
  }

  /** Trains the remaining epochs, saving a checkpoint and metrics.json in {@code out} after each. */
  public void run(Path out, Progress progress) throws IOException {
    while (epochsDone < recipe.epochs()) {
      trainEpoch(progress);
      checkpoint().save(out);
      Checkpoint.writeMetrics(out.resolve("metrics.json"), metrics);
    }
  }

  /** One epoch over the shuffled training set (the last partial batch is left out), then eval. */
  public EpochMetrics trainEpoch(Progress progress) {
    int epoch = epochsDone + 1;
    long start = System.nanoTime();
    SplittableRandom random = new SplittableRandom(recipe.seed() * 0x9E3779B97F4A7C15L + epoch);
    int[] order = new int[train.count()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    for (int i = order.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    progress.epochStarted(epoch, recipe.epochs(), stepsPerEpoch);
    // Every epoch starts without hidden ranges, so a resumed run clamps as the uninterrupted one.
    clampRanges = null;
    double lossSum = 0;
    long correct = 0;
    int batch = recipe.batch();
    double lr = 0;
    for (int s = 0; s < stepsPerEpoch; s++) {
      if (batchPlain == null) {
        train.fill(order, s * batch, batch, normalization, augment, random, batchImages, batchLabels);
      } else {
        train.fill(order, s * batch, batch, normalization, augment, random, batchPlain, batchLabels);
        expand(batchPlain, batch, batchPlain.length / batch, recipe.inputShifts(), batchImages);
      }
      lr = schedule.at((long) (epoch - 1) * stepsPerEpoch + s);
      if (recipe.lpStart() != 1) {
        setExponent(network, recipe.exponentAt(epoch - 1 + (double) s / stepsPerEpoch));
      }
      SoftmaxCrossEntropy.Result r = step(batchImages, batchLabels, lr);
      if (!Double.isFinite(r.loss())) {
        throw new TrainingDivergedException(
            network.name() + ": the training loss became " + r.loss() + " in epoch " + epoch + ", step "
                + (s + 1) + " of " + stepsPerEpoch + " (learning rate " + String.format("%.4g", lr) + ")");
      }
      lossSum += r.loss();
      correct += r.correct();
      double secs = (System.nanoTime() - start) / 1e9;
      progress.stepDone(
          s + 1, lossSum / (s + 1), (double) correct / ((long) (s + 1) * batch), (s + 1) * batch / secs);
    }
    double trainSeconds = (System.nanoTime() - start) / 1e9;
    if (recipe.weightClamp().equals("reparam") && clampRanges != null) {
      // The checkpoint holds the weights the forward passes ran with (and the statistics saw).
      WeightClamp.clamp(network, clampRanges);
    }
    // Evaluated (and saved) with the exponent of the epoch's end: exactly 1 once annealing is over.
    setExponent(network, recipe.exponentAt(epoch));
    double[] eval = evaluate(test);
    double seconds = (System.nanoTime() - start) / 1e9;
    EpochMetrics m =
        new EpochMetrics(
            epoch,
            lr,
            lossSum / stepsPerEpoch,
            (double) correct / ((long) stepsPerEpoch * batch),
            eval[0],
            eval[1],
            (long) stepsPerEpoch * batch / trainSeconds,
            seconds);
    metrics.add(m);
    epochsDone = epoch;
    progress.epochDone(m);
    return m;
  }

  /** One SGD step on a batch given image by image (N x H x W, normalized). */
  public SoftmaxCrossEntropy.Result step(float[] images, int[] labels, double learningRate) {
    int batch = labels.length;
    Tensor x = Tensor.fromImages(network.inputShape(), batch, images);
    boolean reparam = recipe.weightClamp().equals("reparam");
    float[][] unclamped = null;
    if (reparam) {
      unclamped = WeightClamp.save(network);
      WeightClamp.clamp(network, clampRanges != null ? clampRanges
          : WeightClamp.ranges(network, normalization, recipe.inputShifts(), false));
    }
    float[][] targets =
        distillation == null ? null : distillation.teacherStep(x, labels, learningRate, workers);
    Tensor scores = distillation == null ? network.forward(x, Mode.TRAIN, workers)
        : network.forward(x, Mode.TRAIN, workers, distillation.studentInputs());
    float[][][] ranges = recipe.clamps()
        ? WeightClamp.ranges(network, normalization, recipe.inputShifts(), true) : null;
    if (scoreGradient == null || scoreGradient.batch() != batch) {
      scoreGradient = new Tensor(scores.shape(), batch);
    }
    SoftmaxCrossEntropy.Result r = SoftmaxCrossEntropy.evaluate(scores, labels, scoreGradient);
    if (!Double.isFinite(r.loss())) {
      if (reparam) {
        WeightClamp.restore(network, unclamped);
      }
      return r;
    }
    if (distillation == null) {
      network.backward(scoreGradient, workers);
    } else {
      network.backward(scoreGradient, workers,
          distillation.studentGradients(scores, scoreGradient, targets, learningRate));
    }
    if (reparam) {
      // The gradient was taken at the clamped weights; the optimizer moves the unclamped ones.
      WeightClamp.restore(network, unclamped);
      clampRanges = ranges;
    }
    sgd.step(network.params(), learningRate);
    if (recipe.weightClamp().equals("project")) {
      WeightClamp.clamp(network, ranges);
    }
    return r;
  }

  /** Mean loss and accuracy on {@code set} in eval mode. */
  public double[] evaluate(ImageSet set) {
    return evaluate(network, set, normalization, recipe.inputShifts(), workers);
  }

  public static double[] evaluate(Network net, ImageSet set, Normalization norm, Workers workers) {
    return evaluate(net, set, norm, 1, workers);
  }

  /** As {@link #evaluate(Network, ImageSet, Normalization, Workers)}, the images given as {@code shifts} copies. */
  public static double[] evaluate(
      Network net, ImageSet set, Normalization norm, int shifts, Workers workers) {
    return evaluate(net, set, norm, shifts, workers, null);
  }

  /**
   * As above, and with {@code logits} not null, each image's scores (the network's K outputs,
   * before softmax) into {@code logits[i * K ..]} in image order.
   */
  public static double[] evaluate(
      Network net, ImageSet set, Normalization norm, int shifts, Workers workers, float[] logits) {
    int[] order = new int[set.count()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    double loss = 0;
    long correct = 0;
    int size = net.inputShape().size();
    for (int from = 0; from < set.count(); from += EVAL_BATCH) {
      int n = Math.min(EVAL_BATCH, set.count() - from);
      float[] images = new float[n * size];
      int[] labels = new int[n];
      if (shifts == 1) {
        set.fill(order, from, n, norm, Augmentation.NONE, null, images, labels);
      } else {
        float[] plain = new float[n * size / shifts];
        set.fill(order, from, n, norm, Augmentation.NONE, null, plain, labels);
        expand(plain, n, size / shifts, shifts, images);
      }
      Tensor scores = net.forward(Tensor.fromImages(net.inputShape(), n, images), Mode.EVAL, workers);
      if (logits != null) {
        float[] batch = scores.toImages();
        System.arraycopy(batch, 0, logits, from * (batch.length / n), batch.length);
      }
      SoftmaxCrossEntropy.Result r = SoftmaxCrossEntropy.evaluate(scores, labels, null);
      loss += r.loss() * n;
      correct += r.correct();
    }
    return new double[] {loss / set.count(), (double) correct / set.count()};
  }
}
