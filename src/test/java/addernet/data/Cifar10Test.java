package addernet.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class Cifar10Test {
  @TempDir Path dir;

  /** Records whose pixel at (c, y, x) of record r is (r * 7 + c * 31 + y * 3 + x) mod 256, label r mod 10. */
  public static byte[] records(int first, int n) {
    byte[] b = new byte[n * Cifar10.RECORD_BYTES];
    for (int r = 0; r < n; r++) {
      int base = r * Cifar10.RECORD_BYTES;
      b[base] = (byte) ((first + r) % 10);
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < 32; y++) {
          for (int x = 0; x < 32; x++) {
            b[base + 1 + (c * 32 + y) * 32 + x] = (byte) (((first + r) * 7 + c * 31 + y * 3 + x) & 0xff);
          }
        }
      }
    }
    return b;
  }

  private void write(String name, byte[] b) throws IOException {
    Files.write(dir.resolve(name), b);
  }

  @Test
  void readsBatchesInOrderAsThreeChannelImagesChannelSlowest() throws IOException {
    write("data_batch_1.bin", records(0, 3));
    write("data_batch_2.bin", records(3, 2));
    write("test_batch.bin", records(100, 4));
    FashionMnist.Split s = Cifar10.read(dir);
    assertEquals(5, s.train().count());
    assertEquals(4, s.test().count());
    ImageSet t = s.train();
    assertEquals(3, t.channels());
    assertEquals(32, t.rows());
    assertEquals(3 * 32 * 32, t.pixelsPerImage());
    for (int r = 0; r < 5; r++) {
      assertEquals(r % 10, t.label(r));
      for (int c = 0; c < 3; c++) {
        int y = (r * 5 + c) % 32;
        int x = (r * 11 + c) % 32;
        assertEquals((r * 7 + c * 31 + y * 3 + x) & 0xff,
            t.pixels()[r * t.pixelsPerImage() + (c * 32 + y) * 32 + x] & 0xff, "record " + r + " channel " + c);
      }
    }
    assertEquals(100 % 10, s.test().label(0));
  }

  @Test
  void findsTheArchiveFolderInsideTheOneGiven() throws IOException {
    Path inner = Files.createDirectory(dir.resolve("cifar-10-batches-bin"));
    Files.write(inner.resolve("data_batch_1.bin"), records(0, 1));
    Files.write(inner.resolve("test_batch.bin"), records(0, 1));
    assertTrue(Cifar10.isCifar(dir));
    assertEquals(1, Cifar10.read(dir).train().count());
  }

  @Test
  void refusesAFileThatIsNotWholeRecordsNamingItAndTheLeftover() throws IOException {
    write("data_batch_1.bin", records(0, 2));
    byte[] test = records(0, 1);
    write("test_batch.bin", java.util.Arrays.copyOf(test, test.length + 5));
    CifarFormatException e = assertThrows(CifarFormatException.class, () -> Cifar10.read(dir));
    assertTrue(e.getMessage().contains("test_batch.bin") && e.getMessage().contains("3,073-byte records")
        && e.getMessage().contains("5 bytes left over"), e.getMessage());
  }

  @Test
  void refusesALabelOutOfRangeNamingTheRecord() throws IOException {
    byte[] b = records(0, 3);
    b[2 * Cifar10.RECORD_BYTES] = 10;
    write("data_batch_1.bin", b);
    write("test_batch.bin", records(0, 1));
    CifarFormatException e = assertThrows(CifarFormatException.class, () -> Cifar10.read(dir));
    assertTrue(e.getMessage().contains("data_batch_1.bin: record 2") && e.getMessage().contains("label 10"),
        e.getMessage());
  }

  @Test
  void refusesAGapInTheTrainingBatchesAndAMissingTestBatch() throws IOException {
    write("data_batch_1.bin", records(0, 1));
    write("data_batch_3.bin", records(0, 1));
    CifarFormatException noTest = assertThrows(CifarFormatException.class, () -> Cifar10.read(dir));
    assertTrue(noTest.getMessage().contains("missing test_batch.bin"), noTest.getMessage());
    write("test_batch.bin", records(0, 1));
    CifarFormatException gap = assertThrows(CifarFormatException.class, () -> Cifar10.read(dir));
    assertTrue(gap.getMessage().contains("data_batch_3.bin is there but data_batch_2.bin is not"), gap.getMessage());
  }

  @Test
  void refusesAnEmptyFile() throws IOException {
    write("data_batch_1.bin", new byte[0]);
    write("test_batch.bin", records(0, 1));
    CifarFormatException e = assertThrows(CifarFormatException.class, () -> Cifar10.read(dir));
    assertTrue(e.getMessage().contains("data_batch_1.bin: 0 bytes"), e.getMessage());
  }

  @Test
  void paddingCentresTheImageOnZeros() {
    byte[] px = new byte[2 * 28 * 28];
    for (int i = 0; i < px.length; i++) {
      px[i] = (byte) (1 + i % 250);
    }
    ImageSet grey = new ImageSet("t", 2, 28, 28, px, new byte[] {3, 4});
    ImageSet p = grey.padded(32);
    assertEquals(32, p.rows());
    assertEquals(32, p.cols());
    for (int i = 0; i < 2; i++) {
      for (int y = 0; y < 32; y++) {
        for (int x = 0; x < 32; x++) {
          boolean inside = y >= 2 && y < 30 && x >= 2 && x < 30;
          int want = inside ? px[i * 784 + (y - 2) * 28 + (x - 2)] & 0xff : 0;
          assertEquals(want, p.pixels()[i * 1024 + y * 32 + x] & 0xff, "image " + i + " at " + y + "," + x);
        }
      }
    }
    assertArrayEquals(new byte[] {3, 4}, p.labels());
  }

  @Test
  void augmentationMovesAllChannelsOfAnImageTogether() throws IOException {
    write("data_batch_1.bin", records(0, 4));
    write("test_batch.bin", records(0, 1));
    ImageSet t = Cifar10.read(dir).train();
    int n = t.pixelsPerImage();
    float[] out = new float[4 * n];
    int[] labels = new int[4];
    Normalization identity = new Normalization(0, 1.0 / 255);
    t.fill(new int[] {0, 1, 2, 3}, 0, 4, identity, Augmentation.parse("flip,shift=4"),
        new SplittableRandom(5), out, labels);
    // The pattern makes channel c equal channel 0 plus 31 c wherever the picture (not padding) is.
    for (int b = 0; b < 4; b++) {
      for (int y = 0; y < 32; y++) {
        for (int x = 0; x < 32; x++) {
          float v0 = out[b * n + y * 32 + x];
          for (int c = 1; c < 3; c++) {
            float vc = out[b * n + (c * 32 + y) * 32 + x];
            if (v0 == 0 && vc == 0) {
              continue; // padding in every channel (or a zero pixel in both)
            }
            assertEquals((Math.round(v0) + 31 * c) & 0xff, Math.round(vc), "image " + b + " channel " + c + " at " + y + "," + x);
          }
        }
      }
    }
  }
}
