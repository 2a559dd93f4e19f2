package addernet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class IdxFileTest {
  @TempDir Path dir;

  /** An IDX file of unsigned bytes with the given sizes and payload. */
  public static byte[] idx(int[] dims, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + payload.length);
    b.put((byte) 0).put((byte) 0).put((byte) 0x08).put((byte) dims.length);
    for (int d : dims) {
      b.putInt(d);
    }
    b.put(payload);
    return b.array();
  }

  static byte[] gzip(byte[] raw) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(raw);
    }
    return out.toByteArray();
  }

  private Path write(String name, byte[] bytes) throws IOException {
    Path p = dir.resolve(name);
    Files.write(p, bytes);
    return p;
  }

  private String error(byte[] bytes, int dims) throws IOException {
    Path p = write("bad", bytes);
    return assertThrows(IdxFormatException.class, () -> IdxFile.read(p, dims)).getMessage();
  }

  @Test
  void readsRawAndGzipFilesAlike() throws IOException {
    byte[] payload = {1, 2, 3, 4, 5, 6, (byte) 200, 8, 9, 10, 11, 12};
    byte[] raw = idx(new int[] {3, 2, 2}, payload);
    IdxFile a = IdxFile.read(write("a", raw), 3);
    IdxFile b = IdxFile.read(write("b.gz", gzip(raw)), 3);
    assertArrayEquals(new int[] {3, 2, 2}, a.dims());
    assertArrayEquals(payload, a.data());
    assertArrayEquals(a.data(), b.data());
  }

  @Test
  void wrongMagicNumberIsReportedWithBothValues() throws IOException {
    byte[] raw = idx(new int[] {2}, new byte[] {1, 2});
    raw[0] = 0x12;
    String m = error(raw, 1);
    assertTrue(m.contains("not an IDX file") && m.contains("0x12000801") && m.contains("0x00000801"), m);
  }

  @Test
  void imagesFileGivenWhereLabelsAreExpectedIsRejected() throws IOException {
    String m = error(idx(new int[] {1, 2, 2}, new byte[4]), 1);
    assertTrue(m.contains("3 dimensions") && m.contains("expected 1"), m);
  }

  @Test
  void unsupportedElementTypeIsNamed() throws IOException {
    byte[] raw = idx(new int[] {2}, new byte[] {1, 2});
    raw[2] = 0x0D;
    assertTrue(error(raw, 1).contains("element type 0x0D"));
  }

  @Test
  void truncatedDataSaysHowMuchIsMissing() throws IOException {
    byte[] raw = idx(new int[] {10, 2, 2}, new byte[40]);
    String m = error(Arrays.copyOf(raw, raw.length - 7), 3);
    assertTrue(m.contains("truncated") && m.contains("10x2x2 = 40 bytes") && m.contains("has 33"), m);
  }

  @Test
  void truncatedHeaderAndTrailingBytesAreRejected() throws IOException {
    assertTrue(error(new byte[] {0, 0, 8}, 1).contains("truncated header"));
    assertTrue(error(Arrays.copyOf(idx(new int[] {4, 4, 4}, new byte[0]), 10), 3).contains("truncated header"));
    byte[] raw = idx(new int[] {2}, new byte[] {1, 2, 3});
    assertTrue(error(raw, 1).contains("1 bytes after the 2 bytes"));
  }

  @Test
  void truncatedGzipStreamIsReported() throws IOException {
    byte[] gz = gzip(idx(new int[] {100, 4, 4}, new byte[1600]));
    String m = error(Arrays.copyOf(gz, gz.length / 2), 3);
    assertTrue(m.contains("gzip"), m);
  }

  @Test
  void headerIsComparedWithTheBoundAndTheRealLengthBeforeAllocating() throws IOException {
    String m = error(idx(new int[] {2048, 1024, 1024}, new byte[8]), 3);
    assertTrue(m.contains("2048x1024x1024 bytes of data, more than the 1073741824 bytes (1 GiB)"), m);
    // Within the bound but far longer than the file (raw) or its expanded stream (gzip).
    byte[] shortRaw = idx(new int[] {1024, 1024, 1000}, new byte[100]);
    assertTrue(error(shortRaw, 3).contains("1024x1024x1000 = 1048576000 bytes of data, the file has 100"));
    assertTrue(error(gzip(shortRaw), 3).contains("the expanded file has 100"));
  }

  @Test
  void bytesAfterTheDataOfAGzipFileAreCountedOnlySoFar() throws IOException {
    byte[] raw = idx(new int[] {2}, new byte[] {1, 2});
    assertTrue(error(gzip(Arrays.copyOf(raw, raw.length + 5)), 1).contains("5 bytes after the 2 bytes"));
    String m = error(gzip(Arrays.copyOf(raw, raw.length + (3 << 20))), 1);
    assertTrue(m.contains("more than 1048576 bytes after the 2 bytes"), m);
  }

  @Test
  void imagesMeetANetworkByOneRule() {
    ImageSet set = new ImageSet("test", 3, 2, 2, new byte[12], new byte[] {0, 9, 2});
    set.requireFits("net", 1, 2, 2, 10);
    String m = assertThrows(DataMismatchException.class, () -> set.requireFits("net", 1, 2, 2, 9)).getMessage();
    assertEquals("label 9 of test image 1 is not one of net's 9 classes (0..8)", m);
    m = assertThrows(DataMismatchException.class, () -> set.requireFits("net", 1, 28, 28, 10)).getMessage();
    assertEquals("the test images are 1x2x2 but net takes 1x28x28 inputs", m);
    assertThrows(DataMismatchException.class, () -> set.requireFits("net", 3, 2, 2, 10));
    assertEquals(2, set.head(2).count());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> set.head(-1)).getMessage().contains("at least 1"));
  }

  @Test
  void imageAndLabelCountsMustAgree() throws IOException {
    Path images = write("i", idx(new int[] {3, 2, 2}, new byte[12]));
    Path labels = write("l", idx(new int[] {2}, new byte[2]));
    String m = assertThrows(IdxFormatException.class, () -> ImageSet.read("train", images, labels)).getMessage();
    assertTrue(m.contains("3 images") && m.contains("2 labels"), m);
  }

  @Test
  void missingFileIsNamed() {
    Path p = dir.resolve("nope.gz");
    String m = assertThrows(IdxFormatException.class, () -> IdxFile.read(p, 1)).getMessage();
    assertTrue(m.contains("nope.gz") && m.contains("no such file"), m);
  }

  @Test
  void augmentationFlipsAndShiftsWithBackgroundFill() {
    byte[] px = new byte[9];
    for (int i = 0; i < 9; i++) {
      px[i] = (byte) (i + 1);
    }
    ImageSet set = new ImageSet("t", 1, 3, 3, px, new byte[] {0});
    Normalization identity = new Normalization(0, 1.0 / 255);
    float[] out = new float[9];
    int[] labels = new int[1];
    set.fill(new int[] {0}, 0, 1, identity, Augmentation.NONE, null, out, labels);
    assertEquals(1f, out[0], 1e-6);
    assertEquals(9f, out[8], 1e-6);
    assertEquals("flip,shift=2", Augmentation.parse("flip,shift=2").toString());
    assertThrows(IllegalArgumentException.class, () -> Augmentation.parse("rotate"));
  }
}
