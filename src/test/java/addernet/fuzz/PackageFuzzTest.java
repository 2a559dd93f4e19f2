package addernet.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.export.ModelPackage;
import addernet.export.PackageException;
import addernet.quant.PeOp;
import addernet.quant.IntLayer;
import addernet.quant.IntNetwork;
import addernet.quant.RandomNetworks;
import addernet.quant.Scales;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generated corruptions of model packages written by the project (small random networks, adder
 * and multiply): deleted, renamed, duplicated and retyped fields, numbers at the extremes, broken
 * hashes, truncated and bit-flipped data files, CR LF and upper-case hex, added and removed files.
 * For each, reading either succeeds, when docs/model-package.md says the change is harmless, or
 * throws a {@link PackageException} with a one-line message; never another exception, and the
 * package is never changed by reading it. A few go through the CLI: exit 2, one {@code error:}
 * line, no stack trace, nothing written.
 */
class PackageFuzzTest {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final int JSON_CASES = 500;
  private static final int FILE_CASES = 200;

  @TempDir static Path tmp;
  private static Path adder;
  private static Path mac;
  private static int caseNo;

  /** Whether the documented rules let a corrupted package through. */
  enum Expect { ACCEPT, REFUSE, EITHER }

  record Outcome(String what, Expect expect) {}

  @BeforeAll
  static void writePackages() throws IOException {
    adder = write(network(PeOp.ADDER), "adder");
    mac = write(network(PeOp.MULTIPLY), "mac");
  }

  /** The first random network whose hidden layers all end in ReLU, as every packaged network does. */
  private static IntNetwork network(PeOp op) {
    for (long seed = 1; ; seed++) {
      IntNetwork net = RandomNetworks.create(seed, op);
      List<IntLayer> l = net.layers();
      if (l.size() >= 3 && l.subList(0, l.size() - 1).stream().allMatch(x -> x.requant().lo() == 0)) {
        return net;
      }
    }
  }

  private static Path write(IntNetwork net, String name) throws IOException {
    SplittableRandom rnd = new SplittableRandom(name.hashCode());
    int size = net.inChannels() * net.inHeight() * net.inWidth();
    int[][] pixels = new int[3][size];
    int[] labels = new int[3];
    for (int v = 0; v < 3; v++) {
      for (int i = 0; i < size; i++) {
        pixels[v][i] = rnd.nextInt(256);
      }
      labels[v] = rnd.nextInt(net.classes());
    }
    double[] scales = new double[net.layers().size()];
    Arrays.fill(scales, 0.05);
    Path dir = tmp.resolve(name);
    new ModelPackage(net, new Scales(scales, 0.01), Map.of("tool", "fuzz", "nested", Map.of("k", List.of(1, 2))),
        ModelPackage.Golden.of(net, pixels, labels)).write(dir);
    return dir;
  }

  // ---------------------------------------------------------------- the suites

  @Test
  void uncorruptedPackagesRead() throws IOException {
    assertEquals(3, ModelPackage.read(adder).golden().count());
    assertTrue(ModelPackage.read(mac).network().layers().stream().allMatch(l -> l.op() == PeOp.MULTIPLY));
  }

  @Test
  void manifestCorruptionsAreAnsweredByTheRules() throws IOException {
    List<String> failures = new ArrayList<>();
    int[] counts = new int[2];
    for (int i = 0; i < JSON_CASES; i++) {
      SplittableRandom rnd = new SplittableRandom(1000 + i);
      Path base = rnd.nextBoolean() ? adder : mac;
      Path pkg = copy(base);
      Outcome o = corruptManifest(pkg, base == mac, rnd);
      check("case " + i + " (" + (base == mac ? "mac" : "adder") + "): " + o.what(), pkg, o.expect(), failures, counts);
    }
    assertEquals(List.of(), failures);
    // The generator must reach both answers often, or the suite tests little.
    assertTrue(counts[0] > 50 && counts[1] > 250, "accepted " + counts[0] + ", refused " + counts[1]);
  }

  @Test
  void fileCorruptionsAreAnsweredByTheRules() throws IOException {
    List<String> failures = new ArrayList<>();
    int[] counts = new int[2];
    for (int i = 0; i < FILE_CASES; i++) {
      SplittableRandom rnd = new SplittableRandom(5000 + i);
      Path base = rnd.nextBoolean() ? adder : mac;
      Path pkg = copy(base);
      Outcome o = corruptFiles(pkg, rnd);
      check("case " + i + ": " + o.what(), pkg, o.expect(), failures, counts);
    }
    assertEquals(List.of(), failures);
    assertTrue(counts[0] > 10 && counts[1] > 120, "accepted " + counts[0] + ", refused " + counts[1]);
  }

