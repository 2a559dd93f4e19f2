package addernet.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.data.Normalization;
import addernet.nn.BatchNorm;
import addernet.nn.Conv2d;
import addernet.nn.Dense;
import addernet.nn.Layer;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.train.Checkpoint;
import addernet.train.Recipe;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Import and export without PyTorch: round trips, and every kind of bad input refused by name. */
class ImportExportTest {
  static final String SPEC_TEXT = String.join("\n",
      "input 1x8x8",
      "conv adder 1->3 kernel=3 padding=1",
      "batchnorm",
      "relu",
      "maxpool 2",
      "conv multiply 3->4 kernel=3",
      "batchnorm",
      "relu",
      "flatten",
      "fc adder 16->6",
      "batchnorm",
      "relu",
      "fc multiply 6->5",
      "batchnorm");

  @TempDir Path dir;

  /** A network of SPEC_TEXT with random weights and batch-norm statistics. */
  static Network randomNetwork(NetworkSpec spec, long seed) {
    Network net = Network.build(spec, seed);
    SplittableRandom r = new SplittableRandom(seed);
    for (Layer l : net.layers()) {
      if (l instanceof BatchNorm b) {
        for (int c = 0; c < b.channels(); c++) {
          b.gamma().value()[c] = (float) r.nextDouble(0.5, 1.5);
          b.beta().value()[c] = (float) r.nextDouble(-1, 1);
          b.runningMean()[c] = (float) r.nextDouble(-5, 5);
          b.runningVar()[c] = (float) r.nextDouble(0.5, 3);
        }
      }
    }
    return net;
  }

  private Path specFile() throws IOException {
    Path p = dir.resolve("small.spec");
    Files.writeString(p, SPEC_TEXT);
    return p;
  }

  private Path checkpoint(Network net) throws IOException {
    Path ck = dir.resolve("ck");
    new Checkpoint(net, new Normalization(0.25, 0.5), 0, Recipe.defaults(1, 1), List.of(), Map.of()).save(ck);
    return ck;
  }

  private static List<float[]> arrays(Network net) {
    List<float[]> out = new java.util.ArrayList<>();
    for (Layer l : net.layers()) {
      if (l instanceof Conv2d c) {
        out.add(c.weight().value());
      } else if (l instanceof Dense d) {
        out.add(d.weight().value());
      } else if (l instanceof BatchNorm b) {
        out.addAll(List.of(b.gamma().value(), b.beta().value(), b.runningMean(), b.runningVar()));
      }
    }
    return out;
  }

  @Test
  void exportThenImportGivesBackEveryWeightAndStatisticBitForBit() throws IOException {
    Path spec = specFile();
    Network net = randomNetwork(NetworkSpec.resolve(spec.toString()), 7);
    Path ck = checkpoint(net);
    Path pt = dir.resolve("small.pt");
    Cli.Outcome ex = Cli.run("export", "--checkpoint", ck.toString(), "--out", pt.toString());
    assertEquals(0, ex.code(), ex.err());
    String py = Files.readString(dir.resolve("small.py"));
    assertTrue(py.startsWith(TorchExport.WRITTEN_BY), py);
    assertTrue(py.contains("adder2d(16, 6, 1, bias=False)"), py);
    assertTrue(py.contains("nn.Linear(6, 5, bias=False)"), py);
    assertTrue(py.contains("MEAN = 0.25") && py.contains("STD = 0.5"), py);

    Path back = dir.resolve("back");
    Cli.Outcome im = Cli.run("import", "--torch", pt.toString(), "--model", spec.toString(), "--out", back.toString(),
        "--normalize", "0.25,0.5", "--data", dir.resolve("no-data").toString());
    assertEquals(0, im.code(), im.err());
    Checkpoint got = Checkpoint.load(back);
    List<float[]> want = arrays(net);
    List<float[]> have = arrays(got.network());
    assertEquals(want.size(), have.size());
    for (int i = 0; i < want.size(); i++) {
      assertArrayEquals(want.get(i), have.get(i), "array " + i);
    }
    assertEquals(0.25, got.normalization().mean());
    assertTrue(Files.readString(back.resolve("import.json")).contains("\"written_by\" : \"addernet import\""));
  }

