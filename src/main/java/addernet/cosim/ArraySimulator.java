package addernet.cosim;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * A running Verilated array. Stimulus goes in whole batches over a pipe (never a round trip per
 * cycle) and the outputs the PEs presented during the batch come back in cycle order.
 */
public final class ArraySimulator implements AutoCloseable {
  private final HarnessProcess harness;
  private final int stimWords;

  /** What one batch produced. */
  public record Batch(int[] pe, long[] value, long totalCycles) {}

  /** Starts the harness; with {@code fst} non-null it records a waveform there. */
  public ArraySimulator(ArrayHarness harness, Path fst) {
    this.harness = new HarnessProcess(harness.executable(), null, fst);
    this.stimWords = ArrayHarness.stimWords(harness.config());
  }

  /** Runs {@code cycles} cycles of stimulus ({@code cycles * stimWords} words). */
  public Batch run(int[] stimulus, int cycles) {
    if (stimulus.length < (long) cycles * stimWords) {
      throw new IllegalArgumentException("stimulus holds fewer than " + cycles + " cycles");
    }
    ByteBuffer buf = ByteBuffer.allocate(4 + cycles * stimWords * 4).order(ByteOrder.LITTLE_ENDIAN);
    buf.putInt(cycles);
    buf.asIntBuffer().put(stimulus, 0, cycles * stimWords);
    harness.send(buf.array());
    int m = harness.readInts(1)[0];
    int[] pe = harness.readInts(m);
    long[] value = harness.readLongs(m);
    long total = harness.readLongs(1)[0];
    return new Batch(pe, value, total);
  }

  @Override
  public void close() {
    harness.close();
  }
}
