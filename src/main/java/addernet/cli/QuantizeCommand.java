package addernet.cli;

import addernet.io.UserError;
import addernet.data.FashionMnist;
import addernet.data.IdxFormatException;
import addernet.export.PackageException;
import addernet.io.Outputs;
import addernet.quant.Qat;
import addernet.quant.QatConfig;
import addernet.quant.QuantConfig;
import addernet.quant.QuantizePipeline;
import addernet.quant.QuantizeReport;
import addernet.train.CheckpointException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "quantize",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Quantize a trained AdderNet checkpoint to B-bit fixed point and write a",
      "model package (docs/model-package.md) for the hardware generator and any",
      "testbench.",
      "",
      "Every adder layer's inputs and weights share one scale: the first layer's is",
      "fixed by the raw pixels (docs/numeric-contract.md section 5), the others are",
      "calibrated on training images (docs/quantization.md). Batch norm, ReLU and",
      "the next scale become one shift-and-add requantization per channel",
      "(section 7). The integer network then runs on the 10,000 test images and its",
      "accuracy is reported beside the float network's.",
      "",
      "Examples:",
      "  addernet quantize --checkpoint runs/lenet5 --bits 8 \\",
      "      --out build/lenet5-adder-8bit --report q8.json",
      "  addernet quantize --checkpoint runs/lenet5 --bits 6 --qat-epochs 2 \\",
      "      --out pkg6 --report q6.json",
      "  addernet quantize --checkpoint runs/lenet5 --bits 8 \\",
      "      --layer-bits conv1=6,fc2=6 --out pkg --report r.json",
      ""
    })
final class QuantizeCommand implements Callable<Integer> {
  @Option(names = "--checkpoint", required = true, paramLabel = "DIR",
      description = "checkpoint folder written by 'addernet train'")
  Path checkpoint;

  @Option(names = "--bits", defaultValue = "" + QuantConfig.DEFAULT_BITS, paramLabel = "B",
      description = "data width of every layer's inputs and weights, 4..16 (default: ${DEFAULT-VALUE})")
  int bits;

  @Option(names = "--out", required = true, paramLabel = "PKG",
      description = "model package folder to write: new, empty, or an earlier output of quantize (see --force)")
  Path out;

  @Option(names = "--report", required = true, paramLabel = "FILE",
      description = "JSON report: float_accuracy, quantized_accuracy, scales, per-layer widths")
  Path report;

  @Option(names = "--force",
      description = "replace --out and --report if they hold an earlier output of quantize (never anything else:"
          + " docs/outputs.md)")
  boolean force;

  @Option(names = "--qat-epochs", defaultValue = "0", paramLabel = "N",
      description = "quantization-aware fine-tuning epochs before export; helps at 6 bits and below (default: ${DEFAULT-VALUE})")
  int qatEpochs;

  @Option(names = "--qat-lr", defaultValue = "" + QatConfig.DEFAULT_LEARNING_RATE, paramLabel = "LR",
      description = "peak learning rate of the fine-tuning (default: ${DEFAULT-VALUE})")
  double qatLearningRate;

  @Option(names = "--layer-bits", split = ",", paramLabel = "NAME=B",
      description = "per-layer widths overriding --bits, e.g. conv1=6,fc2=6 (names: conv1.., fc1..)")
  Map<String, Integer> layerBits = new LinkedHashMap<>();

  @Option(names = "--logit-bits", defaultValue = "" + QuantConfig.DEFAULT_LOGIT_BITS, paramLabel = "L",
      description = "width of the integer logits (default: ${DEFAULT-VALUE})")
  int logitBits;

  @Option(names = "--calibration-images", defaultValue = "" + QuantConfig.DEFAULT_CALIBRATION_IMAGES, paramLabel = "N",
      description = "training images used to choose the scales (default: ${DEFAULT-VALUE})")
  int calibrationImages;

  @Option(names = "--clip-percentile", defaultValue = "0", paramLabel = "P",
      description = "how hidden layers' scales are chosen: 0 (default) clips activations where the "
          + "mean squared quantization error on the calibration images is smallest; P in 50..100 "
          + "clips at the P-th percentile instead. Weights beyond the clip cost nothing: the "
          + "constant they lose is folded exactly into the requantization bias.")
  double clipPercentile;

  @Option(names = "--mac-weight-scale", defaultValue = "own", paramLabel = "own|shared",
      description = "multiply layers (a CNN twin's checkpoint) only: 'own' (default) gives each"
          + " layer's weights their own scale, max |w| / (2^(B-1) - 1); 'shared' puts them on the"
          + " input's grid as adder layers must (much worse at 8 bits: docs/quantization.md)")
  String macWeightScale;

  @Option(names = "--requant-terms", defaultValue = "" + QuantConfig.DEFAULT_REQUANT_TERMS, paramLabel = "D",
      description = "signed-digit terms per requantization multiplier, one adder each (default: ${DEFAULT-VALUE})")
  int requantTerms;

  @Option(names = "--golden", defaultValue = "8", paramLabel = "N",
      description = "golden vectors (test images with every layer's output) in the package (default: ${DEFAULT-VALUE})")
  int golden;

  @Option(names = "--images", paramLabel = "N", description = "evaluate on the first N test images only (default: all)")
  Integer images;