  @Test
  void importRefusesAnEarlierOutputWithoutForceAndReplacesItWithForce() throws IOException {
    Path spec = specFile();
    Path pt = dir.resolve("n.pt");
    StateDictWriter.write(pt, TorchExport.of(randomNetwork(NetworkSpec.resolve(spec.toString()), 1),
        new Normalization(0.2, 0.3), "test", "n.pt").stateDict());
    Path out = dir.resolve("out");
    String[] args = {"import", "--torch", pt.toString(), "--model", spec.toString(), "--out", out.toString(),
        "--normalize", "0.2,0.3", "--data", dir.resolve("none").toString()};
    assertEquals(0, Cli.run(args).code());
    Cli.Outcome again = Cli.run(args);
    assertEquals(2, again.code());
    assertTrue(again.err().contains("--force"), again.err());
    String[] forced = java.util.Arrays.copyOf(args, args.length + 1);
    forced[args.length] = "--force";
    assertEquals(0, Cli.run(forced).code());
  }

  @Test
  void keysWithAnyPrefixImportAsTheStateDictOfADataParallelModelDoes() throws IOException {
    Path spec = specFile();
    Network net = randomNetwork(NetworkSpec.resolve(spec.toString()), 5);
    LinkedHashMap<String, TorchTensor> prefixed = new LinkedHashMap<>();
    TorchExport.of(net, new Normalization(0.2, 0.3), "test", "p.pt").stateDict()
        .forEach((k, v) -> prefixed.put("module." + k, v));
    Path pt = dir.resolve("p.pt");
    StateDictWriter.write(pt, prefixed);
    TorchImport.Result r = TorchImport.load(NetworkSpec.resolve(spec.toString()), StateDictReader.read(pt), "p.pt");
    assertEquals("module.0", r.matches().get(0).module());
    assertArrayEquals(((Conv2d) net.layers().get(0)).weight().value(),
        ((Conv2d) r.network().layers().get(0)).weight().value());
  }

