package addernet.cli;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** What a command reads, for the output rule (docs/outputs.md): outputs never go into or over it. */
final class CliInputs {
  private CliInputs() {}

  /** {@code nameOrPath} as a path when it names an existing file or folder (a spec file, a package); else null. */
  static Path existing(String nameOrPath) {
    try {
      Path p = Path.of(nameOrPath);
      return Files.exists(p) ? p : null;
    } catch (InvalidPathException e) {
      return null;
    }
  }
}