  @Option(names = "--test-limit", hidden = true, parameterConsumer = OptionAlias.class)
  @OptionAlias.Of("--images")
  String imagesSpelling;

  @Option(names = "--train-limit", paramLabel = "N",
      description = "calibrate and fine-tune on the first N training images only (quick runs)")
  Integer trainLimit;

  @Option(names = "--data", paramLabel = "DIR",
      description = "folder with the Fashion-MNIST IDX files (default: /usr/share/datasets/fashion-mnist)")
  Path data;

  @Option(names = "--threads", description = "worker threads (default: all cores)")
  Integer threads;

  @Option(names = "--no-progress", description = "no progress bars (the default when the output is not a terminal)")
  boolean noProgress;

  /** Bars only on a terminal: in a log they are carriage-return redraws. */
  private boolean plain() {
    return noProgress || System.console() == null;
  }

  @Override
  public Integer call() {
    PrintStream err = System.err;
    QuantConfig config;
    QatConfig qat;
    try {
      if (!macWeightScale.equals("own") && !macWeightScale.equals("shared")) {
        throw new UserError("--mac-weight-scale must be own or shared, got " + macWeightScale);
      }
      config = new QuantConfig(bits, layerBits, logitBits, QuantConfig.DEFAULT_REQUANT_PRECISION,
          requantTerms, calibrationImages, clipPercentile, macWeightScale.equals("shared"));
      qat = new QatConfig(qatEpochs, 128, qatLearningRate, 0.9, 5e-4, 0.2, false, 1);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }
    if (images != null && images < 1) {
      throw new UserError("--images must be at least 1, got " + images);
    }
    if (trainLimit != null && trainLimit < 1) {
      throw new UserError("--train-limit must be at least 1, got " + trainLimit);
    }
    if (golden < 1 || golden > 1000) {
      throw new UserError("--golden must be in 1..1000, got " + golden);
    }
    Path dataDir = data == null ? FashionMnist.DEFAULT_DIR : data;
    QuantizePipeline.Config stage = new QuantizePipeline.Config(checkpoint, out, config, layerBits, qat, golden,
        images, trainLimit, dataDir, threads == null ? Runtime.getRuntime().availableProcessors() : threads);
    // The package and its report are one transaction, claimed before minutes of work and
    // committed together at the end.
    try (Outputs outputs = Outputs.begin("quantize", force, List.of(checkpoint, dataDir))) {
      Path pkgDir = outputs.folder("--out", out);
      Path reportFile = outputs.file("--report", report);
      QuantizeReport r = QuantizePipeline.run(stage, pkgDir, plain() ? new PlainObserver() : new BarObserver(), err);
      outputs.writeJson(reportFile, r);
      outputs.commit();
      // The result on stdout; the stage's progress went to stderr.
      System.out.printf("%s: %d-bit integer test accuracy %.2f%% (float %.2f%%, %d images); package %s,"
          + " report %s%n", r.network(), r.bits(), 100 * r.quantizedAccuracy(), 100 * r.floatAccuracy(),
          r.testImages(), out, report);
      return 0;
    } catch (IdxFormatException | CheckpointException | PackageException e) {
      throw new UserError(e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), e);
    } catch (IOException e) {
      throw new UserError("cannot read or write: " + e.getMessage(), e);
    }
  }

  /** In a log: no bars, one line at the end of every fine-tuning epoch. */
  private static final class PlainObserver implements QuantizePipeline.Observer {
    @Override
    public QuantizePipeline.Pass pass(String what, int count) {
      return new QuantizePipeline.Pass() {
        @Override
        public void accept(int image) {}

        @Override
        public void close() {}
      };
    }

    @Override
    public Qat.Progress fineTuning(int epochs) {
      return (e, s, steps, loss, acc) -> {
        if (s == steps) {
          System.err.printf("QAT epoch %d/%d: loss %.4f, train acc %.2f%%%n", e, epochs, loss, 100 * acc);
        }
      };
    }
  }

  /** On a terminal: a bar per pass and per fine-tuning epoch. */
  private static final class BarObserver implements QuantizePipeline.Observer {
    @Override
    public QuantizePipeline.Pass pass(String what, int count) {
      ProgressBar bar = bar(what, count);
      return new QuantizePipeline.Pass() {
        @Override
        public void accept(int image) {
          bar.step();
        }

        @Override
        public void close() {
          bar.close();
        }
      };
    }

    @Override
    public Qat.Progress fineTuning(int epochs) {
      ProgressBar[] bar = new ProgressBar[1];
      return (e, s, steps, loss, acc) -> {
        if (s == 1) {
          bar[0] = bar("QAT epoch " + e + "/" + epochs, steps);
        }
        bar[0].stepTo(s);
        bar[0].setExtraMessage(String.format(" loss %.3f acc %.1f%%", loss, 100 * acc));
        if (s == steps) {
          bar[0].close();
        }
      };
    }
  }

  private static ProgressBar bar(String task, long max) {
    return new ProgressBarBuilder()
        .setTaskName(task)
        .setInitialMax(max)
        .setStyle(ProgressBarStyle.ASCII)
        .setUpdateIntervalMillis(500)
        .setConsumer(new ConsoleProgressBarConsumer(System.err))
        .build();
  }
}
