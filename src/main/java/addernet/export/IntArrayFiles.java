package addernet.export;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

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

  /**
   * Decodes a .bin file; {@code where} names the file in errors. The file's real length is
   * compared with {@code count} before anything is allocated, and it is read in blocks.
   */
  static int[] readBin(Path file, String where, int count, int bits, boolean signed)
      throws IOException {
    int width = bytesPerElement(bits);
    long size = Files.size(file);
    long want = (long) count * width;
    if (size != want) {
      throw new PackageException(where + ": " + size + " bytes, expected " + count + " elements of "
          + width + " byte(s) = " + want);
    }
    checkHeap(where, 4L * count);
    int[] out = new int[count];
    long lo = min(bits, signed);
    long hi = max(bits, signed);
    ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      int i = 0;
      while (i < count) {
        if (ch.read(buf) < 0) {
          throw new PackageException(where + ": ended after " + i + " of " + count + " elements (changed while read)");
        }
        buf.flip();
        while (i < count && buf.remaining() >= width) {
          long v = switch (width) {
            case 1 -> signed ? buf.get() : buf.get() & 0xffL;
            case 2 -> signed ? buf.getShort() : buf.getShort() & 0xffffL;
            default -> signed ? buf.getInt() : buf.getInt() & 0xffffffffL;
          };
          if (v < lo || v > hi) {
            throw new PackageException(where + ": element " + i + " = " + v + " is outside the "
                + (signed ? "signed " : "unsigned ") + bits + "-bit range [" + lo + ", " + hi + "]");
          }
          out[i++] = (int) v;
        }
        buf.compact();
      }
    }
    return out;
  }

  /** Refuses an array the heap cannot hold, before the allocation that would fail. */
  private static void checkHeap(String where, long bytes) throws PackageException {
    Runtime rt = Runtime.getRuntime();
    long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    if (bytes > free) {
      throw new PackageException(where + ": needs " + (bytes >> 20) + " MiB to read, more than the "
          + (free >> 20) + " MiB free in this JVM (run with a larger -Xmx)");
    }
  }

  /**
   * Checks a .mem file word for word against the .bin values, in one pass over its bytes: exactly
   * {@code expected.length} lines of ceil(bits/4) lower-case hex digits, each ending in LF.
   */
  static void checkMem(Path file, String where, int[] expected, int bits, boolean signed)
      throws IOException {
    int digits = hexDigits(bits);
    long size = Files.size(file);
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      byte[] line = new byte[digits + 1];
      for (int i = 0; i < expected.length; i++) {
        int n = 0;
        int b;
        while ((b = in.read()) >= 0 && b != '\n' && n < line.length) {
          line[n++] = (byte) b;
        }
        String at = where + ": line " + (i + 1);
        if (b < 0 && n == 0) {
          throw new PackageException(where + ": " + i + " words, expected " + expected.length);
        }
        String w = new String(line, 0, n, StandardCharsets.ISO_8859_1);
        if (b < 0) {
          throw new PackageException(at + " '" + shown(w) + "' does not end in a newline (LF)");
        }
        if (b != '\n') {
          throw new PackageException(at + " '" + shown(w) + "...' is longer than " + digits + " hex digits");
        }
        if (n > 0 && line[n - 1] == '\r') {
          throw new PackageException(at + " ends in CR LF; lines end in LF only");
        }
        if (n != digits || !w.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
          throw new PackageException(at + " '" + shown(w) + "' is not " + digits + " lower-case hex digits");
        }
        long raw = Long.parseLong(w, 16);
        if (raw >= 1L << bits) {
          throw new PackageException(at + " '" + w + "' does not fit " + bits + " bits");
        }
        long v = signed && raw >= 1L << (bits - 1) ? raw - (1L << bits) : raw;
        if (v != expected[i]) {
          throw new PackageException(at + " is " + v + " but the .bin file has " + expected[i]);
        }
      }
      if (in.read() >= 0) {
        throw new PackageException(where + ": " + size + " bytes, more than the " + expected.length + " words of "
            + (digits + 1) + " bytes expected (" + (long) expected.length * (digits + 1) + ")");
      }
    }
  }

  /** A line's text as it may appear in a message: control characters as '?'. */
  private static String shown(String w) {
    return w.replaceAll("\\p{Cntrl}", "?");
  }
}
