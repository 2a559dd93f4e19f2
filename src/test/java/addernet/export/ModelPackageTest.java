package addernet.export;

import addernet.io.FileHash;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.io.UserError;
import addernet.quant.PeOp;
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

  private Path written() throws IOException {
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
    pkg(PeOp.MULTIPLY).write(dir);
    JsonNode layer0 = JSON.readTree(dir.resolve("manifest.json").toFile()).path("layers").get(0);
    assertEquals("multiply", layer0.path("operation").asText());
    // conv1: K = 9 products of pixels >> 1 (0..127) and 8-bit weights.
    assertEquals(PeOp.multiplyAccumulatorBits(9, 0, 127, -128, 127), layer0.path("acc_bits").asInt());
    IntNetwork back = ModelPackage.read(dir).network();
    assertTrue(back.layers().stream().allMatch(l -> l.op() == PeOp.MULTIPLY), back.layers().toString());
    int[] pixels = new int[144];
    java.util.Arrays.fill(pixels, 200);
    assertArrayEquals(network(PeOp.MULTIPLY).logits(pixels), back.logits(pixels));
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
    String sum = FileHash.sha256(f);
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
    String sum = FileHash.sha256(f);
    editManifest(dir, r -> ((ObjectNode) r.get("files")).put("weights/fc1.mem", sum));
    PackageException e = assertThrows(PackageException.class, () -> ModelPackage.read(dir));
    assertTrue(e.getMessage().startsWith("weights/fc1.mem: line 4 is"), e.getMessage());
  }

  @Test
  void unknownVersionIsRefusedBeforeAnythingElse() throws IOException {
    Path dir = written();
    editManifest(dir, r -> r.put("version", 3));
    PackageException e = assertThrows(PackageException.class, () -> ModelPackage.read(dir));
    assertTrue(e.getMessage().startsWith("manifest.json: version: unsupported package version 3 (this reader knows"
        + " versions 1 and 2)"), e.getMessage());
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
    assertThrows(IOException.class, () -> pkg().write(missingParent));
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of(), s.toList());
    }
    assertFalse(Files.exists(missingParent));
  }

  // ---------------------------------------------------------------- one test per documented rule

  private PackageException refused(Path dir) {
    PackageException e = assertThrows(PackageException.class, () -> ModelPackage.read(dir));
    assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\r"), e.getMessage());
    return e;
  }

  private static void assertStartsWith(String prefix, PackageException e) {
    assertTrue(e.getMessage().startsWith(prefix), e.getMessage());
  }

  /** Replaces a data file and updates its SHA-256, so that the checks behind the hash are reached. */
  private void replaceData(Path dir, String rel, byte[] bytes) throws IOException {
    Files.write(dir.resolve(rel), bytes);
    String sum = FileHash.sha256(dir.resolve(rel));
    editManifest(dir, r -> ((ObjectNode) r.get("files")).put(rel, sum));
  }

  private static void editText(Path dir, java.util.function.UnaryOperator<String> edit) throws IOException {
    Path m = dir.resolve("manifest.json");
    String before = Files.readString(m);
    String after = edit.apply(before);
    assertFalse(before.equals(after), "the edit changed nothing");
    Files.writeString(m, after);
  }

  private static ObjectNode layer(ObjectNode root, int i) {
    return (ObjectNode) root.withArray("layers").get(i);
  }

  private static ObjectNode requant(ObjectNode root, int i) {
    return (ObjectNode) layer(root, i).get("requant");
  }

  /** {@link #network()} with the last layer's requantization replaced. */
  private static IntNetwork withLastRequant(Requant r) {
    IntNetwork net = network();
    List<IntLayer> layers = new java.util.ArrayList<>(net.layers());
    IntLayer l = layers.get(layers.size() - 1);
    layers.set(layers.size() - 1, new IntLayer(l.name(), l.op(), l.fullyConnected(), l.inChannels(),
        l.inHeight(), l.inWidth(), l.outChannels(), l.kernel(), l.stride(), l.padding(), l.dataBits(),
        l.weights(), r, l.pool()));
    return new IntNetwork(net.name(), net.inChannels(), net.inHeight(), net.inWidth(), layers, net.logitBits());
  }

  private Path writtenWith(IntNetwork net, String name) throws IOException {
    int[][] pixels = new int[2][144];
    for (int[] p : pixels) {
      java.util.Arrays.fill(p, 77);
    }
    Path dir = tmp.resolve(name);
    new ModelPackage(net, new Scales(new double[] {4.0 / 255, 0.1, 0.2}, 0.01), Map.of(),
        ModelPackage.Golden.of(net, pixels, new int[] {0, 4})).write(dir);
    return dir;
  }

  @Test
  void layerNamesMustBeUniqueIgnoringCase() throws IOException {
    Path dir = written();
    editManifest(dir, r -> layer(r, 1).put("name", "CONV1"));
    assertStartsWith("manifest.json: layers[1].name: \"CONV1\" is already the name of layers[0]", refused(dir));
  }

  @Test
  void layerNameMustBeAFileSafeNameOtherThanInput() throws IOException {
    Path dir = written();
    editManifest(dir, r -> layer(r, 0).put("name", "../conv1"));
    assertStartsWith("manifest.json: layers[0].name: must be a letter", refused(dir));
    Path dir2 = tmp.resolve("other");
    pkg().write(dir2);
    editManifest(dir2, r -> layer(r, 2).put("name", "input"));
    assertStartsWith("manifest.json: layers[2].name: must be a letter", refused(dir2));
  }

  @Test
  void adderAndMultiplyLayersDoNotMixInOnePackage() throws IOException {
    Path dir = written();
    editManifest(dir, r -> layer(r, 2).put("operation", "multiply"));
    assertStartsWith("manifest.json: layers[2].operation: must be adder like layers[0]", refused(dir));
    Path cnn = tmp.resolve("cnn");
    pkg(PeOp.MULTIPLY).write(cnn);
    // A missing operation means adder, so leaving it out of one multiply layer mixes them too.
    editManifest(cnn, r -> layer(r, 1).remove("operation"));
    assertStartsWith("manifest.json: layers[1].operation: must be multiply like layers[0]", refused(cnn));
  }

  @Test
  void integerWrittenWithFractionOrExponentIsRefused() throws IOException {
    Path dir = written();
    editManifest(dir, r -> layer(r, 0).put("kernel", 3.0));
    assertEquals("manifest.json: layers[0].kernel: must be an integer in 1..1024 written without fraction"
        + " or exponent, got 3.0", refused(dir).getMessage());
    Path dir2 = tmp.resolve("exp");
    pkg().write(dir2);
    editText(dir2, t -> t.replaceFirst("\"version\" : 1", "\"version\" : 1e0"));
    assertStartsWith("manifest.json: version: unsupported package version 1.0", refused(dir2));
  }

  @Test
  void biasesAreExactSixtyFourBitIntegersUpToTheBound() throws IOException {
    // fc1's accumulator has A bits; one term 2^0 reaches 2^A, so the largest allowed bias is
    // 2^62 - 2^A - 1. Read back exactly, not rounded through a double (2^62 - 2^A - 1 is odd).
    IntNetwork probe = withLastRequant(new Requant(62, new int[5][0], new long[5], -(1 << 15), (1 << 15) - 1));
    int acc = probe.accBits(2);
    long max = (1L << 62) - (1L << acc) - 1;
    int[][] terms = {{1}, {}, {}, {}, {}};
    long[] bias = {max, (1L << 62) - 1, -((1L << 62) - 1), 0, 1};
    Path dir = writtenWith(withLastRequant(new Requant(62, terms, bias, -(1 << 15), (1 << 15) - 1)), "edge");
    assertTrue(Files.readString(dir.resolve("manifest.json")).contains(Long.toString(max)));
    assertArrayEquals(bias, ModelPackage.read(dir).network().layers().get(2).requant().bias());
  }

  @Test
  void requantizationBoundIsExactAtTwoToTheSixtyTwo() throws IOException {
    IntNetwork probe = withLastRequant(new Requant(62, new int[5][0], new long[5], -(1 << 15), (1 << 15) - 1));
    int acc = probe.accBits(2);
    long reachesBound = (1L << 62) - (1L << acc); // 1 * 2^A + this = 2^62 exactly
    Path dir = writtenWith(withLastRequant(new Requant(62, new int[][] {{1}, {}, {}, {}, {}},
        new long[] {reachesBound, 0, 0, 0, 0}, -(1 << 15), (1 << 15) - 1)), "bound");
    assertStartsWith("manifest.json: layers[2].requant.terms[0]: the requantized sum can reach 1 * 2^" + acc
        + " + |" + reachesBound + "| = 4611686018427387904", refused(dir));
    Path noTerms = writtenWith(withLastRequant(new Requant(62, new int[5][0],
        new long[] {1L << 62, 0, 0, 0, 0}, -(1 << 15), (1 << 15) - 1)), "bias");
    assertStartsWith("manifest.json: layers[2].requant.bias[0]: the requantized sum can reach", refused(noTerms));
  }

  @Test
  void boundCheckDoesNotOverflowAtTheExtremes() {
    // Widest accumulator and highest digit: 64 * 2^92 and |Long.MIN_VALUE| exceed 64 bits.
    int[][] terms = {java.util.stream.IntStream.iterate(31, t -> t - 1).limit(31).toArray()};
    for (long b : new long[] {Long.MIN_VALUE, Long.MAX_VALUE, 0}) {
      Requant r = new Requant(0, terms, new long[] {b}, 0, 1);
      PackageException e = assertThrows(PackageException.class, () -> PackageRequant.checkBound(r, 62, "x"));
      assertTrue(e.getMessage().contains("2^92"), e.getMessage());
    }
    Requant minOnly = new Requant(0, new int[][] {{}}, new long[] {Long.MIN_VALUE}, 0, 1);
    PackageException e = assertThrows(PackageException.class, () -> PackageRequant.checkBound(minOnly, 62, "x"));
    assertTrue(e.getMessage().contains("= 9223372036854775808;"), e.getMessage());
  }

  @Test
  void biasBeyondSixtyFourBitsIsRefused() throws IOException {
    Path dir = written();
    editText(dir, t -> t.replaceFirst("\"bias\" : \\[ (-?\\d+)", "\"bias\" : [ 9223372036854775808"));
    assertStartsWith("manifest.json: layers[0].requant.bias[0]: must be a 64-bit integer, got 9223372036854775808",
        refused(dir));
  }

  @Test
  void sha256MustBeLowerCaseHex() throws IOException {
    Path dir = written();
    editManifest(dir, r -> ((ObjectNode) r.get("files")).put("weights/conv1.bin",
        r.get("files").get("weights/conv1.bin").asText().toUpperCase(java.util.Locale.ROOT)));
    assertStartsWith("manifest.json: files.weights/conv1.bin: must be a SHA-256 as 64 lower-case hex digits",
        refused(dir));
  }

  @Test
  void memWordsMustBeLowerCaseHex() throws IOException {
    Path dir = written();
    String mem = Files.readString(dir.resolve("weights/conv1.mem"));
    int line = mem.lines().toList().indexOf(mem.lines().filter(l -> l.matches(".*[a-f].*")).findFirst().orElseThrow());
    List<String> lines = new java.util.ArrayList<>(mem.lines().toList());
    lines.set(line, lines.get(line).toUpperCase(java.util.Locale.ROOT));
    replaceData(dir, "weights/conv1.mem", (String.join("\n", lines) + "\n").getBytes(StandardCharsets.US_ASCII));
    assertStartsWith("weights/conv1.mem: line " + (line + 1) + " '" + lines.get(line)
        + "' is not 2 lower-case hex digits", refused(dir));
  }

  @Test
  void memWordWithASignIsRefused() throws IOException {
    // Long.parseLong would read "-1" as -1, which is ff's value at 8 bits.
    Path dir = written();
    List<String> lines = new java.util.ArrayList<>(Files.readAllLines(dir.resolve("weights/conv1.mem")));
    int[] w = network().layers().get(0).weights();
    int i = java.util.stream.IntStream.range(0, w.length).filter(k -> w[k] == -1).findFirst().orElse(-1);
    if (i < 0) {
      i = 0;
      w[0] = -1;
    }
    lines.set(i, "-1");
    replaceData(dir, "weights/conv1.mem", (String.join("\n", lines) + "\n").getBytes(StandardCharsets.US_ASCII));
    assertStartsWith("weights/conv1.mem: line " + (i + 1) + " '-1' is not 2 lower-case hex digits", refused(dir));
  }

  @Test
  void memLinesEndInLineFeedOnly() throws IOException {
    Path dir = written();
    String mem = Files.readString(dir.resolve("weights/conv2.mem"));
    replaceData(dir, "weights/conv2.mem", mem.replace("\n", "\r\n").getBytes(StandardCharsets.US_ASCII));
    assertEquals("weights/conv2.mem: line 1 ends in CR LF; lines end in LF only", refused(dir).getMessage());
  }

  @Test
  void memLastLineMustEndInANewline() throws IOException {
    Path dir = written();
    String mem = Files.readString(dir.resolve("weights/conv2.mem"));
    replaceData(dir, "weights/conv2.mem", mem.substring(0, mem.length() - 1).getBytes(StandardCharsets.US_ASCII));
    int words = network().layers().get(1).weights().length;
    assertStartsWith("weights/conv2.mem: line " + words + " '", refused(dir));
    assertTrue(refused(dir).getMessage().endsWith("does not end in a newline (LF)"));
  }

  @Test
  void memWithExtraWordsIsRefused() throws IOException {
    Path dir = written();
    String mem = Files.readString(dir.resolve("weights/conv2.mem"));
    replaceData(dir, "weights/conv2.mem", (mem + "00\n").getBytes(StandardCharsets.US_ASCII));
    assertStartsWith("weights/conv2.mem: " + (mem.length() + 3) + " bytes, more than the 108 words", refused(dir));
  }

  @Test
  void goldenLabelsMustBeClassIndices() throws IOException {
    Path dir = written();
    editManifest(dir, r -> ((com.fasterxml.jackson.databind.node.ArrayNode) r.get("golden").get("labels")).set(1, 5));
    assertEquals("manifest.json: golden.labels[1]: must be an integer in 0..4 (a class index), got 5",
        refused(dir).getMessage());
    Path neg = tmp.resolve("neg");
    pkg().write(neg);
    editManifest(neg, r -> ((com.fasterxml.jackson.databind.node.ArrayNode) r.get("golden").get("predictions")).set(0, -1));
    assertStartsWith("manifest.json: golden.predictions[0]: must be an integer in 0..4", refused(neg));
  }

  @Test
  void maxTermsMustEqualTheLargestTermCount() throws IOException {
    Path dir = written();
    int actual = network().layers().get(1).requant().maxTerms();
    editManifest(dir, r -> requant(r, 1).put("max_terms", actual + 1));
    assertEquals("manifest.json: layers[1].requant.max_terms: must be " + actual
        + " (the most terms of any channel), got " + (actual + 1), refused(dir).getMessage());
  }

  @Test
  void lastLayerClampIsExactlyTheLogitRange() throws IOException {
    Path dir = written();
    editManifest(dir, r -> requant(r, 2).put("hi", 32000));
    assertEquals("manifest.json: layers[2].requant.hi: must be 32767 (the 16-bit logit range), got 32000",
        refused(dir).getMessage());
    Path wide = tmp.resolve("wide");
    pkg().write(wide);
    editManifest(wide, r -> requant(r, 2).put("lo", -65536));
    assertStartsWith("manifest.json: layers[2].requant.lo: must be -32768 (the 16-bit logit range)", refused(wide));
  }

  @Test
  void hiddenLayerClampIsReluIntoTheNextLayersData() throws IOException {
    Path dir = written();
    editManifest(dir, r -> requant(r, 0).put("hi", 15));
    assertEquals("manifest.json: layers[0].requant.hi: must be 31 (ReLU into the next layer's 6-bit data), got 15",
        refused(dir).getMessage());
  }

  @Test
  void repeatedSignedDigitTermIsRefused() throws IOException {
    Path dir = written();
    editManifest(dir, r -> {
      var t = (com.fasterxml.jackson.databind.node.ArrayNode) requant(r, 0).get("terms").get(1);
      t.insert(1, t.get(0).intValue());
    });
    assertStartsWith("manifest.json: layers[0].requant.terms[1][1]: repeats the power of two of"
        + " layers[0].requant.terms[1][0]", refused(dir));
  }

  @Test
  void termsAreListedMostSignificantFirst() throws IOException {
    Path dir = written();
    editManifest(dir, r -> {
      var t = (com.fasterxml.jackson.databind.node.ArrayNode) requant(r, 0).get("terms").get(0);
      var first = t.remove(0);
      t.add(first);
    });
    assertStartsWith("manifest.json: layers[0].requant.terms[0][", refused(dir));
    assertTrue(refused(dir).getMessage().contains("(most significant first)"), refused(dir).getMessage());
  }

  @Test
  void theOutputMarkerAndOtherHiddenFilesAreIgnored() throws IOException {
    Path dir = written();
    // quantize leaves its output marker in the package folder it claimed.
    Files.writeString(dir.resolve(addernet.io.Outputs.MARKER), "x");
    Files.writeString(dir.resolve(".DS_Store"), "x");
    Files.createDirectories(dir.resolve("weights/.cache/deep"));
    Files.writeString(dir.resolve("weights/.cache/deep/notes.txt"), "x");
    assertEquals(3, ModelPackage.read(dir).golden().count());
  }

  @Test
  void unlistedFileInThePackageIsRefused() throws IOException {
    Path dir = written();
    Files.writeString(dir.resolve("weights/conv4.mem"), "00\n");
    assertStartsWith("weights/conv4.mem: a file that manifest.json does not list", refused(dir));
  }

  @Test
  void unlistedFolderOrLinkInThePackageIsRefused() throws IOException {
    Path dir = written();
    Files.createDirectory(dir.resolve("notes"));
    assertStartsWith("notes/: a folder that manifest.json does not list", refused(dir));
    Files.delete(dir.resolve("notes"));
    Files.createSymbolicLink(dir.resolve("golden/extra.bin"), dir.resolve("golden/input.bin"));
    assertStartsWith("golden/extra.bin: a link that manifest.json does not list", refused(dir));
  }

  @Test
  void listedDataFileMustNotBeALink() throws IOException {
    Path dir = written();
    Path f = dir.resolve("weights/fc1.bin");
    Path copy = tmp.resolve("fc1.bin");
    Files.move(f, copy);
    Files.createSymbolicLink(f, copy);
    assertEquals("weights/fc1.bin: must be a regular file (not a folder or a link)", refused(dir).getMessage());
  }

  @Test
  void listedFileThatNoDescriptorNamesIsRefused() throws IOException {
    Path dir = written();
    Files.copy(dir.resolve("weights/fc1.bin"), dir.resolve("weights/fc9.bin"));
    String sum = FileHash.sha256(dir.resolve("weights/fc9.bin"));
    editManifest(dir, r -> ((ObjectNode) r.get("files")).put("weights/fc9.bin", sum));
    assertStartsWith("manifest.json: files.weights/fc9.bin: no array descriptor names this file", refused(dir));
  }

  @Test
  void filesOutsideTheLayoutAreRefusedByName() throws IOException {
    Path dir = written();
    editManifest(dir, r -> ((ObjectNode) r.get("files")).put("../escape.bin", "00"));
    assertStartsWith("manifest.json: files.../escape.bin: not a file of this format", refused(dir));
    Path nul = tmp.resolve("nul");
    pkg().write(nul);
    editManifest(nul, r -> ((ObjectNode) r.get("files")).put("weights/a\u0000b\nc.bin", "00"));
    assertStartsWith("manifest.json: files[\"weights/a\\u0000b\\nc.bin\"]: not a file of this format", refused(nul));
  }

  @Test
  void descriptorMustNameTheLayoutsFile() throws IOException {
    Path dir = written();
    editManifest(dir, r -> ((ObjectNode) layer(r, 1).get("weights")).put("mem", "weights/conv1.mem"));
    assertEquals("manifest.json: layers[1].weights.mem: must be \"weights/conv2.mem\", got \"weights/conv1.mem\"",
        refused(dir).getMessage());
  }

  @Test
  void duplicateJsonKeysAreRefused() throws IOException {
    Path dir = written();
    editText(dir, t -> t.replaceFirst("\"version\" : 1,", "\"version\" : 1, \"version\" : 1,"));
    assertStartsWith("manifest.json: not valid JSON at line 3", refused(dir));
    assertTrue(refused(dir).getMessage().contains("Duplicate"), refused(dir).getMessage());
  }

  @Test
  void anythingAfterTheManifestObjectIsRefused() throws IOException {
    Path dir = written();
    editText(dir, t -> t + "\n{}");
    assertStartsWith("manifest.json: not valid JSON", refused(dir));
  }

  @Test
  void manifestMustBeUtf8WithoutByteOrderMark() throws IOException {
    Path dir = written();
    Path m = dir.resolve("manifest.json");
    byte[] b = Files.readAllBytes(m);
    byte[] bom = new byte[b.length + 3];
    bom[0] = (byte) 0xef;
    bom[1] = (byte) 0xbb;
    bom[2] = (byte) 0xbf;
    System.arraycopy(b, 0, bom, 3, b.length);
    Files.write(m, bom);
    assertStartsWith("manifest.json: starts with a byte-order mark", refused(dir));
    String t = new String(b, StandardCharsets.UTF_8).replace("\"test\"", "\"t\u00e9st\"");
    Files.write(m, t.getBytes(StandardCharsets.ISO_8859_1));
    assertEquals("manifest.json: not UTF-8 text", refused(dir).getMessage());
  }

  @Test
  void oversizedManifestIsRefusedBeforeReading() throws IOException {
    Path dir = written();
    try (var f = new java.io.RandomAccessFile(dir.resolve("manifest.json").toFile(), "rw")) {
      f.setLength(PackageReader.MAX_MANIFEST_BYTES + 1); // sparse: costs no disk
    }
    assertStartsWith("manifest.json: 67108865 bytes, more than the 64 MiB", refused(dir));
  }

  @Test
  void declaredSizesAreCheckedAgainstTheFilesBeforeAllocating() throws IOException {
    Path dir = written();
    // 65536 images of 144 pixels: the labels disagree first; with them the file length does.
    editManifest(dir, r -> {
      ObjectNode g = (ObjectNode) r.get("golden");
      g.put("count", 65536);
      var labels = g.putArray("labels");
      var preds = g.putArray("predictions");
      for (int i = 0; i < 65536; i++) {
        labels.add(0);
        preds.add(0);
      }
      ObjectNode in = (ObjectNode) g.get("input");
      in.put("count", 65536 * 144);
      in.putArray("shape").add(65536).add(1).add(12).add(12);
    });
    assertEquals("golden/input.bin: 432 bytes, expected 9437184 elements of 1 byte(s) = 9437184",
        refused(dir).getMessage());
  }

  @Test
  void layerWhoseSizesPassTwoToTheThirtyOneIsRefused() throws IOException {
    Path dir = written();
    editManifest(dir, r -> {
      ObjectNode in = (ObjectNode) r.get("input");
      in.put("channels", 65536).put("height", 65536).put("width", 65536);
    });
    assertStartsWith("manifest.json: input: the input image has 281474976710656 elements, more than the 2^31 - 1",
        refused(dir));
  }

  @Test
  void reductionLongerThanTwoToTheTwentyFourIsRefused() throws IOException {
    Path dir = written();
    // 65536 x 32 x 32 = 2^26 input elements fit an array, but K = 65536 * 32^2 = 2^26 > 2^24.
    editManifest(dir, r -> {
      ((ObjectNode) r.get("input")).put("channels", 65536).put("height", 32).put("width", 32);
      layer(r, 0).put("in_channels", 65536).put("in_height", 32).put("in_width", 32).put("kernel", 32);
    });
    assertEquals("manifest.json: layers[0]: K = in_channels * kernel^2 = 67108864 exceeds the contract's 2^24"
        + " (section 3)", refused(dir).getMessage());
  }

  @Test
  void provenanceWhenPresentIsAnObject() throws IOException {
    Path dir = written();
    editManifest(dir, r -> r.put("provenance", "quantize"));
    assertEquals("manifest.json: provenance: must be an object, got \"quantize\"", refused(dir).getMessage());
    editManifest(dir, r -> {
      r.remove("provenance");
      r.remove("contract");
    });
    assertEquals(Map.of(), ModelPackage.read(dir).provenance());
  }

  @Test
  void controlCharactersNeverBreakTheOneLineMessage() throws IOException {
    Path dir = written();
    editManifest(dir, r -> r.put("network", "evil\nname"));
    PackageException e = refused(dir);
    assertStartsWith("manifest.json: network: must be a name without control characters", e);
    assertEquals(1, e.getMessage().lines().count());
  }
}
