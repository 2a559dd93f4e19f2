package addernet.fuzz;

import static addernet.fuzz.FuzzSupport.assertOneLineNaming;
import static addernet.fuzz.FuzzSupport.assertUserError;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.cli.CliRun;
import addernet.data.Normalization;
import addernet.export.ModelPackage;
import addernet.export.PackageException;
import addernet.quant.PeOp;
import addernet.io.Names;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.SpecException;
import addernet.quant.IntNetwork;
import addernet.quant.RandomNetworks;
import addernet.quant.Scales;
import addernet.torch.StateDictWriter;
import addernet.torch.TorchTensor;
import addernet.train.Checkpoint;
import addernet.train.CheckpointException;
import addernet.train.Recipe;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Names with control, line-separator or bidirectional-override characters, wherever a name is
 * read: each reader refuses them with one line that shows the name escaped, never raw.
 */
class HostileNamesTest {
  private static final String SPEC = "input 1x4x4\nflatten\nfc multiply 16->3\nbatchnorm";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One name per kind of character the rule refuses, and the escape a message shows for it. */
  private static final Map<String, String> HOSTILE = new LinkedHashMap<>();

  static {
    HOSTILE.put("a\u202eb", "\\u202E");
    HOSTILE.put("a\u2028b", "\\u2028");
    HOSTILE.put("a\u0085b", "\\u0085");
    HOSTILE.put("a\u001b[31mb", "\\u001B");
    HOSTILE.put("a\nb", "\\n");
    HOSTILE.put("a\u2066b", "\\u2066");
  }

  /** And a lone surrogate, which no UTF-8 file can carry, so only text read in memory is tried with it. */
  private static final Map<String, String> IN_MEMORY = new LinkedHashMap<>(HOSTILE);

  static {
    IN_MEMORY.put("a\ud800b", "\\uD800");
  }

  @TempDir Path dir;

  private static void assertShownEscaped(String message, String name, String escape) {
    assertTrue(message.contains(escape), "no " + escape + " in: " + message);
    assertFalse(message.contains(name), "the name is shown raw: " + message);
    for (int i = 0; i < message.length(); i++) {
      assertTrue(Names.allowed(message.charAt(i)) || message.charAt(i) == '\t',
          "raw U+" + Integer.toHexString(message.charAt(i)) + " in: " + message);
    }
  }

  @Test
  void theRuleRefusesControlSeparatorAndBidiCharactersAndKeepsOrdinaryText() {
    for (String name : IN_MEMORY.keySet()) {
      assertFalse(Names.valid(name), Names.printable(name));
    }
    for (String name : List.of("lenet5-adder", "résumé net", "网络 1", "x\"\"\" quoted", "emoji \ud83d\ude00")) {
      assertNull(Names.problem(name), name);
    }
    assertFalse(Names.valid("x".repeat(Names.MAX_LENGTH + 1)));
  }

  @Test
  void printableEscapesEveryRefusedCharacter() {
    IN_MEMORY.forEach((name, escape) -> assertShownEscaped(Names.printable(name), name, escape));
  }

  @Test
  void stateDictKeysOutsideTheRuleAreRefusedShownEscaped() throws IOException {
    Path spec = dir.resolve("tiny.spec");
    Files.writeString(spec, SPEC);
    for (Map.Entry<String, String> h : HOSTILE.entrySet()) {
      LinkedHashMap<String, TorchTensor> sd = new LinkedHashMap<>();
      sd.put("2.weight" + h.getKey(), TorchTensor.ofFloats(new int[] {3, 16}, new float[48]));
      Path pt = dir.resolve("keys.pt");
      StateDictWriter.write(pt, sd);
      CliRun.Outcome o = FuzzSupport.cli("import", "--torch", pt.toString(), "--model", spec.toString(), "--out",
          dir.resolve("out").toString(), "--normalize", "0.2,0.3", "--data", dir.resolve("none").toString());
      String line = assertUserError(o, pt.toString(), "state_dict key");
      assertShownEscaped(o.err().strip(), h.getKey(), h.getValue());
      assertTrue(line.contains("docs") || line.contains("printable"), line);
    }
  }

