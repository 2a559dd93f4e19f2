package addernet.export;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The two encodings of every integer array in a model package (docs/model-package.md):
 *
 * <ul>
 *   <li>{@code .mem}: one word per line for Verilog's {@code $readmemh}, exactly ceil(bits/4)
 *       lower-case hex digits, two's complement at {@code bits} bits (so -1 at 8 bits is
 *       {@code ff}); no comments, no address markers, newline after every word;
 *   <li>{@code .bin}: little-endian, 1, 2 or 4 bytes per element (bits up to 8, 16, 32),
 *       sign-extended for signed arrays, zero-extended for unsigned ones.
 * </ul>
 */
final class IntArrayFiles {
  private IntArrayFiles() {}

  static int hexDigits(int bits) {
    return (bits + 3) / 4;
  }

  static int bytesPerElement(int bits) {
    return bits <= 8 ? 1 : bits <= 16 ? 2 : 4;
  }

  static long min(int bits, boolean signed) {
    return signed ? -(1L << (bits - 1)) : 0;
  }

  static long max(int bits, boolean signed) {
    return signed ? (1L << (bits - 1)) - 1 : (1L << bits) - 1;
  }

  static void writeMem(Path file, int[] values, int bits) throws IOException {
    int digits = hexDigits(bits);
    long mask = (1L << bits) - 1;
    StringBuilder sb = new StringBuilder(values.length * (digits + 1));
    for (int v : values) {
      String h = Long.toHexString(v & mask);
      sb.append("0".repeat(digits - h.length())).append(h).append('\n');
    }
    Files.writeString(file, sb, StandardCharsets.US_ASCII);
  }

  static void writeBin(Path file, int[] values, int bits) throws IOException {
    int width = bytesPerElement(bits);
    ByteBuffer buf = ByteBuffer.allocate(values.length * width).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      switch (width) {
        case 1 -> buf.put((byte) v);
        case 2 -> buf.putShort((short) v);
        default -> buf.putInt(v);
      }
    }
    Files.write(file, buf.array());
  }

  /** Decodes a .bin file; {@code where} names the file in errors. */
  static int[] readBin(Path file, String where, int count, int bits, boolean signed)
      throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    int width = bytesPerElement(bits);
    if (bytes.length != (long) count * width) {
      throw new PackageException(where + ": " + bytes.length + " bytes, expected " + count + " elements of "
          + width + " byte(s) = " + (long) count * width);
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int[] out = new int[count];
    for (int i = 0; i < count; i++) {
      long v = switch (width) {
        case 1 -> signed ? buf.get() : buf.get() & 0xffL;
        case 2 -> signed ? buf.getShort() : buf.getShort() & 0xffffL;
        default -> signed ? buf.getInt() : buf.getInt() & 0xffffffffL;
      };
      if (v < min(bits, signed) || v > max(bits, signed)) {
        throw new PackageException(where + ": element " + i + " = " + v + " is outside the "
            + (signed ? "signed " : "unsigned ") + bits + "-bit range [" + min(bits, signed) + ", "
            + max(bits, signed) + "]");
      }
      out[i] = (int) v;
    }
    return out;
  }

  /** Decodes a .mem file and checks it word for word against the .bin values. */
  static void checkMem(Path file, String where, int[] expected, int bits, boolean signed)
      throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
    if (lines.size() != expected.length) {
      throw new PackageException(where + ": " + lines.size() + " words, expected " + expected.length);
    }
    int digits = hexDigits(bits);
    for (int i = 0; i < lines.size(); i++) {
      String w = lines.get(i);
      long raw;
      try {
        if (w.length() != digits) {
          throw new NumberFormatException();
        }
        raw = Long.parseLong(w, 16);
      } catch (NumberFormatException e) {
        throw new PackageException(where + ": line " + (i + 1) + " '" + w + "' is not " + digits
            + " hex digits");
      }
      if (raw >= 1L << bits) {
        throw new PackageException(where + ": line " + (i + 1) + " '" + w + "' does not fit " + bits + " bits");
      }
      long v = signed && raw >= 1L << (bits - 1) ? raw - (1L << bits) : raw;
      if (v != expected[i]) {
        throw new PackageException(where + ": line " + (i + 1) + " is " + v + " but the .bin file has "
            + expected[i]);
      }
    }
  }
}