  /**
   * A residual net's version 2 package with one value anywhere in its manifest replaced, deleted
   * or retyped: read, or refused in one line, never another exception.
   */
  @Test
  void residualPackageCorruptionsAreReadOrRefusedInOneLine() throws IOException {
    IntNetwork net = addernet.export.ResidualNets.residual(4);
    int[][] pixels = new int[3][100];
    SplittableRandom px = new SplittableRandom(3);
    for (int[] p : pixels) {
      for (int i = 0; i < p.length; i++) {
        p[i] = px.nextInt(256);
      }
    }
    Path base = tmp.resolve("residual");
    new ModelPackage(net, addernet.export.ResidualNets.scales(), Map.of(), ModelPackage.Golden.of(net, pixels,
        new int[3])).write(base);
    List<JsonNode> values = List.of(IntNode.valueOf(-1), IntNode.valueOf(0), IntNode.valueOf(1), IntNode.valueOf(2),
        IntNode.valueOf(99), LongNode.valueOf(1L << 40), DoubleNode.valueOf(0.5), TextNode.valueOf("add"),
        NullNode.getInstance(), BooleanNode.TRUE, JSON.createArrayNode());
    List<String> failures = new ArrayList<>();
    int[] counts = new int[2];
    for (int i = 0; i < 150; i++) {
      SplittableRandom rnd = new SplittableRandom(9000 + i);
      Path pkg = copy(base);
      ObjectNode root = (ObjectNode) JSON.readTree(pkg.resolve("manifest.json").toFile());
      List<JsonNode[]> leaves = new ArrayList<>(); // {parent, key or index}
      collect(root.get("nodes"), leaves);
      JsonNode[] pick = leaves.get(rnd.nextInt(leaves.size()));
      JsonNode v = rnd.nextInt(8) == 0 ? null : values.get(rnd.nextInt(values.size()));
      if (pick[0] instanceof ObjectNode o) {
        if (v == null) {
          o.remove(pick[1].textValue());
        } else {
          o.set(pick[1].textValue(), v);
        }
      } else {
        ((ArrayNode) pick[0]).set(pick[1].intValue(), v == null ? NullNode.getInstance() : v);
      }
      JSON.writeValue(pkg.resolve("manifest.json").toFile(), root);
      check("residual case " + i + ": " + pick[1] + " = " + v, pkg, Expect.EITHER, failures, counts);
    }
    assertEquals(List.of(), failures);
    assertTrue(counts[1] > 100, "refused only " + counts[1]);
  }

  /** Every (container, key or index) pair under {@code n}. */
  private static void collect(JsonNode n, List<JsonNode[]> out) {
    if (n.isObject()) {
      n.fields().forEachRemaining(e -> {
        out.add(new JsonNode[] {n, TextNode.valueOf(e.getKey())});
        collect(e.getValue(), out);
      });
    } else if (n.isArray()) {
      for (int i = 0; i < n.size(); i++) {
        out.add(new JsonNode[] {n, IntNode.valueOf(i)});
        collect(n.get(i), out);
      }
    }
  }

  @Test
  void notAPackageAtAllIsOneLine() throws IOException {
    List<String> failures = new ArrayList<>();
    int[] counts = new int[2];
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    check("a file", file, Expect.REFUSE, failures, counts);
    check("missing", tmp.resolve("missing"), Expect.REFUSE, failures, counts);
    check("empty folder", Files.createDirectory(tmp.resolve("empty")), Expect.REFUSE, failures, counts);
    for (String m : List.of("", "null", "[]", "{}", "\"x\"", "{\"format\": \"addernet-model-package\", \"version\": 1}",
        "[".repeat(5000), "{\"a\":" + "9".repeat(5000) + "}")) {
      Path pkg = copy(adder);
      Files.writeString(pkg.resolve("manifest.json"), m);
      check("manifest " + cut(m), pkg, Expect.REFUSE, failures, counts);
    }
    Path dirManifest = copy(adder);
    Files.delete(dirManifest.resolve("manifest.json"));
    Files.createDirectory(dirManifest.resolve("manifest.json"));
    check("manifest is a folder", dirManifest, Expect.REFUSE, failures, counts);
    assertEquals(List.of(), failures);
  }

  /** A few refusals through the launcher: exit 2, one error line, no trace, nothing written. */
  @Test
  void refusedPackagesGiveOneErrorLineThroughTheCli() throws IOException {
    List<String> kinds = List.of("bit flip", "crlf", "upper-case hash", "unlisted file", "truncated manifest",
        "label out of range", "bias 5.0", "duplicate key", "huge count", "max_terms");
    for (String kind : kinds) {
      Path pkg = copy(adder);
      cliCorruption(pkg, kind);
      Map<String, String> before = snapshot(pkg);
      Path outs = Files.createDirectory(tmp.resolve("outs-" + (++caseNo)));
      Path out = outs.resolve("rtl");
      String[] run = runCli("generate", "--model", pkg.toString(), "--rows", "2", "--cols", "2", "--out", out.toString());
      String where = kind + ": exit " + run[0] + ", err " + run[2];
      assertEquals("2", run[0], where);
      List<String> lines = run[2].strip().lines().toList();
      assertEquals(1, lines.size(), where);
      assertTrue(lines.get(0).startsWith("error: "), where);
      assertFalse((run[1] + run[2]).contains("Exception") || (run[1] + run[2]).contains("\tat "), where);
      assertEquals(before, snapshot(pkg), kind + ": the package changed");
      try (Stream<Path> s = Files.list(outs)) {
        assertEquals(List.of(), s.toList(), kind + ": something was written");
      }
    }
  }