  @Test
  void exportRefusesToWriteOverAFileItDidNotWrite() throws IOException {
    Network net = randomNetwork(NetworkSpec.resolve(specFile().toString()), 1);
    Path ck = checkpoint(net);
    Path pt = dir.resolve("mine.pt");
    Files.writeString(pt, "precious");
    Cli.Outcome r = Cli.run("export", "--checkpoint", ck.toString(), "--out", pt.toString(), "--force");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("not an earlier output"), r.err());
    assertEquals("precious", Files.readString(pt));
    assertFalse(Files.exists(dir.resolve("mine.py")));
  }

  // ------------------------------------------------------------------ bad input

  /** Writes a valid state_dict of SPEC_TEXT after {@code edit}, imports it, and returns the error. */
  private String importError(Consumer<LinkedHashMap<String, TorchTensor>> edit) throws IOException {
    Path spec = specFile();
    LinkedHashMap<String, TorchTensor> sd = TorchExport.of(randomNetwork(NetworkSpec.resolve(spec.toString()), 3),
        new Normalization(0.2, 0.3), "test", "bad.pt").stateDict();
    edit.accept(sd);
    Path pt = dir.resolve("bad.pt");
    StateDictWriter.write(pt, sd);
    return importFileError(pt, spec);
  }

  private String importFileError(Path pt, Path spec) {
    Path out = dir.resolve("out");
    Cli.Outcome r = Cli.run("import", "--torch", pt.toString(), "--model", spec.toString(), "--out", out.toString(),
        "--normalize", "0.2,0.3", "--data", dir.resolve("none").toString());
    assertEquals(2, r.code(), r.err());
    assertFalse(Files.exists(out), "nothing may be written on failure");
    String[] lines = r.err().strip().split("\n");
    assertEquals(1, lines.length, r.err());
    assertTrue(lines[0].startsWith("error: "), r.err());
    return lines[0];
  }

  @Test
  void aShapeMismatchNamesKeyShapeSpecLineAndExpectedShape() throws IOException {
    String e = importError(sd -> sd.put("0.adder", TorchTensor.ofFloats(new int[] {3, 1, 5, 5}, new float[75])));
    assertTrue(e.contains("key '0.adder' has shape [3, 1, 5, 5]"), e);
    assertTrue(e.contains("small line 2 (conv adder 1->3 kernel=3 padding=1)"), e);
    assertTrue(e.contains("expected shape [3, 1, 3, 3]"), e);
  }

  @Test
  void aMissingKeyIsNamedWithWhatTheSpecLineExpects() throws IOException {
    String e = importError(sd -> sd.remove("5.running_var"));
    assertTrue(e.contains("key '5.running_var' is missing"), e);
    assertTrue(e.contains("line 7 (batchnorm)"), e);
  }

  @Test
  void aMissingModuleNamesTheSpecLineLeftWithout() throws IOException {
    String e = importError(sd -> sd.keySet().removeIf(k -> k.startsWith("14.")));
    assertTrue(e.contains("small line 14 (batchnorm): no PyTorch module left for it"), e);
  }

  @Test
  void anExtraModuleAndABiasAreRefusedByKey() throws IOException {
    String e = importError(sd -> {
      sd.put("0.b", TorchTensor.ofFloats(new int[] {3}, new float[3]));
      sd.put("99.weight", TorchTensor.ofFloats(new int[] {5, 5}, new float[25]));
    });
    assertTrue(e.contains("key '0.b' [3]") && e.contains("bias=False"), e);
    assertTrue(e.contains("'99.weight' [5, 5] (nn.Linear): extra"), e);
  }

  @Test
  void aKindMismatchSaysWhichModuleTheSpecLineWants() throws IOException {
    String e = importError(sd -> {
      TorchTensor w = sd.remove("4.weight");
      LinkedHashMap<String, TorchTensor> copy = new LinkedHashMap<>();
      sd.forEach((k, v) -> {
        copy.put(k, v);
        if (k.equals("1.num_batches_tracked")) {
          copy.put("4.adder", w);
        }
      });
      sd.clear();
      sd.putAll(copy);
    });
    assertTrue(e.contains("'4.adder' [4, 3, 3, 3] (adder2d) matched against small line 6"), e);
    assertTrue(e.contains("expected an nn.Conv2d without bias"), e);
  }

  @Test
  void aWrongDtypeIsNamed() throws IOException {
    String e = importError(sd -> sd.put("1.weight", new TorchTensor(TorchTensor.DType.INT64, new int[] {3}, null,
        new long[3])));
    assertTrue(e.contains("key '1.weight' [3] is torch.int64") && e.contains("expected torch.float32"), e);
  }

  @Test
  void aNonFiniteValueIsNamedWithItsIndex() throws IOException {
    String e = importError(sd -> sd.get("9.adder").floats()[5] = Float.NaN);
    assertTrue(e.contains("key '9.adder' [6, 16, 1, 1]") && e.contains("NaN at flat index 5"), e);
  }

  @Test
  void aFileThatIsNotAZipIsRefused() throws IOException {
    Path pt = dir.resolve("x.pt");
    Files.writeString(pt, "hello");
    String e = importFileError(pt, specFile());
    assertTrue(e.contains(pt + ": not a PyTorch file"), e);
  }

  @Test
  void aPickleNamingAnyOtherClassIsRefusedWithoutRunningIt() throws IOException {
    // GLOBAL os.system, a string, TUPLE1, REDUCE: the classic pickle that runs a command.
    ByteArrayOutputStream pkl = new ByteArrayOutputStream();
    pkl.write(new byte[] {(byte) 0x80, 2});
    pkl.writeBytes("cos\nsystem\n".getBytes(StandardCharsets.US_ASCII));
    Path marker = dir.resolve("pwned");
    byte[] cmd = ("touch " + marker).getBytes(StandardCharsets.US_ASCII);
    pkl.write('X');
    pkl.write(new byte[] {(byte) cmd.length, 0, 0, 0});
    pkl.writeBytes(cmd);
    pkl.writeBytes(new byte[] {(byte) 0x85, 'R', '.'});
    Path pt = dir.resolve("evil.pt");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(pt))) {
      z.putNextEntry(new ZipEntry("archive/data.pkl"));
      z.write(pkl.toByteArray());
      z.closeEntry();
    }
    String e = importFileError(pt, specFile());
    assertTrue(e.contains("its pickle names os.system") && e.contains("refused without being run"), e);
    assertFalse(Files.exists(marker));
  }

  @Test
  void aZipWithoutAPickleIsRefused() throws IOException {
    Path pt = dir.resolve("empty.pt");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(pt))) {
      z.putNextEntry(new ZipEntry("archive/other"));
      z.closeEntry();
    }
    String e = importFileError(pt, specFile());
    assertTrue(e.contains("without <folder>/data.pkl"), e);
  }

  @Test
  void aBadNormalizeValueIsRefused() throws IOException {
    Cli.Outcome r = Cli.run("import", "--torch", "x.pt", "--model", specFile().toString(), "--out",
        dir.resolve("o").toString(), "--normalize", "0.2");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--normalize: expected MEAN,STD"), r.err());
  }
}
