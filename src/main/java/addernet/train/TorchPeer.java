package addernet.train;

import addernet.nn.NetworkSpec;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * PyTorch training the same network as ours, as a yardstick: Debian's {@code python3-torch} run
 * by {@code /usr/bin/python3} on the script {@code bench/torch_peer.py} in the jar. The script
 * builds the graph from a JSON list of the spec's nodes ({@link #graph}), once with PyTorch's
 * native convolutions (the CNN twin) and, when asked, once with every adder layer written as the
 * AdderNet paper's official code writes it (unfold and broadcast). It reports both nets'
 * parameter counts, and {@link #start} refuses a peer whose counts differ from our specs', so
 * that the figures always compare one network. Random images of the spec's input shape (the time
 * does not depend on the pixel values).
 *
 * <p>The peer times only what it is told to, one round at a time, so that its rounds can
 * alternate with ours in the same run; every answer is awaited at most a given time, after which
 * the peer is stopped.
 *
 * <p>PyTorch runs with the environment's OpenMP settings. Its default wait policy lets threads
 * spin between operations, which is fastest on an idle machine (about 2x faster than {@code
 * OMP_WAIT_POLICY=PASSIVE} on an idle 2-core machine) but collapses when other work holds the
 * cores (131 instead of about 2,100 images/s on a loaded one, LeNet-5, where PASSIVE held up);
 * our own workers block rather than spin. So the peer keeps PyTorch's default, and the report
 * names the policy it ran with.
 */
public final class TorchPeer implements AutoCloseable {
  /** The interpreter Debian's python3-torch installs into; the python3 on PATH may be another. */
  public static final String PYTHON = "/usr/bin/python3";

  private static final String SCRIPT = "/bench/torch_peer.py";

  /** The peer could not be started, stopped answering or built another network. */
  public static final class PeerException extends RuntimeException {
    public PeerException(String message) {
      super(message);
    }
  }

  /** What to start: the twin with native layers, optionally the adder net with official ones. */
  public record Setup(
      NetworkSpec nativeNet, NetworkSpec adderNet, int batch, int adderBatch, int adderWarmupSteps,
      int threads, double warmupSeconds, double timeoutSeconds) {}

  private final Process process;
  private final List<Path> files;
  private final BlockingQueue<String> lines;
  private final Writer in;
  private final String description;
  private final String waitPolicy;
  private final Setup setup;
  private final long timeoutNanos;

