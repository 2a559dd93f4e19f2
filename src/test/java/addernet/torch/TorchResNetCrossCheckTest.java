package addernet.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import addernet.data.Augmentation;
import addernet.data.Cifar10;
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
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ResNet-20 against PyTorch: resnet_crosscheck.py builds the official resnet20.py structure (and
 * the all-adder twin of model/resnet20-adder.spec) with adder_ref.py's adder2d, wraps it in
 * nn.DataParallel and saves it; we import it by node name and compare eval logits and one
 * training step's gradients, then export it and load the export into PyTorch. Runs when Debian's
 * python3-torch is installed; skipped otherwise.
 */
class TorchResNetCrossCheckTest {
  static final double LOGIT_TOL = 1e-4;
  /**
   * Gradients pass back through 22 weighted layers and 22 batch norms in train mode on 4 images,
   * each a float32 sum in a different order here and in PyTorch; the batch-norm backward passes
   * with batch statistics of 4 images amplify rounding more than a forward pass does, most for the
   * small gradients of the first layers. The worst measured is about 1e-4 (logits: under 1e-5);
   * 1e-3 leaves room for another summation order and still fails any wrong formula, index, shortcut
   * or rescale, which gives errors of order 1.
   */
  static final double GRAD_TOL = 1e-3;
  static final int BATCH = 4;
  static final Normalization NORM = new Normalization(0.4734, 0.2516);

  @TempDir static Path dir;
  static Path resources;
  static float[] cifarImages;
  static int[] cifarLabels;
  static float[] greyImages;
  static int[] greyLabels;

  @BeforeAll
  static void writeImages() throws Exception {
    assumeTrue(TorchCrossCheckTest.torchAvailable(), "skipping the PyTorch cross-checks: /usr/bin/python3 -c"
        + " 'import torch' failed (Debian's python3-torch is not installed; scripts/setup --torch installs it)");
    resources = Path.of(TorchResNetCrossCheckTest.class.getResource("/torch/resnet_crosscheck.py").toURI()).getParent();
    // A CIFAR-10 binary folder of four records (smooth random pictures), read back by the data reader.
    SplittableRandom random = new SplittableRandom(7);
    byte[] records = new byte[BATCH * Cifar10.RECORD_BYTES];
    for (int n = 0; n < BATCH; n++) {
      records[n * Cifar10.RECORD_BYTES] = (byte) (n * 3 % 10);
      for (int c = 0; c < 3; c++) {
        double fx = random.nextDouble(0.05, 0.4);
        double fy = random.nextDouble(0.05, 0.4);
        double phase = random.nextDouble(6.3);
        for (int p = 0; p < 1024; p++) {
          double v = 128 + 90 * Math.sin(fx * (p % 32) + fy * (p / 32) + phase) + random.nextInt(-30, 31);
          records[n * Cifar10.RECORD_BYTES + 1 + c * 1024 + p] = (byte) Math.max(0, Math.min(255, (int) v));
        }
      }
    }
    Path cifar = dir.resolve("cifar");
    Files.createDirectories(cifar);
    Files.write(cifar.resolve("test_batch.bin"), records);
    Files.write(cifar.resolve("data_batch_1.bin"), records);
    ImageSet test = Cifar10.read(cifar).test();
    cifarImages = new float[BATCH * 3 * 32 * 32];
    cifarLabels = new int[BATCH];
    test.fill(new int[] {0, 1, 2, 3}, 0, BATCH, NORM, Augmentation.NONE, null, cifarImages, cifarLabels);

    // One channel for the all-adder layout: the green planes, as floats the script reads as they are.
    byte[] grey = new byte[BATCH * 1024];
    byte[] labels = new byte[BATCH];
    for (int n = 0; n < BATCH; n++) {
      System.arraycopy(records, n * Cifar10.RECORD_BYTES + 1 + 1024, grey, n * 1024, 1024);
      labels[n] = records[n * Cifar10.RECORD_BYTES];
    }
    greyImages = new float[BATCH * 1024];
    greyLabels = new int[BATCH];
    new ImageSet("grey", BATCH, 1, 32, 32, grey, labels)
        .fill(new int[] {0, 1, 2, 3}, 0, BATCH, NORM, Augmentation.NONE, null, greyImages, greyLabels);
    ByteBuffer ib = ByteBuffer.allocate(4 * greyImages.length).order(ByteOrder.LITTLE_ENDIAN);
    ib.asFloatBuffer().put(greyImages);
    Files.write(dir.resolve("grey.bin"), ib.array());
    ByteBuffer lb = ByteBuffer.allocate(4 * BATCH).order(ByteOrder.LITTLE_ENDIAN);
    lb.asIntBuffer().put(greyLabels);
    Files.write(dir.resolve("labels.bin"), lb.array());

    python("make", layoutArgs("official", "--state", pt("official"), "--logits", file("official-logits.bin"),
        "--grads", file("official-grads.pt")));
    python("make", layoutArgs("adder", "--state", pt("adder"), "--logits", file("adder-logits.bin"),
        "--grads", file("adder-grads.pt")));
  }