  private static void cliCorruption(Path pkg, String kind) throws IOException {
    switch (kind) {
      case "bit flip" -> {
        Path f = pkg.resolve(dataFiles(pkg).get(0));
        byte[] b = Files.readAllBytes(f);
        b[0] ^= 4;
        Files.write(f, b);
      }
      case "crlf" -> {
        String rel = dataFiles(pkg).stream().filter(f -> f.endsWith(".mem")).findFirst().orElseThrow();
        rewrite(pkg, rel, Files.readString(pkg.resolve(rel)).replace("\n", "\r\n").getBytes(StandardCharsets.US_ASCII));
      }
      case "upper-case hash" -> editManifest(pkg, r -> {
        ObjectNode files = (ObjectNode) r.get("files");
        String k = files.fieldNames().next();
        files.put(k, files.get(k).asText().toUpperCase(Locale.ROOT).replace('0', 'A'));
      });
      case "unlisted file" -> Files.writeString(pkg.resolve("weights/extra.mem"), "00\n");
      case "truncated manifest" -> {
        byte[] m = Files.readAllBytes(pkg.resolve("manifest.json"));
        Files.write(pkg.resolve("manifest.json"), Arrays.copyOf(m, m.length / 2));
      }
      case "label out of range" -> editManifest(pkg, r -> ((ArrayNode) r.get("golden").get("labels")).set(0, 250));
      case "bias 5.0" -> editManifest(pkg, r -> ((ArrayNode) r.get("layers").get(0).get("requant").get("bias")).set(0, 5.0));
      case "duplicate key" -> {
        String t = Files.readString(pkg.resolve("manifest.json"));
        Files.writeString(pkg.resolve("manifest.json"), t.replaceFirst("\"classes\" : ", "\"classes\" : 1, \"classes\" : "));
      }
      case "huge count" -> editManifest(pkg, r -> ((ObjectNode) r.get("golden").get("input")).put("count", Integer.MAX_VALUE));
      case "max_terms" -> editManifest(pkg, r -> {
        ObjectNode rq = (ObjectNode) r.get("layers").get(0).get("requant");
        rq.put("max_terms", rq.get("max_terms").asInt() + 1);
      });
      default -> throw new IllegalArgumentException(kind);
    }
  }

  // ---------------------------------------------------------------- checking one case

  private static void check(String what, Path pkg, Expect expect, List<String> failures, int[] counts)
      throws IOException {
    Map<String, String> before = Files.exists(pkg) ? snapshot(pkg) : Map.of();
    Throwable thrown = null;
    try {
      ModelPackage.read(pkg);
    } catch (Throwable t) {
      thrown = t;
    }
    Map<String, String> after = Files.exists(pkg) ? snapshot(pkg) : Map.of();
    if (!before.equals(after)) {
      failures.add(what + ": reading changed the package");
    }
    if (thrown == null) {
      counts[0]++;
      if (expect == Expect.REFUSE) {
        failures.add(what + ": accepted, but the rules refuse it");
      }
      return;
    }
    counts[1]++;
    if (!(thrown instanceof PackageException)) {
      StringWriter w = new StringWriter();
      thrown.printStackTrace(new PrintWriter(w));
      failures.add(what + ": " + w.toString().lines().limit(4).reduce((a, b) -> a + " | " + b).orElse(""));
      return;
    }
    String m = thrown.getMessage();
    if (m == null || m.isBlank() || m.contains("\n") || m.contains("\r") || !m.contains(": ") || m.length() > 600) {
      failures.add(what + ": message is not one naming line: " + m);
    }
    if (expect == Expect.ACCEPT) {
      failures.add(what + ": refused, but the rules accept it: " + m);
    }
  }

  // ---------------------------------------------------------------- manifest corruptions

  /** One place in the manifest tree: {@code key} (a String or an Integer) of {@code parent}. */
  record Spot(JsonNode parent, Object key, List<Object> path) {
    JsonNode value() {
      return key instanceof String s ? parent.get(s) : parent.get((Integer) key);
    }

    void set(JsonNode v) {
      if (key instanceof String s) {
        ((ObjectNode) parent).set(s, v);
      } else {
        ((ArrayNode) parent).set((Integer) key, v);
      }
    }

    void remove() {
      if (key instanceof String s) {
        ((ObjectNode) parent).remove(s);
      } else {
        ((ArrayNode) parent).remove((Integer) key);
      }
    }
  }

