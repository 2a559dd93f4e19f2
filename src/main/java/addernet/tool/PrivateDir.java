package addernet.tool;

import addernet.io.Outputs;
import addernet.io.UserError;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A folder only this user can enter, for the files an external tool reads and writes. The tools
 * rewrite some of the names they are given (Verilator substitutes {@code $VAR} in file names,
 * yosys {@code ~/} and {@code +/}, make and the shell much more), so a tool is only ever handed
 * names inside such a folder, whose path is checked to hold none of those characters, with the
 * user's files copied in under their own plain names.
 *
 * <p>Each folder carries a marker with its owner's pid and start time. A run killed outright
 * cannot delete its folder; the next run that makes one of the same kind deletes every such
 * folder whose owner is gone ({@link #sweep}), and nothing without the marker.
 */
public final class PrivateDir implements AutoCloseable {
  /** What a file name inside a private folder may look like (as the manifests allow). */
  public static final Pattern SAFE_NAME =
      Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.+-]*(/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*");
  /** What the folder's own path may hold: nothing a tool, make or a shell would rewrite or split. */
  private static final Pattern SAFE_PATH = Pattern.compile("[A-Za-z0-9_./+-]+");
  static final String MARKER = ".addernet-owner";
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

  private final Path path;

  private PrivateDir(Path path) {
    this.path = path;
  }

  /** A new private folder {@code PREFIX<random>} in the JVM's temporary folder. */
  public static PrivateDir create(String prefix) {
    return create(Path.of(System.getProperty("java.io.tmpdir")), prefix);
  }

  /** A new private folder {@code PREFIX<random>} in {@code parent}, after sweeping dead ones. */
  public static PrivateDir create(Path parent, String prefix) {
    Path parentAbs = parent.toAbsolutePath().normalize();
    requireSafePath(parentAbs, "a private build folder");
    sweep(parentAbs, prefix);
    try {
      Files.createDirectories(parentAbs);
      Path p = Files.createTempDirectory(parentAbs, prefix, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      Files.writeString(p.resolve(MARKER), ownerLine() + "\n");
      return new PrivateDir(p);
    } catch (IOException e) {
      throw new UserError("cannot create a private build folder in " + parentAbs + ": " + e.getMessage(), e);
    }
  }

  public Path path() {
    return path;
  }

  /**
   * Copies {@code from} to {@code name} inside the folder; {@code name} must be a plain relative
   * name ({@link #SAFE_NAME}), the same one the tool will read it by.
   */
  public Path copyIn(Path from, String name) {
    String n = name.startsWith("./") ? name.substring(2) : name;
    if (!SAFE_NAME.matcher(n).matches() || java.util.List.of(n.split("/")).contains("..")) {
      throw new UserError("refusing to hand " + from + " to a tool: its name \"" + name
          + "\" is not a plain file name (letters, digits, _ . + - and /)");
    }
    Path to = path.resolve(n);
    try {
      Files.createDirectories(to.getParent());
      // Copied, not linked: what the tool reads is what was checked, whatever happens to the
      // user's folder meanwhile.
      Files.copy(from, to);
      return to;
    } catch (IOException e) {
      throw new UserError("cannot copy " + from + " into " + path + ": " + e.getMessage(), e);
    }
  }

  /** Writes {@code text} as {@code name} inside the folder. */
  public Path write(String name, String text) {
    try {
      Path to = path.resolve(name);
      Files.createDirectories(to.getParent());
      return Files.writeString(to, text);
    } catch (IOException e) {
      throw new UserError("cannot write " + name + " into " + path + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    try {
      Outputs.deleteTree(path);
    } catch (IOException e) {
      // A folder this run could not delete has its marker; the next run's sweep removes it.
    }
  }

  /** Refuses a path that holds characters a tool, make or a shell would rewrite. */
  public static void requireSafePath(Path p, String what) {
    if (!SAFE_PATH.matcher(p.toString()).matches()) {
      throw new UserError("cannot use " + p + " for " + what + ": its path holds characters that"
          + " Verilator, yosys or make rewrite or split ($, ~, spaces, quotes and the like);"
          + " set java.io.tmpdir and XDG_CACHE_HOME to folders with plain names");
    }
  }

  /** The pid and start time that identify this JVM in a marker. */
  static String ownerLine() {
    ProcessHandle me = ProcessHandle.current();
    return me.pid() + " " + me.info().startInstant().map(i -> i.toEpochMilli()).orElse(0L);
  }

  /**
   * Deletes the folders {@code PREFIX*} of {@code parent} whose marker names a process that is
   * gone (or a pid now taken by a process that started later). Folders without a marker, or
   * whose owner still runs, are left alone.
   */
  static void sweep(Path parent, String prefix) {
    if (!Files.isDirectory(parent)) {
      return;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent, glob(prefix) + "*")) {
      for (Path d : ds) {
        Path marker = d.resolve(MARKER);
        if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)
            || !Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        try {
          if (!ownerAlive(Files.readString(marker).strip())) {
            Outputs.deleteTree(d);
          }
        } catch (IOException | RuntimeException e) {
          // Another run may be sweeping the same folder; what is left is swept next time.
        }
      }
    } catch (IOException e) {
      // An unreadable parent holds nothing this run could sweep.
    }
  }

  static boolean ownerAlive(String line) {
    String[] f = line.split(" ");
    if (f.length != 2) {
      return true; // not a marker this class wrote: not provably dead
    }
    long pid;
    long start;
    try {
      pid = Long.parseLong(f[0]);
      start = Long.parseLong(f[1]);
    } catch (NumberFormatException e) {
      return true;
    }
    Optional<ProcessHandle> h = ProcessHandle.of(pid);
    if (h.isEmpty() || !h.get().isAlive()) {
      return false;
    }
    long started = h.get().info().startInstant().map(i -> i.toEpochMilli()).orElse(start);
    return Math.abs(started - start) < 1000;
  }

  private static String glob(String prefix) {
    return prefix.replaceAll("([*?\\[\\]{}\\\\])", "\\\\$1");
  }

  /** Creates {@code dir} (and parents) for this user only, or checks an existing one is. */
  public static Path ownerOnlyFolder(Path dir) {
    try {
      try {
        Files.createDirectories(dir.getParent());
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      } catch (FileAlreadyExistsException e) {
        // checked below
      }
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        throw new UserError(dir + " must be a folder (not a link or file) for the build cache");
      }
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
      String owner = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName();
      String me = System.getProperty("user.name");
      if (!owner.equals(me) || perms.contains(PosixFilePermission.GROUP_WRITE)
          || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
        throw new UserError(dir + " is owned by " + owner + " with permissions "
            + PosixFilePermissions.toString(perms) + "; the build cache must be this user's alone"
            + " (rwx------): fix it or set XDG_CACHE_HOME elsewhere");
      }
      return dir;
    } catch (IOException e) {
      throw new UserError("cannot use " + dir + " as the build cache: " + e.getMessage(), e);
    }
  }
}
