package addernet.fuzz;

import addernet.gen.AccelManifest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import addernet.cli.CliRun;
import addernet.gen.AcceleratorGenerator;
import addernet.gen.ArrayConfig;
import addernet.gen.ArrayGenerator;
import addernet.quant.PeOp;
import addernet.io.UserError;
import addernet.quant.IntNetwork;
import addernet.quant.RandomNetworks;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Generated corruptions of array.json and accel.json (fields removed, null, of the wrong type,
 * huge or negative numbers, file lists pointing outside the folder): each is read back as cosim
 * and synth read it, and must be either accepted or refused with one UserError line naming the
 * file; never any other exception. A sample of the refusals also goes through the CLI: exit 2,
 * one {@code error:} line, no stack trace.
 */
class ManifestFuzzTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory N = JsonNodeFactory.instance;

  // Shared by the JUnit and the jqwik engine (which has its own lifecycle), made once.
  private static Path tmp;
  private static Path array;
  private static Path accel;

  private static synchronized void generate() throws IOException {
    if (tmp != null) {
      return;
    }
    tmp = Files.createTempDirectory("manifest-fuzz");
    Path root = tmp;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        addernet.io.Outputs.deleteTree(root);
      } catch (IOException e) {
        // the temporary folder is the system's to clean then
      }
    }));
    array = tmp.resolve("array");
    ArrayGenerator.generate(ArrayConfig.derived(2, 2, 8, 16, PeOp.ADDER), array);
    accel = tmp.resolve("accel");
    IntNetwork net = RandomNetworks.create(5);
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 1), accel);
  }

  /** Replacement values for one field: null, every other JSON type, extreme numbers. */
  private static List<JsonNode> badValues(Path dir) {
    return List.of(
        N.nullNode(), N.textNode("2"), N.textNode(""), N.numberNode(2.5), N.booleanNode(true),
        N.arrayNode(), N.objectNode(), N.numberNode(0), N.numberNode(-1),
        N.numberNode(Integer.MAX_VALUE), N.numberNode(1L << 31), N.numberNode(Long.MAX_VALUE),
        N.numberNode(new BigInteger("1" + "0".repeat(30))), N.numberNode(1e300),
        N.arrayNode().addNull(), N.arrayNode().add("../outside.sv"),
        N.arrayNode().add(dir.getParent().resolve("outside.sv").toString()),
        N.arrayNode().add("link.sv"), N.arrayNode().add("a b.sv"),
        N.arrayNode().add("x.sv\"; !touch pwned; \""), N.arrayNode().add(N.objectNode()));
  }

  private record Case(String name, Path dir, String file, Consumer<ObjectNode> change) {}

  private static List<Case> cases(Path dir, String file) {
    ObjectNode good = read(dir.resolve(file));
    List<Case> out = new ArrayList<>();
    for (Iterator<String> it = good.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      out.add(new Case(file + " without " + f, dir, file, o -> o.remove(f)));
      for (JsonNode v : badValues(dir)) {
        out.add(new Case(file + " " + f + " = " + v, dir, file, o -> o.set(f, v)));
      }
    }
    out.add(new Case(file + " with an unknown field", dir, file, o -> o.put("rowz", 2)));
    if (good.has("layers")) {
      out.add(new Case(file + " layers[0] = null", dir, file, o -> ((com.fasterxml.jackson.databind.node.ArrayNode) o.get("layers")).set(0, N.nullNode())));
      out.add(new Case(file + " layers[0].terms = null", dir, file, o -> ((ObjectNode) o.get("layers").get(0)).putNull("terms")));
      out.add(new Case(file + " layers[0].terms[0] = null", dir, file, o -> ((com.fasterxml.jackson.databind.node.ArrayNode) o.get("layers").get(0).get("terms")).set(0, N.nullNode())));
      out.add(new Case(file + " layers[0].outC = 2^31 - 1", dir, file, o -> ((ObjectNode) o.get("layers").get(0)).put("outC", Integer.MAX_VALUE)));
    }
    return out;
  }

  @TestFactory
  Stream<DynamicTest> corruptArrayJsonIsAcceptedOrRefusedInOneLine() throws IOException {
    generate();
    return run(array, ArrayGenerator.CONFIG_FILE);
  }

  @TestFactory
  Stream<DynamicTest> corruptAccelJsonIsAcceptedOrRefusedInOneLine() throws IOException {
    generate();
    return run(accel, AcceleratorGenerator.CONFIG_FILE);
  }

  private Stream<DynamicTest> run(Path dir, String file) throws IOException {
    Files.writeString(dir.getParent().resolve("outside.sv"), "module outside; endmodule\n");
    Path link = dir.resolve("link.sv");
    if (!Files.exists(link)) {
      Files.createSymbolicLink(link, dir.getParent().resolve("outside.sv"));
    }
    Map<String, Integer> refusedBy = new LinkedHashMap<>();
    return cases(dir, file).stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
      Path f = dir.resolve(file);
      String original = Files.readString(f);
      try {
        ObjectNode o = read(f);
        c.change().accept(o);
        Files.writeString(f, JSON.writeValueAsString(o));
        UserError e = readBack(dir, file);
        if (e != null) {
          assertOneLine(e.getMessage(), c.name());
          assertTrue(e.getMessage().contains(dir.toString()), "does not name the folder or file: " + e.getMessage());
          // One CLI run per field name keeps this quick and still covers every field.
          String field = c.name().split(" ")[1];
          if (refusedBy.merge(field, 1, Integer::sum) == 1) {
            cliRefuses(dir, c.name());
          }
        }
      } finally {
        Files.writeString(f, original);
      }
    }));
  }

  /** Reads the folder as cosim and synth do; null when it is accepted. */
  private static UserError readBack(Path dir, String file) {
    try {
      if (file.equals(ArrayGenerator.CONFIG_FILE)) {
        ArrayGenerator.read(dir).config();
      } else {
        var m = AccelManifest.read(dir);
        m.peOp();
      }
      return null;
    } catch (UserError e) {
      return e;
    } catch (RuntimeException e) {
      fail("not a one-line refusal: " + e, e);
      return null;
    }
  }

  private static void cliRefuses(Path dir, String name) {
    CliRun.Outcome o = CliRun.run("synth", "--rtl", dir.toString(), "--target", "generic", "--no-pnr");
    String text = o.err();
    assertEquals(2, o.code(), name + ": " + text);
    assertTrue(text.startsWith("error: "), name + ": " + text);
    assertOneLine(text.strip(), name);
  }

  private static void assertOneLine(String message, String name) {
    assertFalse(message.contains("\n"), name + ": more than one line: " + message);
    assertFalse(message.contains("Exception") || message.contains("\tat "), name + ": " + message);
  }

  /** Random numbers in every numeric field of accel.json: refused or accepted, nothing else. */
  @Property(tries = 150)
  void anyNumberInAnyFieldOfAccelJsonIsAcceptedOrRefusedInOneLine(
      @ForAll @IntRange(min = 0, max = 40) int fieldIndex, @ForAll long value) throws IOException {
    generate();
    Path f = accel.resolve(AcceleratorGenerator.CONFIG_FILE);
    String original = Files.readString(f);
    try {
      ObjectNode o = read(f);
      List<String> fields = new ArrayList<>();
      o.fieldNames().forEachRemaining(fields::add);
      o.put(fields.get(fieldIndex % fields.size()), value);
      Files.writeString(f, JSON.writeValueAsString(o));
      UserError e = readBack(accel, AcceleratorGenerator.CONFIG_FILE);
      if (e != null) {
        assertOneLine(e.getMessage(), fields.get(fieldIndex % fields.size()) + " = " + value);
      }
    } finally {
      Files.writeString(f, original);
    }
  }

  private static ObjectNode read(Path f) {
    try {
      return (ObjectNode) JSON.readTree(f.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