  private static void collect(JsonNode n, List<Object> path, List<Spot> out) {
    if (n.isObject()) {
      for (String k : iterable(n.fieldNames())) {
        List<Object> p = append(path, k);
        out.add(new Spot(n, k, p));
        collect(n.get(k), p, out);
      }
    } else if (n.isArray()) {
      for (int i = 0; i < n.size(); i++) {
        List<Object> p = append(path, i);
        out.add(new Spot(n, i, p));
        collect(n.get(i), p, out);
      }
    }
  }

  private static Outcome corruptManifest(Path pkg, boolean isMac, SplittableRandom rnd) throws IOException {
    Path m = pkg.resolve("manifest.json");
    String text = Files.readString(m);
    JsonNode original = JSON.readTree(text);
    int kind = rnd.nextInt(10);
    if (kind == 0) {
      return duplicateKey(m, text, rnd);
    }
    if (kind == 1) {
      return rawNumber(m, text, rnd);
    }
    ObjectNode root = (ObjectNode) original.deepCopy();
    List<Spot> spots = new ArrayList<>();
    collect(root, List.of(), spots);
    Spot s = spots.get(rnd.nextInt(spots.size()));
    JsonNode old = s.value();
    Rules rules = new Rules(original, isMac);
    String at = pathText(s.path());
    Outcome o;
    switch (kind) {
      case 2 -> {
        s.remove();
        o = new Outcome("delete " + at, rules.judge(s.path(), Op.DELETE, null));
      }
      case 3 -> {
        if (!(s.key() instanceof String k)) {
          s.remove();
          o = new Outcome("delete " + at, rules.judge(s.path(), Op.DELETE, null));
        } else {
          ((ObjectNode) s.parent()).remove(k);
          ((ObjectNode) s.parent()).set(k + "_renamed", old);
          o = new Outcome("rename " + at, rules.judge(s.path(), Op.DELETE, null));
        }
      }
      case 4 -> {
        JsonNode v = retyped(old, rnd);
        s.set(v);
        o = new Outcome("retype " + at + " to " + cut(v.toString()), rules.judge(s.path(), Op.SET, v));
      }
      case 5, 6 -> {
        JsonNode v = old.isNumber() ? extreme(old, rnd) : old.isTextual() ? edited(old.textValue(), rnd)
            : old.isBoolean() ? BooleanNode.valueOf(!old.booleanValue()) : retyped(old, rnd);
        s.set(v);
        o = new Outcome("set " + at + " to " + cut(v.toString()), rules.judge(s.path(), Op.SET, v));
      }
      case 7 -> {
        List<Spot> arrays = spots.stream().filter(x -> x.value().isArray()).toList();
        Spot a = arrays.get(rnd.nextInt(arrays.size()));
        ArrayNode arr = (ArrayNode) a.value();
        String what;
        int choice = rnd.nextInt(4);
        if (choice == 0 && !arr.isEmpty()) {
          int i = rnd.nextInt(arr.size());
          arr.remove(i);
          what = "remove element " + i + " of ";
        } else if (choice == 1 && !arr.isEmpty()) {
          int i = rnd.nextInt(arr.size());
          arr.insert(i, arr.get(i).deepCopy());
          what = "duplicate element " + i + " of ";
        } else if (choice == 2) {
          arr.removeAll();
          what = "empty ";
        } else {
          arr.add(rnd.nextInt(-3, 40));
          what = "append a number to ";
        }
        o = new Outcome(what + pathText(a.path()), rules.judge(a.path(), Op.ARRAY, null));
      }
      default -> {
        List<Spot> objects = new ArrayList<>(spots.stream().filter(x -> x.value().isObject()).toList());
        objects.add(new Spot(null, null, List.of()));
        Spot obj = objects.get(rnd.nextInt(objects.size()));
        ObjectNode target = obj.path().isEmpty() ? root : (ObjectNode) obj.value();
        target.put("unknown_field", rnd.nextInt(100));
        o = new Outcome("add a field to " + pathText(obj.path()), rules.judge(obj.path(), Op.ADD, null));
      }
    }
    String after = JSON.writeValueAsString(root);
    if (JSON.readTree(after).equals(original)) {
      o = new Outcome(o.what() + " (no change)", Expect.ACCEPT);
    }
    Files.writeString(m, after);
    return o;
  }

  /** A member written twice, as text (a tree cannot hold it): always refused. */
  private static Outcome duplicateKey(Path m, String text, SplittableRandom rnd) throws IOException {
    Matcher mt = Pattern.compile("\"([a-z_]+)\" : (-?[0-9][0-9.eE+-]*|true|false|\"[^\"]*\")").matcher(text);
    List<int[]> at = new ArrayList<>();
    while (mt.find()) {
      at.add(new int[] {mt.start(), mt.end()});
    }
    int[] p = at.get(rnd.nextInt(at.size()));
    String member = text.substring(p[0], p[1]);
    Files.writeString(m, text.substring(0, p[1]) + ", " + member + text.substring(p[1]));
    return new Outcome("duplicate member " + member, Expect.REFUSE);
  }

