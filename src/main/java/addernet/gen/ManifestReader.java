package addernet.gen;

import addernet.io.StrictJson;
import addernet.io.UserError;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads {@code array.json} and {@code accel.json} strictly, since both are files a user can edit
 * or damage: every failure is one line naming the file and the field (no Java type names, no
 * parser position on a second line), and every file the manifest lists must be a plain name
 * inside the folder (docs/accelerator.md, "accel.json").
 */
final class ManifestReader {
  /**
   * What a generated file name may look like. The names are passed to Verilator and written into
   * yosys scripts, so quotes, spaces, semicolons and the like are refused, not escaped.
   */
  private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.+-]*(/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*");

  /** A manifest lists file names and a few numbers; anything near this size is not one. */
  static final long MAX_BYTES = 16 << 20;

  private static final ObjectMapper STRICT =
      StrictJson.builder()
          // The file hashes are checked by FolderFiles.verify, against the files themselves.
          .addMixIn(AccelManifest.class, FilesField.class)
          .addMixIn(ArrayGenerator.ArrayManifest.class, FilesField.class)
          .build();

  @com.fasterxml.jackson.annotation.JsonIgnoreProperties({FolderFiles.FIELD})
  private abstract static class FilesField {}

  /** A plain relative name of a file inside the folder (no .., no absolute path). */
  static boolean plainName(String name) {
    return name != null && FILE_NAME.matcher(name).matches() && !List.of(name.split("/")).contains("..");
  }

  private ManifestReader() {}

  /** The manifest {@code name} of {@code dir}, or a one-line error; {@code hint} says how to make one. */
  static <T> T read(Path dir, String name, Class<T> type, String hint) {
    Path file = dir.resolve(name);
    if (!Files.isRegularFile(file)) {
      throw new UserError(dir + " holds no " + name + "; " + hint);
    }
    StrictJson<UserError> json = new StrictJson<>(file.toString(), UserError::new);
    String text = json.readText(file, MAX_BYTES, "");
    T value;
    try {
      value = STRICT.readValue(text, type);
    } catch (JsonMappingException e) {
      if (e.getPath().isEmpty()) {
        throw json.invalid(e);
      }
      // The records' Java names mean nothing to a user; the field path says where.
      throw json.refuse("field " + StrictJson.fieldPath("", e) + ": "
          + StrictJson.message(e).replaceAll("addernet\\.gen\\.[A-Za-z$.]+", "the manifest"));
    } catch (JsonProcessingException e) {
      throw json.invalid(e);
    }
    if (value == null) {
      throw json.refuse("must hold a JSON object, got null");
    }
    return value;
  }

  /** A one-line refusal of field {@code field} of {@code file}. */
  static UserError bad(Path file, String field, String expected, Object got) {
    return new UserError(file + ": field " + field + " must be " + expected + ", got " + got);
  }

  static void range(Path file, String field, long value, long lo, long hi) {
    if (value < lo || value > hi) {
      throw bad(file, field, "in " + lo + ".." + hi, value);
    }
  }

  /**
   * The files {@code field} lists: present, each a plain relative name of a regular file that
   * lies inside {@code dir} (also after following links).
   */
  static void files(Path file, Path dir, String field, List<String> names) {
    if (names == null) {
      throw bad(file, field, "a list of file names in " + dir, "null");
    }
    if (names.isEmpty()) {
      throw bad(file, field, "a non-empty list of file names", "[]");
    }
    Path root;
    try {
      root = dir.toRealPath();
    } catch (IOException e) {
      throw new UserError("cannot read " + dir + ": " + StrictJson.describe(e), e);
    }
    for (String n : names) {
      if (n == null) {
        throw bad(file, field, "file names", "null in the list");
      }
      String name = n.startsWith("./") ? n.substring(2) : n;
      if (!plainName(name)) {
        throw bad(file, field, "plain file names inside " + dir
            + " (letters, digits, _ . + - and /, no ..)", "\"" + n + "\"");
      }
      Path p = dir.resolve(name);
      if (!Files.isRegularFile(p)) {
        throw new UserError(file + " lists " + n + " in " + field + " but " + p + " is missing");
      }
      try {
        if (!p.toRealPath().startsWith(root)) {
          throw bad(file, field, "files inside " + dir, "\"" + n + "\", a link to " + p.toRealPath());
        }
      } catch (IOException e) {
        throw new UserError("cannot read " + p + ": " + StrictJson.describe(e), e);
      }
    }
  }
}