  static String file(String name) {
    return dir.resolve(name).toString();
  }

  static String pt(String layout) {
    return file(layout + ".pt");
  }

  /** The script's input options for a layout, then {@code more}. */
  static String[] layoutArgs(String layout, String... more) {
    List<String> a = new ArrayList<>(List.of("--layout", layout));
    if (layout.equals("official")) {
      a.addAll(List.of("--cifar", dir.resolve("cifar/test_batch.bin").toString(), "--mean", Double.toString(NORM.mean()),
          "--std", Double.toString(NORM.std())));
    } else {
      a.addAll(List.of("--images", file("grey.bin"), "--labels", file("labels.bin")));
    }
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  static String python(String command, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(TorchCrossCheckTest.PYTHON.toString(),
        resources.resolve("resnet_crosscheck.py").toString(), command));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(600, TimeUnit.SECONDS), "resnet_crosscheck.py timed out");
    assertEquals(0, p.exitValue(), "resnet_crosscheck.py " + command + " failed: " + out);
    return out;
  }

  static String specFor(String layout) {
    return layout.equals("official") ? "resnet20-official" : "resnet20-adder";
  }

  static float[] images(String layout) {
    return layout.equals("official") ? cifarImages : greyImages;
  }

  /** Eval-mode scores as [image][class], PyTorch's order. */
  static float[] logits(Network net, float[] images) {
    Tensor scores;
    try (Workers w = new Workers(2)) {
      scores = net.forward(Tensor.fromImages(net.inputShape(), BATCH, images), Mode.EVAL, w);
    }
    float[] got = new float[BATCH * 10];
    for (int n = 0; n < BATCH; n++) {
      for (int c = 0; c < 10; c++) {
        got[n * 10 + c] = scores.data()[c * BATCH + n];
      }
    }
    return got;
  }

  static float[] readFloats(String name) throws IOException {
    byte[] b = Files.readAllBytes(dir.resolve(name));
    float[] f = new float[b.length / 4];
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
    return f;
  }

  void logitsMatch(String layout) throws IOException {
    Path out = dir.resolve(layout + "-imported");
    Cli.Outcome r = Cli.run("import", "--torch", pt(layout), "--model", specFor(layout), "--out", out.toString(),
        "--normalize", NORM.mean() + "," + NORM.std(), "--data", dir.resolve("none").toString());
    assertEquals(0, r.code(), r.err());
    Network net = Checkpoint.load(out).network();
    double rel = TorchCrossCheckTest.relativeError(logits(net, images(layout)), readFloats(layout + "-logits.bin"));
    System.err.printf("%s forward logits: max relative difference %.3g%n", specFor(layout), rel);
    assertTrue(rel <= LOGIT_TOL, "logits differ from PyTorch's by " + rel + " relative");
  }

  void gradientsMatch(String layout, int adderParams) throws IOException {
    NetworkSpec spec = NetworkSpec.resolve(specFor(layout));
    TorchImport.Result r = TorchImport.load(spec, StateDictReader.read(Path.of(pt(layout))), layout + ".pt");
    Network net = r.network();
    int[] labels = layout.equals("official") ? cifarLabels : greyLabels;
    try (Workers w = new Workers(2)) {
      Tensor scores = net.forward(Tensor.fromImages(net.inputShape(), BATCH, images(layout)), Mode.TRAIN, w);
      Tensor g = new Tensor(new Shape(10, 1, 1), BATCH);
      SoftmaxCrossEntropy.evaluate(scores, labels, g);
      net.backward(g, w);
    }
    Map<String, TorchTensor> want = StateDictReader.read(dir.resolve(layout + "-grads.pt"));
    // Params in node order pair with the matched keys in order: a conv one weight, a batch norm gamma and beta.
    List<String> keys = new ArrayList<>();
    for (TorchImport.Match m : r.matches()) {
      keys.add(m.keys().get(0));
      if (m.kind().equals("BatchNorm")) {
        keys.add(m.keys().get(1));
      }
    }
    List<Param> params = net.params();
    assertEquals(params.size(), keys.size());
    assertEquals(want.size(), keys.size(), "PyTorch has a gradient for every parameter");
    int adaptive = 0;
    double worst = 0;
    for (int i = 0; i < params.size(); i++) {
      Param p = params.get(i);
      float[] grad = p.grad().clone();
      if (p.adaptive()) {
        Sgd.adaptiveScale(grad, Recipe.DEFAULT_ETA);
        adaptive++;
      }
      TorchTensor t = want.get("module." + keys.get(i));
      assertNotNull(t, "module." + keys.get(i));
      double rel = TorchCrossCheckTest.relativeError(grad, t.floats());
      worst = Math.max(worst, rel);
      assertTrue(rel <= GRAD_TOL, p.name() + " <-> " + keys.get(i) + ": gradients differ by " + rel + " relative");
    }
    System.err.printf("%s gradients: max relative difference %.3g over %d parameters%n", specFor(layout), worst,
        params.size());
    assertEquals(adderParams, adaptive, "every adder layer's weight gradient is rescaled");
  }

  @Test
  void theOfficialResNet20sLogitsEqualPyTorchsAfterImportByName() throws IOException {
    logitsMatch("official");
  }

  @Test
  void theAllAdderResNet20sLogitsEqualPyTorchs() throws IOException {
    logitsMatch("adder");
  }

  @Test
  void oneTrainingStepsGradientsOfTheOfficialResNet20EqualPyTorchs() throws IOException {
    // 18 block convolutions and 2 downsample convolutions are adder layers; conv1 and fc multiply.
    gradientsMatch("official", 20);
  }

  @Test
  void oneTrainingStepsGradientsOfTheAllAdderResNet20EqualPyTorchs() throws IOException {
    gradientsMatch("adder", 22);
  }

  @Test
  void anExportLoadsIntoTheOfficialStructureAndGivesOurLogits() throws IOException, InterruptedException {
    Path ck = dir.resolve("export-source");
    Cli.Outcome r = Cli.run("import", "--torch", pt("official"), "--model", "resnet20-official", "--out", ck.toString(),
        "--normalize", NORM.mean() + "," + NORM.std(), "--data", dir.resolve("none").toString());
    assertEquals(0, r.code(), r.err());
    Path out = dir.resolve("exported.pt");
    Cli.Outcome ex = Cli.run("export", "--checkpoint", ck.toString(), "--out", out.toString());
    assertEquals(0, ex.code(), ex.err());
    JsonNode j = new ObjectMapper().readTree(python("exported",
        layoutArgs("official", "--model", file("exported.py"), "--state", out.toString())));
    assertEquals(132, j.path("keys").asInt());
    assertTrue(j.path("same_keys").asBoolean(), "the exported Network's keys are the official model's, in order");
    float[] ours = logits(Checkpoint.load(ck).network(), cifarImages);
    for (String which : List.of("exported", "official")) {
      float[] theirs = new float[BATCH * 10];
      for (int i = 0; i < theirs.length; i++) {
        theirs[i] = (float) j.path(which).get(i).asDouble();
      }
      double rel = TorchCrossCheckTest.relativeError(ours, theirs);
      System.err.printf("export loaded as the %s model: max relative difference %.3g%n", which, rel);
      assertTrue(rel <= LOGIT_TOL, which + ": logits differ by " + rel + " relative");
    }
    // The exported tensors are PyTorch's own, bit for bit (module. stripped); only the step counter differs.
    Map<String, TorchTensor> original = TorchImport.withoutDataParallel(StateDictReader.read(Path.of(pt("official"))), "");
    Map<String, TorchTensor> back = StateDictReader.read(out);
    assertEquals(List.copyOf(original.keySet()), List.copyOf(back.keySet()));
    for (Map.Entry<String, TorchTensor> e : original.entrySet()) {
      if (!e.getKey().endsWith("num_batches_tracked")) {
        assertArrayEquals(e.getValue().shape(), back.get(e.getKey()).shape(), e.getKey());
        assertArrayEquals(e.getValue().floats(), back.get(e.getKey()).floats(), e.getKey());
      }
    }
  }
}
