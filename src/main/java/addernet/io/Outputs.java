package addernet.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;

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
 *
 * <p>This class is the rule's one entry point and decides what may be written; the steps it is
 * made of each have their own class in this package: {@link RealPaths} (resolving paths, the
 * current folder and the inputs), {@link OutputLock}, {@link RunMarker}, {@link LeftoverSweep}
 * (what killed runs left), {@link OutputMarker} (recognising earlier outputs) and {@link Claim}
 * (one output on its way into place).
 */
public final class Outputs implements AutoCloseable {
  /** The file inside every output folder that says which command wrote it. */
  public static final String MARKER = ".addernet-output.json";

  /** The key of every JSON report that names the command that wrote it. */
  public static final String WRITTEN_BY = "written_by";

  /** The file inside every temporary and moved-aside folder that names the run that made it. */
  public static final String RUN_MARKER = ".addernet-run.json";

  private static final ObjectMapper SNAKE =
      new ObjectMapper()
          .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .enable(SerializationFeature.INDENT_OUTPUT);

  /** Fills a fresh folder. */
  @FunctionalInterface
  public interface FolderWriter {
    void write(Path dir) throws IOException;
  }

  private final String command;
  private final boolean force;
  private final List<Path> inputs = new ArrayList<>();
  private final List<Path> allowedInside = new ArrayList<>();
  private final List<Claim> targets = new ArrayList<>();
  private boolean committed;

