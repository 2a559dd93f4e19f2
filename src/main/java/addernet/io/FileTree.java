package addernet.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.stream.Stream;

/**
 * The file-system steps the output rule is built from. None of them follows a symbolic link: a
 * link beside an output may point anywhere, and what it points to is not addernet's to read,
 * move or delete.
 */
final class FileTree {
  private FileTree() {}

  /** The identity of the file at {@code p} (device and inode), read without following a link; null if none. */
  static Object fileKey(Path p) {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    } catch (IOException e) {
      return null;
    }
  }

  /** How many names the file at {@code p} has (1 on systems that cannot say). */
  static int linkCount(Path p) {
    try {
      return ((Number) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS)).intValue();
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      return 1;
    } catch (IOException e) {
      return -1;
    }
  }

  /** The names in {@code dir}, sorted. */
  static List<String> listNames(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new UserError("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Renames in one step where the file system can, so that no reader sees half a move. */
  static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to);
    }
  }

  /** Deletes a file or a folder with everything in it; symbolic links are removed, not followed. */
  static void deleteTree(Path p) throws IOException {
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

  static void deleteQuietly(Path p) {
    try {
      deleteTree(p);
    } catch (IOException | UncheckedIOException ignored) {
      // Best effort: the error that made us clean up is the one worth reporting.
    }
  }
}
