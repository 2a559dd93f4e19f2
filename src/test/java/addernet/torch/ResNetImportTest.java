package addernet.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.data.Normalization;
import addernet.nn.BatchNorm;
import addernet.nn.Layer;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.Param;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Import of branching networks by node name (docs/torch.md, "Residual networks"), on state_dicts
 * written by our export of resnet20-official and then changed as a user's file might differ.
 */
class ResNetImportTest {
  static final NetworkSpec OFFICIAL = NetworkSpec.resolve("resnet20-official");
  static final Normalization NORM = new Normalization(0.5, 0.25);

  @TempDir Path dir;

  /** A network of {@code spec} whose batch norms hold random statistics too, so that every value counts. */
  static Network randomNet(NetworkSpec spec) {
    Network net = Network.build(spec, 3);
    SplittableRandom r = new SplittableRandom(5);
    for (Layer l : net.layers()) {
      if (l instanceof BatchNorm bn) {
        for (int c = 0; c < bn.channels(); c++) {
          bn.gamma().value()[c] = (float) r.nextDouble(0.5, 1.5);
          bn.beta().value()[c] = (float) r.nextDouble(-1, 1);
          bn.runningMean()[c] = (float) r.nextDouble(-1, 1);
          bn.runningVar()[c] = (float) r.nextDouble(0.1, 2);
        }
      }
    }
    return net;
  }

  static LinkedHashMap<String, TorchTensor> stateOf(NetworkSpec spec) {
    return TorchExport.of(randomNet(spec), NORM, "test", "test.pt").stateDict();
  }

  /** The official spec with its first block (line 9, layer1.0) given {@code option}. */
  static NetworkSpec firstBlockWith(String option) {
    String[] lines = OFFICIAL.text().split("\n", -1);
    assertEquals("block adder 16->16", lines[8].strip());
    lines[8] = lines[8].strip() + " " + option;
    return NetworkSpec.parse("resnet20-official", String.join("\n", lines));
  }

  static String refusal(NetworkSpec spec, Map<String, TorchTensor> state) {
    String m = assertThrows(TorchFormatException.class, () -> TorchImport.load(spec, state, "user.pt")).getMessage();
    System.err.println(m);
    return m;
  }

  @Test
  void theOfficialLayoutHasTheKeysOfResnet20Py() {
    Map<String, TorchTensor> sd = stateOf(OFFICIAL);
    // conv1 and bn1 (1 + 5), nine blocks of conv1, bn1, conv2, bn2 (2 + 2 x 5 each), two downsample
    // shortcuts (1 + 5 each, layer2.0 and layer3.0), fc and bn2 (1 + 5).
    assertEquals(6 + 9 * 12 + 2 * 6 + 6, sd.size());
    assertEquals(List.of(10, 64, 1, 1), List.of(box(sd.get("fc.weight").shape())));
    assertEquals(List.of(64, 32, 1, 1), List.of(box(sd.get("layer3.0.downsample.0.adder").shape())));
    assertEquals(List.of(16, 3, 3, 3), List.of(box(sd.get("conv1.weight").shape())));
    assertTrue(sd.containsKey("layer2.0.downsample.1.num_batches_tracked"));
    assertFalse(sd.keySet().stream().anyMatch(k -> k.startsWith("layer1.0.downsample")), "layer1.0 keeps its shape");
  }

  private static Integer[] box(int[] a) {
    return java.util.Arrays.stream(a).boxed().toArray(Integer[]::new);
  }

  @Test
  void anExportImportsBackToEveryValueBitForBit() {
    Network net = randomNet(OFFICIAL);
    Network back = TorchImport.load(OFFICIAL, TorchExport.of(net, NORM, "t", "t.pt").stateDict(), "t.pt").network();
    assertValuesEqual(net, back);
  }

  static void assertValuesEqual(Network want, Network got) {
    List<Param> a = want.params();
    List<Param> b = got.params();
    assertEquals(a.size(), b.size());
    for (int i = 0; i < a.size(); i++) {
      assertArrayEquals(a.get(i).value(), b.get(i).value(), a.get(i).name());
    }
    for (int i = 0; i < want.layers().size(); i++) {
      if (want.layers().get(i) instanceof BatchNorm bn) {
        BatchNorm other = (BatchNorm) got.layers().get(i);
        assertArrayEquals(bn.runningMean(), other.runningMean(), "running mean of node " + i);
        assertArrayEquals(bn.runningVar(), other.runningVar(), "running var of node " + i);
      }
    }
  }

  @Test
  void keysInAnyOrderMatchByName() {
    Network net = randomNet(OFFICIAL);
    LinkedHashMap<String, TorchTensor> sd = TorchExport.of(net, NORM, "t", "t.pt").stateDict();
    List<String> keys = new java.util.ArrayList<>(sd.keySet());
    java.util.Collections.reverse(keys);
    LinkedHashMap<String, TorchTensor> reversed = new LinkedHashMap<>();
    keys.forEach(k -> reversed.put(k, sd.get(k)));
    assertValuesEqual(net, TorchImport.load(OFFICIAL, reversed, "t.pt").network());
  }

  @Test
  void dataParallelsPrefixIsStrippedWhenEveryKeyHasIt() {
    Network net = randomNet(OFFICIAL);
    LinkedHashMap<String, TorchTensor> wrapped = new LinkedHashMap<>();
    TorchExport.of(net, NORM, "t", "t.pt").stateDict().forEach((k, v) -> wrapped.put("module." + k, v));
    assertValuesEqual(net, TorchImport.load(OFFICIAL, wrapped, "t.pt").network());
  }

