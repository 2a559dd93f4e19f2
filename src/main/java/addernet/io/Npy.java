package addernet.io;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A two-dimensional array in NumPy's {@code .npy} format, version 1.0, which {@code numpy.load}
 * reads directly: the magic {@code \x93NUMPY}, the version bytes 1 and 0, a little-endian 16-bit
 * header length, an ASCII header dict ({@code descr}, {@code fortran_order}, {@code shape}) padded
 * with spaces and a newline so that the data starts at a multiple of 64 bytes, then the values
 * in row-major order, little-endian.
 */
public final class Npy {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};

  private Npy() {}

  /** {@code rows x cols} 32-bit floats ({@code <f4}). */
  public static void writeFloat32(Path file, float[] values, int rows, int cols) throws IOException {
    check(values.length, rows, cols);
    try (DataOutputStream out = open(file, "<f4", rows, cols)) {
      for (float v : values) {
        out.writeInt(Integer.reverseBytes(Float.floatToRawIntBits(v)));
      }
    }
  }

  /** {@code rows x cols} 32-bit signed integers ({@code <i4}). */
  public static void writeInt32(Path file, int[] values, int rows, int cols) throws IOException {
    check(values.length, rows, cols);
    try (DataOutputStream out = open(file, "<i4", rows, cols)) {
      for (int v : values) {
        out.writeInt(Integer.reverseBytes(v));
      }
    }
  }

  /** Whether {@code file} opens with the {@code .npy} magic and version 1.0. */
  public static boolean isNpy(Path file) {
    if (!Files.isRegularFile(file)) {
      return false;
    }
    try (InputStream in = Files.newInputStream(file)) {
      return Arrays.equals(in.readNBytes(MAGIC.length), MAGIC);
    } catch (IOException e) {
      return false;
    }
  }

  private static void check(int length, int rows, int cols) {
    if (rows < 0 || cols < 0 || (long) rows * cols != length) {
      throw new IllegalArgumentException(length + " values are not a " + rows + " x " + cols + " array");
    }
  }

  private static DataOutputStream open(Path file, String descr, int rows, int cols) throws IOException {
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
    int unpadded = MAGIC.length + 2 + dict.length() + 1;
    int padding = (64 - unpadded % 64) % 64;
    String header = dict + " ".repeat(padding) + "\n";
    OutputStream raw = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
    DataOutputStream out = new DataOutputStream(raw);
    out.write(MAGIC);
    out.writeShort(Short.reverseBytes((short) header.length()));
    out.write(header.getBytes(StandardCharsets.US_ASCII));
    return out;
  }
}