  private TorchPeer(
      Process process, List<Path> files, BlockingQueue<String> lines, Writer in,
      String description, String waitPolicy, Setup setup) {
    this.process = process;
    this.files = files;
    this.lines = lines;
    this.in = in;
    this.description = description;
    this.waitPolicy = waitPolicy;
    this.setup = setup;
    this.timeoutNanos = (long) (setup.timeoutSeconds() * 1e9);
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
   * The nodes of {@code spec} as bench/torch_peer.py reads them (its docstring is the format):
   * kind, operation, channels, kernel, stride, padding, and the indices of the nodes each reads.
   */
  public static ObjectNode graph(NetworkSpec spec) {
    ObjectNode root = new ObjectMapper().createObjectNode();
    ArrayNode input = root.putArray("input");
    input.add(spec.input().channels()).add(spec.input().height()).add(spec.input().width());
    root.put("classes", spec.classes());
    ArrayNode nodes = root.putArray("nodes");
    for (NetworkSpec.LayerSpec l : spec.layers()) {
      ObjectNode n = nodes.addObject();
      n.put("kind", l.kind().name().toLowerCase(java.util.Locale.ROOT));
      switch (l.kind()) {
        case CONV -> {
          n.put("op", l.operation().keyword());
          n.put("in", l.in());
          n.put("out", l.out());
          n.put("kernel", l.kernel());
          n.put("stride", l.stride());
          n.put("padding", l.padding());
        }
        case FC -> {
          n.put("op", l.operation().keyword());
          n.put("in", l.in());
          n.put("out", l.out());
        }
        case BATCHNORM -> n.put("channels", l.inputShape().channels());
        case MAXPOOL, AVGPOOL -> n.put("kernel", l.kernel());
        default -> { }
      }
      ArrayNode reads = n.putArray("inputs");
      for (int i : l.inputs()) {
        reads.add(i);
      }
    }
    return root;
  }

  /**
   * Refuses a peer whose net has another number of trainable values than {@code spec}: the
   * figures would compare two different networks.
   */
  public static void requireSameParameters(NetworkSpec spec, long theirs, String which) {
    if (theirs != spec.parameters()) {
      throw new PeerException(String.format(
          "the torch peer's %s net has %,d parameters, %s has %,d; not comparing different"
              + " networks", which, theirs, spec.name(), spec.parameters()));
    }
  }

  /**
   * Starts the peer and waits for its warm-up (about {@code warmupSeconds} of native steps, then
   * {@code adderWarmupSteps} official-adder steps), at most the timeout.
   */
  public static TorchPeer start(Setup setup) {
    List<Path> files = new ArrayList<>();
    List<String> command = new ArrayList<>();
    try (InputStream resource = TorchPeer.class.getResourceAsStream(SCRIPT)) {
      if (resource == null) {
        throw new PeerException("the jar holds no " + SCRIPT);
      }
      Path script = Files.createTempFile("addernet-torch-peer", ".py");
      files.add(script);
      Files.copy(resource, script, StandardCopyOption.REPLACE_EXISTING);
      command.addAll(List.of(PYTHON, script.toString(),
          "--native-graph", graphFile(setup.nativeNet(), files).toString(),
          "--batch", Integer.toString(setup.batch()),
          "--threads", Integer.toString(setup.threads()),
          "--warmup-seconds", Double.toString(setup.warmupSeconds())));
      if (setup.adderNet() != null) {
        command.addAll(List.of("--adder-graph", graphFile(setup.adderNet(), files).toString(),
            "--adder-batch", Integer.toString(setup.adderBatch()),
            "--adder-warmup-steps", Integer.toString(setup.adderWarmupSteps())));
      }
    } catch (IOException e) {
      files.forEach(TorchPeer::deleteQuietly);
      throw new PeerException("cannot write the torch peer's script: " + e.getMessage());
    }
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
    String policy = System.getenv("OMP_WAIT_POLICY");
    if (policy == null || policy.isBlank()) {
      policy = "unset (OpenMP's default: threads spin between operations)";
    }
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      files.forEach(TorchPeer::deleteQuietly);
      throw new PeerException("cannot start " + PYTHON + ": " + e.getMessage());
    }
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> pump(process, lines), "torch-peer-reader");
    reader.setDaemon(true);
    reader.start();
    Writer in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    TorchPeer peer = new TorchPeer(process, files, lines, in, "", policy, setup);
    String ready;
    try {
      ready = peer.readLine("its warm-up");
    } catch (PeerException e) {
      peer.close();
      throw e;
    }
    String[] words = ready.split(" ");
    if (words.length != 5 || !words[0].equals("ready")) {
      peer.close();
      throw new PeerException("the torch peer said '" + ready
          + "' instead of 'ready <version> <threads> <native parameters> <adder parameters>'");
    }
    try {
      requireSameParameters(setup.nativeNet(), Long.parseLong(words[3]), "native");
      if (setup.adderNet() != null) {
        requireSameParameters(setup.adderNet(), Long.parseLong(words[4]), "official-adder");
      }
    } catch (NumberFormatException | PeerException e) {
      peer.close();
      throw e instanceof PeerException pe ? pe : new PeerException("the torch peer said '" + ready + "'");
    }
    return new TorchPeer(process, files, lines, in,
        "PyTorch " + words[1] + ", " + words[2] + " thread" + ("1".equals(words[2]) ? "" : "s"),
        policy, setup);
  }

  private static Path graphFile(NetworkSpec spec, List<Path> files) throws IOException {
    Path p = Files.createTempFile("addernet-torch-graph", ".json");
    files.add(p);
    Files.writeString(p, graph(spec).toString());
    return p;
  }

  /** Hands the peer's stdout over line by line; an empty string marks its end. */
  private static void pump(Process process, BlockingQueue<String> lines) {
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        lines.add(line.strip());
      }
    } catch (IOException ignored) {
      // The end of the stream, the same for the caller.
    }
    lines.add("");
  }

  /** For example "PyTorch 1.13.0a0, 2 threads". */
  public String description() {
    return description;
  }

  /** The OpenMP wait policy the peer runs with, as the environment sets it. */
  public String waitPolicy() {
    return waitPolicy;
  }

  public Setup setup() {
    return setup;
  }

  /** Whether the peer also trains the official-adder net. */
  public boolean hasAdder() {
    return setup.adderNet() != null;
  }

  /** Images per second over {@code steps} training steps of the native-convolution net. */
  public double nativeRound(int steps) {
    return round("native", steps);
  }

  /** The same for the net with official adder layers, at its own batch. */
  public double adderRound(int steps) {
    if (!hasAdder()) {
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
    String line = readLine(steps + " " + net + " steps");
    try {
      return Double.parseDouble(line);
    } catch (NumberFormatException e) {
      throw new PeerException("the torch peer answered '" + line + "' instead of a rate");
    }
  }

  private String readLine(String what) {
    String line;
    try {
      line = lines.poll(timeoutNanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PeerException("interrupted while waiting for the torch peer");
    }
    if (line == null) {
      process.destroyForcibly();
      throw new PeerException(String.format(
          "the torch peer took more than %.0f s for %s and was stopped", setup.timeoutSeconds(), what));
    }
    if (line.isEmpty()) {
      throw new PeerException("the torch peer ended early (its messages are above)");
    }
    return line;
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
    files.forEach(TorchPeer::deleteQuietly);
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // A temporary file; the system's cleaner gets it.
    }
  }
}
