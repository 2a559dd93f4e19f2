package addernet.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The packages shipped in model/ are valid by their own reader, golden vectors included. */
class ShippedModelTest {
  @Test
  void shippedEightBitLenetReadsBackAndReproducesItsGoldenVectors() throws Exception {
    ModelPackage p = ModelPackage.read(Path.of("model/lenet5-adder-8bit"));
    assertEquals("lenet5-adder", p.network().name());
    assertEquals(5, p.network().layers().size());
    assertEquals(1, p.network().inputShift());
    assertEquals(10, p.network().classes());
    // Contract section 3: conv3's K = 16 * 4 * 4 = 256 is this net's largest; 256 * 255 <= 2^16.
    assertEquals(256, p.network().layers().get(2).k());
    assertEquals(17, p.network().accBits(2));
    int agree = 0;
    for (int v = 0; v < p.golden().count(); v++) {
      int[] logits = p.network().logits(p.golden().pixels()[v]);
      int best = 0;
      for (int c = 1; c < logits.length; c++) {
        best = logits[c] > logits[best] ? c : best;
      }
      agree += best == p.golden().labels()[v] ? 1 : 0;
    }
    assertTrue(agree >= p.golden().count() / 2, agree + " of " + p.golden().count() + " golden images classified right");
  }

  @Test
  void shippedTinyAdderReadsUnderTheStrictRules() throws Exception {
    // Written before the operation field and the output marker: still a valid package.
    ModelPackage p = ModelPackage.read(Path.of("model/tiny-adder-8bit"));
    assertEquals("tiny-adder", p.network().name());
    assertTrue(p.network().layers().stream().allMatch(l -> l.op() == addernet.quant.PeOp.ADDER));
    for (int label : p.golden().labels()) {
      assertTrue(label >= 0 && label < p.network().classes(), "label " + label);
    }
  }

  @Test
  void shippedResnet20IsAllAdderWithNineAddsAndOnePoolAndReproducesItsGoldenVectors() throws Exception {
    // The reader recomputes every node of every golden vector and refuses the package on the first
    // element that differs, so reading it back is the node-by-node check.
    ModelPackage p = ModelPackage.read(Path.of("model/resnet20-adder-8bit"));
    addernet.quant.IntNetwork net = p.network();
    assertEquals("resnet20-adder", net.name());
    assertEquals(22, net.layers().size()); // 19 convs of the blocks and stem, 2 shortcuts, fc
    assertTrue(net.layers().stream().allMatch(l -> l.op() == addernet.quant.PeOp.ADDER));
    assertEquals(9, net.nodes().stream().filter(n -> n.kind() == addernet.quant.IntNode.Kind.ADD).count());
    assertEquals(1, net.nodes().stream().filter(n -> n.kind() == addernet.quant.IntNode.Kind.AVGPOOL).count());
    assertEquals(10, net.classes());
    assertTrue(p.golden().count() >= 1);
  }
}
