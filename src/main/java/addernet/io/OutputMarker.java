package addernet.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * How an earlier output of a command is recognised (docs/outputs.md, Earlier outputs): a folder by
 * its marker file {@link Outputs#MARKER}, a JSON report by its {@link Outputs#WRITTEN_BY} key.
 * Only an exact match counts, so one command never replaces another's output, nor a folder
 * without a marker.
 */
final class OutputMarker {
  private OutputMarker() {}

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Writes (or rewrites) the marker of an output folder of {@code writtenBy}, never through a link. */
  static void write(Path dir, String writtenBy) throws IOException {
    ObjectNode m = JSON.createObjectNode();
    m.put(Outputs.WRITTEN_BY, writtenBy);
    m.put("note", "this folder is an output of addernet; its commands replace it only with --force"
        + " (docs/outputs.md)");
    Files.write(dir.resolve(Outputs.MARKER), JSON.writeValueAsBytes(m), StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Whether {@code dir} holds a marker, a plain file, naming {@code writtenBy}. The marker is read
   * as a report is: a JSON object whose {@link Outputs#WRITTEN_BY} names the command.
   */
  static boolean isFolderOf(Path dir, String writtenBy) {
    Path marker = dir.resolve(Outputs.MARKER);
    return Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS) && isReportOf(marker, writtenBy);
  }

  /** Whether {@code file} is a JSON object whose {@link Outputs#WRITTEN_BY} is {@code writtenBy}. */
  static boolean isReportOf(Path file, String writtenBy) {
    try {
      JsonNode m = JSON.readTree(file.toFile());
      return m != null && m.isObject() && writtenBy.equals(m.path(Outputs.WRITTEN_BY).asText(null));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }
}
