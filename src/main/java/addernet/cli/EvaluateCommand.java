package addernet.cli;

import addernet.data.DataFolder;
import addernet.data.FashionMnist;
import addernet.data.ImageSet;
import addernet.export.ModelPackage;
import addernet.io.Npy;
import addernet.io.Outputs;
import addernet.io.UserError;
import addernet.nn.Network;
import addernet.nn.Workers;
import addernet.quant.IntEval;
import addernet.quant.IntNetwork;
import addernet.train.Checkpoint;
import addernet.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Test accuracy of a float checkpoint (train, import) or of a model package's integer"
          + " reference (quantize), and with --logits every test image's logits as a NumPy .npy"
          + " file, to set beside PyTorch's.",
      "",
      "A checkpoint gives float32 logits ('<f4'), a package its integer logits ('<i4'; one step"
          + " is the package's logit_scale in the float network's units). The array is N x K:"
          + " row i is test image i of --data in file order, column c class c. In Python:"
          + " numpy.load(\"logits.npy\").",
      "",
      "Examples:",
      "  addernet evaluate --checkpoint runs/lenet5",
      "  addernet evaluate --model model/lenet5-adder-8bit --logits logits.npy --report eval.json"
    })
final class EvaluateCommand implements Callable<Integer> {
  /** What is evaluated: exactly one of the two. */
  static final class Source {
    @Option(names = "--checkpoint", required = true, paramLabel = "DIR",
        description = "a checkpoint folder (train, import): its float network")
    Path checkpoint;

    @Option(names = "--model", required = true, paramLabel = "PKG",
        description = "a model package folder (quantize): its integer reference")
    Path model;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  @Option(names = "--data", paramLabel = "DIR",
      description = "Fashion-MNIST IDX files or CIFAR-10 binary batches (default: " + "/usr/share/datasets/fashion-mnist)")
  Path data;

  @Option(names = "--images", paramLabel = "N", description = "only the first N test images (default: all)")
  Integer images;

  @Option(names = "--logits", paramLabel = "FILE", description = "write the logits here, a .npy file")
  Path logits;

  @Option(names = "--report", paramLabel = "FILE", description = "also write the result as JSON to this file")
  Path report;

  @Option(names = "--force", description = "replace --logits or --report if it holds an earlier output of evaluate")
  boolean force;

  @Option(names = "--threads", paramLabel = "N", description = "worker threads (default: all processors)")
  Integer threads;

  @Override
  public Integer call() {
    if (images != null && images < 1) {
      throw new UserError("--images must be at least 1, got " + images);
    }
    if (logits != null && !String.valueOf(logits.getFileName()).endsWith(".npy")) {
      throw new UserError("--logits " + logits + ": expected a file name ending in .npy (NumPy's format)");
    }
    if (threads != null && threads < 1) {
      throw new UserError("--threads must be at least 1, got " + threads);
    }
    Path dataDir = data == null ? FashionMnist.DEFAULT_DIR : data;
    Path input = source.checkpoint != null ? source.checkpoint : source.model;
    List<Path> inputs = new ArrayList<>(List.of(input, dataDir));
    try (Outputs outputs = Outputs.begin("evaluate", force, inputs);
        Workers workers = new Workers(threads == null ? Runtime.getRuntime().availableProcessors() : threads)) {
      Path logitsFile = logits == null ? null : outputs.file("--logits", logits, Npy::isNpy);
      Path reportFile = report == null ? null : outputs.file("--report", report);
      Map<String, Object> result = new LinkedHashMap<>();
      if (source.checkpoint != null) {
        Checkpoint ck = Checkpoint.load(source.checkpoint);
        Network net = ck.network();
        ImageSet test = testSet(dataDir, net.name(), net.inputShape().channels(), net.inputShape().height(),
            net.inputShape().width(), net.classes());
        float[] values = new float[test.count() * net.classes()];
        double accuracy = Trainer.evaluate(net, test, ck.normalization(), ck.recipe().inputShifts(), workers, values)[1];
        System.out.printf("%s (float, epoch %d): test accuracy %.2f%% on %,d images%n",
            net.name(), ck.epoch(), 100 * accuracy, test.count());
        if (logitsFile != null) {
          Npy.writeFloat32(logitsFile, values, test.count(), net.classes());
        }
        describe(result, "checkpoint", source.checkpoint, net.name(), "float32", accuracy, test, net.classes());
      } else {
        ModelPackage pkg = ModelPackage.read(source.model);
        IntNetwork net = pkg.network();
        ImageSet test = testSet(dataDir, net.name(), net.inChannels(), net.inHeight(), net.inWidth(), net.classes());
        int[] values = new int[test.count() * net.classes()];
        double accuracy;
        try (Progress progress = new Progress("integer reference", test.count(), " images")) {
          accuracy = IntEval.logits(net, test, workers, values, i -> progress.step());
        }
        System.out.printf("%s (integer reference): test accuracy %.2f%% on %,d images%n",
            net.name(), 100 * accuracy, test.count());
        if (logitsFile != null) {
          Npy.writeInt32(logitsFile, values, test.count(), net.classes());
        }
        describe(result, "package", source.model, net.name(), "int32", accuracy, test, net.classes());
        result.put("logit_scale", pkg.scales().logit());
      }
      if (logits != null) {
        result.put("logits", logits.toAbsolutePath().normalize().toString());
      }
      if (reportFile != null) {
        outputs.writeJson(reportFile, result);
      }
      outputs.commit();
      return 0;
    } catch (IOException e) {
      throw new UserError("cannot read or write: " + e.getMessage(), e);
    }
  }

  private ImageSet testSet(Path dir, String network, int channels, int height, int width, int classes)
      throws IOException {
    ImageSet test = DataFolder.read(dir).test();
    ImageSet head = images == null ? test : test.head(images);
    return head.fitted(network, channels, height, width, classes);
  }

  private static void describe(Map<String, Object> r, String kind, Path from, String network, String dtype,
      double accuracy, ImageSet test, int classes) {
    r.put(kind, from.toAbsolutePath().normalize().toString());
    r.put("network", network);
    r.put("images", test.count());
    r.put("classes", classes);
    r.put("test_accuracy", accuracy);
    r.put("logits_dtype", dtype);
  }
}
