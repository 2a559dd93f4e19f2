package addernet.io;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Paths as the OS resolves them (docs/outputs.md, Paths are resolved as the OS resolves them).
 * Before any check, the folder that will hold an output is resolved to its real path and every
 * later step works on that real folder, so two spellings of one place are one output with one
 * lock, and an input reached through another spelling is still an input. Nothing is collapsed
 * lexically first: with a link to /elsewhere/dir, "link/../x" is /elsewhere/x, as the OS walks it.
 */
final class RealPaths {
  private RealPaths() {}

  /**
   * Where an output goes, resolved.
   *
   * @param parent the real path of the folder that holds it
   * @param parentKey that folder's file identity, to notice later if it was replaced
   * @param name the output's name in it, as the user typed it
   */
  record Place(Path parent, Object parentKey, String name) {
    Path path() {
      return parent.resolve(name);
    }
  }

  /**
   * The real path of {@code p} as the OS resolves it, or of its nearest existing ancestor with the
   * rest appended. Nothing is collapsed lexically before the OS has resolved it: "link/.." is the
   * parent of the link's target, not the folder holding the link.
   */
  static Path real(Path p) {
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

  /**
   * Resolves the output {@code target} given as {@code flag}: its folder must exist, be a folder
   * and be writable, and the name must reach the OS as typed.
   */
  static Place resolve(String flag, Path target) {
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
    return new Place(parent, FileTree.fileKey(parent), name.toString());
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
   * Refuses an output at the real path {@code real} that would destroy what the run stands on:
   * the current folder or a folder holding it, an input, a folder holding an input, or a path
   * inside an input other than the places in {@code allowedInside}.
   */
  static void refuseCurrentFolderAndInputs(String flag, Path target, Path real, List<Path> inputs,
      List<Path> allowedInside) {
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
  }
}