  @Test
  void specNamesOutsideTheRuleAreRefusedShownEscaped() {
    IN_MEMORY.forEach((name, escape) -> {
      SpecException e = assertThrows(SpecException.class, () -> NetworkSpec.parse(name, SPEC));
      assertOneLineNaming(e, "network name");
      assertShownEscaped(e.getMessage(), name, escape);
    });
  }

  @Test
  void aSpecFileWhoseNameHoldsANewlineIsRefused() throws IOException {
    Path spec = dir.resolve("two\nlines.spec");
    Files.writeString(spec, SPEC);
    SpecException e = assertThrows(SpecException.class, () -> NetworkSpec.resolve(spec.toString()));
    assertOneLineNaming(e, "two\\nlines");
  }

  @Test
  void checkpointNetworkNamesOutsideTheRuleAreRefusedShownEscaped() throws IOException {
    Network net = Network.build(NetworkSpec.parse("tiny", SPEC), 1);
    Path ck = dir.resolve("ck");
    new Checkpoint(net, new Normalization(0.2, 0.3), 0, Recipe.defaults(1, 1), List.of(), Map.of()).save(ck);
    Path manifest = ck.resolve(Checkpoint.MANIFEST);
    ObjectNode good = (ObjectNode) JSON.readTree(manifest.toFile());
    for (Map.Entry<String, String> h : HOSTILE.entrySet()) {
      ObjectNode m = good.deepCopy();
      m.put("network", h.getKey());
      JSON.writeValue(manifest.toFile(), m);
      CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.load(ck));
      assertOneLineNaming(e, "network");
      assertShownEscaped(e.getMessage(), h.getKey(), h.getValue());
    }
  }

  private Path writePackage() throws IOException {
    IntNetwork net = RandomNetworks.create(1, PeOp.ADDER);
    int size = net.inChannels() * net.inHeight() * net.inWidth();
    double[] scales = new double[net.layers().size()];
    Arrays.fill(scales, 0.05);
    Path pkg = dir.resolve("pkg");
    new ModelPackage(net, new Scales(scales, 0.01), Map.of(),
        ModelPackage.Golden.of(net, new int[][] {new int[size]}, new int[] {0})).write(pkg);
    return pkg;
  }

  @Test
  void packageNetworkNamesOutsideTheRuleAreRefusedShownEscaped() throws IOException {
    Path pkg = writePackage();
    Path manifest = pkg.resolve(ModelPackage.MANIFEST);
    ObjectNode good = (ObjectNode) JSON.readTree(manifest.toFile());
    for (Map.Entry<String, String> h : HOSTILE.entrySet()) {
      ObjectNode m = good.deepCopy();
      m.put("network", h.getKey());
      JSON.writeValue(manifest.toFile(), m);
      PackageException e = assertThrows(PackageException.class, () -> ModelPackage.read(pkg));
      assertOneLineNaming(e, "network");
      assertShownEscaped(e.getMessage(), h.getKey(), h.getValue());
    }
  }

  @Test
  void aPackageLayerNamedInputInAnyCaseIsRefused() throws IOException {
    Path pkg = writePackage();
    Path manifest = pkg.resolve(ModelPackage.MANIFEST);
    ObjectNode good = (ObjectNode) JSON.readTree(manifest.toFile());
    for (String name : List.of("input", "INPUT", "Input")) {
      ObjectNode m = good.deepCopy();
      ((ObjectNode) m.get("layers").get(0)).put("name", name);
      JSON.writeValue(manifest.toFile(), m);
      PackageException e = assertThrows(PackageException.class, () -> ModelPackage.read(pkg));
      assertOneLineNaming(e, "layers[0].name");
      assertTrue(e.getMessage().contains("not \"input\" in any case"), e.getMessage());
    }
  }
}
