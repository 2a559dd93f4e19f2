package addernet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A convolution that unfolds a few images at a time computes what the whole-batch unfold
 * computes (which {@link AdderFormulaTest} pins to the paper's formulas), with the same bits on
 * any number of threads. Shapes with padding, stride and blocks whose column count is not a
 * multiple of the vector length, so the scalar tails run too.
 */
class ConvBlockTest {
  private static final int BATCH = 7;

  private record Pass(float[] y, float[] gw, float[] gx) {}

  private static Pass run(Operation op, Shape in, int out, int k, int stride, int pad, int block, Workers workers) {
    Random r = new Random(11);
    Conv2d conv = new Conv2d("t", op, in, out, k, stride, pad);
    float[] w = conv.weight().value();
    System.arraycopy(AdderFormulaTest.random(r, w.length, 1.5), 0, w, 0, w.length);
    conv.forceBlockImages(block);
    Tensor x = new Tensor(in, BATCH, AdderFormulaTest.random(r, in.size() * BATCH, 1));
    float[] y = conv.forward(x, Mode.TRAIN, workers).data().clone();
    Shape os = conv.outputShape();
    Tensor g = new Tensor(os, BATCH, AdderFormulaTest.random(r, os.size() * BATCH, 1));
    float[] gx = conv.backward(g, true, workers).data().clone();
    return new Pass(y, conv.weight().grad().clone(), gx);
  }

  private static void check(Operation op, Shape in, int out, int k, int stride, int pad) {
    assumeTrue(Operation.VECTOR, "blocks need the vector kernels");
    Conv2d probe = new Conv2d("p", op, in, out, k, stride, pad);
    probe.forceBlockImages(2);
    assertEquals(2, probe.blockImages(BATCH), "the blocked path must run");
    Pass whole = run(op, in, out, k, stride, pad, 0, Workers.single());
    Pass blocked = run(op, in, out, k, stride, pad, 2, Workers.single());
    String what = op + " " + in + " k" + k + " s" + stride + " p" + pad;
    AdderFormulaTest.assertArrayClose(whole.y, blocked.y, 1e-5f, what + " forward");
    AdderFormulaTest.assertArrayClose(whole.gx, blocked.gx, 1e-4f, what + " input gradient");
    AdderFormulaTest.assertArrayClose(whole.gw, blocked.gw, 1e-3f, what + " weight gradient");
    for (int threads : new int[] {2, 3}) {
      try (Workers workers = new Workers(threads)) {
        Pass again = run(op, in, out, k, stride, pad, 2, workers);
        assertArrayEquals(blocked.y, again.y, what + " forward, " + threads + " threads");
        assertArrayEquals(blocked.gw, again.gw, what + " weight gradient, " + threads + " threads");
        assertArrayEquals(blocked.gx, again.gx, what + " input gradient, " + threads + " threads");
      }
    }
  }

  @Test
  void adderBlocksMatchTheWholeBatchWithStrideAndPadding() {
    check(Operation.ADDER, new Shape(3, 9, 7), 5, 3, 2, 1);
  }

  @Test
  void adderBlocksMatchTheWholeBatchWithWholeVectorRows() {
    check(Operation.ADDER, new Shape(2, 12, 12), 6, 5, 1, 0);
  }

  @Test
  void twinBlocksMatchTheWholeBatch() {
    check(Operation.MULTIPLY, new Shape(3, 9, 7), 5, 3, 2, 1);
    check(Operation.MULTIPLY, new Shape(2, 12, 12), 6, 5, 1, 0);
  }

  @Test
  void onlyLayersWhosePatchesOutgrowTheCacheAreBlocked() {
    assumeTrue(Operation.VECTOR, "blocks need the vector kernels");
    Conv2d first = new Conv2d("c1", Operation.ADDER, new Shape(1, 28, 28), 6, 5, 1, 0);
    Conv2d third = new Conv2d("c3", Operation.ADDER, new Shape(16, 4, 4), 120, 4, 1, 0);
    assertEquals(9, first.blockImages(128), "25 rows x 576 columns per image");
    assertEquals(0, third.blockImages(128), "256 x 128 patches fit in cache whole");
  }
}
