package addernet.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The one rule for what a command may write (docs/outputs.md). A command opens one {@code
 * Outputs} before any work, names each folder and file it will write (each is checked, locked and
 * given a temporary sibling at once, so a refusal costs nothing), fills the temporaries, and
 * commits them together at the end. Closing without a commit removes the temporaries; nothing of
 * the user's is touched.
 *
 * <p>The rule: a target may be written only when it does not exist, is an empty folder, or holds
 * an earlier output of the same command (a folder with the marker file, a JSON report whose
 * {@code written_by} names the command); replacing an earlier output needs {@code --force}; a
 * target that is, contains or lies inside one of the command's inputs is refused even with
 * {@code --force}.
 */
public final class Outputs implements AutoCloseable {
  /** The file inside every output folder that says which command wrote it. */
  public static final String MARKER = ".addernet-output.json";

  /** The key of every JSON report that names the command that wrote it. */
  public static final String WRITTEN_BY = "written_by";

  // Names longer than this get a hashed short form in their temporaries, so that
  // ".NAME.tmp-PID" stays within the 255-byte limit of common file systems.
  private static final int MAX_PLAIN_NAME = 180;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final ObjectMapper SNAKE =
      new ObjectMapper()
          .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .enable(SerializationFeature.INDENT_OUTPUT);

  /** Fills a fresh folder. */
  @FunctionalInterface
  public interface FolderWriter {
    void write(Path dir) throws IOException;
  }

  private enum Kind { FOLDER, FILE, IN_PLACE }

  private record Target(String flag, Path path, Path temp, Kind kind, Path lockFile, FileChannel channel,
      FileLock lock, boolean replaces) {}

  private final String command;
  private final boolean force;
  private final List<Path> inputs = new ArrayList<>();
  private final List<Target> targets = new ArrayList<>();
  private boolean committed;

  private Outputs(String command, boolean force, Collection<Path> inputs) {
    this.command = command;
    this.force = force;
    for (Path p : inputs) {
      if (p != null) {
        this.inputs.add(real(p));
      }
    }
  }

  /**
   * Starts the outputs of one run of {@code command} (its name as the user types it, e.g.
   * "generate"); {@code inputs} are every file and folder it reads, which it must never write.
   */
  public static Outputs begin(String command, boolean force, Collection<Path> inputs) {
    return new Outputs(command, force, inputs);
  }

  /** Writes one folder under the rule, all or nothing: the common case of a single output. */
  public static void writeFolder(String command, Path target, boolean force, Collection<Path> inputs,
      FolderWriter writer) {
    try (Outputs out = begin(command, force, inputs)) {
      Path tmp = out.folder("--out", target);
      try {
        writer.write(tmp);
      } catch (IOException e) {
        throw new UserError("could not write " + target + ": " + e.getMessage(), e);
      }
      out.commit();
    }
  }

  /**
   * Claims an output folder: checks the rule, locks it and returns an empty temporary folder to
   * fill; {@link #commit} renames it to {@code target} with the marker inside.
   */
  public Path folder(String flag, Path target) {
    Target t = claim(flag, target, Kind.FOLDER, null);
    try {
      Files.createDirectories(t.temp());
    } catch (IOException e) {
      throw new UserError(flag + " " + target + ": cannot create a folder beside it: " + e.getMessage(), e);
    }
    return t.temp();
  }

  /**
   * Claims an output file whose earlier versions are recognised as JSON reports naming this
   * command ({@link #WRITTEN_BY}); returns the temporary file to write (it does not exist yet).
   */
  public Path file(String flag, Path target) {
    return file(flag, target, this::isOwnReport);
  }

  /** As {@link #file(String, Path)}, for files that are not JSON reports (waveforms, bitstreams). */
  public Path file(String flag, Path target, Predicate<Path> isEarlierOutput) {
    return claim(flag, target, Kind.FILE, isEarlierOutput).temp();
  }

