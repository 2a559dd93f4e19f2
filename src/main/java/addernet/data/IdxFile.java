package addernet.data;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
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
 */
public record IdxFile(int[] dims, byte[] data) {
  private static final int UNSIGNED_BYTE = 0x08;

  /** Number of items along the first dimension. */
  public int count() {
    return dims[0];
  }

  /**
   * Reads {@code path} and checks that it holds {@code expectedDims} dimensions of unsigned
   * bytes with exactly as many bytes as the header promises.
   */
  public static IdxFile read(Path path, int expectedDims) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      throw new IdxFormatException(path + ": no such file");
    }
    if (bytes.length >= 2 && (bytes[0] & 0xff) == 0x1f && (bytes[1] & 0xff) == 0x8b) {
      bytes = gunzip(path, bytes);
    }
    return parse(path.toString(), bytes, expectedDims);
  }

  static IdxFile parse(String name, byte[] b, int expectedDims) throws IdxFormatException {
    if (b.length < 4) {
      throw new IdxFormatException(
          name + ": truncated header: " + b.length + " bytes, an IDX header needs at least 4");
    }
    int expectedMagic = (UNSIGNED_BYTE << 8) | expectedDims;
    int magic = readInt(b, 0);
    if ((b[0] | b[1]) != 0) {
      throw new IdxFormatException(
          String.format(
              "%s: not an IDX file: magic number 0x%08X, expected 0x%08X", name, magic, expectedMagic));
    }
    if ((b[2] & 0xff) != UNSIGNED_BYTE) {
      throw new IdxFormatException(
          String.format(
              "%s: element type 0x%02X is not supported, expected 0x08 (unsigned byte); magic 0x%08X",
              name, b[2] & 0xff, magic));
    }
    int nd = b[3] & 0xff;
    if (nd != expectedDims) {
      throw new IdxFormatException(
          String.format(
              "%s: %d dimensions (magic 0x%08X), expected %d (magic 0x%08X)",
              name, nd, magic, expectedDims, expectedMagic));
    }
    int header = 4 + 4 * nd;
    if (b.length < header) {
      throw new IdxFormatException(
          name + ": truncated header: " + b.length + " bytes, " + nd + " dimensions need " + header);
    }
    int[] dims = new int[nd];
    long total = 1;
    for (int i = 0; i < nd; i++) {
      dims[i] = readInt(b, 4 + 4 * i);
      if (dims[i] <= 0) {
        throw new IdxFormatException(name + ": dimension " + i + " has size " + dims[i] + ", must be positive");
      }
      total *= dims[i];
    }
    long have = b.length - header;
    String shape = Arrays.stream(dims).mapToObj(Integer::toString).reduce((x, y) -> x + "x" + y).orElse("");
    if (have < total) {
      throw new IdxFormatException(
          name + ": truncated: header promises " + shape + " = " + total + " bytes of data, file has "
              + have);
    }
    if (have > total) {
      throw new IdxFormatException(
          name + ": " + (have - total) + " bytes after the " + total + " bytes of data the header ("
              + shape + ") promises");
    }
    return new IdxFile(dims, Arrays.copyOfRange(b, header, b.length));
  }

  private static int readInt(byte[] b, int at) {
    return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
  }

  private static byte[] gunzip(Path path, byte[] gz) throws IdxFormatException {
    try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gz), 1 << 16)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(gz.length * 4);
      in.transferTo(out);
      return out.toByteArray();
    } catch (EOFException e) {
      throw new IdxFormatException(path + ": truncated gzip stream (file ends early)");
    } catch (ZipException e) {
      throw new IdxFormatException(path + ": corrupt gzip stream: " + e.getMessage());
    } catch (IOException e) {
      throw new IdxFormatException(path + ": cannot decompress: " + e.getMessage());
    }
  }
}
