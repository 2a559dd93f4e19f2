package addernet.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
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
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

  // Names longer than this get a hashed short form in their temporaries and lock, so that
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

  /** What an in-place folder was before this run claimed it, to undo the claim if nothing came of it. */
  private enum Before { ABSENT, EMPTY, EARLIER_MOVED_ASIDE, RESUMED }

  private static final class Target {
    final String flag;
    final Path path;
    final Path real;
    final Path temp;
    final Path aside;
    final Kind kind;
    final boolean optional;
    final Lock lock;
    Before before;

    Target(String flag, Path path, Path real, Kind kind, boolean optional, Lock lock) {
      this.flag = flag;
      this.path = path;
      this.real = real;
      String shortName = shortName(path.getFileName().toString());
      long pid = ProcessHandle.current().pid();
      this.temp = path.resolveSibling("." + shortName + ".tmp-" + pid);
      this.aside = path.resolveSibling("." + shortName + ".old-" + pid);
      this.kind = kind;
      this.optional = optional;
      this.lock = lock;
    }
  }

  private record Lock(Path key, Path file, FileChannel channel, FileLock lock) {}

  /** Lock files this process holds (see lock()). */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  private final String command;
  private final boolean force;
  private final List<Path> inputs = new ArrayList<>();
  private final List<Path> allowedInside = new ArrayList<>();
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
   * Checks at the door that {@code command} may write {@code target} (the rule, and no other run
   * writing it now), without writing anything: for a command whose output is written by a lower
   * layer after minutes of reading and checking its inputs, which claims it again then.
   */
  public static void check(String command, boolean force, Collection<Path> inputs, String flag, Path target) {
    try (Outputs out = begin(command, force, inputs)) {
      out.claim(flag, target, Kind.FOLDER, null, false, false);
    }
  }

  /** The text of {@link #WRITTEN_BY} for {@code command}. */
  public static String writtenBy(String command) {
    return "addernet " + command;
  }

  /**
   * Lets this command write at {@code place} although it lies inside one of its inputs: for a
   * command whose default output sits in the folder it reads (report's RUN/report). The input
   * itself, its other contents and its ancestors stay refused.
   */
  public Outputs allowInside(Path place) {
    allowedInside.add(real(place));
    return this;
  }

  /**
   * Claims an output folder: checks the rule, locks it and returns an empty temporary folder to
   * fill; {@link #commit} renames it to {@code target} with the marker inside.
   */
  public Path folder(String flag, Path target) {
    return folder(flag, target, false);
  }

  /**
   * As {@link #folder}, for a folder the run may leave empty (failing cases kept for a look):
   * {@link #commit} puts it in place only when something was written into it, and otherwise
   * leaves an earlier output where it is.
   */
  public Path optionalFolder(String flag, Path target) {
    return folder(flag, target, true);
  }

  private Path folder(String flag, Path target, boolean optional) {
    Target t = claim(flag, target, Kind.FOLDER, null, false, optional);
    try {
      Files.createDirectories(t.temp);
    } catch (IOException e) {
      throw new UserError(flag + " " + target + ": cannot create a folder beside it: " + e.getMessage(), e);
    }
    return t.temp;
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
    return claim(flag, target, Kind.FILE, isEarlierOutput, false, false).temp;
  }

  /**
   * As {@link #file(String, Path, Predicate)}, for a file the run writes only in some cases (a
   * waveform of a failure): {@link #commit} puts it in place only when it was written.
   */
  public Path optionalFile(String flag, Path target, Predicate<Path> isEarlierOutput) {
    return claim(flag, target, Kind.FILE, isEarlierOutput, false, true).temp;
  }

  /**
   * Claims a folder that the command fills in place over a long run and may come back to (a
   * training run's checkpoint folder, written after every epoch so that it can be resumed): it is
   * locked, created and marked now, and stays locked until {@link #close}. {@code resume} accepts
   * an earlier output of this command as it is; otherwise an earlier output is replaced only with
   * {@code --force}: it is moved aside now, deleted once the run has written anything, and put
   * back if the run ends before that.
   */
  public Path folderInPlace(String flag, Path target, boolean resume) {
    Target t = claim(flag, target, Kind.IN_PLACE, null, resume, false);
    try {
      if (!Files.exists(t.path, LinkOption.NOFOLLOW_LINKS)) {
        t.before = Before.ABSENT;
      } else if (listNames(t.path).isEmpty()) {
        t.before = Before.EMPTY;
      } else if (resume) {
        t.before = Before.RESUMED;
      } else {
        move(t.path, t.aside);
        t.before = Before.EARLIER_MOVED_ASIDE;
      }
      Files.createDirectories(t.path);
      // A resumed folder already says who wrote it; rewriting the marker would change the
      // user's folder even when the run is then refused (a damaged checkpoint, say).
      if (t.before != Before.RESUMED) {
        writeMarker(t.path);
      }
    } catch (IOException e) {
      throw new UserError(flag + " " + target + ": cannot prepare the folder: " + e.getMessage(), e);
    }
    return t.path;
  }

  /** Renames every claimed output into place, folders first, then files (reports last). */
  public void commit() {
    if (committed) {
      throw new IllegalStateException("outputs already committed");
    }
    try {
      for (Target t : targets) {
        if (t.kind == Kind.FOLDER && !(t.optional && listNames(t.temp).isEmpty())) {
          writeMarker(t.temp);
          install(t);
        }
      }
      for (Target t : targets) {
        if (t.kind == Kind.FILE) {
          if (!Files.exists(t.temp, LinkOption.NOFOLLOW_LINKS)) {
            if (t.optional) {
              continue;
            }
            throw new IllegalStateException(t.flag + ": the command claimed " + t.path + " but wrote nothing");
          }
          install(t);
        }
      }
      for (Target t : targets) {
        if (t.kind == Kind.IN_PLACE) {
          deleteTree(t.aside);
        }
      }
      committed = true;
    } catch (IOException e) {
      throw new UserError("could not put the outputs in place: " + e.getMessage(), e);
    }
  }

  /**
   * Removes uncommitted temporaries, undoes an in-place claim that nothing came of, and releases
   * every lock.
   */
  @Override
  public void close() {
    for (Target t : targets) {
      if (t.kind != Kind.IN_PLACE) {
        // After a commit only the temporaries of optional outputs that stayed empty are left.
        deleteQuietly(t.temp);
      } else if (!committed) {
        undoInPlace(t);
      }
      releaseLock(t.lock);
    }
    targets.clear();
  }

  /**
   * An in-place run that wrote nothing but the marker leaves the folder as it found it; one that
   * wrote something keeps it (a checkpoint of the epochs done can be resumed).
   */
  private static void undoInPlace(Target t) {
    if (t.before == null) {
      return;
    }
    try {
      boolean nothingWritten = holdsOnlyMarker(t.path);
      switch (t.before) {
        case ABSENT -> {
          if (nothingWritten) {
            deleteTree(t.path);
          }
        }
        case EMPTY -> {
          if (nothingWritten) {
            Files.deleteIfExists(t.path.resolve(MARKER));
          }
        }
        case EARLIER_MOVED_ASIDE -> {
          if (nothingWritten) {
            deleteTree(t.path);
            move(t.aside, t.path);
          } else {
            deleteTree(t.aside);
          }
        }
        case RESUMED -> { }
      }
    } catch (IOException | UncheckedIOException e) {
      // The next run beside it recovers what is left (recoverStale); say where it is now.
      System.err.println("note: could not tidy " + t.path + " after the run: " + e.getMessage());
    }
  }

  /** {@code value} as the JSON object {@link #writeJson} would write (snake_case keys), to amend first. */
  public static ObjectNode toJson(Object value) {
    JsonNode tree = SNAKE.valueToTree(value);
    if (tree instanceof ObjectNode o) {
      return o;
    }
    ObjectNode wrap = SNAKE.createObjectNode();
    wrap.set("value", tree);
    return wrap;
  }

  /**
   * Writes a JSON report with snake_case keys and {@code written_by} first, so that a later run
   * recognises it as this command's output.
   */
  public void writeJson(Path file, Object value) {
    try {
      ObjectNode root = SNAKE.createObjectNode();
      root.put(WRITTEN_BY, writtenBy(command));
      toJson(value).fields().forEachRemaining(e -> {
        if (!e.getKey().equals(WRITTEN_BY)) {
          root.set(e.getKey(), e.getValue());
        }
      });
      SNAKE.writeValue(file.toFile(), root);
    } catch (IOException e) {
      throw new UserError("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- the rule

  private Target claim(String flag, Path target, Kind kind, Predicate<Path> isEarlierOutput, boolean resume,
      boolean optional) {
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
      throw new UserError(flag + " " + target + ": its parent folder "
          + (Files.exists(parent) ? "is a file (" : "does not exist (") + parent + "); create it first or choose"
          + " another " + flag);
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
      if (real.startsWith(in) && allowedInside.stream().noneMatch(a -> a.startsWith(in) && real.equals(a))) {
        throw new UserError(flag + " " + target + " lies inside an input of this command (" + in
            + "); choose a path outside it");
      }
    }
    for (Target t : targets) {
      if (t.real.equals(real)) {
        throw new UserError(flag + " " + target + " is also given as " + t.flag + "; they must differ");
      }
      if (real.startsWith(t.real) || t.real.startsWith(real)) {
        throw new UserError(flag + " " + target + " and " + t.flag + " " + t.path
            + " lie one inside the other; give them separate places");
      }
    }
    String shortName = shortName(name.toString());
    Lock lock = lock(flag, target, parent.resolve("." + shortName + ".lock"));
    boolean ok = false;
    try {
      recoverStale(parent, shortName, abs);
      sweepSiblings(parent, shortName);
      checkExisting(flag, target, abs, kind, isEarlierOutput, resume);
      Target t = new Target(flag, abs, real, kind, optional, lock);
      deleteTree(t.temp);
      targets.add(t);
      ok = true;
      return t;
    } catch (IOException e) {
      throw new UserError(flag + " " + target + ": cannot clear an old temporary beside it: " + e.getMessage(), e);
    } finally {
      if (!ok) {
        releaseLock(lock);
      }
    }
  }

  /**
   * Takes the lock of one target: an OS file lock on a hidden file beside it, held until {@link
   * #close}. Two rules of OS locks shape this. A process's lock on a file goes when it closes any
   * descriptor of that file, so within this process a registry answers first and the lock file is
   * never opened twice. And the lock file is deleted on release, so a run that opened it just
   * before the deletion would lock a file no longer on disk: the path's file identity is compared
   * before opening and after locking, and anything else counts as busy.
   */
  private Lock lock(String flag, Path target, Path lockFile) {
    Path key = real(lockFile);
    if (!HELD.add(key)) {
      throw busy(flag, target, lockFile);
    }
    boolean ok = false;
    try {
      for (int attempt = 0; attempt < 3; attempt++) {
        Object before = fileKey(lockFile);
        FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
          lock = channel.tryLock();
        } catch (OverlappingFileLockException | IOException e) {
          channel.close();
          throw e;
        }
        if (lock == null) {
          channel.close();
          throw busy(flag, target, lockFile);
        }
        Object after = fileKey(lockFile);
        if (after != null && (before == null || before.equals(after))) {
          channel.truncate(0);
          channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + " " + writtenBy(command) + "\n")
              .getBytes(StandardCharsets.UTF_8)));
          ok = true;
          return new Lock(key, lockFile, channel, lock);
        }
        lock.release();
        channel.close();
      }
      throw busy(flag, target, lockFile);
    } catch (OverlappingFileLockException e) {
      throw busy(flag, target, lockFile);
    } catch (IOException e) {
      throw new UserError(flag + " " + target + ": cannot lock it (" + lockFile + "): " + e.getMessage(), e);
    } finally {
      if (!ok) {
        HELD.remove(key);
      }
    }
  }

  /** The identity of the file at {@code p} (device and inode), read without opening it; null if none. */
  private static Object fileKey(Path p) {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    } catch (IOException e) {
      return null;
    }
  }

  private static UserError busy(String flag, Path target, Path lockFile) {
    return new UserError(flag + " " + target + " is being written by another addernet command right now"
        + " (lock " + lockFile + "); wait for it or choose another " + flag);
  }

  /** Refuses what may not be written. */
  private void checkExisting(String flag, Path target, Path abs, Kind kind, Predicate<Path> isEarlierOutput,
      boolean resume) {
    if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (Files.isSymbolicLink(abs)) {
      throw new UserError(flag + " " + target + " is a symbolic link; give the path it points to or a new name");
    }
    boolean isDir = Files.isDirectory(abs);
    if (kind == Kind.FILE) {
      if (isDir) {
        throw new UserError(flag + " " + target + " is a folder; a file was expected");
      }
      if (!Files.isRegularFile(abs) || !isEarlierOutput.test(abs)) {
        throw new UserError(flag + " " + target + " exists and is not an earlier output of '"
            + writtenBy(command) + "'; it is left alone: choose another " + flag + " or remove it yourself");
      }
      if (!force) {
        throw new UserError(flag + " " + target + " holds an earlier output of '" + writtenBy(command)
            + "'; pass --force to replace it or choose another " + flag);
      }
      return;
    }
    if (!isDir) {
      throw new UserError(flag + " " + target + " is a file, not a folder; choose a new folder name");
    }
    List<String> contents = listNames(abs);
    if (contents.isEmpty()) {
      return;
    }
    if (!isOwnFolder(abs)) {
      throw new UserError(flag + " " + target + " is a folder that holds other things (" + describe(contents)
          + ") and no earlier output of '" + writtenBy(command) + "'; it is left alone: choose a new folder");
    }
    if (!force && !(kind == Kind.IN_PLACE && resume)) {
      throw new UserError(flag + " " + target + " holds an earlier output of '" + writtenBy(command)
          + "'; pass --force to replace it" + (kind == Kind.IN_PLACE ? " (or --resume to continue it)" : "")
          + " or choose another " + flag);
    }
  }

  private boolean isOwnFolder(Path dir) {
    Path marker = dir.resolve(MARKER);
    if (!Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    try {
      JsonNode m = JSON.readTree(marker.toFile());
      return m != null && writtenBy(command).equals(m.path(WRITTEN_BY).asText(null));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private boolean isOwnReport(Path file) {
    return isReportOf(command, file);
  }

  /** Whether {@code file} is a JSON object whose {@link #WRITTEN_BY} names {@code command}. */
  public static boolean isReportOf(String command, Path file) {
    try {
      JsonNode m = JSON.readTree(file.toFile());
      return m != null && m.isObject() && writtenBy(command).equals(m.path(WRITTEN_BY).asText(null));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private void writeMarker(Path dir) throws IOException {
    ObjectNode m = JSON.createObjectNode();
    m.put(WRITTEN_BY, writtenBy(command));
    m.put("note", "this folder is an output of addernet; its commands replace it only with --force"
        + " (docs/outputs.md)");
    JSON.writeValue(dir.resolve(MARKER).toFile(), m);
  }

  private static boolean holdsOnlyMarker(Path dir) {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    List<String> names = listNames(dir);
    return names.isEmpty() || names.equals(List.of(MARKER));
  }

  /** A temporary or moved-aside output of this class: ".NAME.tmp-PID" or ".NAME.old-PID". */
  private static final Pattern LEFTOVER = Pattern.compile("\\.(.+)\\.(tmp|old)-(\\d{1,18})");

  /**
   * Cleans what a killed run left beside {@code abs}: its temporaries are removed, and an earlier
   * output that was moved aside to be replaced is moved back when the new one never arrived (the
   * target is missing, or holds no more than the marker of an in-place run that died before
   * writing). Only called with the target's lock held, so no live run owns these files. With
   * {@code abs} null (a hashed long name, whose full name is not known) only temporaries go.
   */
  private static void recoverStale(Path parent, String shortName, Path abs) {
    List<Path> stale = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent, p -> {
      Matcher m = LEFTOVER.matcher(p.getFileName().toString());
      return m.matches() && m.group(1).equals(shortName);
    })) {
      ds.forEach(stale::add);
      // Temporaries first, so that a restored output never meets a leftover of the run that moved it.
      stale.sort((x, y) -> Boolean.compare(isAside(x), isAside(y)));
      for (Path p : stale) {
        if (!isAside(p)) {
          deleteTree(p);
        } else if (abs != null && (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS) || holdsOnlyMarker(abs))) {
          deleteTree(abs);
          move(p, abs);
          System.err.println("note: restored " + abs + " from " + p + ", left by an interrupted run");
        } else if (abs != null) {
          deleteTree(p);
        }
      }
    } catch (IOException | UncheckedIOException e) {
      throw new UserError("cannot clean up after an interrupted run beside " + parent.resolve(shortName) + ": "
          + e.getMessage(), e);
    }
  }

  private static final Pattern HASHED = Pattern.compile(".*~[0-9a-f]{16}");

  private static boolean isAside(Path p) {
    Matcher m = LEFTOVER.matcher(p.getFileName().toString());
    return m.matches() && m.group(2).equals("old");
  }

  /**
   * Cleans, beside a target, what killed runs left of other outputs too, so that a leftover
   * temporary does not wait for a run of its own name: each one whose process is gone and whose
   * output nobody has locked. Best effort; a busy or unreadable one is left for later.
   */
  private void sweepSiblings(Path parent, String ownShortName) {
    List<String> names;
    try (Stream<Path> s = Files.list(parent)) {
      names = s.map(p -> p.getFileName().toString()).toList();
    } catch (IOException | UncheckedIOException e) {
      return;
    }
    Set<String> seen = new java.util.HashSet<>();
    for (String n : names) {
      Matcher m = LEFTOVER.matcher(n);
      if (!m.matches() || m.group(1).equals(ownShortName) || !seen.add(m.group(1))) {
        continue;
      }
      long pid = Long.parseLong(m.group(3));
      if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
        continue;
      }
      String other = m.group(1);
      Path lockFile = parent.resolve("." + other + ".lock");
      Lock lock;
      try {
        lock = lock("--out", parent.resolve(other), lockFile);
      } catch (UserError busy) {
        continue;
      }
      try {
        // A hashed long name does not give back the output's name: its temporaries go, an output
        // moved aside waits for a run of the full name.
        recoverStale(parent, other, HASHED.matcher(other).matches() ? null : parent.resolve(other));
      } catch (UserError e) {
        // Not this run's output: its own run will report it.
      } finally {
        releaseLock(lock);
      }
    }
  }

  private static void install(Target t) throws IOException {
    deleteTree(t.aside);
    if (Files.exists(t.path, LinkOption.NOFOLLOW_LINKS)) {
      move(t.path, t.aside);
    }
    move(t.temp, t.path);
    deleteTree(t.aside);
  }

  private static void releaseLock(Lock l) {
    try {
      // Deleted while still held; a run that opened it meanwhile sees another file at the path
      // (or none) and does not take the lock for its own (see lock()).
      Files.deleteIfExists(l.file());
      l.lock().release();
    } catch (IOException ignored) {
      // The lock goes with the process anyway; a leftover lock file is taken over by the next run.
    } finally {
      closeQuietly(l.channel());
      HELD.remove(l.key());
    }
  }

  private static void closeQuietly(FileChannel c) {
    if (c != null) {
      try {
        c.close();
      } catch (IOException ignored) {
        // Nothing was written through it that matters.
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  static String shortName(String name) {
    if (name.getBytes(StandardCharsets.UTF_8).length <= MAX_PLAIN_NAME) {
      return name;
    }
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.UTF_8));
      int cut = name.offsetByCodePoints(0, Math.min(40, name.codePointCount(0, name.length())));
      return name.substring(0, cut) + "~" + HexFormat.of().formatHex(h, 0, 8);
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
      if (n == null) {
        break;
      }
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
