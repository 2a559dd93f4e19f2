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
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
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
 *
 * <p>Every path is resolved once as the OS resolves it (the real path of the target's folder)
 * before any check, and everything after works on that real folder. Every temporary, moved-aside
 * output and lock carries a run marker naming the process that made it (pid, start time,
 * command); a leftover counts as addernet's only with that marker, so anything else beside an
 * output is the user's and is never touched.
 */
public final class Outputs implements AutoCloseable {
  /** The file inside every output folder that says which command wrote it. */
  public static final String MARKER = ".addernet-output.json";

  /** The key of every JSON report that names the command that wrote it. */
  public static final String WRITTEN_BY = "written_by";

  /** The file inside every temporary and moved-aside folder that names the run that made it. */
  public static final String RUN_MARKER = ".addernet-run.json";

  // Names longer than this get a hashed short form in their temporaries and lock, so that
  // ".NAME.tmp-PID" stays within the 255-byte limit of common file systems.
  private static final int MAX_PLAIN_NAME = 180;

  // A lock or run marker is a few hundred bytes; anything bigger is not one of ours.
  private static final int MAX_MARKER_BYTES = 4096;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final ObjectMapper SNAKE =
      new ObjectMapper()
          .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .enable(SerializationFeature.INDENT_OUTPUT);

  private static final long PID = ProcessHandle.current().pid();
  private static final String START =
      ProcessHandle.current().info().startInstant().map(Instant::toString).orElse("");

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
    final Path given;
    final Path parent;
    final Object parentKey;
    final String name;
    final Path path;
    final Path temp;
    final Path payload;
    final Path aside;
    final Kind kind;
    final boolean optional;
    final Lock lock;
    Before before;
    Object installedKey;

    Target(String flag, Path given, Path parent, Object parentKey, String name, Kind kind, boolean optional,
        Lock lock) {
      this.flag = flag;
      this.given = given;
      this.parent = parent;
      this.parentKey = parentKey;
      this.name = name;
      this.path = parent.resolve(name);
      String shortName = shortName(name);
      this.temp = parent.resolve("." + shortName + ".tmp-" + PID);
      this.payload = temp.resolve(name);
      this.aside = parent.resolve("." + shortName + ".old-" + PID);
      this.kind = kind;
      this.optional = optional;
      this.lock = lock;
    }
  }

  private record Lock(Path file, Object fileKey, FileChannel channel, FileLock lock) {}

  /** What a run marker or lock says about the run that made it. */
  private record RunInfo(String kind, String name, long pid, String start, String command) {
    boolean isAlive() {
      return runIsAlive(pid, start);
    }
  }

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
      Files.createDirectory(t.payload);
    } catch (IOException e) {
      throw new UserError(flag + " " + target + ": cannot create a folder beside it: " + e.getMessage(), e);
    }
    return t.payload;
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
    return claim(flag, target, Kind.FILE, isEarlierOutput, false, false).payload;
  }

  /**
   * As {@link #file(String, Path, Predicate)}, for a file the run writes only in some cases (a
   * waveform of a failure): {@link #commit} puts it in place only when it was written.
   */
  public Path optionalFile(String flag, Path target, Predicate<Path> isEarlierOutput) {
    return claim(flag, target, Kind.FILE, isEarlierOutput, false, true).payload;
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
        moveAside(t);
        t.before = Before.EARLIER_MOVED_ASIDE;
      }
      if (t.before == Before.ABSENT || t.before == Before.EARLIER_MOVED_ASIDE) {
        Files.createDirectory(t.path);
      }
      // A resumed folder already says who wrote it; rewriting the marker would change the
      // user's folder even when the run is then refused (a damaged checkpoint, say).
      if (t.before != Before.RESUMED) {
        writeMarker(t.path);
      }
      t.installedKey = fileKey(t.path);
    } catch (IOException e) {
      throw new UserError(flag + " " + target + ": cannot prepare the folder: " + e.getMessage(), e);
    }
    return t.path;
  }

  /**
   * Renames every claimed output into place, folders first, then files (reports last), and
   * checks that each one is there, as this run put it, before saying so.
   */
  public void commit() {
    if (committed) {
      throw new IllegalStateException("outputs already committed");
    }
    try {
      for (Target t : targets) {
        if (t.kind == Kind.FOLDER && !(t.optional && listNames(t.payload).isEmpty())) {
          writeMarker(t.payload);
          install(t);
        }
      }
      for (Target t : targets) {
        if (t.kind == Kind.FILE) {
          if (!Files.exists(t.payload, LinkOption.NOFOLLOW_LINKS)) {
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
    } catch (IOException e) {
      throw new UserError("could not put the outputs in place: " + e.getMessage(), e);
    }
    for (Target t : targets) {
      verifyInPlace(t);
    }
    committed = true;
  }

  /**
   * Fails unless {@code t}'s output is where the user asked, as this run put it (same file
   * identity, in the same folder): another program may have moved or replaced it, or the folder
   * that holds it, meanwhile, and a run must not report an output that does not exist.
   */
  private static void verifyInPlace(Target t) {
    if (t.installedKey == null) {
      return;
    }
    Path now;
    try {
      now = t.parent.toRealPath();
    } catch (IOException e) {
      now = null;
    }
    boolean same = t.parent.equals(now) && Objects.equals(t.parentKey, fileKey(t.parent))
        && t.installedKey.equals(fileKey(t.path));
    if (!same) {
      throw new UserError(t.flag + " " + t.given + ": the output this run wrote is no longer at " + t.path
          + " (another program moved or replaced it, or the folder holding it, while this run wrote it);"
          + " nothing was written there: run the command again");
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
            move(t.aside.resolve(t.name), t.path);
          }
          deleteTree(t.aside);
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
    checkNameIsFaithful(flag, target);
    Path abs = target.toAbsolutePath();
    Path given = abs.getParent();
    Path name = abs.getFileName();
    if (name != null && (name.toString().equals(".") || name.toString().equals(".."))) {
      // "DIR/.." names a folder the OS finds by walking, not the lexical parent: resolve it whole.
      try {
        Path r = abs.toRealPath();
        given = r.getParent();
        name = r.getFileName();
      } catch (IOException e) {
        throw new UserError(flag + " " + target + ": does not exist as a folder (" + e.getMessage() + ")", e);
      }
    }
    if (given == null || name == null) {
      throw new UserError(flag + " " + target + ": cannot write over the root of the file system");
    }
    Path parent;
    try {
      parent = given.toRealPath();
    } catch (IOException e) {
      throw new UserError(flag + " " + target + ": its parent folder does not exist (" + given
          + "); create it first or choose another " + flag, e);
    }
    if (!Files.isDirectory(parent)) {
      throw new UserError(flag + " " + target + ": its parent folder is a file (" + given
          + "); choose another " + flag);
    }
    if (!Files.isWritable(parent)) {
      throw new UserError(flag + " " + target + ": its folder " + given + " is not writable");
    }
    Object parentKey = fileKey(parent);
    String plain = name.toString();
    Path real = parent.resolve(plain);
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
      if (t.path.equals(real)) {
        throw new UserError(flag + " " + target + " is also given as " + t.flag + "; they must differ");
      }
      if (real.startsWith(t.path) || t.path.startsWith(real)) {
        throw new UserError(flag + " " + target + " and " + t.flag + " " + t.given
            + " lie one inside the other; give them separate places");
      }
    }
    String shortName = shortName(plain);
    Lock lock = lock(flag, target, parent.resolve("." + shortName + ".lock"), plain);
    boolean ok = false;
    try {
      recoverStale(parent, shortName);
      sweepSiblings(parent, shortName);
      checkExisting(flag, target, real, kind, isEarlierOutput, resume);
      Target t = new Target(flag, target, parent, parentKey, plain, kind, optional, lock);
      for (Path p : List.of(t.temp, t.aside)) {
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
          throw new UserError(flag + " " + target + ": " + p + " is in the way and was not made by addernet"
              + " (it has no run marker " + RUN_MARKER + "); it is left alone: move it away yourself");
        }
      }
      if (kind != Kind.IN_PLACE) {
        makeMarkedFolder(t.temp, "temporary", plain);
      }
      targets.add(t);
      ok = true;
      return t;
    } catch (IOException e) {
      throw new UserError(flag + " " + target + ": cannot create a temporary beside it: " + e.getMessage(), e);
    } finally {
      if (!ok) {
        releaseLock(lock);
      }
    }
  }

  /**
   * Refuses a name Java cannot pass to the OS as the user typed it. The launcher decodes the
   * command line with sun.jnu.encoding and turns every byte it cannot decode into U+FFFD, so a
   * name with invalid UTF-8 (or any byte outside that encoding) would be written under another
   * name, and a second such name would meet the first.
   */
  private static void checkNameIsFaithful(String flag, Path target) {
    String jnu = System.getProperty("sun.jnu.encoding", "UTF-8");
    Charset cs;
    try {
      cs = Charset.forName(jnu);
    } catch (RuntimeException e) {
      cs = StandardCharsets.UTF_8;
    }
    String s = target.toString();
    if (s.indexOf('\uFFFD') >= 0 || !cs.newEncoder().canEncode(s)) {
      throw new UserError(flag + " " + target + ": the path holds a byte sequence that is not valid " + cs
          + " (shown as U+FFFD); Java would write it under another name: choose a name in valid " + cs);
    }
  }

  /**
   * Takes the lock of one target: an OS file lock on a hidden file beside it, held until {@link
   * #close}. The lock file is never written through a link: a new one is created with CREATE_NEW
   * and NOFOLLOW_LINKS, an existing one is taken over only when it is a plain file with one link
   * whose content is a lock of addernet, and anything else there is refused as the user's. Two
   * rules of OS locks shape the rest. A process's lock on a file goes when it closes any descriptor
   * of that file, so within this process a registry answers first and the lock file is never opened
   * twice. And the lock file is deleted on release, so a run that opened it just before the
   * deletion would lock a file no longer on disk: the path's file identity is compared before
   * opening and after locking, and anything else counts as busy.
   */
  private Lock lock(String flag, Path target, Path lockFile, String name) {
    if (!HELD.add(lockFile)) {
      throw busy(flag, target, lockFile);
    }
    boolean ok = false;
    try {
      for (int attempt = 0; attempt < 3; attempt++) {
        FileChannel channel;
        Object before;
        try {
          channel = FileChannel.open(lockFile, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
              LinkOption.NOFOLLOW_LINKS);
          before = fileKey(lockFile);
        } catch (FileAlreadyExistsException e) {
          before = fileKey(lockFile);
          if (readUnheldLock(lockFile) == null) {
            throw new UserError(flag + " " + target + ": " + lockFile + " is in the way: it is not a lock file of"
                + " addernet (a link, or a file of someone else), so it is left alone: move it away yourself or"
                + " choose another " + flag);
          }
          try {
            channel = FileChannel.open(lockFile, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
          } catch (NoSuchFileException gone) {
            continue;
          }
        }
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
        if (after != null && after.equals(before) && linkCount(lockFile) == 1) {
          channel.truncate(0);
          channel.write(ByteBuffer.wrap(runMarker("lock", name)
              .getBytes(StandardCharsets.UTF_8)));
          ok = true;
          return new Lock(lockFile, after, channel, lock);
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
        HELD.remove(lockFile);
      }
    }
  }

  /** The identity of the file at {@code p} (device and inode), read without following a link; null if none. */
  private static Object fileKey(Path p) {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    } catch (IOException e) {
      return null;
    }
  }

  /** How many names the file at {@code p} has (1 on systems that cannot say). */
  private static int linkCount(Path p) {
    try {
      return ((Number) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS)).intValue();
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      return 1;
    } catch (IOException e) {
      return -1;
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
    boolean isDir = Files.isDirectory(abs, LinkOption.NOFOLLOW_LINKS);
    if (kind == Kind.FILE) {
      if (isDir) {
        throw new UserError(flag + " " + target + " is a folder; a file was expected");
      }
      if (!Files.isRegularFile(abs, LinkOption.NOFOLLOW_LINKS) || !isEarlierOutput.test(abs)) {
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
    if (!(kind == Kind.IN_PLACE && resume)) {
      refuseIfBusyInside(flag, target, abs);
    }
  }

  /** Refuses to replace a folder inside which another run is writing an output now. */
  private static void refuseIfBusyInside(String flag, Path target, Path dir) {
    Path busy = busyInside(dir);
    if (busy != null) {
      throw new UserError(flag + " " + target + " holds an output another addernet command is writing right"
          + " now (lock " + busy + "); replacing it would lose that output: wait for it or choose another " + flag);
    }
  }

  /** A lock of a live run somewhere inside {@code dir}, or null. Links are not followed. */
  private static Path busyInside(Path dir) {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> LOCK.matcher(p.getFileName().toString()).matches())
          .filter(p -> {
            RunInfo r = readLock(p);
            return r != null && r.pid() > 0 && r.isAlive();
          })
          .findFirst().orElse(null);
    } catch (IOException | UncheckedIOException e) {
      return null;
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
    Files.write(dir.resolve(MARKER), JSON.writeValueAsBytes(m), StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
  }

  private static boolean holdsOnlyMarker(Path dir) {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    List<String> names = listNames(dir);
    return names.isEmpty() || names.equals(List.of(MARKER));
  }

  /**
   * Whether what stands at {@code target} is the output that replaced {@code earlier} (the run was
   * killed after putting it in place, before deleting the aside): a folder with an output marker
   * for a folder, a plain file for a file. A folder without a marker is the user's.
   */
  private static boolean replacementArrived(Path target, Path earlier) {
    if (Files.isDirectory(earlier, LinkOption.NOFOLLOW_LINKS)) {
      return Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)
          && Files.isRegularFile(target.resolve(MARKER), LinkOption.NOFOLLOW_LINKS);
    }
    return Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Whether {@code dir} is what an in-place run leaves when killed before writing: a real folder
   * holding nothing but an output marker. An empty folder may be the user's and is not replaced.
   */
  private static boolean isBareInPlaceClaim(Path dir) {
    return Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) && listNames(dir).equals(List.of(MARKER))
        && Files.isRegularFile(dir.resolve(MARKER), LinkOption.NOFOLLOW_LINKS);
  }

  // ---------------------------------------------------------------- run markers and leftovers

  /** The one-line JSON that names this run, in a lock file and in every temporary and aside. */
  private String runMarker(String kind, String name) throws IOException {
    ObjectNode m = JSON.createObjectNode();
    m.put("addernet", kind);
    m.put("name", name);
    m.put("pid", PID);
    m.put("start", START);
    m.put("command", writtenBy(command));
    return new ObjectMapper().writeValueAsString(m) + "\n";
  }

  /** Creates a new folder (never an existing one, never through a link) holding this run's marker. */
  private void makeMarkedFolder(Path dir, String kind, String name) throws IOException {
    Files.createDirectory(dir);
    Files.write(dir.resolve(RUN_MARKER), runMarker(kind, name).getBytes(StandardCharsets.UTF_8),
        StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
  }

  /** Reads a run marker: a plain file with one link, small, of exactly our form; null otherwise. */
  private static RunInfo readMarker(Path file, String kind) {
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (!a.isRegularFile() || a.size() > MAX_MARKER_BYTES || linkCount(file) != 1) {
        return null;
      }
      byte[] bytes = Files.readAllBytes(file);
      JsonNode m = JSON.readTree(bytes);
      if (m == null || !m.isObject() || !kind.equals(m.path("addernet").asText(null))
          || !m.path("name").isTextual() || !m.path("pid").canConvertToLong() || !m.path("start").isTextual()
          || !m.path("command").isTextual()) {
        return null;
      }
      return new RunInfo(kind, m.get("name").asText(), m.get("pid").asLong(), m.get("start").asText(),
          m.get("command").asText());
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** The old one-line lock content, "PID addernet COMMAND", which is still recognised. */
  private static final Pattern PLAIN_LOCK = Pattern.compile("(\\d{1,18}) addernet [a-z ]{1,40}\n?");

  /**
   * Reads a lock file as addernet's: a plain file with one link holding a lock marker, the older
   * one-line form, or nothing (a run killed between creating and filling it); null if it is anything
   * else, which makes it the user's.
   */
  private static RunInfo readLock(Path file) {
    // Reading opens and closes the file, and closing any descriptor of a file drops every OS lock
    // this process holds on it: a lock of this process is answered from the registry instead.
    if (HELD.contains(file)) {
      return new RunInfo("lock", "", PID, START, "");
    }
    return readUnheldLock(file);
  }

  private static RunInfo readUnheldLock(Path file) {
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (!a.isRegularFile() || a.size() > MAX_MARKER_BYTES || linkCount(file) != 1) {
        return null;
      }
      if (a.size() == 0) {
        return new RunInfo("lock", "", 0, "", "");
      }
      String text = Files.readString(file, StandardCharsets.UTF_8);
      Matcher m = PLAIN_LOCK.matcher(text);
      if (m.matches()) {
        return new RunInfo("lock", "", Long.parseLong(m.group(1)), "", "");
      }
      return readMarker(file, "lock");
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Whether the run a marker names still runs: a process with that pid exists and started at the
   * recorded time (within a second, so that a pid used again by a later process counts as dead).
   */
  private static boolean runIsAlive(long pid, String start) {
    if (pid == PID) {
      return start.isEmpty() || start.equals(START);
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

  /** A temporary or moved-aside output of this class: ".NAME.tmp-PID" or ".NAME.old-PID". */
  private static final Pattern LEFTOVER = Pattern.compile("\\.(.+)\\.(tmp|old)-(\\d{1,18})");

  /** A lock file of this class: ".NAME.lock". */
  private static final Pattern LOCK = Pattern.compile("\\.(.+)\\.lock");

  /**
   * The run marker of {@code p} if it is a leftover of addernet for the output {@code shortName}:
   * a real folder (not a link) whose marker is of the kind its name says, names an output of that
   * short name, and names a run that is over. Anything else is the user's: null.
   */
  private static RunInfo deadLeftover(Path p, String shortName) {
    Matcher m = LEFTOVER.matcher(p.getFileName().toString());
    if (!m.matches() || !m.group(1).equals(shortName) || !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    RunInfo r = readMarker(p.resolve(RUN_MARKER), m.group(2).equals("tmp") ? "temporary" : "aside");
    if (r == null || r.name().isEmpty() || r.name().contains("/") || r.name().equals(".")
        || r.name().equals("..") || !shortName(r.name()).equals(shortName)
        || Long.parseLong(m.group(3)) != r.pid()) {
      return null;
    }
    // A run of this process counts as over too: the caller holds the output's lock, which no other
    // Outputs of this process can then hold.
    boolean ownProcess = r.pid() == PID && r.start().equals(START);
    return ownProcess || !r.isAlive() ? r : null;
  }

  /**
   * Cleans what a killed run left beside the output {@code shortName} in {@code parent}: its
   * temporaries are removed, and an earlier output that was moved aside to be replaced is moved
   * back when the new one never arrived (the target is missing, or holds no more than the marker
   * of an in-place run that died before writing). Only leftovers with a run marker of a run that
   * is over count; only called with the output's lock held.
   */
  private static void recoverStale(Path parent, String shortName) {
    List<Path> stale = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent, p -> deadLeftover(p, shortName) != null)) {
      ds.forEach(stale::add);
      // Temporaries first, so that a restored output never meets a leftover of the run that moved it.
      stale.sort((x, y) -> Boolean.compare(isAside(x), isAside(y)));
      for (Path p : stale) {
        RunInfo r = deadLeftover(p, shortName);
        if (r == null) {
          continue;
        }
        Path target = parent.resolve(r.name());
        Path earlier = p.resolve(r.name());
        if (isAside(p) && Files.exists(earlier, LinkOption.NOFOLLOW_LINKS)) {
          if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS) || isBareInPlaceClaim(target)) {
            deleteTree(target);
            move(earlier, target);
            System.err.println("note: restored " + target + " from " + p + ", left by an interrupted run of '"
                + r.command() + "'");
          } else if (!replacementArrived(target, earlier)) {
            // Something else stands at the target now: the earlier output stays aside for the user.
            continue;
          }
        }
        deleteTree(p);
      }
    } catch (IOException | UncheckedIOException e) {
      throw new UserError("cannot clean up after an interrupted run beside " + parent.resolve(shortName) + ": "
          + e.getMessage(), e);
    }
  }

  private static boolean isAside(Path p) {
    Matcher m = LEFTOVER.matcher(p.getFileName().toString());
    return m.matches() && m.group(2).equals("old");
  }

  /**
   * Cleans, beside a target, what killed runs left of other outputs too, so that a leftover does
   * not wait for a run of its own name: each temporary or aside whose run marker names a run that
   * is over, and each lock file of addernet that names a dead process, under that output's lock.
   * Best effort; a busy, unreadable or foreign one is left alone.
   */
  private void sweepSiblings(Path parent, String ownShortName) {
    List<String> names;
    try (Stream<Path> s = Files.list(parent)) {
      names = s.map(p -> p.getFileName().toString()).toList();
    } catch (IOException | UncheckedIOException e) {
      return;
    }
    Set<String> seen = new HashSet<>();
    for (String n : names) {
      Matcher m = LEFTOVER.matcher(n);
      Matcher l = LOCK.matcher(n);
      String other;
      if (m.matches()) {
        other = m.group(1);
        if (deadLeftover(parent.resolve(n), other) == null) {
          continue;
        }
      } else if (l.matches()) {
        other = l.group(1);
        RunInfo r = readLock(parent.resolve(n));
        // An empty lock may be a run between creating and filling it: it waits for its own output.
        if (r == null || r.pid() <= 0 || r.isAlive()) {
          continue;
        }
      } else {
        continue;
      }
      if (other.equals(ownShortName) || !seen.add(other)) {
        continue;
      }
      Lock lock;
      try {
        lock = lock("--out", parent.resolve(other), parent.resolve("." + other + ".lock"), other);
      } catch (UserError busyOrForeign) {
        continue;
      }
      try {
        recoverStale(parent, other);
      } catch (UserError e) {
        // Not this run's output: its own run will report it.
      } finally {
        releaseLock(lock);
      }
    }
  }

  /**
   * Moves the earlier output at {@code t.path} into a new aside folder marked with this run, and
   * back again if another run turns out to be writing inside it.
   */
  private void moveAside(Target t) throws IOException {
    makeMarkedFolder(t.aside, "aside", t.name);
    Path earlier = t.aside.resolve(t.name);
    move(t.path, earlier);
    Path busy = busyInside(earlier);
    if (busy != null) {
      move(earlier, t.path);
      deleteTree(t.aside);
      throw new UserError(t.flag + " " + t.given + " holds an output another addernet command is writing right"
          + " now (lock " + t.path.resolve(t.aside.resolve(t.name).relativize(busy)) + "); it is left as it was:"
          + " wait for it or choose another " + t.flag);
    }
  }

  private void install(Target t) throws IOException {
    if (Files.exists(t.path, LinkOption.NOFOLLOW_LINKS)) {
      moveAside(t);
    }
    Object key = fileKey(t.payload);
    move(t.payload, t.path);
    t.installedKey = key;
    deleteTree(t.aside);
    deleteTree(t.temp);
  }

  private static void releaseLock(Lock l) {
    try {
      // Deleted while still held; a run that opened it meanwhile sees another file at the path
      // (or none) and does not take the lock for its own (see lock()). Only the file this run
      // locked goes: whatever else may have been put at its name stays.
      if (l.fileKey().equals(fileKey(l.file()))) {
        Files.deleteIfExists(l.file());
      }
      l.lock().release();
    } catch (IOException ignored) {
      // The lock goes with the process anyway; a leftover lock file is taken over by the next run.
    } finally {
      closeQuietly(l.channel());
      HELD.remove(l.file());
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

  /**
   * The real path of {@code p} as the OS resolves it, or of its nearest existing ancestor with the
   * rest appended. Nothing is collapsed lexically before the OS has resolved it: "link/.." is the
   * parent of the link's target, not the folder holding the link.
   */
  private static Path real(Path p) {
    Path abs = p.toAbsolutePath();
    try {
      return abs.toRealPath();
    } catch (IOException e) {
      Path parent = abs.getParent();
      Path name = abs.getFileName();
      if (parent == null || name == null) {
        return abs.normalize();
      }
      return real(parent).resolve(name).normalize();
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