  /** A number token replaced by a spelling JSON or the format refuses (or an exact equivalent). */
  private static Outcome rawNumber(Path m, String text, SplittableRandom rnd) throws IOException {
    Matcher mt = Pattern.compile("\"(version|classes|logit_bits|count|kernel|shift|max_terms|logit_scale)\" : (-?[0-9][0-9.eE+-]*)")
        .matcher(text);
    List<int[]> at = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    while (mt.find()) {
      at.add(new int[] {mt.start(2), mt.end(2)});
      keys.add(mt.group(1));
    }
    int i = rnd.nextInt(at.size());
    String[] spellings = {"1e999", "-1e999", "1e-999", "0x10", "01", "+1", "1.", ".5", "NaN", "Infinity", "1_000", "١"};
    String s = spellings[rnd.nextInt(spellings.length)];
    Files.writeString(m, text.substring(0, at.get(i)[0]) + s + text.substring(at.get(i)[1]));
    return new Outcome("number of " + keys.get(i) + " spelt " + s, Expect.REFUSE);
  }

  private static JsonNode retyped(JsonNode old, SplittableRandom rnd) {
    List<JsonNode> options = new ArrayList<>(List.of(NullNode.instance, BooleanNode.TRUE, TextNode.valueOf("1"),
        JSON.createObjectNode(), JSON.createArrayNode(), IntNode.valueOf(1)));
    if (old.isIntegralNumber()) {
      options.add(DoubleNode.valueOf(old.doubleValue())); // 5 -> 5.0
      options.add(TextNode.valueOf(old.asText())); // 5 -> "5"
    }
    if (old.isTextual()) {
      options.add(IntNode.valueOf(old.textValue().length()));
    }
    options.removeIf(o -> o.getNodeType() == old.getNodeType() && !(old.isNumber() && o.isNumber()));
    return options.get(rnd.nextInt(options.size()));
  }

  private static JsonNode extreme(JsonNode old, SplittableRandom rnd) {
    long v = old.isIntegralNumber() && old.canConvertToLong() ? old.longValue() : 1;
    JsonNode[] options = {
      IntNode.valueOf(0), IntNode.valueOf(1), IntNode.valueOf(-1), IntNode.valueOf(2), IntNode.valueOf(31),
      IntNode.valueOf(62), IntNode.valueOf(63), IntNode.valueOf(65536), IntNode.valueOf(65537),
      IntNode.valueOf(Integer.MAX_VALUE), IntNode.valueOf(Integer.MIN_VALUE), LongNode.valueOf(Long.MAX_VALUE),
      LongNode.valueOf(Long.MIN_VALUE), LongNode.valueOf((1L << 53) + 1), LongNode.valueOf(1L << 62),
      BigIntegerNode.valueOf(BigInteger.ONE.shiftLeft(63)), BigIntegerNode.valueOf(BigInteger.ONE.shiftLeft(100).negate()),
      DoubleNode.valueOf(1e308), DoubleNode.valueOf(-1e308), DoubleNode.valueOf(0.5), DoubleNode.valueOf(-0.0),
      LongNode.valueOf(v + 1), LongNode.valueOf(v - 1), LongNode.valueOf(-v), DoubleNode.valueOf(old.doubleValue() * 2),
    };
    return options[rnd.nextInt(options.length)];
  }

  private static JsonNode edited(String s, SplittableRandom rnd) {
    String[] options = {
      "", s.toUpperCase(Locale.ROOT), s + "x", "x" + s, s.replace('e', 'E'), s + "\n", "a\u0000b", "conv1", "fc1",
      "input", "adder", "multiply", "mac", "conv", "fc", "../" + s, "weights/" + s, s.repeat(1 + rnd.nextInt(3)),
      "\u00e9" + s, "z".repeat(20000),
    };
    return TextNode.valueOf(options[rnd.nextInt(options.length)]);
  }

  enum Op { DELETE, SET, ARRAY, ADD }

