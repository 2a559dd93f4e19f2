package addernet.io;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A library's way to write a new folder all or nothing, without the commands' output rule
 * (earlier outputs, --force, markers: {@link Outputs}): the files go into a hidden sibling, which
 * is renamed into place when complete, so a failure leaves nothing half-written.
 */
public final class NewFolder {
  private NewFolder() {}

  /** Writes {@code dir}, which must be missing or an empty folder, and whose parent must exist. */
  public static void write(Path dir, Outputs.FolderWriter writer) throws IOException {
    Path parent = dir.toAbsolutePath().getParent();
    boolean empty = Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) && FileTree.listNames(dir).isEmpty();
    if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS) && !empty) {
      throw new FileAlreadyExistsException(dir.toString(), null, "exists and is not an empty folder");
    }
    // Not createTempDirectory: its owner-only permissions would stay with the folder.
    Path tmp = Files.createDirectory(parent.resolve(
        "." + dir.getFileName() + ".partial-" + ProcessHandle.current().pid() + "-" + System.nanoTime()));
    try {
      writer.write(tmp);
      if (empty) {
        Files.delete(dir);
      }
      Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | RuntimeException e) {
      Outputs.deleteTree(tmp);
      throw e;
    }
  }

  /** As {@link #write}, an I/O failure as a {@link UserError} naming the folder. */
  public static void writeOrRefuse(Path dir, Outputs.FolderWriter writer) {
    try {
      write(dir, writer);
    } catch (IOException e) {
      throw new UserError("could not write " + dir + ": " + e.getMessage(), e);
    }
  }
}
