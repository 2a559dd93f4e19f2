package addernet.tool;

import addernet.io.UserError;
import java.nio.file.Path;

/**
 * An external tool failed, timed out or died. Not a bug in this program, and nothing the user can
 * fix by changing a flag, but reported the same way as a user error: one line that names the
 * tool, how it ended, its last lines and where its whole log is.
 */
public final class ToolFailure extends UserError {
  private final String tool;
  private final Path log;

  public ToolFailure(String tool, String how, String lastLines, Path log) {
    super(tool + " " + how
        + (lastLines.isBlank() ? "" : "; last lines: " + lastLines)
        + (log == null ? "" : "; full log: " + log));
    this.tool = tool;
    this.log = log;
  }

  public String tool() {
    return tool;
  }

  /** The tool's whole output, or null when there is none. */
  public Path log() {
    return log;
  }
}