  private Outputs(String command, boolean force, Collection<Path> inputs) {
    this.command = command;
    this.force = force;
    for (Path p : inputs) {
      if (p != null) {
        this.inputs.add(RealPaths.real(p));
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
      out.claim(flag, target, Claim.Kind.FOLDER, null, false, false);
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
    allowedInside.add(RealPaths.real(place));
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
    Claim t = claim(flag, target, Claim.Kind.FOLDER, null, false, optional);
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
    return claim(flag, target, Claim.Kind.FILE, isEarlierOutput, false, false).payload;
  }

  /**
   * As {@link #file(String, Path, Predicate)}, for a file the run writes only in some cases (a
   * waveform of a failure): {@link #commit} puts it in place only when it was written.
   */
  public Path optionalFile(String flag, Path target, Predicate<Path> isEarlierOutput) {
    return claim(flag, target, Claim.Kind.FILE, isEarlierOutput, false, true).payload;
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
    Claim t = claim(flag, target, Claim.Kind.IN_PLACE, null, resume, false);
    try {
      t.prepareInPlace(resume);
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
      for (Claim t : targets) {
        if (t.kind == Claim.Kind.FOLDER && !(t.optional && FileTree.listNames(t.payload).isEmpty())) {
          OutputMarker.write(t.payload, writtenBy(command));
          t.install();
        }
      }
      for (Claim t : targets) {
        if (t.kind == Claim.Kind.FILE) {
          if (!Files.exists(t.payload, LinkOption.NOFOLLOW_LINKS)) {
            if (t.optional) {
              continue;
            }
            throw new IllegalStateException(t.flag + ": the command claimed " + t.path + " but wrote nothing");
          }
          t.install();
        }
      }
      for (Claim t : targets) {
        if (t.kind == Claim.Kind.IN_PLACE) {
          FileTree.deleteTree(t.aside);
        }
      }
    } catch (IOException e) {
      throw new UserError("could not put the outputs in place: " + e.getMessage(), e);
    }
    for (Claim t : targets) {
      t.verifyInPlace();
    }
    committed = true;
  }

  /**
   * Removes uncommitted temporaries, undoes an in-place claim that nothing came of, and releases
   * every lock.
   */
  @Override
  public void close() {
    for (Claim t : targets) {
      if (t.kind != Claim.Kind.IN_PLACE) {
        // After a commit only the temporaries of optional outputs that stayed empty are left.
        FileTree.deleteQuietly(t.temp);
      } else if (!committed) {
        t.undoInPlace();
      }
      t.lock.release();
    }
    targets.clear();
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

  /**
   * Claims one output, in the order that keeps a refusal free: the path is resolved and checked
   * against the current folder, the inputs and this run's other outputs before the lock is taken;
   * under the lock, what killed runs left is cleaned, the rule is applied to what stands there,
   * and only then is anything created (the temporary).
   */
  private Claim claim(String flag, Path target, Claim.Kind kind, Predicate<Path> isEarlierOutput, boolean resume,
      boolean optional) {
    if (committed) {
      throw new IllegalStateException("outputs already committed");
    }
    RealPaths.Place place = RealPaths.resolve(flag, target);
    Path real = place.path();
    RealPaths.refuseCurrentFolderAndInputs(flag, target, real, inputs, allowedInside);
    for (Claim t : targets) {
      if (t.path.equals(real)) {
        throw new UserError(flag + " " + target + " is also given as " + t.flag + "; they must differ");
      }
      if (real.startsWith(t.path) || t.path.startsWith(real)) {
        throw new UserError(flag + " " + target + " and " + t.flag + " " + t.given
            + " lie one inside the other; give them separate places");
      }
    }
    String plain = place.name();
    String shortName = Claim.shortName(plain);
    OutputLock lock = OutputLock.take(flag, target, OutputLock.fileFor(place.parent(), shortName), plain,
        writtenBy(command));
    boolean ok = false;
    try {
      LeftoverSweep.recover(place.parent(), shortName);
      LeftoverSweep.sweepBeside(place.parent(), shortName, writtenBy(command));
      checkExisting(flag, target, real, kind, isEarlierOutput, resume);
      Claim t = new Claim(flag, target, place, kind, optional, lock, writtenBy(command));
      for (Path p : List.of(t.temp, t.aside)) {
        if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
          throw new UserError(flag + " " + target + ": " + p + " is in the way and was not made by addernet"
              + " (it has no run marker " + RUN_MARKER + "); it is left alone: move it away yourself");
        }
      }
      if (kind != Claim.Kind.IN_PLACE) {
        t.makeTemporary();
      }
      targets.add(t);
      ok = true;
      return t;
    } catch (IOException e) {
      throw new UserError(flag + " " + target + ": cannot create a temporary beside it: " + e.getMessage(), e);
    } finally {
      if (!ok) {
        lock.release();
      }
    }
  }

  /** Refuses what may not be written. */
  private void checkExisting(String flag, Path target, Path abs, Claim.Kind kind, Predicate<Path> isEarlierOutput,
      boolean resume) {
    if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (Files.isSymbolicLink(abs)) {
      throw new UserError(flag + " " + target + " is a symbolic link; give the path it points to or a new name");
    }
    boolean isDir = Files.isDirectory(abs, LinkOption.NOFOLLOW_LINKS);
    if (kind == Claim.Kind.FILE) {
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
    List<String> contents = FileTree.listNames(abs);
    if (contents.isEmpty()) {
      return;
    }
    if (!OutputMarker.isFolderOf(abs, writtenBy(command))) {
      throw new UserError(flag + " " + target + " is a folder that holds other things (" + describe(contents)
          + ") and no earlier output of '" + writtenBy(command) + "'; it is left alone: choose a new folder");
    }
    if (!force && !(kind == Claim.Kind.IN_PLACE && resume)) {
      throw new UserError(flag + " " + target + " holds an earlier output of '" + writtenBy(command)
          + "'; pass --force to replace it" + (kind == Claim.Kind.IN_PLACE ? " (or --resume to continue it)" : "")
          + " or choose another " + flag);
    }
    if (!(kind == Claim.Kind.IN_PLACE && resume)) {
      refuseIfBusyInside(flag, target, abs);
    }
  }

  /** Refuses to replace a folder inside which another run is writing an output now. */
  private static void refuseIfBusyInside(String flag, Path target, Path dir) {
    Path busy = OutputLock.liveInside(dir);
    if (busy != null) {
      throw new UserError(flag + " " + target + " holds an output another addernet command is writing right"
          + " now (lock " + busy + "); replacing it would lose that output: wait for it or choose another " + flag);
    }
  }

  private static String describe(List<String> names) {
    int n = names.size();
    String first = String.join(", ", names.subList(0, Math.min(3, n)));
    return n <= 3 ? first : first + " and " + (n - 3) + " more";
  }

  private boolean isOwnReport(Path file) {
    return isReportOf(command, file);
  }

  /** Whether {@code file} is a JSON object whose {@link #WRITTEN_BY} names {@code command}. */
  public static boolean isReportOf(String command, Path file) {
    return OutputMarker.isReportOf(file, writtenBy(command));
  }

  static String shortName(String name) {
    return Claim.shortName(name);
  }

  /** Deletes a file or a folder with everything in it; symbolic links are removed, not followed. */
  public static void deleteTree(Path p) throws IOException {
    FileTree.deleteTree(p);
  }
}
