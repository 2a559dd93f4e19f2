package addernet.report;

import static addernet.report.Html.esc;
import static addernet.report.Html.img;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One titled part of the report page with its JSON twin, and the charts it draws. */
final class Section {
  static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .enable(SerializationFeature.INDENT_OUTPUT);

  /** The commands' reports carry keys (written_by, derived figures) that their records need not read. */
  private static final ObjectMapper COMMAND_REPORTS = JSON.copy()
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  final String id;
  final String title;
  final StringBuilder html = new StringBuilder();
  final ObjectNode json = JSON.createObjectNode();
  final List<String> missing = new ArrayList<>();
  private final Path out;

  Section(String id, String title, Path out) {
    this.id = id;
    this.title = title;
    this.out = out;
  }

  void missing(String expected) {
    missing.add(expected);
    html.append("<p class=\"missing\">not in this run: expected ").append(esc(expected)).append("</p>\n");
  }

  void unreadable(Path file, Exception e) {
    String msg = file.getFileName() + ": " + e.getMessage();
    json.withArray("unreadable").add(msg);
    html.append("<p class=\"missing\">could not read ").append(esc(msg)).append("</p>\n");
  }

  /** The reports of a command that parse as {@code type}, in order; the others are named as unreadable. */
  <T> Map<Path, T> read(List<Path> files, Class<T> type) {
    Map<Path, T> found = new LinkedHashMap<>();
    for (Path f : files) {
      try {
        found.put(f, COMMAND_REPORTS.readValue(f.toFile(), type));
      } catch (IOException e) {
        unreadable(f, e);
      }
    }
    return found;
  }

  /** A report read as a tree, as the record of the command mode that wrote it. */
  <T> T convert(JsonNode tree, Class<T> type) throws IOException {
    return COMMAND_REPORTS.treeToValue(tree, type);
  }

  @FunctionalInterface
  interface Drawing {
    void draw(Path png) throws IOException;
  }

  void chart(String png, String alt, Drawing d) throws IOException {
    if (draw(png, d)) {
      html.append(img(png, alt));
    }
  }

  /**
   * Draws one PNG. Java2D needs fonts and the FreeType library even headless; where a machine
   * lacks them the chart is named as not drawn and the page keeps its tables, which carry the
   * same numbers.
   */
  boolean draw(String png, Drawing d) throws IOException {
    try {
      d.draw(out.resolve(png));
      json.withArray("charts").add(png);
      return true;
    } catch (RuntimeException | LinkageError | InternalError e) {
      String why = png + ": " + e;
      json.withArray("charts_not_drawn").add(why);
      html.append("<p class=\"missing\">chart not drawn (").append(esc(why))
          .append("); the table has the numbers</p>\n");
      return false;
    }
  }
}
