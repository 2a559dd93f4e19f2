package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import addernet.cli.CliRun.Outcome;
import addernet.data.Cifar10Test;
import addernet.data.FashionMnist;
import addernet.data.ImageSet;
import addernet.data.Normalization;
import addernet.export.ModelPackage;
import addernet.nn.Mode;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.Tensor;
import addernet.nn.Workers;
import addernet.quant.IntEval;
import addernet.quant.IntNetwork;
import addernet.train.Checkpoint;
import addernet.train.Recipe;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluateCommandTest {
  @TempDir Path tmp;

  private static final Path LENET = Path.of("model/lenet5-adder-8bit");

  /** An .npy file read by the rules of NumPy's format 1.0: header dict, then little-endian values. */
  record Npy(String header, ByteBuffer data) {
    static Npy read(Path f) throws IOException {
      byte[] b = Files.readAllBytes(f);
      assertEquals((byte) 0x93, b[0]);
      assertEquals("NUMPY", new String(b, 1, 5, StandardCharsets.US_ASCII));
      assertEquals(1, b[6]);
      assertEquals(0, b[7]);
      int len = (b[8] & 0xff) | (b[9] & 0xff) << 8;
      assertEquals(0, (10 + len) % 64, "data starts on a 64-byte boundary");
      String header = new String(b, 10, len, StandardCharsets.US_ASCII);
      assertTrue(header.endsWith("\n"), header);
      return new Npy(header, ByteBuffer.wrap(b, 10 + len, b.length - 10 - len).slice().order(ByteOrder.LITTLE_ENDIAN));
    }
  }

  @Test
  void packageLogitsAreTheIntegerReferencesRowByRow() throws Exception {
    assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "Fashion-MNIST is not installed");
    Path npy = tmp.resolve("logits.npy");
    Path report = tmp.resolve("eval.json");
    Outcome o = CliRun.run("evaluate", "--model", LENET.toString(), "--images", "300", "--threads", "2",
        "--logits", npy.toString(), "--report", report.toString());
    assertEquals(0, o.code(), o.err());
    IntNetwork net = ModelPackage.read(LENET).network();
    ImageSet test = FashionMnist.read(FashionMnist.DEFAULT_DIR).test().head(300);
    Npy file = Npy.read(npy);
    assertTrue(file.header().startsWith("{'descr': '<i4', 'fortran_order': False, 'shape': (300, 10), }"), file.header());
    int correct = 0;
    for (int i = 0; i < 300; i++) {
      int[] want = net.logits(IntEval.pixels(test, i));
      int[] got = new int[10];
      for (int c = 0; c < 10; c++) {
        got[c] = file.data().getInt((i * 10 + c) * 4);
      }
      assertArrayEquals(want, got, "image " + i);
      correct += IntEval.predict(net, IntEval.pixels(test, i)) == test.label(i) ? 1 : 0;
    }
    assertEquals(300 * 10 * 4, file.data().remaining());
    JsonNode r = new ObjectMapper().readTree(report.toFile());
    assertEquals(correct / 300.0, r.path("test_accuracy").asDouble(), 1e-12);
    assertEquals("addernet evaluate", r.path("written_by").asText());
    assertTrue(o.out().contains(String.format("test accuracy %.2f%% on 300 images", 100.0 * correct / 300)), o.out());
    numpyAgrees(npy, "(300, 10) int32 " + sumOf(file, 3000));
  }

  @Test
  void checkpointLogitsAreTheFloatNetworksScoresImageByImage() throws Exception {
    assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "Fashion-MNIST is not installed");
    Network net = Network.build(NetworkSpec.resolve("lenet5-adder"), 4);
    Normalization norm = new Normalization(0.286, 0.353);
    Path ck = tmp.resolve("ck");
    new Checkpoint(net, norm, 0, Recipe.defaults(1, 1), List.of(), Map.of()).save(ck);
    Path npy = tmp.resolve("f.npy");
    Outcome o = CliRun.run("evaluate", "--checkpoint", ck.toString(), "--images", "40", "--logits", npy.toString());
    assertEquals(0, o.code(), o.err());
    Npy file = Npy.read(npy);
    assertTrue(file.header().startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (40, 10), }"), file.header());
    ImageSet test = FashionMnist.read(FashionMnist.DEFAULT_DIR).test().head(40);
    Network loaded = Checkpoint.load(ck).network();
    try (Workers one = new Workers(1)) {
      for (int i = 0; i < 40; i++) {
        float[] image = new float[784];
        test.fill(new int[] {i}, 0, 1, norm, addernet.data.Augmentation.NONE, null, image, new int[1]);
        float[] want = loaded.forward(Tensor.fromImages(loaded.inputShape(), 1, image), Mode.EVAL, one).toImages();
        for (int c = 0; c < 10; c++) {
          float got = file.data().getFloat((i * 10 + c) * 4);
          assertEquals(want[c], got, 1e-4 * Math.max(1, Math.abs(want[c])), "image " + i + " class " + c);
        }
      }
    }
  }

  @Test
  void exactlyOneOfCheckpointAndModelIsTaken() {
    Outcome both = CliRun.run("evaluate", "--checkpoint", tmp.toString(), "--model", LENET.toString());
    assertEquals(2, both.code());
    assertTrue(both.err().startsWith("error: ") && both.err().contains("mutually exclusive"), both.err());
    Outcome neither = CliRun.run("evaluate");
    assertEquals(2, neither.code());
    assertTrue(neither.err().startsWith("error: ") && neither.err().contains("--checkpoint"), neither.err());
  }

  @Test
  void logitsMustBeAnNpyFileAndAnotherFileIsNeverReplaced() throws IOException {
    Outcome txt = CliRun.run("evaluate", "--model", LENET.toString(), "--logits", tmp.resolve("l.txt").toString());
    assertEquals(2, txt.code());
    assertTrue(txt.err().contains("ending in .npy"), txt.err());
    Path mine = Files.writeString(tmp.resolve("mine.npy"), "a user's notes, not an array");
    Outcome forced = CliRun.run("evaluate", "--model", LENET.toString(), "--logits", mine.toString(), "--force");
    assertEquals(2, forced.code(), forced.err());
    assertTrue(forced.err().startsWith("error: --logits "), forced.err());
    assertEquals("a user's notes, not an array", Files.readString(mine));
  }

  @Test
  void colourImagesForAGreyNetworkAreRefusedNamingBothShapes() throws IOException {
    Path cifar = Files.createDirectory(tmp.resolve("cifar"));
    Files.write(cifar.resolve("data_batch_1.bin"), Cifar10Test.records(0, 2));
    Files.write(cifar.resolve("test_batch.bin"), Cifar10Test.records(0, 2));
    Outcome o = CliRun.run("evaluate", "--model", LENET.toString(), "--data", cifar.toString());
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().contains("3x32x32") && o.err().contains("1x28x28"), o.err());
    assertEquals(1, o.err().strip().lines().count(), o.err());
  }

  private static String sumOf(Npy f, int n) {
    long s = 0;
    for (int i = 0; i < n; i++) {
      s += f.data().getInt(i * 4);
    }
    return Long.toString(s);
  }

  /** numpy.load reads the file as the same array, when Debian's numpy is there. */
  private static void numpyAgrees(Path npy, String expected) throws Exception {
    Path python = Path.of("/usr/bin/python3");
    assumeTrue(Files.isExecutable(python), "no /usr/bin/python3");
    Process p = new ProcessBuilder(python.toString(), "-c",
        "import sys, numpy; a = numpy.load(sys.argv[1]); print(a.shape, a.dtype, int(a.sum()))", npy.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assumeTrue(!out.contains("No module named 'numpy'"), "numpy is not installed");
    assertEquals(expected, out);
  }
}
