package addernet.cosim;

import addernet.io.UserError;
import addernet.tool.ChildProcesses;
import addernet.tool.ExternalTool;
import addernet.tool.ToolFailure;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A running Verilator harness and its pipe: little-endian messages in, little-endian answers
 * out, and a zero-length batch to end the run (so an FST trace is closed cleanly). Its stderr
 * goes to a log beside the executable, kept when the harness fails; a harness that crashes or is
 * killed is reported in one line with its exit status or signal and its last words.
 */
final class HarnessProcess implements AutoCloseable {
  private final Path exe;
  private final Path log;
  private final Process process;
  private final OutputStream toSim;
  private final InputStream fromSim;

  /** Starts {@code exe} in {@code dir}; with {@code fst} non-null it records a waveform there. */
  HarnessProcess(Path exe, Path dir, Path fst) {
    this.exe = exe;
    List<String> cmd = new ArrayList<>(List.of(exe.toString()));
    if (fst != null) {
      cmd.add("--trace");
      cmd.add(fst.toAbsolutePath().toString());
    }
    try {
      log = Files.createTempFile(exe.getParent(), "harness-", ".log");
    } catch (IOException e) {
      throw new UserError("cannot create the harness's log beside " + exe + ": " + e.getMessage(), e);
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(log.toFile());
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    try {
      process = ChildProcesses.start(pb);
    } catch (IOException e) {
      throw new UserError("cannot start the Verilated harness " + exe + ": " + e.getMessage(), e);
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
      throw died();
    }
  }

  int[] readInts(int n) {
    int[] out = new int[n];
    ByteBuffer.wrap(read(4L * n)).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
    return out;
  }

  long[] readLongs(int n) {
    long[] out = new long[n];
    ByteBuffer.wrap(read(8L * n)).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
    return out;
  }

  private byte[] read(long n) {
    if (n < 0 || n > Integer.MAX_VALUE - 8) {
      // A count this size is not an answer of the protocol: the harness is not the one we built.
      ChildProcesses.destroyTree(process);
      throw new ToolFailure("the Verilated harness " + exe, "sent a count of " + n
          + " bytes, which is not a protocol answer; delete " + exe.getParent() + " to rebuild it",
          lastLines(), log);
    }
    try {
      byte[] b = fromSim.readNBytes((int) n);
      if (b.length != n) {
        throw died();
      }
      return b;
    } catch (IOException e) {
      throw died();
    }
  }

  /** The harness closed its end: it exited, crashed or was killed. */
  private ToolFailure died() {
    String how;
    try {
      if (process.waitFor(5, TimeUnit.SECONDS)) {
        how = "stopped unexpectedly (" + ExternalTool.exitStatus(process.exitValue()) + ")";
        ChildProcesses.release(process);
      } else {
        how = "stopped answering and was stopped";
        ChildProcesses.destroyTree(process);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ChildProcesses.destroyTree(process);
      how = "was stopped (interrupted)";
    }
    return new ToolFailure("the Verilated harness " + exe, how, lastLines(), log);
  }

  private String lastLines() {
    try {
      return ExternalTool.lastLines(Files.readString(log), 3);
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public void close() {
    try {
      toSim.write(new byte[4]);
      toSim.flush();
      toSim.close();
    } catch (IOException e) {
      // the process is gone already; nothing to flush
    }
    boolean clean = false;
    try {
      clean = process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      ChildProcesses.destroyTree(process);
    }
    if (clean) {
      try {
        Files.deleteIfExists(log);
      } catch (IOException e) {
        // a left-over log beside the harness harms nothing
      }
    }
  }
}
