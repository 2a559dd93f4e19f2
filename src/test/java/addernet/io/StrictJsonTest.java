package addernet.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StrictJsonTest {
  /** The record a reader would bind a file to; its own check stands for a domain rule. */
  record Layer(String name, int shift) {
    Layer {
      if (shift > 31) {
        throw new IllegalArgumentException("shift must be at most 31, got " + shift);
      }
    }
  }

  record Model(List<Layer> layers) {}

  private static StrictJson<UserError> json(String label) {
    return new StrictJson<>(label, UserError::new);
  }

  private static String refusal(Runnable r) {
    return assertThrows(UserError.class, r::run).getMessage();
  }

  @Test
  void duplicateKeyIsRefusedNamingTheFileTheKeyAndTheLine(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("model.json");
    Files.writeString(f, "{\n  \"bits\": 8,\n  \"bits\": 9\n}\n");
    StrictJson<UserError> j = json(f.toString());
    String m = refusal(() -> j.parseObject(j.readText(f, 1 << 20, "")));
    assertTrue(m.startsWith(f + ": not valid JSON at line 3, column "), m);
    assertTrue(m.contains("Duplicate field 'bits'"), m);
    assertEquals(1, m.lines().count(), m);
  }

  @Test
  void duplicateKeyIsRefusedWhenBindingARecordToo() {
    var mapper = StrictJson.builder().build();
    var e = assertThrows(com.fasterxml.jackson.core.JsonProcessingException.class,
        () -> mapper.readValue("{\"name\": \"a\", \"name\": \"b\", \"shift\": 1}", Layer.class));
    assertTrue(StrictJson.message(e).startsWith("Duplicate field 'name'"), StrictJson.message(e));
    assertTrue(json("accel.json").invalid(e).getMessage().startsWith("accel.json: not valid JSON at line 1"),
        json("accel.json").invalid(e).getMessage());
  }

  @Test
  void wrongTypeNamesTheFieldPathAndWhatWasFound() throws IOException {
    StrictJson<UserError> j = json("model.json");
    JsonNode root = j.parseObject("{\"layers\": [{}, {}, {}, {\"shift\": \"x\"}]}");
    JsonNode layer = j.object(j.array(root, "layers", "layers"), 3, "layers[3]");
    assertEquals("model.json: layers[3].shift: must be an integer in 0..31, got \"x\"",
        refusal(() -> j.integer(layer, "shift", "layers[3].shift", 0, 31)));
    assertEquals("model.json: layers[3].shift: must be an integer in 0..31 written without fraction or exponent,"
        + " got 5.0", refusal(() -> j.integer(j.parseObject("{\"shift\": 5.0}"), "shift", "layers[3].shift", 0, 31)));
    assertEquals("model.json: layers[3].name: must be a non-empty string, got nothing (missing)",
        refusal(() -> j.text(layer, "name", "layers[3].name")));
    assertEquals("model.json: layers[0]: must be an object, got 7",
        refusal(() -> j.object(j.parseObject("{\"layers\": [7]}").get("layers"), 0, "layers[0]")));
  }

  @Test
  void boundRecordsNameTheFieldPathInsideThem() throws IOException {
    StrictJson<UserError> j = json("model.json");
    var mapper = StrictJson.builder().build();
    String m = refusal(() -> j.value(mapper, j.parseObject("{\"layers\": [{\"name\": \"a\", \"shift\": \"2\"}]}"),
        "model", Model.class));
    assertTrue(m.startsWith("model.json: model.layers[0].shift: "), m);
    assertTrue(!m.contains("java.lang") && !m.contains("`"), m);
    // A record's own rule keeps its words, not Jackson's wrapper around them.
    assertEquals("model.json: model.layers[0]: shift must be at most 31, got 40", refusal(() -> j.value(mapper,
        j.parseObject("{\"layers\": [{\"name\": \"a\", \"shift\": 40}]}"), "model", Model.class)));
    Model ok = j.value(mapper, j.parseObject("{\"layers\": [{\"name\": \"a\", \"shift\": 3}]}"), "model", Model.class);
    assertEquals(3, ok.layers().get(0).shift());
  }

  @Test
  void fileProblemsNameTheFile(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("accel.json");
    StrictJson<UserError> j = json(f.toString());
    assertEquals(f + ": no such file", refusal(() -> j.readText(f, 100, "")));
    Files.write(f, new byte[200]);
    assertEquals(f + ": 200 bytes, more than the 100 bytes this file may have (it is a manifest)",
        refusal(() -> j.readText(f, 100, " (it is a manifest)")));
    Files.write(f, new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf, '{', '}'});
    assertEquals(f + ": starts with a byte-order mark; JSON in UTF-8 has none", refusal(() -> j.readText(f, 100, "")));
    Files.write(f, new byte[] {'"', (byte) 0xe9, '"'});
    assertEquals(f + ": not UTF-8 text", refusal(() -> j.readText(f, 100, "")));
    Files.writeString(f, "{} []", StandardCharsets.UTF_8);
    assertTrue(refusal(() -> j.parseObject(j.readText(f, 100, ""))).startsWith(f + ": not valid JSON at line 1"));
    assertEquals(f + ": must be a JSON object, got an empty file", refusal(() -> j.parseObject("")));
    assertEquals(f + ": must be a JSON object, got [1]", refusal(() -> j.parseObject("[1]")));
  }

  @Test
  void shownValuesStayOneShortLine() {
    StrictJson<UserError> j = json("m.json");
    String longText = "x".repeat(500);
    String m = refusal(() -> j.same(j.parseObject("{\"format\": \"" + longText + "\"}"), "format", "format", "f"));
    assertTrue(m.endsWith("...") && m.length() < 120, m);
    assertEquals("files.weights/a.mem", StrictJson.shownField("files", "weights/a.mem"));
    assertEquals("files[\"a\\nb\"]", StrictJson.shownField("files", "a\nb"));
    assertEquals("abc", StrictJson.cut("abc", 3));
    assertEquals("a...", StrictJson.cut("abcdef", 4));
    assertEquals("first", StrictJson.oneLine("first\nsecond"));
  }

  @Test
  void eachReaderKeepsItsOwnExceptionType() {
    class Refused extends RuntimeException {
      Refused(String m) {
        super(m);
      }
    }
    StrictJson<Refused> j = new StrictJson<>("c.json", Refused::new);
    Refused e = assertThrows(Refused.class, () -> j.bool(j.parseObject("{\"pool\": 1}"), "pool", "layers[0].pool"));
    assertEquals("c.json: layers[0].pool: must be true or false, got 1", e.getMessage());
  }
}
