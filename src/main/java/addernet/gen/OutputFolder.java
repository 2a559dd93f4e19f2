package addernet.gen;

import addernet.cli.UserError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Writes a whole output folder or nothing: the content is built in a hidden sibling folder and
 * renamed into place only when complete, so a failure never leaves a half-written result (and an
 * existing folder is replaced only by a complete new one).
 */
public final class OutputFolder {
  /** Fills a fresh folder. */
  @FunctionalInterface
  public interface Writer {
    void write(Path dir) throws IOException;
  }

  private OutputFolder() {}

  public static void write(Path target, Writer writer) {
    Path abs = target.toAbsolutePath().normalize();
    Path parent = abs.getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new UserError(
          "cannot create " + target + ": its parent folder " + parent + " does not exist");
    }
    if (!Files.isWritable(parent)) {
      throw new UserError("cannot create " + target + ": " + parent + " is not writable");
    }
    if (Files.exists(abs) && !Files.isDirectory(abs)) {
      throw new UserError("cannot write into " + target + ": it exists and is not a folder");
    }
    Path tmp = parent.resolve("." + abs.getFileName() + ".tmp-" + ProcessHandle.current().pid());
    Path old = parent.resolve("." + abs.getFileName() + ".old-" + ProcessHandle.current().pid());
    try {
      deleteTree(tmp);
      Files.createDirectories(tmp);
      writer.write(tmp);
      if (Files.exists(abs)) {
        move(abs, old);
      }
      move(tmp, abs);
      deleteTree(old);
    } catch (IOException e) {
      deleteQuietly(tmp);
      throw new UserError("could not write " + target + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      deleteQuietly(tmp);
      throw e;
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to);
    }
  }

  private static void deleteQuietly(Path dir) {
    try {
      deleteTree(dir);
    } catch (IOException | UncheckedIOException ignored) {
      // Best effort: the original error is the one worth reporting.
    }
  }

  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
