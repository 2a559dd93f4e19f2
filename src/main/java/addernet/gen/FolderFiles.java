package addernet.gen;

import addernet.io.FileHash;
import addernet.io.Outputs;
import addernet.io.UserError;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The SHA-256 of every file {@code generate} wrote into a folder, kept in its manifest's {@code
 * files} field (docs/accelerator.md, "accel.json"). An edited weight image or a truncated source
 * is otherwise not an error at all: it simulates, and shows up as a page of logit mismatches
 * blamed on the RTL. {@link #verify} names the file instead, before anything is built from it.
 */
public final class FolderFiles {
  public static final String FIELD = "files";
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private FolderFiles() {}

  /**
   * Adds to manifest {@code manifest} of {@code dir} the hash of every regular file under {@code
   * dir} but the manifest itself: called last, once the folder holds all that generate writes.
   */
  public static void record(Path dir, String manifest) throws IOException {
    Path file = dir.resolve(manifest);
    ObjectNode root = (ObjectNode) JSON.readTree(file.toFile());
    ObjectNode files = root.putObject(FIELD);
    hashes(dir, manifest).forEach(files::put);
    JSON.writeValue(file.toFile(), root);
  }

  /** Relative name ({@code /}-separated) to SHA-256 of every regular file but {@code manifest}. */
  static Map<String, String> hashes(Path dir, String manifest) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        String name = dir.relativize(p).toString().replace('\\', '/');
        if (!name.equals(manifest) && !name.equals(Outputs.MARKER)) {
          out.put(name, FileHash.sha256(p));
        }
      }
    }
    return out;
  }

  /**
   * Checks every file that manifest {@code manifest} of {@code dir} lists under {@code files}:
   * present, a plain file inside the folder, with the recorded SHA-256. Anything else is one
   * line naming the file. Files the folder gained since (build products, logs) are not checked:
   * nothing here reads them as part of the design.
   */
  public static void verify(Path dir, String manifest) {
    Path file = dir.resolve(manifest);
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UserError("cannot read " + file + ": " + e.getMessage(), e);
    }
    JsonNode files = root == null ? null : root.get(FIELD);
    String again = "; generate the folder again";
    if (files == null || !files.isObject() || files.isEmpty()) {
      throw new UserError(file + ": field " + FIELD + " must map every file generate wrote to its"
          + " SHA-256, got " + (files == null ? "none" : files.toString().length() > 40
              ? files.getNodeType().toString().toLowerCase() : files.toString()) + again);
    }
    Path root0;
    try {
      root0 = dir.toRealPath();
    } catch (IOException e) {
      throw new UserError("cannot read " + dir + ": " + e.getMessage(), e);
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = files.fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> e = it.next();
      String name = e.getKey();
      String want = e.getValue().isTextual() ? e.getValue().asText() : "";
      if (!ManifestReader.plainName(name) || !SHA256.matcher(want).matches()) {
        throw new UserError(file + ": field " + FIELD + " must map plain file names inside " + dir
            + " to 64 lower-case hex digits, got \"" + name + "\": " + e.getValue() + again);
      }
      Path p = dir.resolve(name);
      if (!Files.isRegularFile(p)) {
        throw new UserError(p + " is missing; " + file + " lists it as written by generate" + again);
      }
      String got;
      try {
        if (!p.toRealPath().startsWith(root0)) {
          throw new UserError(p + " is a link out of " + dir + "; generate wrote a plain file there" + again);
        }
        got = FileHash.sha256(p);
      } catch (IOException ex) {
        throw new UserError("cannot read " + p + ": " + ex.getMessage(), ex);
      }
      if (!got.equals(want)) {
        throw new UserError(p + " was changed after generate wrote it: its SHA-256 is "
            + got.substring(0, 12) + "..., " + file.getFileName() + " records " + want.substring(0, 12)
            + "..." + again);
      }
    }
  }
}
