package addernet.fuzz;

import static addernet.fuzz.FuzzSupport.assertOneLineNaming;
import static addernet.fuzz.FuzzSupport.assertUserError;
import static addernet.fuzz.FuzzSupport.cli;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import addernet.data.DataMismatchException;
import addernet.data.IdxFile;
import addernet.data.IdxFormatException;
import addernet.data.ImageSet;
import addernet.nn.NetworkSpec;
import addernet.nn.Workers;
import addernet.train.Recipe;
import addernet.train.TinyData;
import addernet.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generated corruptions of IDX files, raw and gzip'd: magic bytes, dimension counts and sizes,
 * sizes against the real length, truncation, appended bytes, damaged gzip streams, sizes far
 * beyond memory, and gzip streams that expand to gigabytes. The reader returns exactly the
 * array the header describes or throws its {@link IdxFormatException} with one line naming the
 * file; nothing else escapes, and nothing is allocated from the header alone. Labels outside a
 * network's classes and images of another size are refused by the one data-layer rule, through
 * train, quantize and cosim alike.
 */
class IdxFuzzTest {
  @TempDir Path dir;

  static byte[] idx(int[] dims, byte[] payload) {
    return addernet.data.IdxFileTest.idx(dims, payload);
  }

  static byte[] gzip(byte[] raw) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(raw);
    }
    return out.toByteArray();
  }

  /** Reads {@code bytes} as an IDX file of {@code dims} dimensions: the array or a one-line refusal. */
  private IdxFile readOrRefuse(byte[] bytes, int dims, String what) throws IOException {
    Path p = dir.resolve("fuzz.idx");
    Files.write(p, bytes);
    try {
      IdxFile f = IdxFile.read(p, dims);
      long n = 1;
      for (int d : f.dims()) {
        n *= d;
      }
      assertEquals(n, f.data().length, what + ": data length must match the header");
      return f;
    } catch (IdxFormatException e) {
      assertOneLineNaming(e, p.toString());
      return null;
    } catch (Throwable e) {
      fail(what + ": " + e, e);
      return null;
    }
  }

  @Test
  void randomHeaderAndLengthCorruptionsAreReadExactlyOrRefusedWithOneLine() throws IOException {
    SplittableRandom r = new SplittableRandom(16);
    int accepted = 0;
    for (int i = 0; i < 600; i++) {
      int nd = 1 + r.nextInt(3);
      int[] dims = new int[nd];
      int size = 1;
      for (int d = 0; d < nd; d++) {
        dims[d] = 1 + r.nextInt(6);
        size *= dims[d];
      }
      byte[] payload = new byte[size];
      r.nextBytes(payload);
      byte[] b = idx(dims, payload);
      String what;
      switch (r.nextInt(7)) {
        case 0 -> {
          int at = r.nextInt(4);
          b[at] = (byte) r.nextInt(256);
          what = "magic byte " + at;
        }
        case 1 -> {
          int at = 4 + 4 * r.nextInt(nd);
          int v = new int[] {0, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 1 << 20, r.nextInt()}[r.nextInt(6)];
          ByteBuffer.wrap(b).putInt(at, v);
          what = "size " + v;
        }
        case 2 -> {
          b = Arrays.copyOf(b, r.nextInt(b.length));
          what = "cut";
        }
        case 3 -> {
          b = Arrays.copyOf(b, b.length + 1 + r.nextInt(20));
          what = "extended";
        }
        case 4 -> {
          b[3] = (byte) (r.nextBoolean() ? r.nextInt(256) : nd + 1);
          what = "dimension count";
        }
        case 5 -> {
          b[r.nextInt(b.length)] = (byte) r.nextInt(256);
          what = "any byte";
        }
        default -> what = "intact";
      }
      boolean gz = r.nextBoolean();
      IdxFile f = readOrRefuse(gz ? gzip(b) : b, nd, what + (gz ? ", gzip'd" : ""));
      if (f != null) {
        accepted++;
      }
      if (what.equals("intact")) {
        assertTrue(f != null && Arrays.equals(dims, f.dims()) && Arrays.equals(payload, f.data()), what);
      }
    }
    assertTrue(accepted > 50 && accepted < 400, accepted + " of 600 accepted");
  }

  @Test
  void damagedGzipStreamsAreRefusedWithOneLine() throws IOException {
    SplittableRandom r = new SplittableRandom(7);
    byte[] gz = gzip(idx(new int[] {20, 5, 5}, new byte[500]));
    for (int i = 0; i < 200; i++) {
      byte[] b = gz.clone();
      if (r.nextBoolean()) {
        b = Arrays.copyOf(b, 2 + r.nextInt(b.length - 2));
      } else {
        for (int j = 0; j <= r.nextInt(3); j++) {
          b[2 + r.nextInt(b.length - 2)] ^= (byte) (1 + r.nextInt(255));
        }
      }
      readOrRefuse(b, 3, "damaged gzip " + i);
    }
  }

  @Test
  void sizesBeyondTheBoundAreRefusedFromTheHeaderAlone() throws IOException {
    long start = System.nanoTime();
    for (int[] dims : new int[][] {
        {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE}, {70000, 2048, 2048}, {1025, 1024, 1024}}) {
      for (boolean gz : new boolean[] {false, true}) {
        byte[] b = idx(dims, new byte[16]);
        Path p = dir.resolve("huge");
        Files.write(p, gz ? gzip(b) : b);
        String m = assertThrows(IdxFormatException.class, () -> IdxFile.read(p, 3)).getMessage();
        assertTrue(m.contains("1 GiB") && m.contains(dims[0] + "x"), m);
      }
    }
    // A header within the bound over a short stream: refused after reading what is there.
    Path p = dir.resolve("short.gz");
    Files.write(p, gzip(idx(new int[] {1024, 1024, 1024}, new byte[3000])));
    String m = assertThrows(IdxFormatException.class, () -> IdxFile.read(p, 3)).getMessage();
    assertTrue(m.contains("truncated") && m.contains("has 3000"), m);
    assertTrue(System.nanoTime() - start < 5_000_000_000L, "must not read or allocate what is not there");
  }

  @Test
  void gzipThatExpandsPastTwoGibibytesIsOneLineNotOutOfMemory() throws IOException {
    // Concatenated gzip members are one stream: a 10x28x28 header, then 2,100 MiB of zeros in
    // members of 1 MiB each, about 2 MB on disk.
    byte[] header = gzip(idx(new int[] {10, 28, 28}, new byte[7840]));
    byte[] zeros = gzip(new byte[1 << 20]);
    Path p = dir.resolve("bomb.gz");
    try (var out = Files.newOutputStream(p)) {
      out.write(header);
      for (int i = 0; i < 2100; i++) {
        out.write(zeros);
      }
    }
    long start = System.nanoTime();
    String m = assertThrows(IdxFormatException.class, () -> IdxFile.read(p, 3)).getMessage();
    assertTrue(m.contains("more than 1048576 bytes after the 7840 bytes"), m);
    assertTrue(System.nanoTime() - start < 5_000_000_000L, "must stop early, not expand it all");
    // The same bomb declared as its real size is refused from its header.
    Path q = dir.resolve("declared.gz");
    try (var out = Files.newOutputStream(q)) {
      out.write(gzip(Arrays.copyOf(idx(new int[] {2100, 1024, 1024}, new byte[0]), 16)));
      for (int i = 0; i < 20; i++) {
        out.write(zeros);
      }
    }
    m = assertThrows(IdxFormatException.class, () -> IdxFile.read(q, 3)).getMessage();
    assertTrue(m.contains("more than the 1073741824 bytes (1 GiB)"), m);
  }

  @Test
  void labelsOutsideTheClassesAndImagesOfAnotherSizeAreRefusedByOneRule() {
    SplittableRandom r = new SplittableRandom(9);
    for (int i = 0; i < 200; i++) {
      int classes = 2 + r.nextInt(20);
      byte[] labels = new byte[50];
      for (int j = 0; j < labels.length; j++) {
        labels[j] = (byte) r.nextInt(classes);
      }
      int bad = r.nextInt(labels.length);
      int value = classes + r.nextInt(256 - classes);
      labels[bad] = (byte) value;
      ImageSet set = new ImageSet("test", 50, 4, 4, new byte[800], labels);
      String m = assertThrows(DataMismatchException.class,
          () -> set.requireFits("net", 1, 4, 4, classes)).getMessage();
      assertTrue(m.contains("label " + value) && m.contains("image " + bad) && m.contains(classes + " classes"), m);
      labels[bad] = (byte) (classes - 1);
      new ImageSet("test", 50, 4, 4, new byte[800], labels).requireFits("net", 1, 4, 4, classes);
    }
    ImageSet set = new ImageSet("test", 2, 4, 4, new byte[32], new byte[2]);
    String m = assertThrows(DataMismatchException.class, () -> set.requireFits("net", 1, 28, 28, 10)).getMessage();
    assertTrue(m.contains("1x4x4") && m.contains("1x28x28"), m);
    m = assertThrows(IllegalArgumentException.class, () -> set.head(-1)).getMessage();
    assertTrue(m.contains("-1") && m.contains("at least 1"), m);
    assertThrows(IllegalArgumentException.class, () -> set.head(0));
  }

  /** Writes Fashion-MNIST-named IDX files holding {@code train} and {@code test}. */
  private Path dataDir(String name, ImageSet train, ImageSet test) throws IOException {
    Path d = dir.resolve(name);
    TinyData.writeIdx(d, train, test);
    return d;
  }

  private static ImageSet withLabel(ImageSet s, int index, int label) {
    byte[] l = s.labels().clone();
    l[index] = (byte) label;
    return new ImageSet(s.name(), s.count(), s.rows(), s.cols(), s.pixels(), l);
  }

  @Test
  void commandsRefuseBadDataWithOneErrorLineAndLeaveTheFilesAlone() throws IOException {
    ImageSet train = TinyData.images("train", 96, 1);
    ImageSet test = TinyData.images("test", 40, 2);
    Path spec = dir.resolve("tiny-adder.spec");
    Files.writeString(spec, TinyData.ADDER_SPEC);
    Path ck = dir.resolve("ck");
    try (Workers w = Workers.single()) {
      Trainer t = Trainer.start(NetworkSpec.parse("tiny-adder", TinyData.ADDER_SPEC),
          new Recipe(1, 32, 0.1, 0.9, 5e-4, 0.2, 1, "none"), train, test, w);
      t.run(ck, Trainer.SILENT);
    }
    Path label250 = dataDir("label250", train, withLabel(test, 7, 250));
    Path big = dataDir("big", TinyData.images("train", 40, 3), TinyData.images("test", 40, 4));
    big = rewriteAs28x28(big);
    Path bomb = dataDir("bomb", train, test);
    Files.write(bomb.resolve("t10k-labels-idx1-ubyte.gz"), gzip(idx(new int[] {Integer.MAX_VALUE}, new byte[4])));
    Path out = dir.resolve("run");
    Path pkg = dir.resolve("pkg");
    Path report = dir.resolve("q.json");
    Path rtl = Files.createDirectories(dir.resolve("rtl"));
    Path shipped = Path.of("model/tiny-adder-8bit");

    String[][] cases = {
        {"label 250", "train", "--model", spec.toString(), "--out", out.toString(), "--data", label250.toString()},
        {"label 250", "quantize", "--checkpoint", ck.toString(), "--bits", "8", "--out", pkg.toString(),
            "--report", report.toString(), "--data", label250.toString(), "--no-progress"},
        {"1x28x28", "quantize", "--checkpoint", ck.toString(), "--bits", "8", "--out", pkg.toString(),
            "--report", report.toString(), "--data", big.toString(), "--no-progress"},
        // The 8x8 images are padded to the model's 28x28 input; their label 250 is refused.
        {"label 250", "cosim", "--model", shipped.toString(), "--rtl", rtl.toString(), "--data", label250.toString()},
        {"1 GiB", "train", "--model", spec.toString(), "--out", out.toString(), "--data", bomb.toString()},
        {"-1", "train", "--model", spec.toString(), "--out", out.toString(), "--data", label250.toString(),
            "--train-limit", "-1"}};
    for (String[] c : cases) {
      Map<String, String> before = FuzzSupport.snapshot(dir);
      assertUserError(cli(Arrays.copyOfRange(c, 1, c.length)), c[0]);
      assertEquals(before, FuzzSupport.snapshot(dir), "files changed by " + String.join(" ", c));
      assertTrue(Files.notExists(out) && Files.notExists(pkg) && Files.notExists(report), "output written");
    }
    // cosim with 28x28 images whose label 250 is outside the shipped model's 10 classes.
    Path big250 = rewriteAs28x28(dataDir("big250", TinyData.images("train", 40, 3),
        withLabel(TinyData.images("test", 40, 4), 3, 250)));
    assertUserError(cli("cosim", "--model", shipped.toString(), "--rtl", rtl.toString(), "--data",
        big250.toString()), "label 250", "10 classes");
  }

  /** The same files with every image scaled from 8x8 to 28x28 (pixel repeat and zero border). */
  private static Path rewriteAs28x28(Path d) throws IOException {
    for (String prefix : new String[] {"train", "t10k"}) {
      ImageSet s = ImageSet.read(prefix, d.resolve(prefix + "-images-idx3-ubyte.gz"),
          d.resolve(prefix + "-labels-idx1-ubyte.gz"));
      byte[] px = new byte[s.count() * 784];
      for (int i = 0; i < s.count(); i++) {
        for (int y = 0; y < 24; y++) {
          for (int x = 0; x < 24; x++) {
            px[i * 784 + (y + 2) * 28 + x + 2] = s.pixels()[i * 64 + (y / 3) * 8 + x / 3];
          }
        }
      }
      ImageSet big = new ImageSet(prefix, s.count(), 28, 28, px, s.labels());
      ByteBuffer im = ByteBuffer.allocate(16 + px.length);
      im.putInt(0x803).putInt(big.count()).putInt(28).putInt(28).put(px);
      Files.write(d.resolve(prefix + "-images-idx3-ubyte.gz"), gzip(im.array()));
    }
    return d;
  }
}