  /**
   * What docs/model-package.md makes of one change to an otherwise valid manifest: informative
   * fields and unknown fields are free; a label may be any class index; requantization constants,
   * a layer's type and a geometry change that keeps the output size change numbers the golden
   * vectors decide on (either answer); anything else is refused.
   */
  record Rules(JsonNode original, boolean isMac) {
    Expect judge(List<Object> path, Op op, JsonNode v) {
      if (op == Op.ADD) {
        return path.equals(List.of("files")) ? Expect.REFUSE : Expect.ACCEPT;
      }
      String top = (String) path.get(0);
      String last = path.get(path.size() - 1) instanceof String s ? s : "";
      if (top.equals("contract")) {
        return Expect.ACCEPT;
      }
      if (top.equals("provenance")) {
        return path.size() > 1 || op == Op.DELETE || (v != null && v.isObject()) ? Expect.ACCEPT : Expect.REFUSE;
      }
      if (path.size() == 3 && top.equals("layers") && last.equals("operation")) {
        boolean adderAgain = op == Op.DELETE || (v != null && "adder".equals(v.textValue()));
        return !isMac && adderAgain ? Expect.ACCEPT : Expect.REFUSE;
      }
      if ((path.size() == 3 && top.equals("layers") && last.equals("scale")) || path.equals(List.of("logit_scale"))) {
        return op == Op.SET && v.isNumber() && v.doubleValue() > 0 && Double.isFinite(v.doubleValue())
            ? Expect.ACCEPT : Expect.REFUSE;
      }
      if (path.size() == 3 && top.equals("golden") && path.get(1).equals("labels") && op == Op.SET) {
        int classes = original.get("classes").intValue();
        return v.isIntegralNumber() && v.canConvertToInt() && v.intValue() >= 0 && v.intValue() < classes
            ? Expect.ACCEPT : Expect.REFUSE;
      }
      if (path.equals(List.of("network")) && op == Op.SET) {
        return v.isTextual() && !v.textValue().isEmpty() && v.textValue().chars().noneMatch(Character::isISOControl)
            ? Expect.ACCEPT : Expect.REFUSE;
      }
      if (path.size() == 3 && top.equals("layers") && last.equals("type") && op == Op.SET) {
        return v.isTextual() && (v.textValue().equals("conv") || v.textValue().equals("fc")) ? Expect.EITHER : Expect.REFUSE;
      }
      if (path.size() == 3 && top.equals("layers") && (last.equals("stride") || last.equals("padding")) && op == Op.SET) {
        return sameOutputSize((Integer) path.get(1), last, v) ? Expect.EITHER : Expect.REFUSE;
      }
      if (path.size() >= 4 && top.equals("layers") && path.get(2).equals("requant")) {
        return requant(path, op, v);
      }
      return Expect.REFUSE;
    }

    private Expect requant(List<Object> path, Op op, JsonNode v) {
      Object field = path.get(3);
      int depth = path.size();
      if (field.equals("shift")) {
        return op == Op.SET && depth == 4 && isInt(v, 0, 62) ? Expect.EITHER : Expect.REFUSE;
      }
      if (field.equals("bias")) {
        return op == Op.SET && depth == 5 && v.isIntegralNumber() && v.canConvertToLong() ? Expect.EITHER : Expect.REFUSE;
      }
      if (field.equals("terms")) {
        if (depth == 5) {
          return op == Op.ARRAY || (op == Op.SET && v.isArray()) ? Expect.EITHER : Expect.REFUSE;
        }
        if (depth == 6) {
          return op == Op.DELETE || (op == Op.SET && isInt(v, -31, 31) && v.intValue() != 0) ? Expect.EITHER : Expect.REFUSE;
        }
      }
      return Expect.REFUSE;
    }

    private boolean sameOutputSize(int layer, String field, JsonNode v) {
      JsonNode l = original.get("layers").get(layer);
      if (!l.get("type").asText().equals("conv") || !isInt(v, field.equals("stride") ? 1 : 0, 1024)) {
        return false;
      }
      int stride = field.equals("stride") ? v.intValue() : l.get("stride").intValue();
      int pad = field.equals("padding") ? v.intValue() : l.get("padding").intValue();
      int k = l.get("kernel").intValue();
      int h = l.get("in_height").intValue();
      int w = l.get("in_width").intValue();
      if (h + 2 * pad < k || w + 2 * pad < k) {
        return false;
      }
      int oh = (h + 2 * pad - k) / stride + 1;
      int ow = (w + 2 * pad - k) / stride + 1;
      boolean pool = l.get("pool").booleanValue();
      if (pool && (oh < 2 || ow < 2)) {
        return false;
      }
      return (pool ? oh / 2 : oh) == l.get("out_height").intValue() && (pool ? ow / 2 : ow) == l.get("out_width").intValue();
    }

    private static boolean isInt(JsonNode v, int min, int max) {
      return v != null && v.isIntegralNumber() && v.canConvertToInt() && v.intValue() >= min && v.intValue() <= max;
    }
  }

  // ---------------------------------------------------------------- file corruptions

