package addernet.gen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.io.UserError;
import addernet.nn.Operation;
import addernet.quant.IntNetwork;
import addernet.quant.PeOp;
import addernet.quant.RandomNetworks;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The words accel.json and array.json use, and folders of another format version refused. */
class ManifestWordsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path tmp;

  @Test
  void everyPeOperationHasOneWordAndOneTrainedOperation() {
    for (PeOp op : PeOp.values()) {
      assertEquals(op, PeOp.fromWord(op.word()));
    }
    for (Operation o : Operation.values()) {
      assertEquals(o.keyword(), PeOp.of(o).word(), "the spec's keyword is the PE's word");
    }
    assertThrows(IllegalArgumentException.class, () -> PeOp.fromWord("mac"));
  }

  @Test
  void accelJsonRecordsOneWeightMemoryFieldInItsWords() throws Exception {
    IntNetwork net = RandomNetworks.create(31);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 2)
        .withWeights(WeightMemory.STREAM).withControl(Control.PLAIN), rtl);
    ObjectNode root = (ObjectNode) JSON.readTree(rtl.resolve(AcceleratorGenerator.CONFIG_FILE).toFile());
    assertEquals("stream", root.path("weightMemory").asText());
    assertFalse(root.has("weights"), root.toString());
    assertEquals("plain", root.path("control").asText());
    assertEquals("adder", root.path("op").asText());
    var m = AccelManifest.read(rtl);
    assertEquals(WeightMemory.STREAM, m.memory());
    assertEquals(Control.PLAIN, m.controlMode());
  }

  @Test
  void anAccelJsonOfAnotherVersionIsRefusedWithTheCommandThatWritesItAgain() throws Exception {
    IntNetwork net = RandomNetworks.create(31);
    Path rtl = tmp.resolve("rtl");
    AcceleratorGenerator.generate(net, AcceleratorGenerator.fit(net, 2, 2, 2), rtl);
    Path f = rtl.resolve(AcceleratorGenerator.CONFIG_FILE);
    ObjectNode root = (ObjectNode) JSON.readTree(f.toFile());
    root.put("formatVersion", 3).put("op", "mac");
    JSON.writeValue(f.toFile(), root);
    UserError e = assertThrows(UserError.class, () -> AccelManifest.read(rtl));
    assertTrue(e.getMessage().contains("field formatVersion: expected 4")
        && e.getMessage().contains("addernet generate --model PKG --rows 2 --cols 2 --out " + rtl), e.getMessage());
  }

  @Test
  void anArrayJsonOfAnotherVersionIsRefusedWithTheCommandThatWritesItAgain() throws Exception {
    Path rtl = tmp.resolve("array");
    ArrayGenerator.generate(ArrayConfig.derived(2, 3, 8, 16, PeOp.MULTIPLY), rtl);
    Path f = rtl.resolve(ArrayGenerator.CONFIG_FILE);
    assertEquals("multiply", JSON.readTree(f.toFile()).path("op").asText());
    ObjectNode root = (ObjectNode) JSON.readTree(f.toFile());
    root.put("formatVersion", 1);
    Files.writeString(f, JSON.writeValueAsString(root));
    UserError e = assertThrows(UserError.class, () -> ArrayGenerator.read(rtl));
    assertTrue(e.getMessage().contains("field formatVersion: expected 2")
        && e.getMessage().contains("addernet generate --rows 2 --cols 3 --out " + rtl), e.getMessage());
  }
}
