package addernet.cli;

import addernet.io.Names;
import addernet.io.Outputs;
import addernet.io.UserError;
import addernet.torch.StateDictWriter;
import addernet.torch.TorchExport;
import addernet.train.Checkpoint;
import addernet.train.CheckpointException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.zip.ZipFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description = {
      "Take a checkpoint back to PyTorch: a state_dict (torch.load it) and a short Python file whose",
      "build(adder_py) makes the same network from the official AdderNet adder2d and PyTorch modules,",
      "so that model.load_state_dict(torch.load(FILE)) works (docs/torch.md)."
    })
final class ExportCommand implements Callable<Integer> {
  @Option(names = "--checkpoint", required = true, paramLabel = "DIR", description = "checkpoint folder (from train or import)")
  Path checkpoint;

  @Option(names = "--torch", hidden = true, parameterConsumer = OptionAlias.class)
  @OptionAlias.Of("--checkpoint")
  String checkpointSpelling;

  @Option(names = "--out", required = true, paramLabel = "FILE",
      description = "the state_dict to write, a name ending in .pt or .pth, e.g. net.pt")
  Path out;

  @Option(names = "--python", paramLabel = "FILE",
      description = "the Python file that builds the network (default: beside --out, named after it, e.g. net.py)")
  Path python;

  @Option(names = "--force", description = "replace earlier outputs of 'addernet export'")
  boolean force;

  @Override
  public Integer call() {
    // Without its extension, --out could name a folder-like path and the default Python file would
    // sit beside it under a near-identical name; both files are refused unless they say what they are.
    String outName = out.getFileName() == null ? "" : out.getFileName().toString();
    if (!outName.endsWith(".pt") && !outName.endsWith(".pth") || outName.startsWith(".")) {
      throw new UserError("--out " + Names.shown(out) + ": expected a state_dict file name ending in .pt or .pth"
          + " (docs/torch.md, \"Export\"), e.g. net.pt");
    }
    Path py = python != null ? python : defaultPython(out);
    String pyName = py.getFileName() == null ? "" : py.getFileName().toString();
    if (!pyName.endsWith(".py") || pyName.length() < 4) {
      throw new UserError("--python " + Names.shown(py) + ": expected a Python file name ending in .py, e.g. net.py");
    }
    Checkpoint ck;
    TorchExport.Exported ex;
    try (Outputs outputs = Outputs.begin("export", force, List.of(checkpoint))) {
      Path tmpPt = outputs.file("--out", out, ExportCommand::isEarlierStateDict);
      Path tmpPy = outputs.file("--python", py, ExportCommand::isEarlierPython);
      try {
        ck = Checkpoint.load(checkpoint);
      } catch (CheckpointException e) {
        throw new UserError("--checkpoint: " + e.getMessage(), e);
      }
      ex = TorchExport.of(ck.network(), ck.normalization(),
          "the checkpoint " + checkpoint.toAbsolutePath().normalize(), out.getFileName().toString());
      try {
        StateDictWriter.write(tmpPt, ex.stateDict());
        Files.writeString(tmpPy, ex.python(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UserError("could not write " + Names.shown(out) + ": " + e.getMessage(), e);
      }
      outputs.commit();
    }
    System.out.printf("%s: state_dict of %s (%d tensors); %s builds it with the official adder2d:%n"
            + "  model = build(\"path/to/AdderNet/adder.py\"); model.load_state_dict(torch.load(\"%s\"))%n",
        Names.shown(out), Names.shown(ck.network().name()), ex.stateDict().size(), Names.shown(py),
        Names.shown(out.getFileName().toString()));
    return 0;
  }

  /** net.pt -> net.py beside it; characters Python module names cannot hold become '_'. */
  static Path defaultPython(Path pt) {
    String name = pt.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String stem = (dot > 0 ? name.substring(0, dot) : name).replaceAll("[^A-Za-z0-9_]", "_");
    if (stem.isEmpty() || Character.isDigit(stem.charAt(0))) {
      stem = "net_" + stem;
    }
    return pt.resolveSibling(stem + ".py");
  }

  private static boolean isEarlierStateDict(Path p) {
    try (ZipFile z = new ZipFile(p.toFile())) {
      return z.getEntry(StateDictWriter.ROOT + "/data.pkl") != null;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean isEarlierPython(Path p) {
    try (BufferedReader r = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
      String first = r.readLine();
      return first != null && first.startsWith(TorchExport.WRITTEN_BY);
    } catch (IOException | java.io.UncheckedIOException e) {
      return false;
    }
  }
}
