package addernet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The network runs each batch norm and the ReLU after it as one pass; that must give the same
 * bits as the layers run one by one (as quantization-aware training runs them), forward, in the
 * parameter gradients and in eval mode.
 */
class NetworkFusionTest {
  private static final NetworkSpec SPEC =
      NetworkSpec.parse(
          "fusion",
          String.join("\n",
              "input 1x10x10",
              "conv adder 1->4 kernel=3",
              "batchnorm",
              "relu",
              "maxpool 2",
              "flatten",
              "fc multiply 64->6",
              "batchnorm",
              "relu",
              "fc adder 6->5",
              "batchnorm"));
  private static final int BATCH = 9;

  private static Tensor input() {
    return new Tensor(SPEC.input(), BATCH, AdderFormulaTest.random(new Random(5), SPEC.input().size() * BATCH, 1));
  }

  private static float[] gradient(int n) {
    return AdderFormulaTest.random(new Random(6), n, 1);
  }

  @Test
  void fusedBatchNormAndReluGiveTheLayerByLayerBits() {
    try (Workers workers = new Workers(2)) {
      Network fused = Network.build(SPEC, 3);
      Network separate = Network.build(SPEC, 3);
      Tensor a = fused.forward(input(), Mode.TRAIN, workers);
      Tensor x = input();
      List<Layer> layers = separate.layers();
      for (Layer l : layers) {
        x = l.forward(x, Mode.TRAIN, workers);
      }
      assertArrayEquals(x.data(), a.data(), "scores");
      float[] g = gradient(a.data().length);
      fused.backward(new Tensor(a.shape(), BATCH, g.clone()), workers);
      Tensor gs = new Tensor(x.shape(), BATCH, g.clone());
      for (int i = layers.size() - 1; i >= 0; i--) {
        gs = layers.get(i).backward(gs, i > 0, workers);
      }
      boolean someNonZero = false;
      for (int p = 0; p < fused.params().size(); p++) {
        float[] expected = separate.params().get(p).grad();
        assertArrayEquals(expected, fused.params().get(p).grad(), separate.params().get(p).name());
        for (float v : expected) {
          someNonZero |= v != 0f;
        }
      }
      assertTrue(someNonZero, "the gradients must not all be zero");
      Tensor e = fused.forward(input(), Mode.EVAL, workers);
      Tensor ex = input();
      for (Layer l : layers) {
        ex = l.forward(ex, Mode.EVAL, workers);
      }
      assertArrayEquals(ex.data(), e.data(), "eval scores");
    }
  }
}
