package addernet.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Function;

/**
 * The one strict reader of the JSON files a user can edit or damage (model packages, checkpoints,
 * generated folders' manifests). A file is either what its writer writes or refused in one line
 * that starts with the file, names the field as a JSON path ({@code layers[3].shift}) and says
 * what was expected and what was found, as {@code label: field: problem}.
 *
 * <p>An instance stands for one file being read: {@code label} is how messages name it and
 * {@code error} makes the reader's own exception from a message, so each reader keeps its type.
 */
public final class StrictJson<E extends RuntimeException> {
  /** How much of a value a message quotes: enough to recognise it, never a screenful. */
  static final int SHOWN = 60;
  /** How much of a parser's message a refusal keeps. */
  static final int MESSAGE = 160;

  private static final ObjectMapper TREE = builder().build();

  private final String label;
  private final Function<String, E> error;

  public StrictJson(String label, Function<String, E> error) {
    this.label = label;
    this.error = error;
  }

  /**
   * A mapper that refuses what a lenient one would guess at: duplicate keys, trailing tokens,
   * {@code "2"} or {@code 2.0} for an integer, null for a number, and inputs deep, long or wide
   * enough to be an attack rather than a file. Readers add their own settings on top.
   */
  public static JsonMapper.Builder builder() {
    return JsonMapper.builder(
            JsonFactory.builder()
                .streamReadConstraints(
                    StreamReadConstraints.builder()
                        .maxNestingDepth(100)
                        .maxNumberLength(100)
                        .maxStringLength(1 << 20)
                        .build())
                .build())
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS);
  }

  public String label() {
    return label;
  }

  /** {@code label: problem}, as the reader's exception. */
  public E refuse(String problem) {
    return error.apply(label + ": " + problem);
  }

  /** {@code label: field: problem}, as the reader's exception. */
  public E bad(String field, String problem) {
    return refuse(field + ": " + problem);
  }

  // ---------------------------------------------------------------- the file

  /**
   * The file's text: at most {@code maxBytes} (checked before reading), UTF-8 without a
   * byte-order mark. What a user can do something about is said in words, not as a Java type.
   */
  public String readText(Path file, long maxBytes, String why) {
    byte[] bytes;
    try {
      long size = Files.size(file);
      if (size > maxBytes) {
        throw refuse(size + " bytes, more than the " + mib(maxBytes) + " this file may have" + why);
      }
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw refuse("no such file");
    } catch (IOException e) {
      throw refuse("cannot read: " + describe(e));
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw refuse("not UTF-8 text");
    }
    if (text.startsWith("\uFEFF")) {
      throw refuse("starts with a byte-order mark; JSON in UTF-8 has none");
    }
    return text;
  }

  /** {@code text} as one JSON value (missing for an empty text), or a refusal that says where the parser stopped. */
  public JsonNode parse(String text) {
    try {
      JsonNode r = TREE.readTree(text);
      return r == null ? MissingNode.getInstance() : r;
    } catch (JsonProcessingException e) {
      throw invalid(e);
    }
  }

  /** {@code text} as one JSON object, or a refusal that says what it holds instead. */
  public JsonNode parseObject(String text) {
    JsonNode r = parse(text);
    if (!r.isObject()) {
      throw refuse("must be a JSON object, got " + (r.isMissingNode() ? "an empty file" : shown(r)));
    }
    return r;
  }

  /** A parser's refusal: not JSON at all, or JSON of the wrong shape for {@code mapper}'s type. */
  public E invalid(JsonProcessingException e) {
    if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
      return bad(fieldPath("", m), message(e));
    }
    JsonLocation at = e.getLocation();
    return refuse("not valid JSON" + (at == null || at.getLineNr() < 1 ? ""
        : " at line " + at.getLineNr() + ", column " + at.getColumnNr()) + ": " + message(e));
  }

  /** {@code n} as a {@code type}, through {@code mapper}; a refusal names the field inside it. */
  public <T> T value(ObjectMapper mapper, JsonNode n, String field, Class<T> type) {
    try {
      return mapper.treeToValue(n, type);
    } catch (JsonProcessingException e) {
      // A record's own check (a recipe's range) says more than Jackson's wrapper around it.
      Throwable cause = e.getCause();
      String why = cause instanceof IllegalArgumentException ? cause.getMessage() : message(e);
      throw bad(e instanceof JsonMappingException m ? fieldPath(field, m) : field, why);
    } catch (IllegalArgumentException e) {
      throw bad(field, String.valueOf(e.getMessage()));
    }
  }

  /** {@code prefix} followed by the path Jackson followed into the value: {@code recipe.lr}, {@code sources[2]}. */
  public static String fieldPath(String prefix, JsonMappingException e) {
    StringBuilder s = new StringBuilder(prefix);
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        s.append(s.length() == 0 ? "" : ".").append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        s.append('[').append(r.getIndex()).append(']');
      }
    }
    return s.toString();
  }

  /**
   * The parser's message on one line: no source excerpt, no Java type names (a user knows the
   * field, not {@code java.lang.Integer}), cut short.
   */
  public static String message(JsonProcessingException e) {
    String m = e.getOriginalMessage();
    if (m == null) {
      return "unreadable";
    }
    String line = m.lines().findFirst().orElse("").strip()
        .replace("`", "").replace("java.lang.", "").replace("java.util.", "")
        .replaceAll("\\(class [^)]*\\)", "").replaceAll("\\s*\\(but might[^)]*\\)", "")
        .strip();
    return cut(line, MESSAGE);
  }

  /** An I/O failure in words a user can act on, with the path it names; no Java type names. */
  public static String describe(IOException e) {
    String what;
    if (e instanceof AccessDeniedException) {
      what = "permission denied";
    } else if (e instanceof NoSuchFileException) {
      what = "no such file";
    } else if (e instanceof FileSystemException f && f.getReason() != null) {
      what = f.getReason();
    } else {
      what = e.getMessage() == null || e instanceof FileSystemException
          ? e.getClass().getSimpleName().replaceAll("Exception$", "").replaceAll("([a-z])([A-Z])", "$1 $2")
              .toLowerCase(Locale.ROOT)
          : e.getMessage();
    }
    return e instanceof FileSystemException f && f.getFile() != null ? what + " (" + f.getFile() + ")" : what;
  }

  private static String mib(long bytes) {
    return bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : bytes + " bytes";
  }

  // ---------------------------------------------------------------- fields

  public JsonNode object(JsonNode n, String key, String field) {
    return object(n.get(key), field);
  }

  public JsonNode object(JsonNode array, int i, String field) {
    return object(array.get(i), field);
  }

  private JsonNode object(JsonNode v, String field) {
    if (v == null || !v.isObject()) {
      throw bad(field, "must be an object, got " + shown(v));
    }
    return v;
  }

  public JsonNode array(JsonNode n, String key, String field) {
    JsonNode v = n.get(key);
    if (v == null || !v.isArray()) {
      throw bad(field, "must be an array, got " + shown(v));
    }
    return v;
  }

  public String text(JsonNode n, String key, String field) {
    JsonNode v = n.get(key);
    if (v == null || !v.isTextual() || v.textValue().isEmpty()) {
      throw bad(field, "must be a non-empty string, got " + shown(v));
    }
    return v.textValue();
  }

  /** A string field that must be exactly {@code expected}. */
  public void same(JsonNode n, String key, String field, String expected) {
    JsonNode v = n.get(key);
    if (v == null || !v.isTextual() || !v.textValue().equals(expected)) {
      throw bad(field, "must be \"" + expected + "\", got " + shown(v));
    }
  }

  public boolean bool(JsonNode n, String key, String field) {
    JsonNode v = n.get(key);
    if (v == null || !v.isBoolean()) {
      throw bad(field, "must be true or false, got " + shown(v));
    }
    return v.booleanValue();
  }

  public int integer(JsonNode n, String key, String field, int min, int max) {
    return integer(n, key, field, min, max, "");
  }

  /**
   * An integer field: a JSON number without fraction or exponent ({@code 5}, never {@code 5.0}
   * or {@code 5e0}) in [min, max]; {@code why} says where the range or a fixed value comes from.
   */
  public int integer(JsonNode n, String key, String field, int min, int max, String why) {
    return integer(n.get(key), field, min, max, why);
  }

  /** Element {@code i} of an array as an integer in [min, max]. */
  public int integer(JsonNode array, int i, String field, int min, int max, String why) {
    return integer(array.get(i), field, min, max, why);
  }

  private int integer(JsonNode v, String field, int min, int max, String why) {
    String want = min == max ? "must be " + min + why : "must be an integer in " + min + ".." + max + why;
    if (v == null || !v.isIntegralNumber()) {
      throw bad(field, want + (v != null && v.isNumber() ? " written without fraction or exponent" : "")
          + ", got " + shown(v));
    }
    if (!v.canConvertToInt() || v.intValue() < min || v.intValue() > max) {
      throw bad(field, want + ", got " + shown(v));
    }
    return v.intValue();
  }

  /** A whole number of at least 0 that may pass 2^31 (a byte count). */
  public long count(JsonNode n, String key, String field, String what) {
    JsonNode v = n.get(key);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
      throw bad(field, "must be a whole number of " + what + ", got " + shown(v));
    }
    return v.longValue();
  }

  /** A finite number; {@code positive} also refuses zero and below. */
  public double number(JsonNode n, String key, String field, boolean positive) {
    JsonNode v = n.get(key);
    if (v == null || !v.isNumber() || !Double.isFinite(v.doubleValue()) || (positive && !(v.doubleValue() > 0))) {
      throw bad(field, "must be a " + (positive ? "positive " : "") + "finite number, got " + shown(v));
    }
    return v.doubleValue();
  }

  // ---------------------------------------------------------------- how values are shown

  /** A value as it stands in the JSON, cut short: messages stay one readable line. */
  public static String shown(JsonNode v) {
    if (v == null || v.isMissingNode()) {
      return "nothing (missing)";
    }
    return cut(v.toString(), SHOWN);
  }

  /** A field path whose key is user text (a file name): quoted as JSON when it is not plain. */
  public static String shownField(String parent, String key) {
    return parent + (key.matches("[A-Za-z0-9_./-]{1,100}") ? "." + key : "[" + quoted(key, SHOWN) + "]");
  }

  /** {@code s} as a JSON string literal, cut to {@code max} characters. */
  public static String quoted(String s, int max) {
    return cut(new TextNode(s).toString(), max);
  }

  /** {@code s}, or its first {@code max - 3} characters and "...". */
  public static String cut(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }

  /** The first line of {@code s}, cut short; "" for null. */
  public static String oneLine(String s) {
    return s == null ? "" : cut(s.lines().findFirst().orElse(""), MESSAGE);
  }
}