  /**
   * Claims a folder that the command fills in place over a long run and may come back to (a
   * training run's checkpoint folder, written after every epoch so that it can be resumed): it is
   * locked, created and marked now. {@code resume} accepts an earlier output of this command as
   * it is; otherwise an earlier output is emptied only with {@code --force}.
   */
  public Path folderInPlace(String flag, Path target, boolean resume) {
    Target t = claim(flag, target, Kind.IN_PLACE, null, resume);
    try {
      if (t.replaces() && !resume) {
        deleteContents(t.path());
      }
      Files.createDirectories(t.path());
      writeMarker(t.path());
    } catch (IOException e) {
      throw new UserError(flag + " " + target + ": cannot prepare the folder: " + e.getMessage(), e);
    }
    return t.path();
  }

  /** Renames every claimed output into place, folders first, then files (reports last). */
  public void commit() {
    if (committed) {
      throw new IllegalStateException("outputs already committed");
    }
    try {
      for (Target t : targets) {
        if (t.kind() == Kind.FOLDER) {
          writeMarker(t.temp());
          install(t);
        }
      }
      for (Target t : targets) {
        if (t.kind() == Kind.FILE) {
          if (!Files.exists(t.temp(), LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalStateException(t.flag() + ": the command claimed " + t.path() + " but wrote nothing");
          }
          install(t);
        }
      }
      committed = true;
    } catch (IOException e) {
      throw new UserError("could not put the outputs in place: " + e.getMessage(), e);
    }
  }

  /** Removes uncommitted temporaries and releases every lock. */
  @Override
  public void close() {
    for (Target t : targets) {
      if (!committed && t.kind() != Kind.IN_PLACE) {
        deleteQuietly(t.temp());
      }
      release(t);
    }
    targets.clear();
  }

  /**
   * Writes a JSON report with snake_case keys and {@code written_by} first, so that a later run
   * recognises it as this command's output.
   */
  public void writeJson(Path file, Object value) {
    try {
      JsonNode tree = SNAKE.valueToTree(value);
      ObjectNode root = SNAKE.createObjectNode();
      root.put(WRITTEN_BY, "addernet " + command);
      if (tree.isObject()) {
        tree.fields().forEachRemaining(e -> {
          if (!e.getKey().equals(WRITTEN_BY)) {
            root.set(e.getKey(), e.getValue());
          }
        });
      } else {
        root.set("value", tree);
      }
      SNAKE.writeValue(file.toFile(), root);
    } catch (IOException e) {
      throw new UserError("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- the rule

  private Target claim(String flag, Path target, Kind kind, Predicate<Path> isEarlierOutput) {
    return claim(flag, target, kind, isEarlierOutput, false);
  }

  private Target claim(String flag, Path target, Kind kind, Predicate<Path> isEarlierOutput, boolean resume) {
    if (committed) {
      throw new IllegalStateException("outputs already committed");
    }
    Path abs = target.toAbsolutePath().normalize();
    Path parent = abs.getParent();
    Path name = abs.getFileName();
    if (parent == null || name == null) {
      throw new UserError(flag + " " + target + ": cannot write over the root of the file system");
    }
    if (!Files.isDirectory(parent)) {
      throw new UserError(flag + " " + target + ": its folder " + parent + " does not exist");
    }
    if (!Files.isWritable(parent)) {
      throw new UserError(flag + " " + target + ": its folder " + parent + " is not writable");
    }
    Path real = real(abs);
    Path cwd = real(Path.of(""));
    if (cwd.startsWith(real)) {
      throw new UserError(flag + " " + target + " is the current folder or holds it; choose a new folder name");
    }
    for (Path in : inputs) {
      if (real.equals(in) || in.startsWith(real)) {
        throw new UserError(flag + " " + target + " is, or holds, an input of this command (" + in
            + "); writing it would destroy the input: choose another " + flag);
      }
      if (real.startsWith(in)) {
        throw new UserError(flag + " " + target + " lies inside an input of this command (" + in
            + "); choose a path outside it");
      }
    }
    for (Target t : targets) {
      if (t.path().equals(abs)) {
        throw new UserError(flag + " " + target + " is also given as " + t.flag() + "; they must differ");
      }
    }
    String shortName = shortName(name.toString());
    Path lockFile = parent.resolve("." + shortName + ".lock");
    FileChannel channel;
    FileLock lock;
    try {
      channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        channel.close();
        throw new UserError(flag + " " + target + " is being written by another addernet command right now"
            + " (lock " + lockFile + "); wait for it or choose another " + flag);
      }
      channel.truncate(0);
      channel.write(java.nio.ByteBuffer.wrap(
          (ProcessHandle.current().pid() + " addernet " + command + "\n").getBytes(StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new UserError(flag + " " + target + ": cannot lock it (" + lockFile + "): " + e.getMessage(), e);
    }
    boolean ok = false;
    try {
      recoverStale(parent, shortName, abs);
      boolean replaces = checkExisting(flag, target, abs, kind, isEarlierOutput, resume);
      Path temp = parent.resolve("." + shortName + ".tmp-" + ProcessHandle.current().pid());
      deleteQuietly(temp);
      Target t = new Target(flag, abs, temp, kind, lockFile, channel, lock, replaces);
      targets.add(t);
      ok = true;
      return t;
    } finally {
      if (!ok) {
        releaseLock(lockFile, channel, lock);
      }
    }
  }

  /** Whether {@code abs} holds an earlier output to replace; refuses what may not be written. */
  private boolean checkExisting(String flag, Path target, Path abs, Kind kind, Predicate<Path> isEarlierOutput,
      boolean resume) {
    if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    if (Files.isSymbolicLink(abs)) {
      throw new UserError(flag + " " + target + " is a symbolic link; give the path it points to or a new name");
    }
    boolean isDir = Files.isDirectory(abs);
    if (kind == Kind.FILE) {
      if (isDir) {
        throw new UserError(flag + " " + target + " is a folder; a file name was expected");
      }
      if (!isEarlierOutput.test(abs)) {
        throw new UserError(flag + " " + target + " exists and is not an earlier output of 'addernet "
            + command + "'; it is left alone: choose another " + flag + " or remove it yourself");
      }
      if (!force) {
        throw new UserError(flag + " " + target + " holds an earlier output of 'addernet " + command
            + "'; pass --force to replace it or choose another " + flag);
      }
      return true;
    }
    if (!isDir) {
      throw new UserError(flag + " " + target + " is a file; a folder was expected");
    }
    List<String> contents = listNames(abs);
    if (contents.isEmpty()) {
      return true;
    }
    if (!isOwnFolder(abs)) {
      throw new UserError(flag + " " + target + " is a folder that holds other things (" + describe(contents)
          + ") and no earlier output of 'addernet " + command + "'; it is left alone: choose a new folder");
    }
    if (!force && !(kind == Kind.IN_PLACE && resume)) {
      throw new UserError(flag + " " + target + " holds an earlier output of 'addernet " + command
          + "'; pass --force to replace it" + (kind == Kind.IN_PLACE ? " (or --resume to continue it)" : "")
          + " or choose another " + flag);
    }
    return true;
  }

  private boolean isOwnFolder(Path dir) {
    Path marker = dir.resolve(MARKER);
    if (!Files.isRegularFile(marker)) {
      return false;
    }
    try {
      JsonNode m = JSON.readTree(marker.toFile());
      return m != null && ("addernet " + command).equals(m.path(WRITTEN_BY).asText(null));
    } catch (IOException e) {
      return false;
    }
  }

  private boolean isOwnReport(Path file) {
    try {
      JsonNode m = JSON.readTree(file.toFile());
      return m != null && m.isObject() && ("addernet " + command).equals(m.path(WRITTEN_BY).asText(null));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private void writeMarker(Path dir) throws IOException {
    ObjectNode m = JSON.createObjectNode();
    m.put(WRITTEN_BY, "addernet " + command);
    m.put("note", "this folder is an output of addernet; its commands replace it only with --force"
        + " (docs/outputs.md)");
    JSON.writeValue(dir.resolve(MARKER).toFile(), m);
  }

  /**
   * Cleans what a killed run left beside {@code abs}: its temporaries are removed, and an earlier
   * output that was moved aside to be replaced is moved back when the new one never arrived. Only
   * called with the target's lock held, so no live run owns these files.
   */
  private static void recoverStale(Path parent, String shortName, Path abs) {
    String tmpPrefix = "." + shortName + ".tmp-";
    String oldPrefix = "." + shortName + ".old-";
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent,
        p -> p.getFileName().toString().startsWith(tmpPrefix) || p.getFileName().toString().startsWith(oldPrefix))) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (n.startsWith(oldPrefix) && !Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
          move(p, abs);
          System.err.println("note: restored " + abs + " from " + p + ", left by an interrupted run");
        } else {
          deleteTree(p);
        }
      }
    } catch (IOException e) {
      throw new UserError("cannot clean up after an interrupted run beside " + abs + ": " + e.getMessage(), e);
    }
  }

  private void install(Target t) throws IOException {
    Path old = t.path().resolveSibling("." + shortName(t.path().getFileName().toString()) + ".old-"
        + ProcessHandle.current().pid());
    deleteTree(old);
    if (Files.exists(t.path(), LinkOption.NOFOLLOW_LINKS)) {
      move(t.path(), old);
    }
    move(t.temp(), t.path());
    deleteTree(old);
  }

  private static void release(Target t) {
    releaseLock(t.lockFile(), t.channel(), t.lock());
  }

  private static void releaseLock(Path lockFile, FileChannel channel, FileLock lock) {
    try {
      // Deleted while still held, so that no other run can take a lock on a file about to vanish.
      Files.deleteIfExists(lockFile);
      lock.release();
      channel.close();
    } catch (IOException ignored) {
      // The lock goes with the process anyway; a leftover lock file is taken over by the next run.
    }
  }

  // ---------------------------------------------------------------- helpers

  static String shortName(String name) {
    if (name.length() <= MAX_PLAIN_NAME) {
      return name;
    }
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
      return name.substring(0, 100) + "~" + HexFormat.of().formatHex(h, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The real path of {@code p}, or of its nearest existing ancestor with the rest appended. */
  private static Path real(Path p) {
    Path abs = p.toAbsolutePath().normalize();
    Path existing = abs;
    Path rest = null;
    while (existing != null && !Files.exists(existing)) {
      Path n = existing.getFileName();
      rest = rest == null ? n : n.resolve(rest);
      existing = existing.getParent();
    }
    if (existing == null) {
      return abs;
    }
    try {
      Path r = existing.toRealPath();
      return rest == null ? r : r.resolve(rest);
    } catch (IOException e) {
      return abs;
    }
  }

  private static List<String> listNames(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new UserError("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  private static String describe(List<String> names) {
    int n = names.size();
    String first = String.join(", ", names.subList(0, Math.min(3, n)));
    return n <= 3 ? first : first + " and " + (n - 3) + " more";
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to);
    }
  }

  private static void deleteContents(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        deleteTree(p);
      }
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      deleteTree(p);
    } catch (IOException | UncheckedIOException ignored) {
      // Best effort: the error that made us clean up is the one worth reporting.
    }
  }

  /** Deletes a file or a folder with everything in it; symbolic links are removed, not followed. */
  public static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      try (Stream<Path> s = Files.list(p)) {
        for (Path c : s.toList()) {
          deleteTree(c);
        }
      }
    }
    Files.delete(p);
  }
}
