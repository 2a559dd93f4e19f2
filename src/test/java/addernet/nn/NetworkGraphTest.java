package addernet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.nn.NetworkSpec.Kind;
import addernet.nn.NetworkSpec.LayerSpec;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Networks as graphs: named tensors, branches, residual blocks, adds and average pools. */
class NetworkGraphTest {
  private static final String RESNET8 = String.join("\n",
      "input 1x32x32",
      "conv adder 1->16 kernel=3 padding=1 name=conv1",
      "batchnorm name=bn1",
      "relu",
      "block adder 16->16",
      "block adder 16->32 stride=2",
      "block adder 32->64 stride=2",
      "avgpool",
      "conv adder 64->10 kernel=1 name=fc",
      "batchnorm name=bn2");

  @Test
  void aChainSpecKeepsItsNamesAndReadsTheLayerBefore() {
    NetworkSpec spec = NetworkSpec.resolve("lenet5-adder");
    assertTrue(spec.isChain());
    for (int i = 0; i < spec.layers().size(); i++) {
      assertEquals("layers." + i, spec.layers().get(i).name());
      assertArrayEquals(new int[] {i - 1}, spec.layers().get(i).inputs());
    }
    assertEquals("layers.0.weight", Network.build(spec, 1).params().get(0).name());
  }

  @Test
  void blocksExpandToTheOfficialBasicBlockWithItsNames() {
    NetworkSpec spec = NetworkSpec.parse("r8", RESNET8);
    assertFalse(spec.isChain());
    List<String> names = spec.layers().stream().map(LayerSpec::name).toList();
    assertEquals(List.of("conv1", "bn1", "layers.2",
        "layer1.0.conv1", "layer1.0.bn1", "layer1.0.relu1", "layer1.0.conv2", "layer1.0.bn2", "layer1.0.add", "layer1.0.relu2",
        "layer2.0.conv1", "layer2.0.bn1", "layer2.0.relu1", "layer2.0.conv2", "layer2.0.bn2",
        "layer2.0.downsample.0", "layer2.0.downsample.1", "layer2.0.add", "layer2.0.relu2",
        "layer3.0.conv1", "layer3.0.bn1", "layer3.0.relu1", "layer3.0.conv2", "layer3.0.bn2",
        "layer3.0.downsample.0", "layer3.0.downsample.1", "layer3.0.add", "layer3.0.relu2",
        "layers.28", "fc", "bn2"), names);
    int add1 = names.indexOf("layer1.0.add");
    // identity shortcut: bn2 of the block plus the block's input (the stem's relu)
    assertArrayEquals(new int[] {names.indexOf("layer1.0.bn2"), names.indexOf("layers.2")}, spec.layers().get(add1).inputs());
    int add2 = names.indexOf("layer2.0.add");
    assertArrayEquals(new int[] {names.indexOf("layer2.0.bn2"), names.indexOf("layer2.0.downsample.1")},
        spec.layers().get(add2).inputs());
    LayerSpec down = spec.layers().get(names.indexOf("layer2.0.downsample.0"));
    assertEquals(names.indexOf("layer1.0.relu2"), down.input());
    assertEquals(1, down.kernel());
    assertEquals(2, down.stride());
    assertEquals(new Shape(32, 16, 16), down.outputShape());
    LayerSpec pool = spec.layers().get(names.indexOf("layers.28"));
    assertEquals(Kind.AVGPOOL, pool.kind());
    assertEquals(new Shape(64, 1, 1), pool.outputShape());
    assertEquals(10, spec.classes());
    assertEquals("layer2.0.downsample.0.weight",
        Network.build(spec, 1).params().stream().map(Param::name).filter(n -> n.startsWith("layer2.0.down")).findFirst().get());
  }

  @Test
  void theShippedResNet20HasTheOfficialLayout() {
    NetworkSpec spec = NetworkSpec.resolve("resnet20-adder");
    List<LayerSpec> convs = spec.layers().stream().filter(l -> l.kind() == Kind.CONV).toList();
    // 1 stem + 9 blocks x 2 + 2 downsample shortcuts + the 1x1 fc
    assertEquals(22, convs.size());
    assertTrue(convs.stream().allMatch(l -> l.operation() == Operation.ADDER));
    assertEquals(9, spec.layers().stream().filter(l -> l.kind() == Kind.ADD).count());
    assertEquals(List.of("layer2.0.downsample.0", "layer3.0.downsample.0"), convs.stream().map(LayerSpec::name)
        .filter(n -> n.contains("downsample")).toList());
    LayerSpec pool = spec.layers().stream().filter(l -> l.kind() == Kind.AVGPOOL).findFirst().get();
    assertEquals(new Shape(64, 8, 8), pool.inputShape());
    assertEquals("layer3.2.relu2", spec.layers().get(spec.layers().indexOf(pool) - 1).name());
    NetworkSpec cnn = NetworkSpec.resolve("resnet20-cnn");
    assertEquals(spec.parameters(), cnn.parameters());
    assertEquals(spec.withOperation(Operation.MULTIPLY, "x").layers().stream().map(LayerSpec::name).toList(),
        cnn.layers().stream().map(LayerSpec::name).toList());
  }

  @Test
  void theCnnTwinOfAResidualNetMultipliesInEveryBlock() {
    NetworkSpec twin = NetworkSpec.parse("r8", RESNET8).withOperation(Operation.MULTIPLY, "r8-cnn");
    assertTrue(twin.layers().stream().filter(l -> l.kind() == Kind.CONV)
        .allMatch(l -> l.operation() == Operation.MULTIPLY));
  }