  private static Outcome corruptFiles(Path pkg, SplittableRandom rnd) throws IOException {
    List<String> data = dataFiles(pkg);
    String rel = data.get(rnd.nextInt(data.size()));
    Path f = pkg.resolve(rel);
    byte[] b = Files.readAllBytes(f);
    boolean rehash = rnd.nextBoolean();
    String again = rehash ? " (hash updated)" : "";
    switch (rnd.nextInt(16)) {
      case 0 -> {
        int i = rnd.nextInt(b.length);
        b[i] ^= (byte) (1 << rnd.nextInt(8));
        write(pkg, rel, b, rehash);
        return new Outcome("flip a bit of " + rel + " at " + i + again, Expect.REFUSE);
      }
      case 1 -> {
        int n = rnd.nextInt(b.length);
        write(pkg, rel, Arrays.copyOf(b, n), rehash);
        return new Outcome("truncate " + rel + " to " + n + again, Expect.REFUSE);
      }
      case 2 -> {
        byte[] longer = Arrays.copyOf(b, b.length + 1 + rnd.nextInt(4));
        write(pkg, rel, longer, rehash);
        return new Outcome("append to " + rel + again, Expect.REFUSE);
      }
      case 3 -> {
        String mem = mem(data, rnd);
        write(pkg, mem, Files.readString(pkg.resolve(mem)).replace("\n", "\r\n").getBytes(StandardCharsets.US_ASCII), true);
        return new Outcome("CR LF in " + mem, Expect.REFUSE);
      }
      case 4 -> {
        String mem = mem(data, rnd);
        String t = Files.readString(pkg.resolve(mem));
        String up = t.toUpperCase(Locale.ROOT);
        write(pkg, mem, up.getBytes(StandardCharsets.US_ASCII), true);
        return new Outcome("upper-case hex in " + mem, up.equals(t) ? Expect.ACCEPT : Expect.REFUSE);
      }
      case 5 -> {
        Files.delete(f);
        return new Outcome("remove " + rel, Expect.REFUSE);
      }
      case 6 -> {
        Files.delete(f);
        Files.createDirectory(f);
        return new Outcome(rel + " replaced by a folder", Expect.REFUSE);
      }
      case 7 -> {
        Path outside = Files.write(tmp.resolve("outside-" + (++caseNo)), b);
        Files.delete(f);
        Files.createSymbolicLink(f, outside);
        return new Outcome(rel + " replaced by a link to the same bytes", Expect.REFUSE);
      }
      case 8 -> {
        String[] names = {"README.md", "weights/conv9.mem", "golden/extra.bin", "notes/x.txt", "weights/a b.mem"};
        String n = names[rnd.nextInt(names.length)];
        Files.createDirectories(pkg.resolve(n).getParent());
        Files.writeString(pkg.resolve(n), "x");
        return new Outcome("add " + n, Expect.REFUSE);
      }
      case 9 -> {
        String[] names = {".DS_Store", "weights/.swp", ".git/objects/x", "golden/.cache/deep/y"};
        String n = names[rnd.nextInt(names.length)];
        Files.createDirectories(pkg.resolve(n).getParent());
        Files.writeString(pkg.resolve(n), "x");
        return new Outcome("add hidden " + n, Expect.ACCEPT);
      }
      case 10 -> {
        Files.deleteIfExists(pkg.resolve(".addernet-output.json"));
        return new Outcome("remove the output marker", Expect.ACCEPT);
      }
      case 11 -> {
        Files.createDirectory(pkg.resolve(rnd.nextBoolean() ? "extra" : "weights/sub"));
        return new Outcome("add an empty folder", Expect.REFUSE);
      }
      case 12 -> {
        return sameValueInBothFiles(pkg, rnd);
      }
      case 13 -> {
        Path m = pkg.resolve("manifest.json");
        byte[] t = Files.readAllBytes(m);
        int n = rnd.nextInt(t.length);
        Files.write(m, Arrays.copyOf(t, n));
        boolean onlySpace = new String(t, n, t.length - n, StandardCharsets.UTF_8).isBlank();
        return new Outcome("truncate manifest.json to " + n, onlySpace ? Expect.ACCEPT : Expect.REFUSE);
      }
      case 14 -> {
        Path m = pkg.resolve("manifest.json");
        byte[] t = Files.readAllBytes(m);
        int i = rnd.nextInt(t.length);
        byte[] bad = {(byte) 0xff, (byte) 0xc0, (byte) 0x80, (byte) 0xef, (byte) 0xbb};
        t[i] = bad[rnd.nextInt(bad.length)];
        Files.write(m, t);
        return new Outcome("invalid UTF-8 byte in manifest.json at " + i, Expect.REFUSE);
      }
      default -> {
        Path m = pkg.resolve("manifest.json");
        byte[] t = Files.readAllBytes(m);
        int i = rnd.nextInt(t.length);
        t[i] = (byte) (32 + rnd.nextInt(95));
        Files.write(m, t);
        return new Outcome("byte " + i + " of manifest.json set to '" + (char) t[i] + "'", Expect.EITHER);
      }
    }
  }

