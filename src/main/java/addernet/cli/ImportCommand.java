package addernet.cli;

import addernet.io.FileHash;
import addernet.data.FashionMnist;
import addernet.data.Normalization;
import addernet.io.Names;
import addernet.io.Outputs;
import addernet.io.UserError;
import addernet.nn.NetworkSpec;
import addernet.nn.SpecException;
import addernet.nn.Workers;
import addernet.torch.StateDictReader;
import addernet.torch.TorchImport;
import addernet.torch.TorchTensor;
import addernet.train.Checkpoint;
import addernet.train.Recipe;
import addernet.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "import",
    mixinStandardHelpOptions = true,
    description = {
      "Bring a network trained in PyTorch (a state_dict saved with torch.save, official AdderNet adder2d",
      "layers, nn.Conv2d, nn.Linear, BatchNorm) here as an ordinary checkpoint of a spec's network, for",
      "quantize, energy and report. The state_dict's modules are matched to the spec's conv, fc and",
      "batchnorm lines in order, by kind and shape (docs/torch.md); nothing is written on a mismatch."
    })
final class ImportCommand implements Callable<Integer> {
  @Option(names = "--torch", required = true, paramLabel = "FILE",
      description = "the state_dict: torch.save(model.state_dict(), FILE)")
  Path torch;

  @Option(names = "--model", required = true, paramLabel = "NAME|FILE",
      description = "the network it is: a shipped model name (lenet5-adder) or a .spec file, as train takes")
  String model;

  @Option(names = "--spec", hidden = true, parameterConsumer = OptionAlias.class)
  @OptionAlias.Of("--model")
  String modelSpelling;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "checkpoint folder to write")
  Path out;

  @Option(names = "--normalize", paramLabel = "MEAN,STD|M1,..,Mc/S1,..,Sc",
      description = "input = (pixel / 255 - MEAN) / STD, as the PyTorch training fed it, one pair or one per channel (default: the"
          + " Fashion-MNIST training set's own mean and std, which training here uses; printed)")
  String normalize;

  @Option(names = "--data", paramLabel = "DIR",
      description = "folder with the Fashion-MNIST IDX files (default: /usr/share/datasets/fashion-mnist)")
  Path data;

  @Option(names = "--threads", description = "worker threads for the test-set evaluation (default: all cores)")
  Integer threads;

  @Option(names = "--force", description = "replace an earlier output of 'addernet import' in --out")
  boolean force;

  @Override
  public Integer call() {
    Path dataDir = data == null ? FashionMnist.DEFAULT_DIR : data;
    Normalization given = normalize == null ? null : Normalization.parse("--normalize", normalize);
    NetworkSpec netSpec;
    try {
      netSpec = NetworkSpec.resolve(model);
    } catch (SpecException e) {
      throw new UserError("--model: " + e.getMessage(), e);
    }
    // Checked before any output is claimed: opening a FIFO waits for a writer that may never come.
    if (!Files.isRegularFile(torch)) {
      throw new UserError("--torch " + Names.shown(torch) + ": " + (Files.exists(torch)
          ? "not a regular file (a folder, FIFO or device); expected the file torch.save wrote" : "no such file"));
    }
    List<Path> inputs = new ArrayList<>(List.of(torch));
    if (CliInputs.specFile(model) != null) {
      inputs.add(CliInputs.specFile(model));
    }
    try (Outputs outputs = Outputs.begin("import", force, inputs);
        Workers workers = new Workers(threads == null ? Runtime.getRuntime().availableProcessors() : threads)) {
      Path tmp = outputs.folder("--out", out);
      LinkedHashMap<String, TorchTensor> state;
      TorchImport.Result imported;
      state = StateDictReader.read(torch);
      imported = TorchImport.load(netSpec, state, Names.shown(torch));
      System.out.printf("matched %d PyTorch modules of %s to %s:%n", imported.matches().size(), Names.shown(torch),
          Names.shown(netSpec.name()));
      for (TorchImport.Match m : imported.matches()) {
        System.out.printf("  line %d %-28s <- %s (%s)%n", m.specLine(), m.specText(), Names.shown(m.module()), m.kind());
      }
      FashionMnist.Split split = null;
      if (given == null || Files.isDirectory(dataDir)) {
        try {
          split = FashionMnist.read(dataDir);
        } catch (IOException e) {
          if (given == null) {
            throw new UserError("--data " + dataDir + ": cannot read Fashion-MNIST (" + e.getMessage()
                + "), which gives the default input normalisation; give --normalize MEAN,STD or --data DIR", e);
          }
        }
      }
      Normalization norm = given != null ? given : split.train().statistics();
      norm.requireChannels("--normalize", imported.network().inputShape().channels());
      System.out.printf("input normalisation: %s%s%n", norm.uniform()
          ? "input = (pixel / 255 - " + norm.mean() + ") / " + norm.std() : "per input channel, " + norm,
          given != null ? " (--normalize)" : " (the training set's mean and std, as training here uses;"
              + " --normalize MEAN,STD to change)");
      Double accuracy = null;
      if (split != null && imported.network().inputShape().equals(new addernet.nn.Shape(1, 28, 28))) {
        accuracy = Trainer.evaluate(imported.network(), split.test(), norm, workers)[1];
        System.out.printf("float test accuracy here: %.2f%% (%d images)%n", 100 * accuracy, split.test().count());
      }
      Checkpoint ck = new Checkpoint(imported.network(), norm, 0,
          Recipe.defaults(Recipe.DEFAULT_EPOCHS, 1), List.of(), Map.of());
      try {
        ck.save(tmp);
      } catch (IOException e) {
        throw new UserError("could not write " + out + ": " + e.getMessage(), e);
      }
      Map<String, Object> report = new LinkedHashMap<>();
      report.put("source", torch.toAbsolutePath().normalize().toString());
      report.put("source_sha256", sha256(torch));
      report.put("spec", netSpec.name());
      report.put("input_normalization", norm.uniform() ? Map.of("mean", norm.mean(), "std", norm.std())
          : Map.of("mean", java.util.stream.IntStream.range(0, norm.pairs()).mapToObj(norm::mean).toList(),
              "std", java.util.stream.IntStream.range(0, norm.pairs()).mapToObj(norm::std).toList()));
      report.put("normalization_given", given != null);
      report.put("float_test_accuracy", accuracy);
      report.put("matches", imported.matches());
      outputs.writeJson(tmp.resolve("import.json"), report);
      outputs.commit();
      System.out.printf("checkpoint of %s in %s (quantize it with: addernet quantize --checkpoint %s ...)%n",
          Names.shown(netSpec.name()), Names.shown(out), Names.shown(out));
      return 0;
    }
  }

  private static String sha256(Path file) {
    try {
      // Streamed: the zip may hold entries the reader never expanded, and the file may be larger than an array.
      return FileHash.sha256(file);
    } catch (IOException e) {
      throw new UserError(Names.shown(file) + ": cannot read: " + e.getMessage(), e);
    }
  }
}
