package addernet.quant;

import addernet.data.FashionMnist;
import addernet.data.ImageSet;
import addernet.export.ModelPackage;
import addernet.nn.Workers;
import addernet.train.Checkpoint;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * A trained checkpoint to a model package: calibration, quantization, optional quantization-aware
 * fine-tuning, the integer network's accuracy beside the float network's, and golden vectors.
 */
public final class QuantizePipeline {
  /**
   * One quantization.
   *
   * @param checkpoint the checkpoint folder
   * @param packagePath the package folder as the report names it
   * @param quant widths, calibration and requantization
   * @param layerBits the per-layer widths in the order the user gave them, as the report lists them
   * @param qat the fine-tuning (0 epochs for none); its flip follows the checkpoint's recipe
   * @param golden golden vectors to put in the package
   * @param testLimit evaluate on the first N test images only, or null for all
   * @param trainLimit calibrate and fine-tune on the first N training images only, or null
   * @param data the Fashion-MNIST folder
   * @param threads worker threads
   */
  public record Config(Path checkpoint, Path packagePath, QuantConfig quant, Map<String, Integer> layerBits,
      QatConfig qat, int golden, Integer testLimit, Integer trainLimit, Path data, int threads) {
    public Config {
      layerBits = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(layerBits));
    }
  }

  /** Where the long passes report their progress. */
  public interface Observer {
    /** Called once per image of a pass over {@code count} test images; closed after the pass. */
    Pass pass(String what, int count);

    /** The fine-tuning's progress, over {@code epochs} epochs. */
    Qat.Progress fineTuning(int epochs);
  }

  /** One pass's per-image callback. */
  public interface Pass extends IntConsumer, AutoCloseable {
    @Override
    void close();
  }

  private QuantizePipeline() {}

  /**
   * Writes the package into the existing, empty folder {@code into} and returns the report; lines
   * of what it does go to {@code log}.
   */
  public static QuantizeReport run(Config c, Path into, Observer observer, PrintStream log) throws IOException {
    long start = System.nanoTime();
    QuantConfig config = c.quant();
    int bits = config.bits();
    Map<String, Integer> layerBits = c.layerBits();
    try (Workers workers = new Workers(c.threads())) {
      Checkpoint ck = Checkpoint.load(c.checkpoint());
      // Before any work: a network the integer reference cannot run, or QAT of one with branches.
      if (!ck.normalization().uniform()) {
        // The integer reference takes raw pixels; one mean and std fold into the first layer's
        // weights and requantization, one per channel would need a scale per input channel.
        throw new addernet.io.UserError(ck.network().name() + " was trained with a per-channel input normalization ("
            + ck.normalization() + "); quantization folds one mean and std into the first layer: train it with"
            + " --normalize MEAN,STD");
      }
      boolean chain = ck.network().spec().isChain();
      if (chain) {
        FloatStage.of(ck.network());
      } else {
        Quantizer.requireQuantizableGraph(ck.network(), ck.normalization(), config);
        if (c.qat().epochs() > 0) {
          throw new IllegalArgumentException(ck.network().name() + ": quantization-aware fine-tuning (--qat-epochs)"
              + " runs chains of layers only; quantize this network with branches post-training (without"
              + " --qat-epochs)");
        }
      }
      // Fine-tuning sees the same kind of images as training did.
      QatConfig qat = new QatConfig(c.qat().epochs(), c.qat().batch(), c.qat().learningRate(),
          c.qat().momentum(), c.qat().weightDecay(), c.qat().eta(), ck.recipe().augment().flip(), c.qat().seed());
      FashionMnist.Split split = addernet.data.DataFolder.read(c.data());
      addernet.nn.Shape in = ck.network().inputShape();
      ImageSet allTest = split.test().fitted(ck.network().name(), in.channels(), in.height(), in.width(),
          ck.network().classes());
      ImageSet allTrain = split.train().fitted(ck.network().name(), in.channels(), in.height(), in.width(),
          ck.network().classes());
      ImageSet test = c.testLimit() == null ? allTest : allTest.head(c.testLimit());
      ImageSet train = c.trainLimit() == null ? allTrain : allTrain.head(c.trainLimit());
      log.printf("quantizing %s (epoch %d) to %d bits%s%n", ck.network().name(), ck.epoch(), bits,
          layerBits.isEmpty() ? "" : " with " + layerBits);

      double floatAccuracy = FloatPass.accuracy(ck.network(), test, ck.normalization(), workers);
      log.printf("float test accuracy: %.2f%%%n", 100 * floatAccuracy);
      Scales scales = Quantizer.calibrate(ck.network(), ck.normalization(), train, config, workers);
      IntNetwork net = quantize(ck, scales, config);
      Double ptqAccuracy = null;
      if (qat.epochs() > 0) {
        ptqAccuracy = intAccuracy(net, test, workers, "post-training", observer);
        log.printf("post-training %d-bit accuracy: %.2f%%; fine-tuning %d epoch(s)%n", bits, 100 * ptqAccuracy,
            qat.epochs());
        new Qat(ck.network(), ck.normalization(), scales, config)
            .run(qat, train, workers, observer.fineTuning(qat.epochs()));
        // The input scales stay (the weights now sit on their grid); the logit range may move.
        Scales fresh = Quantizer.calibrate(ck.network(), ck.normalization(), train, config, workers);
        scales = new Scales(scales.input(), fresh.logit());
        net = quantize(ck, scales, config);
      }
      double quantAccuracy = intAccuracy(net, test, workers, "integer test", observer);
      log.printf("quantized test accuracy: %.2f%% (float %.2f%%)%n", 100 * quantAccuracy, 100 * floatAccuracy);

      int n = Math.min(c.golden(), allTest.count());
      int[][] pixels = new int[n][];
      int[] labels = new int[n];
      for (int i = 0; i < n; i++) {
        pixels[i] = IntEval.pixels(allTest, i);
        labels[i] = allTest.label(i);
      }
      Map<String, Object> provenance = new LinkedHashMap<>();
      provenance.put("tool", "addernet quantize");
      provenance.put("checkpoint", c.checkpoint().toString());
      provenance.put("checkpoint_epoch", ck.epoch());
      provenance.put("bits", bits);
      provenance.put("layer_bits", new LinkedHashMap<>(layerBits));
      provenance.put("qat_epochs", qat.epochs());
      provenance.put("calibration_images", config.calibrationImages());
      provenance.put("clip_rule", config.clipPercentile() == 0 ? "mse" : "percentile " + config.clipPercentile());
      if (net.layers().stream().anyMatch(l -> l.op() != PeOp.ADDER)) {
        provenance.put("mac_weight_scale", config.macSharedScale() ? "shared" : "own");
      }
      provenance.put("input_normalization", Map.of("mean", ck.normalization().mean(), "std", ck.normalization().std()));
      provenance.put("float_accuracy", floatAccuracy);
      provenance.put("quantized_accuracy", quantAccuracy);
      provenance.put("test_images", test.count());
      new ModelPackage(net, scales, provenance, ModelPackage.Golden.of(net, pixels, labels)).writeInto(into);
      ModelPackage.read(into); // a package that its own reader refuses is a bug: fail here, not later

      List<QuantizeReport.Layer> layers = new ArrayList<>();
      List<FloatStage> stages = chain ? FloatStage.of(ck.network())
          : FloatGraph.of(ck.network()).nodes().stream().filter(x -> x.stage() != null).map(FloatGraph.Node::stage).toList();
      for (int i = 0; i < net.layers().size(); i++) {
        IntLayer l = net.layers().get(i);
        layers.add(new QuantizeReport.Layer(l.name(), l.dataBits(), net.accBits(i), l.k(),
            l.op().word(),
            scales.input(i),
            Quantizer.weightScale(stages.get(i), firstIndex(net, i), scales.input(i), l.dataBits(), ck.normalization(),
                config),
            l.requant().shift(), l.requant().maxTerms()));
      }
      return new QuantizeReport(net.name(), c.checkpoint().toString(), c.packagePath().toString(), bits,
          layerBits, qat.epochs(), test.count(), floatAccuracy, ptqAccuracy, quantAccuracy,
          100 * (floatAccuracy - quantAccuracy), net.inputShift(), net.logitBits(), scales.logit(), layers,
          net.adderOpsPerImage(), (System.nanoTime() - start) / 1e9);
    }
  }

  /** The layer index Quantizer.weightScale expects: 0 for the layer that reads the pixels. */
  private static int firstIndex(IntNetwork net, int i) {
    return net.nodeOf(i).input(0) == IntNode.NETWORK_INPUT ? 0 : Math.max(1, i);
  }

  private static IntNetwork quantize(Checkpoint ck, Scales scales, QuantConfig config) {
    return Quantizer.quantize(ck.network(), ck.normalization(), scales, config);
  }

  private static double intAccuracy(IntNetwork net, ImageSet test, Workers workers, String what, Observer observer) {
    try (Pass pass = observer.pass(what, test.count())) {
      return IntEval.accuracy(net, test, workers, pass);
    }
  }
}