  /**
   * One element changed in both encodings of an array, hashes updated: a weight or an input pixel
   * may leave the golden vectors as they are (either answer); a golden output never does.
   */
  private static Outcome sameValueInBothFiles(Path pkg, SplittableRandom rnd) throws IOException {
    JsonNode root = JSON.readTree(pkg.resolve("manifest.json").toFile());
    List<JsonNode> arrays = new ArrayList<>();
    root.get("layers").forEach(l -> arrays.add(l.get("weights")));
    arrays.add(root.get("golden").get("input"));
    root.get("golden").get("outputs").forEach(o -> arrays.add(o.get("values")));
    JsonNode a = arrays.get(rnd.nextInt(arrays.size()));
    int bits = a.get("bits").intValue();
    boolean signed = a.get("signed").booleanValue();
    int count = a.get("count").intValue();
    int width = bits <= 8 ? 1 : bits <= 16 ? 2 : 4;
    ByteBuffer bin = ByteBuffer.wrap(Files.readAllBytes(pkg.resolve(a.get("bin").asText()))).order(ByteOrder.LITTLE_ENDIAN);
    List<String> mem = new ArrayList<>(Files.readAllLines(pkg.resolve(a.get("mem").asText())));
    int i = rnd.nextInt(count);
    long lo = signed ? -(1L << (bits - 1)) : 0;
    long hi = signed ? (1L << (bits - 1)) - 1 : (1L << bits) - 1;
    long v = lo + rnd.nextLong(hi - lo + 1);
    switch (width) {
      case 1 -> bin.put(i, (byte) v);
      case 2 -> bin.putShort(i * 2, (short) v);
      default -> bin.putInt(i * 4, (int) v);
    }
    String hex = Long.toHexString(v & ((1L << bits) - 1));
    String old = mem.get(i);
    mem.set(i, "0".repeat((bits + 3) / 4 - hex.length()) + hex);
    rewrite(pkg, a.get("bin").asText(), bin.array());
    rewrite(pkg, a.get("mem").asText(), (String.join("\n", mem) + "\n").getBytes(StandardCharsets.US_ASCII));
    boolean output = a.get("bin").asText().startsWith("golden/") && !a.get("bin").asText().equals("golden/input.bin");
    Expect e = mem.get(i).equals(old) ? Expect.ACCEPT : output ? Expect.REFUSE : Expect.EITHER;
    return new Outcome("element " + i + " of " + a.get("bin").asText() + " and its .mem set to " + v, e);
  }

  private static String mem(List<String> data, SplittableRandom rnd) {
    List<String> mems = data.stream().filter(d -> d.endsWith(".mem")).toList();
    return mems.get(rnd.nextInt(mems.size()));
  }

  // ---------------------------------------------------------------- helpers

  private static List<String> dataFiles(Path pkg) throws IOException {
    List<String> out = new ArrayList<>();
    JSON.readTree(pkg.resolve("manifest.json").toFile()).get("files").fieldNames().forEachRemaining(out::add);
    return out;
  }

  private static void write(Path pkg, String rel, byte[] bytes, boolean rehash) throws IOException {
    if (rehash) {
      rewrite(pkg, rel, bytes);
    } else {
      Files.write(pkg.resolve(rel), bytes);
    }
  }

  /** Replaces a data file and its SHA-256 in the manifest, so that the checks behind the hash run. */
  private static void rewrite(Path pkg, String rel, byte[] bytes) throws IOException {
    Files.write(pkg.resolve(rel), bytes);
    String sum = sha256(pkg.resolve(rel));
    editManifest(pkg, r -> ((ObjectNode) r.get("files")).put(rel, sum));
  }

  interface Edit {
    void apply(ObjectNode root);
  }

  private static void editManifest(Path pkg, Edit e) throws IOException {
    ObjectNode r = (ObjectNode) JSON.readTree(pkg.resolve("manifest.json").toFile());
    e.apply(r);
    JSON.writeValue(pkg.resolve("manifest.json").toFile(), r);
  }

  private static Path copy(Path from) throws IOException {
    Path to = tmp.resolve("case-" + (++caseNo));
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Files.copy(p, to.resolve(from.relativize(p).toString()));
      }
    }
    return to;
  }

  /** Every entry under {@code dir} with its content's hash, or what it is if not a file. */
  private static Map<String, String> snapshot(Path dir) throws IOException {
    Map<String, String> out = new TreeMap<>();
    if (!Files.isDirectory(dir)) {
      out.put("", Files.isRegularFile(dir) ? sha256(dir) : "?");
      return out;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.toList()) {
        String rel = dir.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          out.put(rel, "link " + Files.readSymbolicLink(p));
        } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          out.put(rel, "folder");
        } else {
          out.put(rel, sha256(p) + " " + Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS));
        }
      }
    }
    return out;
  }

  private static String sha256(Path f) throws IOException {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs the launcher in-process: {exit code, stdout, stderr}. */
  private static String[] runCli(String... args) {
    addernet.cli.CliRun.Outcome o = addernet.cli.CliRun.run(args);
    return new String[] {Integer.toString(o.code()), o.out(), o.err()};
  }


  private static String pathText(List<Object> path) {
    StringBuilder sb = new StringBuilder(path.isEmpty() ? "the root" : "");
    for (Object p : path) {
      sb.append(p instanceof Integer i ? "[" + i + "]" : (sb.length() == 0 ? "" : ".") + p);
    }
    return sb.toString();
  }

  private static String cut(String s) {
    return s.length() <= 40 ? s : s.substring(0, 37) + "...";
  }

  private static List<Object> append(List<Object> path, Object key) {
    List<Object> p = new ArrayList<>(path);
    p.add(key);
    return List.copyOf(p);
  }

  private static <T> Iterable<T> iterable(java.util.Iterator<T> it) {
    List<T> l = new ArrayList<>();
    it.forEachRemaining(l::add);
    return l;
  }
}
