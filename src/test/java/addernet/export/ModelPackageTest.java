package addernet.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.io.UserError;
import addernet.gen.PeOp;
import addernet.quant.IntLayer;
import addernet.quant.IntNetwork;
import addernet.quant.Requant;
import addernet.quant.Scales;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelPackageTest {
  @TempDir Path tmp;
  private static final ObjectMapper JSON = new ObjectMapper();

  private static int[] random(SplittableRandom rnd, int n, int bits) {
    int[] v = new int[n];
    for (int i = 0; i < n; i++) {
      v[i] = rnd.nextInt(-(1 << (bits - 1)), 1 << (bits - 1));
    }
    return v;
  }

  /** conv (8-bit) -> pool -> conv (6-bit) -> fc (6-bit, logits): mixed widths on purpose. */
  static IntNetwork network() {
    return network(PeOp.ADDER);
  }

  /** {@link #network()} with every layer reducing by {@code op} (MAC: the CNN twin). */
  static IntNetwork network(PeOp op) {
    SplittableRandom rnd = new SplittableRandom(3);
    IntLayer c1 = new IntLayer("conv1", op, false, 1, 12, 12, 3, 3, 1, 0, 8, random(rnd, 27, 8),
        Requant.fromAffine(new double[] {0.02, -0.015, 0.03}, new double[] {20, 25, 18}, 16, 6, 0, 31),
        true);
    IntLayer c2 = new IntLayer("conv2", op, false, 3, 5, 5, 4, 3, 2, 1, 6, random(rnd, 4 * 27, 6),
        Requant.fromAffine(new double[] {0.1, 0.12, 0.08, 0.09}, new double[] {30, 28, 26, 33}, 16, 6, 0, 31),
        false);
    IntLayer fc = new IntLayer("fc1", op, true, 4, 3, 3, 5, 3, 1, 0, 6, random(rnd, 5 * 36, 6),
        Requant.fromAffine(new double[] {3, 2.5, 2, 3.5, 1}, new double[] {100, -50, 0, 20, 7}, 16, 6,
            -(1 << 15), (1 << 15) - 1),
        false);
    return new IntNetwork("mixed", 1, 12, 12, List.of(c1, c2, fc), 16);
  }

  static ModelPackage pkg() {
    return pkg(PeOp.ADDER);
  }

  static ModelPackage pkg(PeOp op) {
    IntNetwork net = network(op);
    SplittableRandom rnd = new SplittableRandom(4);
    int[][] pixels = new int[3][144];
    for (int[] p : pixels) {
      for (int i = 0; i < p.length; i++) {
        p[i] = rnd.nextInt(256);
      }
    }
    return new ModelPackage(net, new Scales(new double[] {4.0 / 255, 0.1, 0.2}, 0.01),
        Map.of("tool", "test"), ModelPackage.Golden.of(net, pixels, new int[] {0, 1, 2}));
  }

  private Path written() {
    Path dir = tmp.resolve("pkg");
    pkg().write(dir);
    return dir;
  }

  @Test
  void exportReadRunGivesIdenticalIntegers() throws IOException {
    Path dir = written();
    ModelPackage back = ModelPackage.read(dir);
    IntNetwork a = network();
    IntNetwork b = back.network();
    assertEquals(a.layers().size(), b.layers().size());
    for (int i = 0; i < a.layers().size(); i++) {
      IntLayer x = a.layers().get(i);
      IntLayer y = b.layers().get(i);
      assertArrayEquals(x.weights(), y.weights(), x.name());
      assertEquals(x.requant().shift(), y.requant().shift());
      assertArrayEquals(x.requant().bias(), y.requant().bias());
      assertArrayEquals(x.requant().terms(), y.requant().terms());
      assertEquals(x.dataBits(), y.dataBits());
      assertEquals(x.pool(), y.pool());
    }
    SplittableRandom rnd = new SplittableRandom(9);
    for (int n = 0; n < 20; n++) {
      int[] p = new int[144];
      for (int i = 0; i < p.length; i++) {
        p[i] = rnd.nextInt(256);
      }
      List<int[]> ta = a.trace(p);
      List<int[]> tb = b.trace(p);
      for (int i = 0; i < ta.size(); i++) {
        assertArrayEquals(ta.get(i), tb.get(i), "image " + n + " trace " + i);
      }
    }
    assertEquals(3, back.golden().count());
    assertEquals(0.2, back.scales().input(2));
    assertEquals("test", back.provenance().get("tool"));
  }

  @Test
  void multiplyLayersKeepTheirOperationAndTheMacAccumulatorWidth() throws IOException {
    Path dir = tmp.resolve("cnn");
    pkg(PeOp.MAC).write(dir);
    JsonNode layer0 = JSON.readTree(dir.resolve("manifest.json").toFile()).path("layers").get(0);
    assertEquals("multiply", layer0.path("operation").asText());
    // conv1: K = 9 products of pixels >> 1 (0..127) and 8-bit weights.
    assertEquals(PeOp.macAccumulatorBits(9, 0, 127, -128, 127), layer0.path("acc_bits").asInt());
    IntNetwork back = ModelPackage.read(dir).network();
    assertTrue(back.layers().stream().allMatch(l -> l.op() == PeOp.MAC), back.layers().toString());
    int[] pixels = new int[144];
    java.util.Arrays.fill(pixels, 200);
    assertArrayEquals(network(PeOp.MAC).logits(pixels), back.logits(pixels));
  }

  @Test
  void packageWithoutOperationsIsReadAsAnAdderNetwork() throws IOException {
    Path dir = written();
    editManifest(dir, r -> r.withArray("layers").forEach(l -> ((ObjectNode) l).remove("operation")));
    IntNetwork back = ModelPackage.read(dir).network();
    assertTrue(back.layers().stream().allMatch(l -> l.op() == PeOp.ADDER));
  }

  @Test
  void unknownOperationIsNamedByManifestField() throws IOException {
    Path dir = written();
    editManifest(dir, r -> ((ObjectNode) r.withArray("layers").get(1)).put("operation", "mac"));
    PackageException e = assertThrows(PackageException.class, () -> ModelPackage.read(dir));
    assertEquals("manifest.json: layers[1].operation: must be adder or multiply, got \"mac\"",
        e.getMessage());
  }

  @Test
  void memWordsAreTwosComplementAtTheDataWidth() throws IOException {
    Path dir = written();
    IntNetwork net = network();
    List<String> conv2 = Files.readAllLines(dir.resolve("weights/conv2.mem"));
    int[] w = net.layers().get(1).weights();
    for (int i = 0; i < w.length; i++) {
      assertEquals(2, conv2.get(i).length());
      assertEquals(w[i] & 0x3f, Integer.parseInt(conv2.get(i), 16), "word " + i);
    }
    IntArrayFiles.writeMem(tmp.resolve("m.mem"), new int[] {-1, -32768, 5}, 16);
    assertEquals(List.of("ffff", "8000", "0005"), Files.readAllLines(tmp.resolve("m.mem")));
    IntArrayFiles.writeBin(tmp.resolve("b.bin"), new int[] {-2, 300}, 12);
    assertArrayEquals(new byte[] {(byte) 0xfe, (byte) 0xff, 0x2c, 0x01}, Files.readAllBytes(tmp.resolve("b.bin")));
  }

  @Test
  void corruptedDataFileIsNamedWithItsChecksum() throws IOException {
    Path dir = written();
    Path f = dir.resolve("weights/conv1.bin");
    byte[] b = Files.readAllBytes(f);
    b[5] ^= 1;
    Files.write(f, b);
    PackageException e = assertThrows(PackageException.class, () -> ModelPackage.read(dir));
    assertTrue(e.getMessage().startsWith("weights/conv1.bin: SHA-256"), e.getMessage());
  }

  private void editManifest(Path dir, Consumer<ObjectNode> edit) throws IOException {
    Path m = dir.resolve("manifest.json");
    ObjectNode root = (ObjectNode) JSON.readTree(m.toFile());
    edit.accept(root);
    JSON.writeValue(m.toFile(), root);
  }

  @Test
  void wrongShapeIsNamedByManifestField() throws IOException {
    Path dir = written();
    editManifest(dir, r -> ((ObjectNode) r.withArray("layers").get(1)).put("in_channels", 4));
    PackageException e = assertThrows(PackageException.class, () -> ModelPackage.read(dir));
    assertTrue(e.getMessage().startsWith("manifest.json: layers[1].in_channels: must be 3"), e.getMessage());
  }

  @Test
  void weightShapeThatDisagreesWithTheLayerIsRefused() throws IOException {
    Path dir = written();
    editManifest(dir, r -> ((ObjectNode) r.withArray("layers").get(2)).put("out_channels", 6));
    PackageException e = assertThrows(PackageException.class, () -> ModelPackage.read(dir));
    assertTrue(e.getMessage().startsWith("manifest.json: layers[2].weights.count: must be 216"), e.getMessage());
  }

  @Test
  void outOfRangeValueIsNamedWithFileAndElement() throws IOException {
    Path dir = written();
    // conv2 weights are 6-bit, stored one byte each: 40 fits the byte but not the width.
    Path f = dir.resolve("weights/conv2.bin");
    byte[] b = Files.readAllBytes(f);
    b[7] = 40;
    Files.write(f, b);
    String sum = ModelPackage.sha256(f);
    editManifest(dir, r -> ((ObjectNode) r.get("files")).put("weights/conv2.bin", sum));
    PackageException e = assertThrows(PackageException.class, () -> ModelPackage.read(dir));
    assertTrue(e.getMessage().startsWith("weights/conv2.bin: element 7 = 40 is outside the signed 6-bit range"),
        e.getMessage());
  }

  @Test
  void memFileThatDisagreesWithBinIsNamedByLine() throws IOException {
    Path dir = written();
    Path f = dir.resolve("weights/fc1.mem");
    List<String> lines = Files.readAllLines(f);
    lines.set(3, lines.get(3).equals("00") ? "01" : "00");
    Files.write(f, lines, StandardCharsets.US_ASCII);
    String sum = ModelPackage.sha256(f);
    editManifest(dir, r -> ((ObjectNode) r.get("files")).put("weights/fc1.mem", sum));
    PackageException e = assertThrows(PackageException.class, () -> ModelPackage.read(dir));
    assertTrue(e.getMessage().startsWith("weights/fc1.mem: line 4 is"), e.getMessage());
  }

  @Test
  void unknownVersionIsRefusedBeforeAnythingElse() throws IOException {
    Path dir = written();
    editManifest(dir, r -> r.put("version", 2));
    PackageException e = assertThrows(PackageException.class, () -> ModelPackage.read(dir));
    assertTrue(e.getMessage().startsWith("manifest.json: version: unsupported package version 2"), e.getMessage());
  }

  @Test
  void goldenVectorThatTheNetworkDoesNotReproduceIsNamed() throws IOException {
    Path dir = written();
    // Change a requantization bias: every file still matches its checksum, the numbers do not.
    editManifest(dir, r -> ((com.fasterxml.jackson.databind.node.ArrayNode)
        r.withArray("layers").get(2).get("requant").get("bias")).set(0, 1L << 40));
    PackageException e = assertThrows(PackageException.class, () -> ModelPackage.read(dir));
    assertTrue(e.getMessage().contains("golden") && e.getMessage().contains("fc1"), e.getMessage());
  }

  @Test
  void failedExportLeavesNothingBehind() throws IOException {
    Path missingParent = tmp.resolve("no/such/pkg");
    assertThrows(UserError.class, () -> pkg().write(missingParent));
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of(), s.toList());
    }
    assertFalse(Files.exists(missingParent));
  }
}
