package addernet.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * An unsigned-byte IDX array (the MNIST file format), read from a raw or gzip'd file.
 *
 * <p>Layout: two zero bytes, the element type (0x08 = unsigned byte), the number of dimensions,
 * one big-endian 32-bit size per dimension, then the elements in row-major order.
 *
 * <p>The header's sizes are checked against {@link #MAX_DATA_BYTES} and against the bytes really
 * there before anything is allocated for them; a gzip'd file is expanded only as far as its
 * header promises (and a little further, to tell that it goes on), so a small file that expands
 * to gigabytes costs neither memory nor much time.
 */
public record IdxFile(int[] dims, byte[] data) {
  /**
   * The most data bytes one IDX file may declare: 1 GiB, about 20 times Fashion-MNIST's training
   * images, and half of what one Java array can hold.
   */
  public static final long MAX_DATA_BYTES = 1L << 30;

  private static final int UNSIGNED_BYTE = 0x08;

  // How far past the promised data a gzip'd file is expanded to count what follows.
  private static final long TRAILING_COUNTED = 1 << 20;

  /** Number of items along the first dimension. */
  public int count() {
    return dims[0];
  }

  /**
   * Reads {@code path} and checks that it holds {@code expectedDims} dimensions of unsigned
   * bytes with exactly as many bytes as the header promises.
   */
  public static IdxFile read(Path path, int expectedDims) throws IOException {
    String name = path.toString();
    if (Files.isDirectory(path)) {
      throw new IdxFormatException(name + ": is a folder, not an IDX file");
    }
    try (InputStream file = new BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
      file.mark(2);
      boolean gzip = file.read() == 0x1f && file.read() == 0x8b;
      file.reset();
      if (!gzip) {
        return read(name, file, expectedDims, Files.size(path), false);
      }
      try (InputStream in = new GZIPInputStream(file, 1 << 16)) {
        return read(name, in, expectedDims, -1, true);
      } catch (EOFException e) {
        throw new IdxFormatException(name + ": truncated gzip stream (file ends early)");
      } catch (ZipException e) {
        throw new IdxFormatException(name + ": corrupt gzip stream: " + e.getMessage());
      }
    } catch (NoSuchFileException e) {
      throw new IdxFormatException(name + ": no such file");
    } catch (AccessDeniedException e) {
      throw new IdxFormatException(name + ": not readable (permission denied)");
    } catch (IdxFormatException e) {
      throw e;
    } catch (IOException e) {
      throw new IdxFormatException(name + ": cannot read: " + e.getMessage());
    }
  }

  /** Parses an IDX file held in memory (raw, not gzip'd). */
  static IdxFile parse(String name, byte[] b, int expectedDims) throws IdxFormatException {
    try {
      return read(name, new java.io.ByteArrayInputStream(b), expectedDims, b.length, false);
    } catch (IdxFormatException e) {
      throw e;
    } catch (IOException e) {
      throw new IllegalStateException("reading from memory cannot fail", e);
    }
  }

  /**
   * Reads header and data from {@code in}; {@code length} is the file's size when known (a raw
   * file), -1 when the stream must be read to find out (gzip).
   */
  private static IdxFile read(String name, InputStream in, int expectedDims, long length, boolean gzip)
      throws IOException {
    String what = gzip ? "expanded file" : "file";
    byte[] start = new byte[4];
    int got = in.readNBytes(start, 0, 4);
    if (got < 4) {
      throw new IdxFormatException(
          name + ": truncated header: the " + what + " has " + got + " bytes, an IDX header needs at least 4");
    }
    int expectedMagic = (UNSIGNED_BYTE << 8) | expectedDims;
    int magic = readInt(start, 0);
    if ((start[0] | start[1]) != 0) {
      throw new IdxFormatException(
          String.format(
              "%s: not an IDX file: magic number 0x%08X, expected 0x%08X", name, magic, expectedMagic));
    }
    if ((start[2] & 0xff) != UNSIGNED_BYTE) {
      throw new IdxFormatException(
          String.format(
              "%s: element type 0x%02X is not supported, expected 0x08 (unsigned byte); magic 0x%08X",
              name, start[2] & 0xff, magic));
    }
    int nd = start[3] & 0xff;
    if (nd != expectedDims) {
      throw new IdxFormatException(
          String.format(
              "%s: %d dimensions (magic 0x%08X), expected %d (magic 0x%08X)",
              name, nd, magic, expectedDims, expectedMagic));
    }
    int header = 4 + 4 * nd;
    byte[] sizes = new byte[4 * nd];
    got = in.readNBytes(sizes, 0, sizes.length);
    if (got < sizes.length) {
      throw new IdxFormatException(
          name + ": truncated header: the " + what + " has " + (4 + got) + " bytes, " + nd
              + " dimensions need " + header);
    }
    int[] dims = new int[nd];
    long total = 1;
    for (int i = 0; i < nd; i++) {
      dims[i] = readInt(sizes, 4 * i);
      if (dims[i] <= 0) {
        throw new IdxFormatException(name + ": dimension " + i + " has size " + dims[i] + ", must be positive");
      }
      // Each factor is below 2^31 and the running product is kept below 2^31 too: no overflow.
      total = Math.min(total * dims[i], MAX_DATA_BYTES + 1);
    }
    String shape = Arrays.stream(dims).mapToObj(Integer::toString).reduce((x, y) -> x + "x" + y).orElse("");
    if (total > MAX_DATA_BYTES) {
      throw new IdxFormatException(
          name + ": the header declares " + shape + " bytes of data, more than the " + MAX_DATA_BYTES
              + " bytes (1 GiB) this reader accepts");
    }
    if (length >= 0) {
      checkLength(name, shape, total, length - header, what);
      byte[] data = new byte[(int) total];
      int read = in.readNBytes(data, 0, data.length);
      checkLength(name, shape, total, read, what);
      return new IdxFile(dims, data);
    }
    // Grow as the bytes arrive, so that a header that lies costs only what is really there.
    byte[] data = new byte[(int) Math.min(total, 1 << 20)];
    int have = 0;
    while (have < total) {
      if (have == data.length) {
        data = Arrays.copyOf(data, (int) Math.min(total, 2L * data.length));
      }
      int n = in.read(data, have, data.length - have);
      if (n < 0) {
        break;
      }
      have += n;
    }
    long after = have == total ? count(in) : 0;
    checkLength(name, shape, total, have + after, what);
    return new IdxFile(dims, data);
  }

  /** Bytes left in {@code in}, counted up to a little past {@link #TRAILING_COUNTED}. */
  private static long count(InputStream in) throws IOException {
    byte[] sink = new byte[8192];
    long n = 0;
    while (n <= TRAILING_COUNTED) {
      int r = in.read(sink);
      if (r < 0) {
        break;
      }
      n += r;
    }
    return n;
  }

  private static void checkLength(String name, String shape, long total, long have, String what)
      throws IdxFormatException {
    if (have < total) {
      throw new IdxFormatException(
          name + ": truncated: header promises " + shape + " = " + total + " bytes of data, the " + what
              + " has " + Math.max(0, have));
    }
    if (have > total) {
      long extra = have - total;
      throw new IdxFormatException(
          name + ": " + (extra > TRAILING_COUNTED ? "more than " + TRAILING_COUNTED : extra)
              + " bytes after the " + total + " bytes of data the header (" + shape + ") promises");
    }
  }

  private static int readInt(byte[] b, int at) {
    return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
  }
}
