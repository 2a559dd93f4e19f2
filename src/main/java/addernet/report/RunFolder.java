package addernet.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The files of a run folder the report looks for, by the names the pipeline's commands write. */
final class RunFolder {
  final Path run;

  RunFolder(Path run) {
    this.run = run;
  }

  /** The regular files of the run folder matching {@code glob}, sorted. */
  List<Path> files(String glob) throws IOException {
    List<Path> found = new ArrayList<>();
    try (var s = Files.newDirectoryStream(run, glob)) {
      s.forEach(p -> {
        if (Files.isRegularFile(p)) {
          found.add(p);
        }
      });
    }
    found.sort(null);
    return found;
  }

  /** {@code <run>/<folder>/<name>} for every sub-folder that has it, sorted. */
  List<Path> inSubfolders(String name) throws IOException {
    try (Stream<Path> s = Files.list(run)) {
      return s.filter(Files::isDirectory).map(d -> d.resolve(name)).filter(Files::isRegularFile).sorted().toList();
    }
  }

  String rel(Path p) {
    return run.relativize(p).toString();
  }
}
