package addernet.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CIFAR-10 in its binary form (the "CIFAR-10 binary version" archive): {@code data_batch_1.bin}
 * .. {@code data_batch_5.bin} for training and {@code test_batch.bin}, each a run of records of
 * one label byte (0..9) and 3,072 pixel bytes, the red, green and blue 32 x 32 planes one after
 * another, each row-major.
 *
 * <p>The archive's files hold 10,000 records each; any whole number of records is read, so a test
 * can write a small file of its own. Training batches are numbered from 1 without gaps.
 */
public final class Cifar10 {
  public static final int CHANNELS = 3;
  public static final int SIZE = 32;
  public static final int CLASSES = 10;
  /** One record: the label byte, then the three planes. */
  public static final int RECORD_BYTES = 1 + CHANNELS * SIZE * SIZE;
  /** The archive has five training batches. */
  public static final int MAX_TRAIN_BATCHES = 5;
  /**
   * The most records one file may hold: 2^17, about 13 times the archive's 10,000, so the pixels
   * of five such files (2.0 x 10^9 bytes) still fit one Java array.
   */
  public static final int MAX_RECORDS = 1 << 17;

  /** The folder the archive unpacks to, looked for inside the one given. */
  static final String ARCHIVE_FOLDER = "cifar-10-batches-bin";

  private Cifar10() {}

  /** Whether {@code dir} (or its {@code cifar-10-batches-bin}) holds CIFAR-10 binary files. */
  public static boolean isCifar(Path dir) {
    return Files.isRegularFile(dir.resolve("test_batch.bin"))
        || Files.isRegularFile(dir.resolve(ARCHIVE_FOLDER).resolve("test_batch.bin"));
  }

  /** Reads the training batches and the test batch from {@code dir}. */
  public static FashionMnist.Split read(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new CifarFormatException(dir + ": no such folder (expected CIFAR-10's binary files)");
    }
    if (!Files.isRegularFile(dir.resolve("test_batch.bin"))
        && Files.isDirectory(dir.resolve(ARCHIVE_FOLDER))) {
      dir = dir.resolve(ARCHIVE_FOLDER);
    }
    if (!Files.isRegularFile(dir.resolve("test_batch.bin"))) {
      throw new CifarFormatException(dir + ": missing test_batch.bin (expected CIFAR-10's binary"
          + " files: data_batch_1.bin .. data_batch_5.bin and test_batch.bin)");
    }
    List<Path> train = new ArrayList<>();
    for (int i = 1; i <= MAX_TRAIN_BATCHES; i++) {
      Path p = dir.resolve("data_batch_" + i + ".bin");
      if (Files.isRegularFile(p)) {
        if (train.size() != i - 1) {
          throw new CifarFormatException(
              dir + ": data_batch_" + i + ".bin is there but data_batch_" + (train.size() + 1)
                  + ".bin is not; the training batches are numbered from 1 without gaps");
        }
        train.add(p);
      }
    }
    if (train.isEmpty()) {
      throw new CifarFormatException(dir + ": missing data_batch_1.bin (the first training batch)");
    }
    return new FashionMnist.Split(read("train", train), read("test", List.of(dir.resolve("test_batch.bin"))));
  }

  /** The records of {@code files}, in order, as one set. */
  static ImageSet read(String name, List<Path> files) throws IOException {
    List<byte[]> contents = new ArrayList<>();
    long records = 0;
    for (Path f : files) {
      byte[] b = readFile(f);
      for (int r = 0; r < b.length / RECORD_BYTES; r++) {
        int label = b[r * RECORD_BYTES] & 0xff;
        if (label >= CLASSES) {
          throw new CifarFormatException(f + ": record " + r + " (byte " + (long) r * RECORD_BYTES
              + ") has label " + label + "; CIFAR-10 labels are 0..9");
        }
      }
      contents.add(b);
      records += b.length / RECORD_BYTES;
    }
    int count = Math.toIntExact(records);
    int image = CHANNELS * SIZE * SIZE;
    byte[] pixels = new byte[Math.multiplyExact(count, image)];
    byte[] labels = new byte[count];
    int i = 0;
    for (byte[] b : contents) {
      for (int r = 0; r < b.length / RECORD_BYTES; r++, i++) {
        labels[i] = b[r * RECORD_BYTES];
        System.arraycopy(b, r * RECORD_BYTES + 1, pixels, i * image, image);
      }
    }
    return new ImageSet(name, count, CHANNELS, SIZE, SIZE, pixels, labels);
  }

  private static byte[] readFile(Path f) throws IOException {
    long size;
    try {
      if (!Files.isRegularFile(f)) {
        throw new CifarFormatException(f + ": not a regular file (expected a CIFAR-10 batch)");
      }
      size = Files.size(f);
    } catch (NoSuchFileException e) {
      throw new CifarFormatException(f + ": no such file");
    }
    if (size == 0 || size % RECORD_BYTES != 0 || size / RECORD_BYTES > MAX_RECORDS) {
      throw new CifarFormatException(f + ": " + String.format("%,d", size) + " bytes is not a CIFAR-10"
          + " batch: expected a whole number of " + String.format("%,d", RECORD_BYTES)
          + "-byte records (1 label byte and 3 x 32 x 32 pixels), 1.." + String.format("%,d", MAX_RECORDS)
          + " of them" + (size % RECORD_BYTES != 0 ? " (" + size % RECORD_BYTES + " bytes left over)" : ""));
    }
    byte[] b = new byte[(int) size];
    try (InputStream in = Files.newInputStream(f)) {
      int n = in.readNBytes(b, 0, b.length);
      if (n != b.length || in.read() != -1) {
        throw new CifarFormatException(f + ": changed size while it was read");
      }
    } catch (AccessDeniedException e) {
      throw new CifarFormatException(f + ": not readable (permission denied)");
    }
    return b;
  }
}
