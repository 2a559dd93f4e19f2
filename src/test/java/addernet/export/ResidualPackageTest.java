package addernet.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.quant.IntLayer;
import addernet.quant.IntNetwork;
import addernet.quant.IntNode;
import addernet.quant.Requant;
import addernet.quant.Scales;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Version 2 packages: the nodes of a residual net written, read back and checked rule by rule. */
class ResidualPackageTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int B = 8;
  private static final int HI = (1 << (B - 1)) - 1;

  @TempDir Path tmp;

  private static int[][] images(int count) {
    SplittableRandom rnd = new SplittableRandom(9);
    int[][] p = new int[count][100];
    for (int[] img : p) {
      for (int i = 0; i < img.length; i++) {
        img[i] = rnd.nextInt(256);
      }
    }
    return p;
  }

  private Path written() throws IOException {
    IntNetwork net = ResidualNets.residual(4);
    int[][] px = images(6);
    Path dir = tmp.resolve("pkg");
    new ModelPackage(net, ResidualNets.scales(), Map.of("tool", "test"), ModelPackage.Golden.of(net, px, new int[6])).write(dir);
    return dir;
  }

  @Test
  void residualPackageIsVersionTwoAndReadsBackToTheSameIntegers() throws IOException {
    Path dir = written();
    ObjectNode root = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
    assertEquals(2, root.get("version").intValue());
    assertFalse(root.has("layers"));
    assertEquals(10, root.withArray("nodes").size());
    ModelPackage back = ModelPackage.read(dir);
    IntNetwork a = ResidualNets.residual(4);
    IntNetwork b = back.network();
    assertFalse(b.isChain());
    assertEquals(a.nodes().size(), b.nodes().size());
    for (int[] p : images(20)) {
      List<int[]> ta = a.trace(p);
      List<int[]> tb = b.trace(p);
      for (int j = 0; j < ta.size(); j++) {
        assertArrayEquals(ta.get(j), tb.get(j), "node output " + (j - 1));
      }
    }
    assertArrayEquals(ResidualNets.scales().nodes(), back.scales().nodes());
    // Every node's golden file is there, the weights only for layers.
    for (IntNode n : a.nodes()) {
      assertTrue(Files.exists(dir.resolve("golden/" + n.name() + ".bin")), n.name());
      assertEquals(n.kind() == IntNode.Kind.LAYER, Files.exists(dir.resolve("weights/" + n.name() + ".bin")), n.name());
    }
  }

  @Test
  void addShiftThatDisagreesWithItsOutputScaleIsRefused() throws IOException {
    Path dir = written();
    editNode(dir, 3, n -> n.put("shift", 0));
    assertStartsWith("manifest.json: nodes[3].out_scale: must be 0.05 (the inputs' scale times 2^shift), got 0.1",
        refused(dir));
  }

  @Test
  void addShiftChangedWithItsScaleIsCaughtByTheGoldenVectors() throws IOException {
    Path dir = written();
    editNode(dir, 3, n -> n.put("shift", 2).put("out_scale", 0.2));
    // Every later node reads through the add: fix their scales so that only the integers differ.
    editNode(dir, 4, n -> n.put("scale", 0.2));
    editNode(dir, 6, n -> n.put("scale", 0.2));
    PackageException e = refused(dir);
    assertTrue(e.getMessage().startsWith("golden/b1_add.bin: vector"), e.getMessage());
  }

  @Test
  void addWhoseInputsHaveDifferentScalesIsRefused() throws IOException {
    Path dir = written();
    editNode(dir, 6, n -> n.put("out_scale", 0.125));
    assertStartsWith("manifest.json: nodes[7].inputs: adds b2_conv2 on scale 0.1 and b2_down on scale 0.125", refused(dir));
  }

  @Test
  void addOfDifferentShapesIsRefused() throws IOException {
    Path dir = written();
    // The identity add of block 2's input (6x4x4 after the stride) with block 1's 4x8x8.
    editNode(dir, 7, n -> ((ArrayNode) n.get("inputs")).set(1, 3));
    assertStartsWith("manifest.json: nodes[7].inputs: adds b2_conv2 (6x4x4) and b1_add (4x8x8): an add needs two tensors"
        + " of one shape", refused(dir));
  }

  @Test
  void poolWindowThatDoesNotDivideTheMapIsRefused() throws IOException {
    Path dir = written();
    editNode(dir, 8, n -> n.put("window", 3));
    assertStartsWith("manifest.json: nodes[8].window: a 3x3 window does not tile the 4x4 map", refused(dir));
  }

  @Test
  void powerOfTwoPoolMustBeTheExactMean() throws IOException {
    Path dir = written();
    editNode(dir, 8, n -> ((ArrayNode) ((ObjectNode) n.get("requant")).get("bias")).set(0, 7));
    assertStartsWith("manifest.json: nodes[8].requant: a 4x4 window is 2^4 values", refused(dir));
  }

  @Test
  void unknownNodeKindIsRefused() throws IOException {
    Path dir = written();
    editNode(dir, 8, n -> n.put("kind", "maxpool"));
    assertStartsWith("manifest.json: nodes[8].kind: must be layer, add or avgpool, got \"maxpool\"", refused(dir));
  }

  @Test
  void inputThatRefersForwardIsRefused() throws IOException {
    Path dir = written();
    editNode(dir, 4, n -> ((ArrayNode) n.get("inputs")).set(0, 5));
    assertStartsWith("manifest.json: nodes[4].inputs[0]: must be", refused(dir));
  }

  @Test
  void inputOutOfRangeIsRefused() throws IOException {
    Path dir = written();
    editNode(dir, 4, n -> ((ArrayNode) n.get("inputs")).set(0, -1));
    assertStartsWith("manifest.json: nodes[4].inputs[0]: must be", refused(dir));
    Path again = tmp.resolve("pkg");
    editNode(again, 4, n -> ((ArrayNode) n.get("inputs")).set(0, 99));
    assertStartsWith("manifest.json: nodes[4].inputs[0]: must be", refused(again));
  }

  @Test
  void layerReadingASignedOutputIsRefused() throws IOException {
    Path dir = written();
    editNode(dir, 4, n -> ((ArrayNode) n.get("inputs")).set(0, 2));
    assertStartsWith("manifest.json: nodes[4].inputs[0]: reads b1_conv2, a layer without ReLU", refused(dir));
  }

  @Test
  void chainPackagesAreStillVersionOne() throws IOException {
    Path dir = tmp.resolve("chain");
    ModelPackageTest.pkg().write(dir);
    assertEquals(1, JSON.readTree(dir.resolve("manifest.json").toFile()).get("version").intValue());
    assertTrue(ModelPackage.read(dir).network().isChain());
  }

  private void editNode(Path dir, int j, Consumer<ObjectNode> edit) throws IOException {
    Path m = dir.resolve("manifest.json");
    ObjectNode root = (ObjectNode) JSON.readTree(m.toFile());
    edit.accept((ObjectNode) root.withArray("nodes").get(j));
    JSON.writeValue(m.toFile(), root);
  }

  private static PackageException refused(Path dir) {
    PackageException e = assertThrows(PackageException.class, () -> ModelPackage.read(dir));
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    return e;
  }

  private static void assertStartsWith(String prefix, PackageException e) {
    assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
  }
}
