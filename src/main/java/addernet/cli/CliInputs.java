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

  /**
   * {@code nameOrPath} as a path when it names an existing regular file, else null: what a
   * {@code --model} that takes a spec reads ({@code NetworkSpec.resolve} takes a folder of the
   * same name as a shipped model's name, so the folder is not an input to protect).
   */
  static Path specFile(String nameOrPath) {
    Path p = existing(nameOrPath);
    return p != null && Files.isRegularFile(p) ? p : null;
  }
}
