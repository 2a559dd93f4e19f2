package addernet.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.Optional;

/**
 * What a run marker says about the run that made it (docs/outputs.md, Run markers): the one-line
 * JSON in every temporary and aside folder ({@link Outputs#RUN_MARKER}) and in every lock file.
 * A leftover counts as addernet's only with such a marker, and may be cleaned only once the run
 * it names is over, so the marker names the process by pid and start time: a pid alone could
 * have been given to a later process.
 *
 * @param kind "temporary", "aside" or "lock"
 * @param name the output's full name (a shortened long name is recovered from it in full)
 * @param pid the process that made it
 * @param start that process's start time, as {@link ProcessHandle.Info#startInstant} gives it
 * @param command the command as in {@link Outputs#WRITTEN_BY}
 */
record RunMarker(String kind, String name, long pid, String start, String command) {
  static final long THIS_PID = ProcessHandle.current().pid();
  static final String THIS_START =
      ProcessHandle.current().info().startInstant().map(Instant::toString).orElse("");

  // A lock or run marker is a few hundred bytes; anything bigger is not one of ours.
  private static final int MAX_BYTES = 4096;

  private static final ObjectMapper JSON = new ObjectMapper();

  boolean isAlive() {
    return runIsAlive(pid, start);
  }

  boolean isThisProcess() {
    return pid == THIS_PID && start.equals(THIS_START);
  }

  /** The one-line JSON that names this process, for an output {@code name} of {@code writtenBy}. */
  static String text(String kind, String name, String writtenBy) throws IOException {
    ObjectNode m = JSON.createObjectNode();
    m.put("addernet", kind);
    m.put("name", name);
    m.put("pid", THIS_PID);
    m.put("start", THIS_START);
    m.put("command", writtenBy);
    return JSON.writeValueAsString(m) + "\n";
  }

  /** Creates a new folder (never an existing one, never through a link) holding this run's marker. */
  static void makeFolder(Path dir, String kind, String name, String writtenBy) throws IOException {
    Files.createDirectory(dir);
    Files.write(dir.resolve(Outputs.RUN_MARKER), text(kind, name, writtenBy).getBytes(StandardCharsets.UTF_8),
        StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Whether the file at {@code file} can be a marker or lock of addernet at all: a plain file with
   * one link, small. A link, a hard link to another file or a FIFO is the user's and is not read.
   */
  static boolean mayBeOurs(Path file, BasicFileAttributes a) {
    return a.isRegularFile() && a.size() <= MAX_BYTES && FileTree.linkCount(file) == 1;
  }

  /** Reads a run marker: a plain file with one link, small, of exactly our form; null otherwise. */
  static RunMarker read(Path file, String kind) {
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (!mayBeOurs(file, a)) {
        return null;
      }
      byte[] bytes = Files.readAllBytes(file);
      JsonNode m = JSON.readTree(bytes);
      if (m == null || !m.isObject() || !kind.equals(m.path("addernet").asText(null))
          || !m.path("name").isTextual() || !m.path("pid").canConvertToLong() || !m.path("start").isTextual()
          || !m.path("command").isTextual()) {
        return null;
      }
      return new RunMarker(kind, m.get("name").asText(), m.get("pid").asLong(), m.get("start").asText(),
          m.get("command").asText());
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Whether the run a marker names still runs: a process with that pid exists and started at the
   * recorded time (within a second, so that a pid used again by a later process counts as dead).
   */
  static boolean runIsAlive(long pid, String start) {
    if (pid == THIS_PID) {
      return start.isEmpty() || start.equals(THIS_START);
    }
    Optional<ProcessHandle> h = ProcessHandle.of(pid);
    if (h.isEmpty() || !h.get().isAlive()) {
      return false;
    }
    Optional<Instant> began = h.get().info().startInstant();
    if (began.isEmpty() || start.isEmpty()) {
      return true;
    }
    try {
      return Math.abs(began.get().toEpochMilli() - Instant.parse(start).toEpochMilli()) <= 1000;
    } catch (RuntimeException e) {
      return true;
    }
  }
}
