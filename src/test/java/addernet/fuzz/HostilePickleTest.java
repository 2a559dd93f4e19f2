package addernet.fuzz;

import static addernet.fuzz.FuzzSupport.assertUserError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import addernet.cli.CliRun;
import addernet.data.Normalization;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.torch.StateDictReader;
import addernet.torch.StateDictWriter;
import addernet.torch.TorchExport;
import addernet.torch.TorchTensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crafted PyTorch files against {@code import --torch}: every one is refused with one {@code
 * error:} line naming the file (and the pickle offset or zip entry), before anything it claims is
 * allocated, and nothing is left behind.
 */
class HostilePickleTest {
  private static final String SPEC = String.join("\n",
      "input 1x4x4",
      "conv multiply 1->2 kernel=3",
      "batchnorm",
      "relu",
      "flatten",
      "fc multiply 8->3",
      "batchnorm");

  @TempDir Path dir;

  /** A pickle written opcode by opcode. */
  private static final class Pkl {
    final ByteArrayOutputStream b = new ByteArrayOutputStream();

    Pkl op(int... bytes) {
      for (int x : bytes) {
        b.write(x);
      }
      return this;
    }

    Pkl text(String s) {
      b.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
      return this;
    }

    Pkl le32(long v) {
      return op((int) v & 0xff, (int) (v >> 8) & 0xff, (int) (v >> 16) & 0xff, (int) (v >> 24) & 0xff);
    }

    Pkl str(String s) {
      byte[] u = s.getBytes(StandardCharsets.UTF_8);
      op('X').le32(u.length);
      b.writeBytes(u);
      return this;
    }

    Pkl global(String module, String name) {
      return op('c').text(module + "\n" + name + "\n");
    }

    Pkl integer(long v) {
      return v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE ? op('J').le32(v) : op('L').text(v + "L\n");
    }

    Pkl orderedDict() {
      return global("collections", "OrderedDict").op(')', 'R');
    }

    /** torch._utils._rebuild_tensor_v2 of a float storage, contiguous. */
    Pkl tensor(String storageKey, long numel, int... size) {
      global("torch._utils", "_rebuild_tensor_v2").op('(');
      op('(').str("storage").global("torch", "FloatStorage").str(storageKey).str("cpu").integer(numel).op('t', 'Q');
      integer(0);
      op('(');
      for (int d : size) {
        integer(d);
      }
      op('t', '(');
      long stride = 1;
      long[] strides = new long[size.length];
      for (int i = size.length - 1; i >= 0; i--) {
        strides[i] = stride;
        stride *= size[i];
      }
      for (long s : strides) {
        integer(s);
      }
      return op('t', 0x89).orderedDict().op('t', 'R');
    }

    byte[] bytes() {
      return b.toByteArray();
    }
  }

  /** PROTO 2, then {@code body}. */
  private static byte[] pickle(byte[] body) {
    byte[] out = new byte[body.length + 2];
    out[0] = (byte) 0x80;
    out[1] = 2;
    System.arraycopy(body, 0, out, 2, body.length);
    return out;
  }

