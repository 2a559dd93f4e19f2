package addernet.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import addernet.data.Augmentation;
import addernet.data.FashionMnist;
import addernet.data.ImageSet;
import addernet.data.Normalization;
import addernet.nn.Mode;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.Param;
import addernet.nn.Shape;
import addernet.nn.SoftmaxCrossEntropy;
import addernet.nn.Tensor;
import addernet.nn.Workers;
import addernet.train.Checkpoint;
import addernet.train.Recipe;
import addernet.train.Sgd;
import addernet.train.Trainer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our arithmetic against the official AdderNet layer in PyTorch (issue 15's checks 1-3). The
 * PyTorch side is src/test/resources/torch/crosscheck.py with adder_ref.py, the official layer's
 * formulas written anew. Runs when Debian's python3-torch is installed (scripts/test installs it
 * through scripts/setup --torch); skipped otherwise.
 */
class TorchCrossCheckTest {
  static final Path PYTHON = Path.of("/usr/bin/python3");
  static final double REL_TOL = 1e-4;
  static final int BATCH = 32;
  static final Normalization NORM = new Normalization(0.2860405969887955, 0.35302424451492237);

  @TempDir static Path dir;
  static Path resources;
  static ImageSet test;
  static Network imported;
  static float[] images;
  static int[] labels;

