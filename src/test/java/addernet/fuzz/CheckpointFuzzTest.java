package addernet.fuzz;

import static addernet.fuzz.FuzzSupport.assertOneLineNaming;
import static addernet.fuzz.FuzzSupport.assertUserError;
import static addernet.fuzz.FuzzSupport.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import addernet.data.ImageSet;
import addernet.nn.NetworkSpec;
import addernet.nn.Workers;
import addernet.train.Checkpoint;
import addernet.train.CheckpointException;
import addernet.train.Recipe;
import addernet.train.TinyData;
import addernet.train.Trainer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.zip.CRC32;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generated corruptions of a small trained checkpoint: every field of the manifest replaced by
 * values of every JSON type and by extremes, or removed; the data file cut, extended, flipped,
 * or rewritten consistently (right CRC) with wrong lengths and non-finite values. The reader may
 * accept a harmless change, but anything else must be its {@link CheckpointException} with one
 * line naming the file; through {@code train --resume} and {@code quantize}, one {@code error:}
 * line, exit 2, and the checkpoint untouched.
 */
class CheckpointFuzzTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  @TempDir static Path root;
  private static Path good;
  private static Path data;
  private static byte[] manifestBytes;
  private static byte[] dataBytes;
  private static String dataName;

  @BeforeAll
  static void trainOneEpochOfThree() throws IOException {
    good = root.resolve("good");
    data = root.resolve("idx");
    ImageSet train = TinyData.images("train", 128, 1);
    ImageSet test = TinyData.images("test", 64, 2);
    TinyData.writeIdx(data, train, test);
    Files.writeString(root.resolve("tiny-adder.spec"), TinyData.ADDER_SPEC);
    try (Workers w = Workers.single()) {
      Trainer t = Trainer.start(NetworkSpec.parse("tiny-adder", TinyData.ADDER_SPEC),
          new Recipe(3, 32, 0.1, 0.9, 5e-4, 0.2, 1, "none"), train, test, w);
      t.trainEpoch(Trainer.SILENT);
      t.checkpoint().save(good);
    }
    manifestBytes = Files.readAllBytes(good.resolve(Checkpoint.MANIFEST));
    dataName = JSON.readTree(manifestBytes).path("data").path("file").asText();
    dataBytes = Files.readAllBytes(good.resolve(dataName));
  }

  private static Path scratch;
  private static byte[] scratchData;

  /** Loads a checkpoint folder with these bytes: success or a one-line CheckpointException only. */
  private static Checkpoint loadOrRefuse(byte[] manifest, byte[] bin, String what) throws IOException {
    if (scratch == null) {
      scratch = Files.createDirectories(root.resolve("scratch"));
    }
    Files.write(scratch.resolve(Checkpoint.MANIFEST), manifest);
    if (scratchData != bin) {
      Files.write(scratch.resolve(dataName), bin);
      scratchData = bin;
    }
    try {
      return Checkpoint.load(scratch);
    } catch (CheckpointException e) {
      assertOneLineNaming(e, scratch.toString());
      return null;
    } catch (Throwable e) {
      fail(what + ": " + e, e);
      return null;
    }
  }

  private static String refusal(byte[] manifest, byte[] bin) throws IOException {
    Path dir = root.resolve("refused");
    Files.createDirectories(dir);
    Files.write(dir.resolve(Checkpoint.MANIFEST), manifest);
    Files.write(dir.resolve(dataName), bin);
    CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(dir));
    assertOneLineNaming(e, dir.toString());
    return e.getMessage();
  }

  private static ObjectNode manifest() throws IOException {
    return (ObjectNode) JSON.readTree(manifestBytes);
  }

  private static byte[] bytes(JsonNode n) throws IOException {
    return JSON.writeValueAsBytes(n);
  }

  /** Every value node of the manifest, as a setter that replaces (or, with null, removes) it. */
  private static List<Consumer<JsonNode>> slots(JsonNode n, List<String> names, String path) {
    List<Consumer<JsonNode>> out = new ArrayList<>();
    if (n instanceof ObjectNode o) {
      for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        names.add(path + "." + k);
        out.add(v -> {
          if (v == null) {
            o.remove(k);
          } else {
            o.set(k, v);
          }
        });
        List<String> sub = new ArrayList<>();
        out.addAll(slots(o.get(k), sub, path + "." + k));
        names.addAll(sub);
      }
    } else if (n instanceof ArrayNode a) {
      for (int i = 0; i < a.size(); i++) {
        int at = i;
        names.add(path + "[" + i + "]");
        out.add(v -> {
          if (v == null) {
            a.remove(at);
          } else {
            a.set(at, v);
          }
        });
        List<String> sub = new ArrayList<>();
        out.addAll(slots(a.get(i), sub, path + "[" + i + "]"));
        names.addAll(sub);
      }
    }
    return out;
  }

  private static final List<JsonNode> REPLACEMENTS = List.of(
      F.nullNode(), F.textNode("x"), F.textNode(""), F.textNode("NaN"), F.numberNode(-5),
      F.numberNode(0), F.numberNode(1.5), F.numberNode(1e300), F.numberNode(2147483648L),
      F.numberNode(Long.MAX_VALUE), F.numberNode(-2147483648), F.booleanNode(true), F.arrayNode(),
      F.objectNode());

  @Test
  void everyFieldReplacedByAnyTypeOrRemovedIsLoadedOrRefusedWithOneLine() throws IOException {
    // Every field gets three of the replacements (drawn with a fixed seed) or is removed: the
    // files are small but every case is a write, and writes dominate.
    SplittableRandom r = new SplittableRandom(16);
    int total = 0;
    int refused = 0;
    int slotCount = slots(manifest(), new ArrayList<>(), "").size();
    for (int s = 0; s < slotCount; s++) {
      for (int k = 0; k < 3; k++) {
        int pick = r.nextInt(REPLACEMENTS.size() + 1);
        JsonNode v = pick == REPLACEMENTS.size() ? null : REPLACEMENTS.get(pick).deepCopy();
        ObjectNode m = manifest();
        List<String> names = new ArrayList<>();
        slots(m, names, "").get(s).accept(v);
        total++;
        if (loadOrRefuse(bytes(m), dataBytes, names.get(s) + " := " + v) == null) {
          refused++;
        }
      }
    }
    assertTrue(slotCount > 250, "only " + slotCount + " fields");
    // Most changes break something; a few are harmless (a metric's figure, a recipe's seed).
    assertTrue(refused > total * 9 / 10, refused + " of " + total + " refused");
  }

  @Test
  void everyTopLevelFieldIsRequiredAndNamedWhenMissing() throws IOException {
    List<String> fields = new ArrayList<>();
    manifest().fieldNames().forEachRemaining(fields::add);
    assertTrue(fields.size() >= 13, fields.toString());
    for (String f : fields) {
      ObjectNode m = manifest();
      m.remove(f);
      String msg = refusal(bytes(m), dataBytes);
      assertTrue(msg.contains(f), f + ": " + msg);
    }
  }

  @Test
  void randomByteDamageOfTheManifestIsRefusedWithOneLine() throws IOException {
    SplittableRandom r = new SplittableRandom(16);
    for (int i = 0; i < 400; i++) {
      byte[] m = manifestBytes.clone();
      int kind = r.nextInt(3);
      if (kind == 0) {
        m = Arrays.copyOf(m, r.nextInt(m.length));
      } else {
        for (int j = 0; j <= r.nextInt(4); j++) {
          int at = r.nextInt(m.length);
          m[at] = kind == 1 ? (byte) r.nextInt(256) : (byte) "{}[],:\"0-9eE.".charAt(r.nextInt(13));
        }
      }
      loadOrRefuse(m, dataBytes, "damaged manifest " + i);
    }
  }

  @Test
  void truncatedExtendedOrFlippedDataFileIsRefused() throws IOException {
    SplittableRandom r = new SplittableRandom(3);
    for (int len : new int[] {0, 1, 3, dataBytes.length / 2, dataBytes.length - 1}) {
      String m = refusal(manifestBytes, Arrays.copyOf(dataBytes, len));
      assertTrue(m.contains(dataName) && m.contains("bytes"), m);
    }
    String m = refusal(manifestBytes, Arrays.copyOf(dataBytes, dataBytes.length + 4));
    assertTrue(m.contains("the manifest says " + dataBytes.length), m);
    for (int i = 0; i < 50; i++) {
      byte[] b = dataBytes.clone();
      b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
      assertTrue(refusal(manifestBytes, b).contains("CRC-32"));
    }
  }

  /** The stored tensors by name, read with the manifest's offsets (test-side, independent). */
  private static Map<String, float[]> tensors(JsonNode m) {
    Map<String, float[]> out = new java.util.LinkedHashMap<>();
    ByteBuffer b = ByteBuffer.wrap(dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    for (JsonNode t : m.path("tensors")) {
      float[] a = new float[t.path("count").asInt()];
      for (int i = 0; i < a.length; i++) {
        a[i] = b.getFloat(t.path("offset").asInt() + 4 * i);
      }
      out.put(t.path("name").asText(), a);
    }
    return out;
  }

  /** Rewrites data file and manifest together, consistently: offsets, counts, bytes and CRC. */
  private static byte[][] consistent(ObjectNode m, Map<String, float[]> tensors, boolean shapesFollow)
      throws IOException {
    int total = tensors.values().stream().mapToInt(a -> a.length).sum();
    ByteBuffer b = ByteBuffer.allocate(4 * total).order(ByteOrder.LITTLE_ENDIAN);
    for (JsonNode t : m.path("tensors")) {
      float[] a = tensors.get(t.path("name").asText());
      ((ObjectNode) t).put("offset", b.position());
      ((ObjectNode) t).put("count", a.length);
      if (shapesFollow && t.path("shape").size() == 1) {
        ((ArrayNode) t.path("shape")).set(0, F.numberNode(a.length));
      }
      for (float f : a) {
        b.putFloat(f);
      }
    }
    CRC32 crc = new CRC32();
    crc.update(b.array());
    ObjectNode d = (ObjectNode) m.path("data");
    d.put("bytes", b.array().length);
    d.put("crc32", Long.toHexString(crc.getValue()));
    return new byte[][] {bytes(m), b.array()};
  }

  @Test
  void consistentlyRewrittenTensorsOfTheWrongLengthAreRefusedNamingTheTensor() throws IOException {
    ObjectNode probe = manifest();
    for (String name : tensors(probe).keySet()) {
      for (int delta : new int[] {-1, 1}) {
        ObjectNode m = manifest();
        Map<String, float[]> t = tensors(m);
        float[] a = t.get(name);
        t.put(name, Arrays.copyOf(a, Math.max(0, a.length + delta)));
        byte[][] files = consistent(m, t, true);
        String msg = refusal(files[0], files[1]);
        assertTrue(msg.contains(name), name + " " + delta + ": " + msg);
      }
    }
  }

  @Test
  void nonFiniteValuesAndNegativeVariancesAreRefusedEvenWithTheRightCrc() throws IOException {
    SplittableRandom r = new SplittableRandom(5);
    List<String> names = new ArrayList<>(tensors(manifest()).keySet());
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
      for (int i = 0; i < 10; i++) {
        ObjectNode m = manifest();
        Map<String, float[]> t = tensors(m);
        String name = names.get(r.nextInt(names.size()));
        t.get(name)[r.nextInt(t.get(name).length)] = bad;
        byte[][] files = consistent(m, t, false);
        String msg = refusal(files[0], files[1]);
        assertTrue(msg.contains(name) && msg.contains(String.valueOf(bad)), msg);
      }
    }
    ObjectNode m = manifest();
    Map<String, float[]> t = tensors(m);
    t.get("layers.1.running_var")[0] = -1f;
    byte[][] files = consistent(m, t, false);
    assertTrue(refusal(files[0], files[1]).contains("variance"));
  }

  @Test
  void hugeDeclaredSizesAreRefusedBeforeAnythingIsAllocated() throws IOException {
    for (long bytes : new long[] {Long.MAX_VALUE, 1L << 40, Integer.MAX_VALUE, -1}) {
      ObjectNode m = manifest();
      ((ObjectNode) m.path("data")).put("bytes", bytes);
      String msg = refusal(bytes(m), dataBytes);
      assertTrue(msg.contains("data.bytes"), msg);
    }
    for (int count : new int[] {Integer.MAX_VALUE, 1 << 30}) {
      ObjectNode m = manifest();
      ((ObjectNode) m.path("tensors").get(0)).put("count", count);
      assertTrue(refusal(bytes(m), dataBytes).contains("tensors[0].count"));
    }
    ObjectNode m = manifest();
    m.put("spec", TinyData.ADDER_SPEC.replace("fc adder 4->3", "fc adder 4->40000\nfc adder 40000->40000\nfc adder 40000->3"));
    String msg = refusal(bytes(m), dataBytes);
    assertTrue(msg.contains("spec") && msg.contains("1,600,000,000"), msg);
  }

  @Test
  void epochOutsideTheRecipeAndMetricsOfAnotherLengthAreRefused() throws IOException {
    for (int epoch : new int[] {-5, 4, Integer.MAX_VALUE}) {
      ObjectNode m = manifest();
      m.put("epoch", epoch);
      String msg = refusal(bytes(m), dataBytes);
      assertTrue(msg.contains("epoch") && msg.contains("0..3"), msg);
    }
    ObjectNode m = manifest();
    m.put("epoch", 2);
    assertTrue(refusal(bytes(m), dataBytes).contains("metrics"));
  }

  private static Path writeCase(String name, byte[] manifest, byte[] bin) throws IOException {
    Path dir = root.resolve(name);
    Files.createDirectories(dir);
    Files.write(dir.resolve(Checkpoint.MANIFEST), manifest);
    Files.write(dir.resolve(dataName), bin);
    // As a damaged earlier run of train would be: its folder carries train's output marker, so the
    // output rule lets --resume through to the checkpoint reader under test.
    Files.writeString(dir.resolve(addernet.io.Outputs.MARKER), "{\"written_by\": \"addernet train\"}\n");
    return dir;
  }

  @Test
  void resumeFromADamagedCheckpointIsOneErrorLineAndLeavesItAlone() throws IOException {
    ObjectNode m = manifest();
    Map<String, float[]> t = tensors(m);
    String momentum = t.keySet().stream().filter(k -> k.startsWith("momentum/")).findFirst().orElseThrow();
    t.put(momentum, Arrays.copyOf(t.get(momentum), t.get(momentum).length - 1));
    byte[][] files = consistent(m, t, true);
    ObjectNode early = manifest();
    early.put("epoch", -5);
    ObjectNode nan = manifest();
    ((ObjectNode) nan.path("input_normalization")).put("std", "NaN");
    String spec = root.resolve("tiny-adder.spec").toString();
    Object[][] cases = {
        {"momentum", files[0], files[1], momentum},
        {"epoch", bytes(early), dataBytes, "epoch"},
        {"std", bytes(nan), dataBytes, "input_normalization.std"},
        {"cut", manifestBytes, Arrays.copyOf(dataBytes, 100), dataName}};
    for (Object[] c : cases) {
      Path dir = writeCase("resume-" + c[0], (byte[]) c[1], (byte[]) c[2]);
      Map<String, String> before = FuzzSupport.snapshot(dir);
      assertUserError(cli("train", "--model", spec, "--out", dir.toString(), "--resume",
          "--data", data.toString(), "--threads", "1", "--no-progress"), (String) c[3]);
      assertEquals(before, FuzzSupport.snapshot(dir), "checkpoint changed");
      Path pkg = root.resolve("pkg-" + c[0]);
      assertUserError(cli("quantize", "--checkpoint", dir.toString(), "--bits", "8", "--out",
          pkg.toString(), "--report", root.resolve("q-" + c[0] + ".json").toString(),
          "--data", data.toString(), "--threads", "1", "--no-progress"), (String) c[3]);
      assertEquals(before, FuzzSupport.snapshot(dir), "checkpoint changed");
      assertTrue(Files.notExists(pkg), "package written: " + pkg);
    }
  }

  @Test
  void theUndamagedCheckpointLoadsAsSaved() throws IOException {
    Checkpoint ck = loadOrRefuse(manifestBytes, dataBytes, "undamaged");
    assertTrue(ck != null, "the checkpoint as saved must load");
    assertEquals(1, ck.epoch());
    assertEquals(ck.network().params().size(), ck.momentum().size());
  }
}