  @Test
  void aFileWhereOnlySomeKeysHaveThePrefixIsRefusedNamingOneOfEach() {
    LinkedHashMap<String, TorchTensor> mixed = new LinkedHashMap<>();
    stateOf(OFFICIAL).forEach((k, v) -> mixed.put(k.startsWith("layer") ? "module." + k : k, v));
    String m = refusal(OFFICIAL, mixed);
    assertTrue(m.contains("'module.layer1.0.conv1.adder'"), m);
    assertTrue(m.contains("'conv1.weight'"), m);
  }

  @Test
  void aKeyWithoutANodeIsRefusedByName() {
    LinkedHashMap<String, TorchTensor> sd = stateOf(OFFICIAL);
    sd.put("layer1.0.conv3.adder", TorchTensor.ofFloats(new int[] {16, 16, 3, 3}, new float[16 * 16 * 9]));
    String m = refusal(OFFICIAL, sd);
    assertTrue(m.contains("'layer1.0.conv3.adder'") && m.contains("no node named layer1.0.conv3"), m);
  }

  @Test
  void aNodeWithoutAKeyIsRefusedWithItsLineAndTheKeyExpected() {
    LinkedHashMap<String, TorchTensor> sd = stateOf(OFFICIAL);
    sd.remove("layer2.2.conv2.adder");
    String m = refusal(OFFICIAL, sd);
    assertTrue(m.contains("line 14 (block adder 32->32)") && m.contains("'layer2.2.conv2.adder' of shape [32, 32, 3, 3]"),
        m);
  }

  @Test
  void aShapeMismatchNamesTheKeyBothShapesAndTheSpecLine() {
    LinkedHashMap<String, TorchTensor> sd = stateOf(OFFICIAL);
    sd.put("layer1.1.conv1.adder", TorchTensor.ofFloats(new int[] {16, 16, 1, 1}, new float[16 * 16]));
    String m = refusal(OFFICIAL, sd);
    assertTrue(m.contains("'layer1.1.conv1.adder' has shape [16, 16, 1, 1]"), m);
    assertTrue(m.contains("line 10") && m.contains("expected shape [16, 16, 3, 3]"), m);
  }

  @Test
  void aConvShortcutInTheFileAgainstAnIdentityInTheSpecNamesTheKeyAndTheLine() {
    String m = refusal(OFFICIAL, stateOf(firstBlockWith("shortcut=conv")));
    assertTrue(m.contains("'layer1.0.downsample.0.adder'") && m.contains("line 9 (block adder 16->16)")
        && m.contains("identity shortcut"), m);
    assertEquals(1, m.split("downsample.0.adder", -1).length - 1, "one error for the block: " + m);
  }

  @Test
  void anIdentityShortcutInTheFileAgainstAConvInTheSpecNamesTheKeyAndTheLine() {
    String m = refusal(firstBlockWith("shortcut=conv"), stateOf(OFFICIAL));
    assertTrue(m.contains("'layer1.0.downsample.0.adder'") && m.contains("line 9 (block adder 16->16 shortcut=conv)")
        && m.contains("conv shortcut"), m);
  }

  @Test
  void anAdderWhereTheSpecMultipliesIsRefused() {
    LinkedHashMap<String, TorchTensor> sd = stateOf(OFFICIAL);
    TorchTensor w = sd.remove("fc.weight");
    sd.put("fc.adder", w);
    String m = refusal(OFFICIAL, sd);
    assertTrue(m.contains("'fc.adder'") && m.contains("line 19") && m.contains("nn.Conv2d"), m);
  }

  @Test
  void aChainWithAnAveragePoolExportsAsASequentialAndImportsBack() {
    NetworkSpec chain = NetworkSpec.parse("pooled", String.join("\n", "input 1x8x8", "conv adder 1->4 kernel=3 padding=1",
        "batchnorm", "relu", "avgpool", "conv multiply 4->10 kernel=1", "batchnorm"));
    Network net = randomNet(chain);
    TorchExport.Exported ex = TorchExport.of(net, NORM, "t", "t.pt");
    assertTrue(ex.python().contains("nn.AvgPool2d(8),"), ex.python());
    assertTrue(ex.python().strip().endsWith("nn.Flatten(),  # 6\n    )"), "scores leave as [N, 10]: " + ex.python());
    assertTrue(ex.stateDict().containsKey("4.weight"), "keys by Sequential position: " + ex.stateDict().keySet());
    assertValuesEqual(net, TorchImport.load(chain, ex.stateDict(), "t.pt").network());
  }

  @Test
  void aRefusedImportWritesNothing() throws Exception {
    LinkedHashMap<String, TorchTensor> sd = stateOf(OFFICIAL);
    sd.remove("bn2.running_var");
    Path pt = dir.resolve("bad.pt");
    StateDictWriter.write(pt, sd);
    Path out = dir.resolve("out");
    Cli.Outcome r = Cli.run("import", "--torch", pt.toString(), "--model", "resnet20-official", "--out", out.toString(),
        "--normalize", "0.5,0.25", "--data", dir.resolve("none").toString());
    assertNotEquals(0, r.code());
    assertTrue(r.err().contains("'bn2.running_var' is missing"), r.err());
    assertEquals(1, r.err().strip().lines().filter(l -> l.startsWith("error:")).count(), r.err());
    assertFalse(Files.exists(out), "no output folder");
  }
}