  @BeforeAll
  static void pytorchMakesARandomNetwork() throws Exception {
    assumeTrue(torchAvailable(), "skipping the PyTorch cross-checks: /usr/bin/python3 -c 'import torch' failed"
        + " (Debian's python3-torch is not installed; scripts/setup --torch installs it)");
    assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "Fashion-MNIST is not installed");
    resources = Path.of(TorchCrossCheckTest.class.getResource("/torch/crosscheck.py").toURI()).getParent();
    test = FashionMnist.read(FashionMnist.DEFAULT_DIR).test();
    images = new float[BATCH * 28 * 28];
    labels = new int[BATCH];
    int[] order = new int[BATCH];
    for (int i = 0; i < BATCH; i++) {
      order[i] = i;
    }
    test.fill(order, 0, BATCH, NORM, Augmentation.NONE, null, images, labels);
    ByteBuffer ib = ByteBuffer.allocate(4 * images.length).order(ByteOrder.LITTLE_ENDIAN);
    ib.asFloatBuffer().put(images);
    Files.write(dir.resolve("images.bin"), ib.array());
    ByteBuffer lb = ByteBuffer.allocate(4 * BATCH).order(ByteOrder.LITTLE_ENDIAN);
    lb.asIntBuffer().put(labels);
    Files.write(dir.resolve("labels.bin"), lb.array());
    python("random-net", "--images", dir.resolve("images.bin").toString(), "--labels", dir.resolve("labels.bin").toString(),
        "--state", dir.resolve("random.pt").toString(), "--logits", dir.resolve("logits.bin").toString(),
        "--grads", dir.resolve("grads.pt").toString());
    Cli.Outcome r = Cli.run("import", "--torch", dir.resolve("random.pt").toString(),
        "--model", resources.resolve("random-net.spec").toString(), "--out", dir.resolve("imported").toString(),
        "--normalize", NORM.mean() + "," + NORM.std());
    assertEquals(0, r.code(), r.err());
    imported = Checkpoint.load(dir.resolve("imported")).network();
  }

  static boolean torchAvailable() {
    if (!Files.isExecutable(PYTHON)) {
      return false;
    }
    try {
      Process p = new ProcessBuilder(PYTHON.toString(), "-c", "import torch").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Runs crosscheck.py and returns its standard output; fails the test with its output otherwise. */
  static String python(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(PYTHON.toString(), resources.resolve("crosscheck.py").toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().put("ADDERNET_TORCH_SCRIPTS", Path.of("scripts/torch").toAbsolutePath().toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(600, TimeUnit.SECONDS), "crosscheck.py timed out");
    assertEquals(0, p.exitValue(), "crosscheck.py " + args[0] + " failed: " + out);
    return out;
  }

  /** max |got - want| / max |want|. */
  static double relativeError(float[] got, float[] want) {
    double diff = 0;
    double scale = 0;
    for (int i = 0; i < want.length; i++) {
      diff = Math.max(diff, Math.abs(got[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    return diff / scale;
  }

  @Test
  void forwardLogitsEqualPyTorchsOnAnImportedStateDict() throws IOException {
    Tensor scores;
    try (Workers w = new Workers(2)) {
      scores = imported.forward(Tensor.fromImages(imported.inputShape(), BATCH, images), Mode.EVAL, w);
    }
    float[] want = new float[BATCH * 10];
    ByteBuffer.wrap(Files.readAllBytes(dir.resolve("logits.bin"))).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(want);
    float[] got = new float[BATCH * 10];
    for (int n = 0; n < BATCH; n++) {
      for (int c = 0; c < 10; c++) {
        got[n * 10 + c] = scores.data()[c * BATCH + n];
      }
    }
    double rel = relativeError(got, want);
    System.err.printf("forward logits: max relative difference %.3g%n", rel);
    assertTrue(rel <= REL_TOL, "logits differ from PyTorch's by " + rel + " relative");
  }

  @Test
  void oneTrainingStepsGradientsEqualTheOfficialAdderFunctions() throws IOException {
    NetworkSpec spec = NetworkSpec.resolve(resources.resolve("random-net.spec").toString());
    TorchImport.Result r = TorchImport.load(spec, StateDictReader.read(dir.resolve("random.pt")), "random.pt");
    Network net = r.network();
    try (Workers w = new Workers(2)) {
      Tensor scores = net.forward(Tensor.fromImages(net.inputShape(), BATCH, images), Mode.TRAIN, w);
      Tensor g = new Tensor(new Shape(10, 1, 1), BATCH);
      SoftmaxCrossEntropy.evaluate(scores, labels, g);
      net.backward(g, w);
    }
    Map<String, TorchTensor> want = StateDictReader.read(dir.resolve("grads.pt"));
    List<Param> params = net.params();
    // Params in layer order pair with the matched keys in order: conv/fc one weight, batch norm gamma and beta.
    List<String> keys = new ArrayList<>();
    for (TorchImport.Match m : r.matches()) {
      keys.add(m.keys().get(0));
      if (m.kind().equals("BatchNorm")) {
        keys.add(m.keys().get(1));
      }
    }
    assertEquals(params.size(), keys.size());
    assertEquals(want.size(), keys.size(), "PyTorch has a gradient for every parameter");
    int adaptive = 0;
    for (int i = 0; i < params.size(); i++) {
      Param p = params.get(i);
      float[] grad = p.grad().clone();
      if (p.adaptive()) {
        Sgd.adaptiveScale(grad, Recipe.DEFAULT_ETA);
        adaptive++;
      }
      TorchTensor t = want.get(keys.get(i));
      assertNotNull(t, keys.get(i));
      double rel = relativeError(grad, t.floats());
      System.err.printf("gradient of %s (%s): max relative difference %.3g%n", p.name(), keys.get(i), rel);
      assertTrue(rel <= REL_TOL, p.name() + " <-> " + keys.get(i) + ": gradients differ by " + rel + " relative");
    }
    assertEquals(3, adaptive, "the three adder layers' weight gradients are rescaled");
  }

  @Test
  void aNetworkTrainedHereGivesTheSameTestAccuracyInPyTorch() throws Exception {
    ImageSet train = FashionMnist.read(FashionMnist.DEFAULT_DIR).train().head(3000);
    Path ck = dir.resolve("trained");
    double javaAccuracy;
    try (Workers w = new Workers(2)) {
      Trainer t = Trainer.start(NetworkSpec.resolve("tiny-adder"), Recipe.defaults(1, 1), train, test, w);
      t.run(ck, Trainer.SILENT);
      javaAccuracy = t.metrics().get(0).testAccuracy();
    }
    Path pt = dir.resolve("trained.pt");
    Cli.Outcome ex = Cli.run("export", "--checkpoint", ck.toString(), "--out", pt.toString());
    assertEquals(0, ex.code(), ex.err());
    String out = python("evaluate", "--model", dir.resolve("trained.py").toString(),
        "--adder", resources.resolve("adder_ref.py").toString(), "--state", pt.toString());
    JsonNode j = new ObjectMapper().readTree(out);
    double torchAccuracy = j.path("accuracy").asDouble();
    System.err.printf("test accuracy: Java %.2f%%, PyTorch %.2f%%%n", 100 * javaAccuracy, 100 * torchAccuracy);
    assertEquals(10000, j.path("count").asInt());
    assertTrue(javaAccuracy > 0.3, "the one-epoch net learned something (" + javaAccuracy + ")");
    assertEquals(javaAccuracy, torchAccuracy, 1e-4 + 1e-12, "0.01 points");
  }
}
