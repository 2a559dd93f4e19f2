package addernet.gen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import addernet.export.ResidualNets;
import addernet.hw.LayerRoute;
import addernet.io.UserError;
import addernet.quant.IntLayer;
import addernet.quant.IntNetwork;
import addernet.quant.IntNode;
import addernet.quant.Requant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where the layers of a network with branches read and write, and what the accelerator refuses. */
class BufferPlanTest {
  private static String routes(BufferPlan p) {
    return String.join(" ", Arrays.stream(p.routes()).map(r -> r.src() + ">" + r.dst()
        + (r.adds() ? "+" + r.addFrom() + "s" + r.addShift() : "") + (r.pools() ? "p" + r.poolShift() : "")).toList());
  }

  @Test
  void anIdentityAddGoesInPlaceAndAConvolutionShortcutWaitsInTheSkipBuffer() {
    BufferPlan p = BufferPlan.of(ResidualNets.residual(3));
    // conv1 0>1; b1_conv1 1>0; b1_conv2 adds conv1's output in place (1); b2_conv1 1>0; b2_conv2
    // (its add's other operand still to come) into the skip buffer; b2_down adds it, and its
    // sum feeds the 4x4 = 2^4 global pool, whose means go to buffer 0; fc gives the logits.
    assertEquals("0>1 1>0 0>1+1s1 1>0 0>2 1>0+2s0p4 0>-1", routes(p));
    assertEquals(List.of(0, 1, 3, 4, 5, 8, 9), Arrays.stream(p.stored()).boxed().toList());
  }

  @Test
  void aChainKeepsThePingPongAndNeedsNoRoutes() {
    BufferPlan p = BufferPlan.of(addernet.quant.RandomNetworks.create(5));
    assertTrue(p.chain());
    assertEquals(0, p.routes().length);
  }

  /** res8 with its 4x4 global pool replaced by a 2x2 one and the classifier over the 2x2 map. */
  private static IntNetwork withPool(int k) {
    IntNetwork base = ResidualNets.residual(3);
    List<IntNode> n = new ArrayList<>(base.nodes().subList(0, 8));
    n.add(IntNode.avgPool("pool", 7, 6, 4, 4, 8, k, IntNode.poolRequant(k, 8, 16, 6)));
    int side = 4 / k;
    int kk = 6 * side * side;
    int[] w = new int[5 * kk];
    Requant rq = Requant.fromAffine(new double[] {0.01, 0.01, 0.01, 0.01, 0.01}, new double[5], 16, 4, -32768, 32767);
    n.add(IntNode.layer(new IntLayer("fc", side > 1, 6, side, side, 5, side, 1, 0, 8, w, rq, false), 8, 16));
    return IntNetwork.graph("res8-pool" + k, 1, 10, 10, n, 16);
  }

  @Test
  void aPoolThatIsNotGlobalIsRefusedNamingIt() {
    UserError e = assertThrows(UserError.class, () -> BufferPlan.of(withPool(2)));
    assertEquals("res8-pool2: the accelerator cannot run node 8 (pool), an average pool of 2x2 windows over a 4x4"
        + " map; the accelerator pools whole maps of 2^n values (docs/accelerator.md, \"Networks with branches\")",
        e.getMessage());
    // A whole map of 16 = 2^4 values is what it runs.
    assertEquals(4, BufferPlan.of(withPool(4)).routes()[5].poolShift());
  }

  @Test
  void theGeneratorRefusesARouteThatReadsTheSkipBuffer() {
    IntNetwork net = ResidualNets.residual(3);
    LayerRoute[] r = BufferPlan.of(net).routes();
    r[6] = new LayerRoute(2, -1, -1, 0, -1); // fc fed from the skip buffer
    var opt = AcceleratorGenerator.fit(net, 2, 2, 2);
    var e = assertThrows(AcceleratorGenerator.Unbuildable.class, () -> AcceleratorGenerator.config(net.name(), opt,
        addernet.quant.PeOp.ADDER, 8, 6, 16, 1, AcceleratorGenerator.layerParams(net), r));
    assertEquals("fc: the mesh reads buffer 0 or 1, not 2", e.reason());
  }
}
