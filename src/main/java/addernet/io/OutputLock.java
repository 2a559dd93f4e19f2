package addernet.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The lock of one output while a run writes it (docs/outputs.md, Locks): an OS file lock on the
 * hidden file ".NAME.lock" beside it, in the output's real folder, so that two spellings of one
 * path meet at one lock. The file holds a run marker of kind "lock" and is deleted on release.
 *
 * @param file the lock file
 * @param fileKey the identity of the file this run locked, so that release deletes only that one
 */
record OutputLock(Path file, Object fileKey, FileChannel channel, FileLock lock) {
  /** A lock file of addernet's: ".NAME.lock". */
  static final Pattern FILE_NAME = Pattern.compile("\\.(.+)\\.lock");

  /** The old one-line lock content, "PID addernet COMMAND", which is still recognised. */
  private static final Pattern PLAIN_LOCK = Pattern.compile("(\\d{1,18}) addernet [a-z ]{1,40}\n?");

  /** Lock files this process holds (see take()). */
  private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

  /** The lock file of the output whose (shortened) name is {@code shortName} in {@code parent}. */
  static Path fileFor(Path parent, String shortName) {
    return parent.resolve("." + shortName + ".lock");
  }

  /**
   * Takes the lock of one target: an OS file lock on {@code lockFile}, held until {@link
   * #release}. The lock file is never written through a link: a new one is created with CREATE_NEW
   * and NOFOLLOW_LINKS, an existing one is taken over only when it is a plain file with one link
   * whose content is a lock of addernet, and anything else there is refused as the user's. Two
   * rules of OS locks shape the rest. A process's lock on a file goes when it closes any descriptor
   * of that file, so within this process a registry answers first and the lock file is never opened
   * twice. And the lock file is deleted on release, so a run that opened it just before the
   * deletion would lock a file no longer on disk: the path's file identity is compared before
   * opening and after locking, and anything else counts as busy.
   */
  static OutputLock take(String flag, Path target, Path lockFile, String name, String writtenBy) {
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
          before = FileTree.fileKey(lockFile);
        } catch (FileAlreadyExistsException e) {
          before = FileTree.fileKey(lockFile);
          if (readUnheld(lockFile) == null) {
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
        Object after = FileTree.fileKey(lockFile);
        if (after != null && after.equals(before) && FileTree.linkCount(lockFile) == 1) {
          channel.truncate(0);
          channel.write(ByteBuffer.wrap(RunMarker.text("lock", name, writtenBy)
              .getBytes(StandardCharsets.UTF_8)));
          ok = true;
          return new OutputLock(lockFile, after, channel, lock);
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

  private static UserError busy(String flag, Path target, Path lockFile) {
    return new UserError(flag + " " + target + " is being written by another addernet command right now"
        + " (lock " + lockFile + "); wait for it or choose another " + flag);
  }

  void release() {
    try {
      // Deleted while still held; a run that opened it meanwhile sees another file at the path
      // (or none) and does not take the lock for its own (see take()). Only the file this run
      // locked goes: whatever else may have been put at its name stays.
      if (fileKey.equals(FileTree.fileKey(file))) {
        Files.deleteIfExists(file);
      }
      lock.release();
    } catch (IOException ignored) {
      // The lock goes with the process anyway; a leftover lock file is taken over by the next run.
    } finally {
      try {
        channel.close();
      } catch (IOException ignored) {
        // Nothing was written through it that matters.
      }
      HELD.remove(file);
    }
  }

  /**
   * Reads a lock file as addernet's: a plain file with one link holding a lock marker, the older
   * one-line form, or nothing (a run killed between creating and filling it); null if it is anything
   * else, which makes it the user's.
   */
  static RunMarker read(Path file) {
    // Reading opens and closes the file, and closing any descriptor of a file drops every OS lock
    // this process holds on it: a lock of this process is answered from the registry instead.
    if (HELD.contains(file)) {
      return new RunMarker("lock", "", RunMarker.THIS_PID, RunMarker.THIS_START, "");
    }
    return readUnheld(file);
  }

  private static RunMarker readUnheld(Path file) {
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (!RunMarker.mayBeOurs(file, a)) {
        return null;
      }
      if (a.size() == 0) {
        return new RunMarker("lock", "", 0, "", "");
      }
      String text = Files.readString(file, StandardCharsets.UTF_8);
      Matcher m = PLAIN_LOCK.matcher(text);
      if (m.matches()) {
        return new RunMarker("lock", "", Long.parseLong(m.group(1)), "", "");
      }
      return RunMarker.read(file, "lock");
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * A lock of a live run somewhere inside {@code dir}, or null: a folder being replaced must not
   * take another run's output with it. Links are not followed.
   */
  static Path liveInside(Path dir) {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> FILE_NAME.matcher(p.getFileName().toString()).matches())
          .filter(p -> {
            RunMarker r = read(p);
            return r != null && r.pid() > 0 && r.isAlive();
          })
          .findFirst().orElse(null);
    } catch (IOException | UncheckedIOException e) {
      return null;
    }
  }
}
