package addernet.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Cleans what a killed run left beside an output, and only that (docs/outputs.md, Leftovers: what
 * a sweep touches). A killed process cannot tidy up, so the next run that writes beside its
 * outputs does. A name counts as a leftover of addernet only when it is a real folder named like
 * one of our temporaries or asides, holding a run marker of the matching kind that names a run
 * that is over; everything else beside an output is the user's and is never touched.
 */
final class LeftoverSweep {
  private LeftoverSweep() {}

  /** A temporary or moved-aside output: ".NAME.tmp-PID" or ".NAME.old-PID". */
  private static final Pattern LEFTOVER = Pattern.compile("\\.(.+)\\.(tmp|old)-(\\d{1,18})");

  /**
   * The run marker of {@code p} if it is a leftover of addernet for the output {@code shortName}:
   * a real folder (not a link) whose marker is of the kind its name says, names an output of that
   * short name, and names a run that is over. Anything else is the user's: null.
   */
  private static RunMarker deadLeftover(Path p, String shortName) {
    Matcher m = LEFTOVER.matcher(p.getFileName().toString());
    if (!m.matches() || !m.group(1).equals(shortName) || !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    RunMarker r = RunMarker.read(p.resolve(Outputs.RUN_MARKER), m.group(2).equals("tmp") ? "temporary" : "aside");
    if (r == null || r.name().isEmpty() || r.name().contains("/") || r.name().equals(".")
        || r.name().equals("..") || !Claim.shortName(r.name()).equals(shortName)
        || Long.parseLong(m.group(3)) != r.pid()) {
      return null;
    }
    // A run of this process counts as over too: the caller holds the output's lock, which no other
    // Outputs of this process can then hold.
    return r.isThisProcess() || !r.isAlive() ? r : null;
  }

  /**
   * Cleans what a killed run left beside the output {@code shortName} in {@code parent}: its
   * temporaries are removed, and an earlier output that was moved aside to be replaced is moved
   * back when the new one never arrived (the target is missing, or holds no more than the marker
   * of an in-place run that died before writing). Only leftovers with a run marker of a run that
   * is over count; only called with the output's lock held.
   */
  static void recover(Path parent, String shortName) {
    List<Path> stale = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(parent, p -> deadLeftover(p, shortName) != null)) {
      ds.forEach(stale::add);
      // Temporaries first, so that a restored output never meets a leftover of the run that moved it.
      stale.sort((x, y) -> Boolean.compare(isAside(x), isAside(y)));
      for (Path p : stale) {
        RunMarker r = deadLeftover(p, shortName);
        if (r == null) {
          continue;
        }
        Path target = parent.resolve(r.name());
        Path earlier = p.resolve(r.name());
        if (isAside(p) && Files.exists(earlier, LinkOption.NOFOLLOW_LINKS)) {
          if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS) || isBareInPlaceClaim(target)) {
            FileTree.deleteTree(target);
            FileTree.move(earlier, target);
            System.err.println("note: restored " + target + " from " + p + ", left by an interrupted run of '"
                + r.command() + "'");
          } else if (!replacementArrived(target, earlier)) {
            // Something else stands at the target now: the earlier output stays aside for the user.
            continue;
          }
        }
        FileTree.deleteTree(p);
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
   * is over, and each lock file of addernet that names a dead process, under that output's lock
   * (taken in the name of {@code writtenBy}, the command sweeping). Best effort; a busy, unreadable
   * or foreign one is left alone.
   */
  static void sweepBeside(Path parent, String ownShortName, String writtenBy) {
    List<String> names;
    try (Stream<Path> s = Files.list(parent)) {
      names = s.map(p -> p.getFileName().toString()).toList();
    } catch (IOException | UncheckedIOException e) {
      return;
    }
    Set<String> seen = new HashSet<>();
    for (String n : names) {
      Matcher m = LEFTOVER.matcher(n);
      Matcher l = OutputLock.FILE_NAME.matcher(n);
      String other;
      if (m.matches()) {
        other = m.group(1);
        if (deadLeftover(parent.resolve(n), other) == null) {
          continue;
        }
      } else if (l.matches()) {
        other = l.group(1);
        RunMarker r = OutputLock.read(parent.resolve(n));
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
      OutputLock lock;
      try {
        lock = OutputLock.take("--out", parent.resolve(other), OutputLock.fileFor(parent, other), other, writtenBy);
      } catch (UserError busyOrForeign) {
        continue;
      }
      try {
        recover(parent, other);
      } catch (UserError e) {
        // Not this run's output: its own run will report it.
      } finally {
        lock.release();
      }
    }
  }

  /**
   * Whether what stands at {@code target} is the output that replaced {@code earlier} (the run was
   * killed after putting it in place, before deleting the aside): a folder with an output marker
   * for a folder, a plain file for a file. A folder without a marker is the user's.
   */
  private static boolean replacementArrived(Path target, Path earlier) {
    if (Files.isDirectory(earlier, LinkOption.NOFOLLOW_LINKS)) {
      return Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)
          && Files.isRegularFile(target.resolve(Outputs.MARKER), LinkOption.NOFOLLOW_LINKS);
    }
    return Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Whether {@code dir} is what an in-place run leaves when killed before writing: a real folder
   * holding nothing but an output marker. An empty folder may be the user's and is not replaced.
   */
  private static boolean isBareInPlaceClaim(Path dir) {
    return Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS) && FileTree.listNames(dir).equals(List.of(Outputs.MARKER))
        && Files.isRegularFile(dir.resolve(Outputs.MARKER), LinkOption.NOFOLLOW_LINKS);
  }
}
