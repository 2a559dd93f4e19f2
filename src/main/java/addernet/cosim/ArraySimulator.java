package addernet.cosim;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
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

/**
 * A running Verilated array. Stimulus goes in whole batches over a pipe (never a round trip per
 * cycle) and the outputs the PEs presented during the batch come back in cycle order.
 */
public final class ArraySimulator implements AutoCloseable {
  private final Process process;
  private final OutputStream toSim;
  private final DataInputStream fromSim;
  private final int stimWords;

  /** What one batch produced. */
  public record Batch(int[] pe, long[] value, long totalCycles) {}

  /** Starts the harness; with {@code fst} non-null it records a waveform there. */
  public ArraySimulator(ArrayHarness harness, Path fst) {
    List<String> cmd = new ArrayList<>(List.of(harness.executable().toString()));
    if (fst != null) {
      cmd.add("--trace");
      cmd.add(fst.toAbsolutePath().toString());
    }
    try {
      process =
          new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + harness.executable(), e);
    }
    toSim = new BufferedOutputStream(process.getOutputStream(), 1 << 16);
    fromSim = new DataInputStream(new BufferedInputStream(process.getInputStream(), 1 << 16));
    stimWords = ArrayHarness.stimWords(harness.config());
  }

  /** Runs {@code cycles} cycles of stimulus ({@code cycles * stimWords} words). */
  public Batch run(int[] stimulus, int cycles) {
    if (stimulus.length < (long) cycles * stimWords) {
      throw new IllegalArgumentException("stimulus holds fewer than " + cycles + " cycles");
    }
    try {
      ByteBuffer buf = ByteBuffer.allocate(4 + cycles * stimWords * 4).order(ByteOrder.LITTLE_ENDIAN);
      buf.putInt(cycles);
      buf.asIntBuffer().put(stimulus, 0, cycles * stimWords);
      toSim.write(buf.array());
      toSim.flush();
      int m = readInts(fromSim, 1)[0];
      int[] pe = readInts(fromSim, m);
      long[] value = readLongs(fromSim, m);
      long total = readLongs(fromSim, 1)[0];
      return new Batch(pe, value, total);
    } catch (EOFException e) {
      throw new IllegalStateException("the Verilated harness stopped unexpectedly" + exitNote(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("lost the pipe to the Verilated harness" + exitNote(), e);
    }
  }

  private String exitNote() {
    try {
      if (process.waitFor(2, java.util.concurrent.TimeUnit.SECONDS)) {
        return " (exit code " + process.exitValue() + ")";
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return "";
  }

  private static int[] readInts(InputStream in, int n) throws IOException {
    byte[] b = in.readNBytes(4 * n);
    if (b.length != 4 * n) {
      throw new EOFException();
    }
    int[] out = new int[n];
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
    return out;
  }

  private static long[] readLongs(InputStream in, int n) throws IOException {
    byte[] b = in.readNBytes(8 * n);
    if (b.length != 8 * n) {
      throw new EOFException();
    }
    long[] out = new long[n];
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
    return out;
  }

  @Override
  public void close() {
    try {
      toSim.write(new byte[4]); // a batch of zero cycles ends the run, closing the trace cleanly
      toSim.flush();
      toSim.close();
      process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
    } catch (IOException e) {
      // the process is gone already; nothing to flush
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      process.destroy();
    }
  }
}