  @Test
  void badGraphsAreRefusedNamingTheLineAndWhatWasExpected() {
    String base = "input 1x8x8\nconv multiply 1->4 kernel=3 padding=1 name=a\n";
    assertRefused(base + "conv multiply 4->4 kernel=3 stride=2 padding=1\nadd with=a\nflatten\nfc multiply 64->2",
        "line 4", "cannot add layers.1 (4x4x4) and a (4x8x8)");
    assertRefused(base + "avgpool 3\nflatten\nfc multiply 16->2", "line 3", "window 3 does not divide the 8x8 map");
    assertRefused(base + "block multiply 4->8 shortcut=identity\navgpool\nflatten\nfc multiply 8->2",
        "line 3", "identity shortcut carries the block's input 4x8x8 but the block gives 8x8x8");
    assertRefused(base + "relu from=b\navgpool\nflatten\nfc multiply 4->2", "line 3", "no earlier layer is named 'b'");
    assertRefused(base + "relu from=input\navgpool\nflatten\nfc multiply 1->2", "line 2", "output of a is never read");
    assertRefused(base + "relu name=a\navgpool\nflatten\nfc multiply 4->2", "line 3", "the name 'a' is already line 2's");
    assertRefused(base + "relu name=layers.9\navgpool\nflatten\nfc multiply 4->2", "line 3", "not starting with 'layers.'");
    assertRefused(base + "relu with=a\navgpool\nflatten\nfc multiply 4->2", "line 3", "with= belongs to 'add' only");
  }

  private static void assertRefused(String text, String... parts) {
    SpecException e = assertThrows(SpecException.class, () -> NetworkSpec.parse("g", text));
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), "expected '" + p + "' in: " + e.getMessage());
    }
  }

  @Test
  void stagesThatRunOnlyChainsRefuseABranchingNetworkByName() {
    NetworkSpec spec = NetworkSpec.parse("r8", RESNET8);
    SpecException e = assertThrows(SpecException.class, () -> spec.requireChain("quantization"));
    assertTrue(e.getMessage().contains("line 5 (layer1.0.add): quantization takes a chain"), e.getMessage());
  }

  /**
   * A branch, an add and an average pool between smooth layers: the hand-written backward pass,
   * with the gradient of the shared tensor summed over both of its readers, equals central
   * finite differences of the loss for every parameter.
   */
  @Test
  void residualGradientsMatchFiniteDifferences() {
    NetworkSpec spec = NetworkSpec.parse("fd", String.join("\n",
        "input 2x4x4",
        "conv multiply 2->3 kernel=3 padding=1 name=a",
        "conv multiply 3->3 kernel=3 padding=1",
        "add with=a",
        "conv multiply 3->3 kernel=1 from=a name=side",
        "add with=layers.2",
        "avgpool 2",
        "avgpool",
        "flatten",
        "fc multiply 3->4"));
    Network net = Network.build(spec, 7);
    Random r = new Random(3);
    int batch = 2;
    float[] images = new float[batch * 32];
    for (int i = 0; i < images.length; i++) {
      images[i] = (float) r.nextGaussian();
    }
    int[] labels = {1, 3};
    Tensor x = Tensor.fromImages(spec.input(), batch, images);
    Workers w = Workers.single();
    Tensor scores = net.forward(x, Mode.TRAIN, w);
    Tensor g = new Tensor(scores.shape(), batch);
    SoftmaxCrossEntropy.evaluate(scores, labels, g);
    for (Param p : net.params()) {
      java.util.Arrays.fill(p.grad(), 0f);
    }
    net.backward(g, w);
    double eps = 1e-2;
    for (Param p : net.params()) {
      float[] analytic = p.grad().clone();
      float[] v = p.value();
      for (int i = 0; i < v.length; i++) {
        float keep = v[i];
        v[i] = (float) (keep + eps);
        double up = SoftmaxCrossEntropy.evaluate(net.forward(x, Mode.TRAIN, w), labels, null).loss();
        v[i] = (float) (keep - eps);
        double down = SoftmaxCrossEntropy.evaluate(net.forward(x, Mode.TRAIN, w), labels, null).loss();
        v[i] = keep;
        double numeric = (up - down) / (2 * eps);
        assertEquals(numeric, analytic[i], 3e-3 * Math.max(1, Math.abs(numeric)), p.name() + " at " + i);
      }
    }
  }

  @Test
  void aResidualNetsGradientsDoNotDependOnTheThreadCount() {
    NetworkSpec spec = NetworkSpec.parse("r8", RESNET8.replace("input 1x32x32", "input 1x16x16"));
    float[][] one = gradients(spec, 1);
    float[][] two = gradients(spec, 2);
    for (int i = 0; i < one.length; i++) {
      assertArrayEquals(one[i], two[i], "param " + i);
    }
  }

  private static float[][] gradients(NetworkSpec spec, int threads) {
    Network net = Network.build(spec, 5);
    Random r = new Random(9);
    int batch = 4;
    float[] images = new float[batch * spec.input().size()];
    for (int i = 0; i < images.length; i++) {
      images[i] = (float) r.nextGaussian();
    }
    try (Workers w = new Workers(threads)) {
      Tensor scores = net.forward(Tensor.fromImages(spec.input(), batch, images), Mode.TRAIN, w);
      Tensor g = new Tensor(scores.shape(), batch);
      SoftmaxCrossEntropy.evaluate(scores, new int[] {0, 3, 5, 9}, g);
      net.backward(g, w);
    }
    return net.params().stream().map(p -> p.grad().clone()).toArray(float[][]::new);
  }
}