  private Path zip(String name, Map<String, byte[]> entries) throws IOException {
    Path pt = dir.resolve(name);
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(pt))) {
      for (Map.Entry<String, byte[]> e : entries.entrySet()) {
        z.putNextEntry(new ZipEntry(e.getKey()));
        z.write(e.getValue());
        z.closeEntry();
      }
    }
    return pt;
  }

  private Path pt(String name, byte[] pickle) throws IOException {
    return zip(name, Map.of("archive/data.pkl", pickle));
  }

  private Path spec() throws IOException {
    Path p = dir.resolve("tiny.spec");
    if (!Files.exists(p)) {
      Files.writeString(p, SPEC);
    }
    return p;
  }

  private CliRun.Outcome importIt(Path pt) throws IOException {
    return FuzzSupport.cli("import", "--torch", pt.toString(), "--model", spec().toString(), "--out",
        dir.resolve("out").toString(), "--normalize", "0.2,0.3", "--data", dir.resolve("none").toString());
  }

  /** The one error line; also checks that the import left no output, temporary or lock behind. */
  private String refused(Path pt, String... mustContain) throws IOException {
    CliRun.Outcome o = importIt(pt);
    String line = assertUserError(o, mustContain);
    assertTrue(line.contains(pt.toString()), "the file is not named: " + line);
    try (Stream<Path> s = Files.list(dir)) {
      List<String> left = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".") || n.equals("out"))
          .toList();
      assertEquals(List.of(), left, "left behind by a refused import");
    }
    return line;
  }

  // ---------------------------------------------------------------- lengths and text arguments

  @Test
  void aNegativeLengthInAnyLengthOpcodeIsOneErrorLineAtItsOffset() throws IOException {
    // BINBYTES, BINSTRING, BINUNICODE and LONG4 with length 0xffffffff, which is -1 as a Java int.
    for (int op : new int[] {'B', 'T', 'X', 0x8b}) {
      Path pt = pt("len-" + Integer.toHexString(op) + ".pt", pickle(new Pkl().op(op).le32(0xffffffffL).bytes()));
      refused(pt, "data.pkl at byte 2", "4294967295");
    }
  }

  @Test
  void aLengthPastTheEndOfThePickleIsRefusedBeforeItIsAllocated() throws IOException {
    Path pt = pt("long.pt", pickle(new Pkl().op('X').le32(1 << 30).text("abc").bytes()));
    refused(pt, "data.pkl at byte 2", "1073741824");
  }

  @Test
  void garbageInNumberAndMemoArgumentsIsOneErrorLine() throws IOException {
    Map<String, byte[]> cases = new LinkedHashMap<>();
    cases.put("float", new Pkl().op('F').text("1.5e\n").bytes());
    cases.put("int", new Pkl().op('I').text("12x\n").bytes());
    cases.put("long", new Pkl().op('L').text("zzL\n").bytes());
    cases.put("get", new Pkl().op('g').text("x1\n").bytes());
    cases.put("put", new Pkl().op('N', 'p').text("-1\n").bytes());
    cases.put("unwritten-memo", new Pkl().op('h', 7).bytes());
    cases.put("no-newline", new Pkl().op('I').text("1".repeat(100)).bytes());
    for (Map.Entry<String, byte[]> c : cases.entrySet()) {
      refused(pt(c.getKey() + ".pt", pickle(c.getValue())), "data.pkl at byte ");
    }
  }

  @Test
  void popsBelowTheStackOrAcrossAMarkAreRefused() throws IOException {
    refused(pt("underflow.pt", pickle(new Pkl().op('N', 's', '.').bytes())), "data.pkl at byte 3", "pops");
    refused(pt("mark.pt", pickle(new Pkl().op('}', '(', 'N', 's', '.').bytes())), "data.pkl at byte 5", "mark");
  }

  @Test
  void aPickleWithoutStopIsRefused() throws IOException {
    refused(pt("nostop.pt", pickle(new Pkl().op('}').bytes())), "before its STOP opcode");
  }

  // ---------------------------------------------------------------- recursion

  @Test
  void aDictThatIsItsOwnKeyIsRefusedWithoutRecursing() throws IOException {
    // d = {}; d[d] = None; d[d] = None: hashing d the second time walks d forever.
    byte[] body = new Pkl().op('}', 'q', 0, 'h', 0, 'N', 's', 'h', 0, 'N', 's', '.').bytes();
    refused(pt("selfkey.pt", pickle(body)), "data.pkl at byte 8", "a dict key that is a dict");
  }

  @Test
  void objectsNestedPastTheDepthLimitAreRefused() throws IOException {
    // A list nested a million deep, used as a dict key: its hash code would recurse a million frames.
    int depth = 1_000_000;
    Pkl p = new Pkl().op('}');
    for (int i = 0; i < depth; i++) {
      p.op(']');
    }
    for (int i = 0; i < depth - 1; i++) {
      p.op('a');
    }
    p.op('N', 's', '.');
    refused(pt("deep.pt", pickle(p.bytes())), "nested more than 64 deep");
  }

  // ---------------------------------------------------------------- claimed sizes

  @Test
  void aNegativeElementCountIsRefusedNamingTheKey() throws IOException {
    byte[] body = new Pkl().orderedDict().op('(').str("0.weight").tensor("0", -1, 2, 1, 3, 3).op('u', '.').bytes();
    refused(pt("negnumel.pt", pickle(body)), "'0.weight'", "claims -1 elements");
  }

  @Test
  void aHugeElementCountIsRefusedBeforeItsStorageIsRead() throws IOException {
    byte[] body = new Pkl().orderedDict().op('(').str("0.weight").tensor("0", 1L << 40, 2, 1, 3, 3).op('u', '.')
        .bytes();
    refused(pt("hugenumel.pt", pickle(body)), "'0.weight'", "1099511627776 elements");
  }

  @Test
  void tensorsSharingOneStorageAreRefusedWhenTogetherPastTheElementLimit() throws IOException {
    // Seventeen views of 2^24 elements each: 4.25 GiB of float32 to build from one 64 MiB storage.
    Pkl p = new Pkl().orderedDict().op('(');
    for (int i = 0; i < 17; i++) {
      p.str("m" + i + ".weight").tensor("0", 1 << 24, 1 << 24);
    }
    p.op('u', '.');
    refused(pt("views.pt", pickle(p.bytes())), "17 tensors hold more than 268435456 elements together");
  }

  @Test
  void aPickleEntryExpandingPastItsLimitIsRefusedBeforeItIsParsed() throws IOException {
    byte[] noneOps = new byte[StateDictReader.MAX_PICKLE_BYTES + 1];
    Arrays.fill(noneOps, (byte) 'N');
    refused(pt("pklbomb.pt", noneOps), "archive/data.pkl", "at most 16777216 are read");
  }

  @Test
  void aStorageExpandingPastItsDeclaredSizeIsRefused() throws IOException {
    byte[] body = new Pkl().orderedDict().op('(').str("0.weight").tensor("0", 4, 4).op('u', '.').bytes();
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("archive/data.pkl", pickle(body));
    entries.put("archive/data/0", new byte[1 << 20]);
    Path pt = zip("stbomb.pt", entries);
    declareSize(pt, "archive/data/0", 16);
    refused(pt, "archive/data/0", "expands to more than 16 bytes");
  }

  @Test
  void aStorageDeclaringOtherThanThePickleClaimsIsRefusedBeforeItIsExpanded() throws IOException {
    byte[] body = new Pkl().orderedDict().op('(').str("0.weight").tensor("0", 4, 4).op('u', '.').bytes();
    Map<String, byte[]> entries = new LinkedHashMap<>();
    entries.put("archive/data.pkl", pickle(body));
    entries.put("archive/data/0", new byte[16]);
    Path pt = zip("declared.pt", entries);
    declareSize(pt, "archive/data/0", 0x7fff_0000L);
    refused(pt, "archive/data/0", "declares 2147418112 bytes");
  }

  /** Rewrites the uncompressed size that the zip's central directory gives {@code entry}. */
  private static void declareSize(Path zip, String entry, long size) throws IOException {
    byte[] z = Files.readAllBytes(zip);
    byte[] name = entry.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i + 46 + name.length <= z.length; i++) {
      if (z[i] == 'P' && z[i + 1] == 'K' && z[i + 2] == 1 && z[i + 3] == 2
          && Arrays.equals(z, i + 46, i + 46 + name.length, name, 0, name.length)) {
        for (int k = 0; k < 4; k++) {
          z[i + 24 + k] = (byte) (size >> (8 * k));
        }
        Files.write(zip, z);
        return;
      }
    }
    throw new AssertionError(entry + " not in the central directory");
  }

  // ---------------------------------------------------------------- order and file kinds

  @Test
  void aStateDictSavedAsAPlainDictImportsInTheFilesOrder() throws IOException {
    NetworkSpec spec = NetworkSpec.resolve(spec().toString());
    LinkedHashMap<String, TorchTensor> sd = TorchExport.of(Network.build(spec, 5), new Normalization(0.2, 0.3),
        "test", "plain.pt").stateDict();
    Path written = dir.resolve("ordered.pt");
    StateDictWriter.write(written, sd);
    // torch.save(dict(sd), F): the top-level OrderedDict becomes a plain dict, EMPTY_DICT.
    Map<String, byte[]> entries = new LinkedHashMap<>();
    try (ZipFile z = new ZipFile(written.toFile())) {
      for (ZipEntry e : Collections.list(z.entries())) {
        entries.put(e.getName().replace(StateDictWriter.ROOT, "plain"), z.getInputStream(e).readAllBytes());
      }
    }
    byte[] pkl = entries.get("plain/data.pkl");
    byte[] od = "ccollections\nOrderedDict\n)R".getBytes(StandardCharsets.US_ASCII);
    int at = indexOf(pkl, od);
    assertTrue(at > 0, "no OrderedDict in the written pickle");
    byte[] plain = new byte[pkl.length - od.length + 1];
    System.arraycopy(pkl, 0, plain, 0, at);
    plain[at] = '}';
    System.arraycopy(pkl, at + od.length, plain, at + 1, pkl.length - at - od.length);
    entries.put("plain/data.pkl", plain);
    Path pt = zip("plain.pt", entries);

    assertEquals(List.copyOf(sd.keySet()), List.copyOf(StateDictReader.read(pt).keySet()));
    CliRun.Outcome o = importIt(pt);
    assertEquals(0, o.code(), o.err());
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    for (int i = 0; i + needle.length <= hay.length; i++) {
      if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void aFifoIsRefusedBeforeAnyOutputIsClaimed() throws IOException, InterruptedException {
    Path fifo = dir.resolve("pipe.pt");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/mkfifo")), "no mkfifo");
    Process p = new ProcessBuilder("/usr/bin/mkfifo", fifo.toString()).inheritIO().start();
    assertEquals(0, p.waitFor());
    refused(fifo, "not a regular file");
    assertFalse(Files.exists(dir.resolve("out")));
  }

  @Test
  void aFolderIsRefusedAsNotARegularFile() throws IOException {
    Path folder = Files.createDirectory(dir.resolve("folder.pt"));
    refused(folder, "not a regular file");
  }
}
