package addernet.cosim;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A running Verilator harness and its pipe: little-endian messages in, little-endian answers
 * out, and a zero-length batch to end the run (so an FST trace is closed cleanly).
 */
final class HarnessProcess implements AutoCloseable {
  private final Process process;
  private final OutputStream toSim;
  private final InputStream fromSim;

  /** Starts {@code exe} in {@code dir}; with {@code fst} non-null it records a waveform there. */
  HarnessProcess(Path exe, Path dir, Path fst) {
    List<String> cmd = new ArrayList<>(List.of(exe.toString()));
    if (fst != null) {
      cmd.add("--trace");
      cmd.add(fst.toAbsolutePath().toString());
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + exe, e);
    }
    toSim = new BufferedOutputStream(process.getOutputStream(), 1 << 16);
    fromSim = new BufferedInputStream(process.getInputStream(), 1 << 16);
  }

  void send(byte[]... parts) {
    try {
      for (byte[] p : parts) {
        toSim.write(p);
      }
      toSim.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("lost the pipe to the Verilated harness" + exitNote(), e);
    }
  }

  int[] readInts(int n) {
    int[] out = new int[n];
    ByteBuffer.wrap(read(4 * n)).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
    return out;
  }

  long[] readLongs(int n) {
    long[] out = new long[n];
    ByteBuffer.wrap(read(8 * n)).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
    return out;
  }

  private byte[] read(int n) {
    try {
      byte[] b = fromSim.readNBytes(n);
      if (b.length != n) {
        throw new EOFException();
      }
      return b;
    } catch (EOFException e) {
      throw new IllegalStateException("the Verilated harness stopped unexpectedly" + exitNote(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("lost the pipe to the Verilated harness" + exitNote(), e);
    }
  }

  private String exitNote() {
    try {
      if (process.waitFor(2, TimeUnit.SECONDS)) {
        return " (exit code " + process.exitValue() + ")";
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return "";
  }

  @Override
  public void close() {
    try {
      toSim.write(new byte[4]);
      toSim.flush();
      toSim.close();
      process.waitFor(60, TimeUnit.SECONDS);
    } catch (IOException e) {
      // the process is gone already; nothing to flush
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      process.destroy();
    }
  }
}
