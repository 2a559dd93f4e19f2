package addernet.train;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * PyTorch training LeNet-5-BN beside our trainer, as a yardstick: Debian's {@code python3-torch}
 * run by {@code /usr/bin/python3} on the script {@code bench/torch_lenet.py} in the jar, with
 * PyTorch's native convolutions and, when asked, with adder layers written as the AdderNet
 * paper's official code writes them (unfold and broadcast). Same batch size and thread count as
 * ours; random images (the time does not depend on the pixel values).
 *
 * <p>The peer times only what it is told to, one round at a time, so that its rounds can
 * alternate with ours in the same run.
 *
 * <p>PyTorch runs with the environment's OpenMP settings. Its default wait policy lets threads
 * spin between operations, which is fastest on an idle machine (about 2x faster than {@code
 * OMP_WAIT_POLICY=PASSIVE} on an idle 2-core machine) but collapses when other work holds the
 * cores (131 instead of about 2,100 images/s on a loaded one, where PASSIVE held up); our own
 * workers block rather than spin. So the peer keeps PyTorch's default, and the report names
 * the policy it ran with.
 */
public final class TorchPeer implements AutoCloseable {
  /** The interpreter Debian's python3-torch installs into; the python3 on PATH may be another. */
  public static final String PYTHON = "/usr/bin/python3";

  private static final String SCRIPT = "/bench/torch_lenet.py";

  /** The peer could not be started or stopped answering. */
  public static final class PeerException extends RuntimeException {
    PeerException(String message) {
      super(message);
    }
  }

  private final Process process;
  private final Path script;
  private final BufferedReader out;
  private final Writer in;
  private final String description;
  private final String waitPolicy;
  private final boolean adder;

  private TorchPeer(
      Process process, Path script, BufferedReader out, Writer in, String description,
      String waitPolicy, boolean adder) {
    this.process = process;
    this.script = script;
    this.out = out;
    this.in = in;
    this.description = description;
    this.waitPolicy = waitPolicy;
    this.adder = adder;
  }

  /**
   * Why the peer cannot run here, or empty when {@code /usr/bin/python3} imports torch. Takes a
   * second or two (the import).
   */
  public static Optional<String> unavailable() {
    if (!Files.isExecutable(Path.of(PYTHON))) {
      return Optional.of(PYTHON + " does not exist (apt-get install python3-torch)");
    }
    try {
      Process p =
          new ProcessBuilder(PYTHON, "-c", "import torch").redirectErrorStream(true).start();
      p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return Optional.of(PYTHON + " -c 'import torch' did not finish in 120 s");
      }
      return p.exitValue() == 0
          ? Optional.empty()
          : Optional.of(PYTHON + " cannot import torch (apt-get install python3-torch)");
    } catch (IOException e) {
      return Optional.of("cannot run " + PYTHON + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted while checking for torch");
    }
  }

  /**
   * Starts the peer and waits for its warm-up (about {@code warmupSeconds} of native-convolution
   * steps, a couple of adder steps).
   */
  public static TorchPeer start(int batch, int threads, double warmupSeconds, boolean adder) {
    Path script;
    try (InputStream resource = TorchPeer.class.getResourceAsStream(SCRIPT)) {
      if (resource == null) {
        throw new PeerException("the jar holds no " + SCRIPT);
      }
      script = Files.createTempFile("addernet-torch-peer", ".py");
      Files.copy(resource, script, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new PeerException("cannot write the torch peer's script: " + e.getMessage());
    }
    List<String> command = new ArrayList<>(List.of(
        PYTHON, script.toString(), "--batch", Integer.toString(batch),
        "--threads", Integer.toString(threads), "--warmup-seconds", Double.toString(warmupSeconds)));
    if (adder) {
      command.add("--adder");
    }
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
    String policy = System.getenv("OMP_WAIT_POLICY");
    if (policy == null || policy.isBlank()) {
      policy = "unset (OpenMP's default: threads spin between operations)";
    }
    try {
      Process process = builder.start();
      BufferedReader out = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      Writer in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      TorchPeer peer = new TorchPeer(process, script, out, in, "", policy, adder);
      String ready = peer.readLine();
      String[] words = ready.split(" ");
      if (words.length != 3 || !words[0].equals("ready")) {
        peer.close();
        throw new PeerException("the torch peer said '" + ready + "' instead of 'ready <version> <threads>'");
      }
      return new TorchPeer(process, script, out, in,
          "PyTorch " + words[1] + ", " + words[2] + " thread" + ("1".equals(words[2]) ? "" : "s"),
          policy, adder);
    } catch (IOException e) {
      deleteQuietly(script);
      throw new PeerException("cannot start " + PYTHON + ": " + e.getMessage());
    }
  }

  /** For example "PyTorch 1.13.0a0, 2 threads". */
  public String description() {
    return description;
  }

  /** The OpenMP wait policy the peer runs with, as the environment sets it. */
  public String waitPolicy() {
    return waitPolicy;
  }

  /** Whether the peer also trains the adder-layer net. */
  public boolean hasAdder() {
    return adder;
  }

  /** Images per second over {@code steps} training steps of the native-convolution net. */
  public double nativeRound(int steps) {
    return round("native", steps);
  }

  /** The same for the net with unfold-and-broadcast adder layers (only if started with them). */
  public double adderRound(int steps) {
    if (!adder) {
      throw new IllegalStateException("the peer was started without the adder net");
    }
    return round("adder", steps);
  }

  private double round(String net, int steps) {
    try {
      in.write(net + " " + steps + "\n");
      in.flush();
    } catch (IOException e) {
      throw new PeerException("the torch peer stopped listening: " + e.getMessage());
    }
    String line = readLine();
    try {
      return Double.parseDouble(line);
    } catch (NumberFormatException e) {
      throw new PeerException("the torch peer answered '" + line + "' instead of a rate");
    }
  }

  private String readLine() {
    try {
      String line = out.readLine();
      if (line == null) {
        throw new PeerException("the torch peer ended early (its messages are above)");
      }
      return line.strip();
    } catch (IOException e) {
      throw new PeerException("cannot read from the torch peer: " + e.getMessage());
    }
  }

  @Override
  public void close() {
    try {
      in.close();
    } catch (IOException ignored) {
      // The process may be gone already; it is stopped below either way.
    }
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    deleteQuietly(script);
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // A temporary file; the system's cleaner gets it.
    }
  }
}
