package addernet.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * One output a run has claimed (docs/outputs.md, All or nothing): where it goes, the hidden names
 * beside it that this run uses on the way (the temporary ".NAME.tmp-PID" holding the new output,
 * the aside ".NAME.old-PID" holding the earlier one while it is replaced), its lock, and what is
 * needed to put it in place, to undo the claim, and to check that it is still there.
 */
final class Claim {
  // Names longer than this get a hashed short form in their temporaries and lock, so that
  // ".NAME.tmp-PID" stays within the 255-byte limit of common file systems.
  private static final int MAX_PLAIN_NAME = 180;

  enum Kind { FOLDER, FILE, IN_PLACE }

  /** What an in-place folder was before this run claimed it, to undo the claim if nothing came of it. */
  enum Before { ABSENT, EMPTY, EARLIER_MOVED_ASIDE, RESUMED }

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
  final OutputLock lock;
  private final String writtenBy;
  Before before;
  Object installedKey;

  Claim(String flag, Path given, RealPaths.Place place, Kind kind, boolean optional, OutputLock lock,
      String writtenBy) {
    this.flag = flag;
    this.given = given;
    this.parent = place.parent();
    this.parentKey = place.parentKey();
    this.name = place.name();
    this.path = place.path();
    String shortName = shortName(name);
    this.temp = parent.resolve("." + shortName + ".tmp-" + RunMarker.THIS_PID);
    this.payload = temp.resolve(name);
    this.aside = parent.resolve("." + shortName + ".old-" + RunMarker.THIS_PID);
    this.kind = kind;
    this.optional = optional;
    this.lock = lock;
    this.writtenBy = writtenBy;
  }

  /** {@code name}, or for a long one a prefix and a hash, as it appears in temporaries and the lock. */
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

  /** Creates the marked temporary that the run fills, for an output that is not written in place. */
  void makeTemporary() throws IOException {
    RunMarker.makeFolder(temp, "temporary", name, writtenBy);
  }

  /**
   * Makes the folder ready for a run that writes in place: created and marked, an earlier output
   * moved aside (or kept as it is when resumed). Records what stood there to undo it.
   */
  void prepareInPlace(boolean resume) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      before = Before.ABSENT;
    } else if (FileTree.listNames(path).isEmpty()) {
      before = Before.EMPTY;
    } else if (resume) {
      before = Before.RESUMED;
    } else {
      moveAside();
      before = Before.EARLIER_MOVED_ASIDE;
    }
    if (before == Before.ABSENT || before == Before.EARLIER_MOVED_ASIDE) {
      Files.createDirectory(path);
    }
    // A resumed folder already says who wrote it; rewriting the marker would change the
    // user's folder even when the run is then refused (a damaged checkpoint, say).
    if (before != Before.RESUMED) {
      OutputMarker.write(path, writtenBy);
    }
    installedKey = FileTree.fileKey(path);
  }

  /**
   * Moves the earlier output at {@code path} into a new aside folder marked with this run, and
   * back again if another run turns out to be writing inside it.
   */
  private void moveAside() throws IOException {
    RunMarker.makeFolder(aside, "aside", name, writtenBy);
    Path earlier = aside.resolve(name);
    FileTree.move(path, earlier);
    Path busy = OutputLock.liveInside(earlier);
    if (busy != null) {
      FileTree.move(earlier, path);
      FileTree.deleteTree(aside);
      throw new UserError(flag + " " + given + " holds an output another addernet command is writing right"
          + " now (lock " + path.resolve(aside.resolve(name).relativize(busy)) + "); it is left as it was:"
          + " wait for it or choose another " + flag);
    }
  }

  /** Renames the filled temporary into place, the earlier output first moved aside and then removed. */
  void install() throws IOException {
    if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      moveAside();
    }
    Object key = FileTree.fileKey(payload);
    FileTree.move(payload, path);
    installedKey = key;
    FileTree.deleteTree(aside);
    FileTree.deleteTree(temp);
  }

  /**
   * Fails unless the output is where the user asked, as this run put it (same file identity, in
   * the same folder): another program may have moved or replaced it, or the folder that holds it,
   * meanwhile, and a run must not report an output that does not exist.
   */
  void verifyInPlace() {
    if (installedKey == null) {
      return;
    }
    Path now;
    try {
      now = parent.toRealPath();
    } catch (IOException e) {
      now = null;
    }
    boolean same = parent.equals(now) && Objects.equals(parentKey, FileTree.fileKey(parent))
        && installedKey.equals(FileTree.fileKey(path));
    if (!same) {
      throw new UserError(flag + " " + given + ": the output this run wrote is no longer at " + path
          + " (another program moved or replaced it, or the folder holding it, while this run wrote it);"
          + " nothing was written there: run the command again");
    }
  }

  /**
   * An in-place run that wrote nothing but the marker leaves the folder as it found it; one that
   * wrote something keeps it (a checkpoint of the epochs done can be resumed).
   */
  void undoInPlace() {
    if (before == null) {
      return;
    }
    try {
      boolean nothingWritten = holdsOnlyMarker(path);
      switch (before) {
        case ABSENT -> {
          if (nothingWritten) {
            FileTree.deleteTree(path);
          }
        }
        case EMPTY -> {
          if (nothingWritten) {
            Files.deleteIfExists(path.resolve(Outputs.MARKER));
          }
        }
        case EARLIER_MOVED_ASIDE -> {
          if (nothingWritten) {
            FileTree.deleteTree(path);
            FileTree.move(aside.resolve(name), path);
          }
          FileTree.deleteTree(aside);
        }
        case RESUMED -> { }
      }
    } catch (IOException | UncheckedIOException e) {
      // The next run beside it recovers what is left (LeftoverSweep); say where it is now.
      System.err.println("note: could not tidy " + path + " after the run: " + e.getMessage());
    }
  }

  private static boolean holdsOnlyMarker(Path dir) {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    List<String> names = FileTree.listNames(dir);
    return names.isEmpty() || names.equals(List.of(Outputs.MARKER));
  }
}
