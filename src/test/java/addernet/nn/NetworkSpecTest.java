package addernet.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class NetworkSpecTest {
  @Test
  void shippedLenetAdderHasOnlyAdderLayersAndTheLeNetShapes() {
    NetworkSpec s = NetworkSpec.resolve("lenet5-adder");
    List<NetworkSpec.LayerSpec> weighted =
        s.layers().stream().filter(l -> l.operation() != null).toList();
    assertEquals(5, weighted.size());
    assertTrue(weighted.stream().allMatch(l -> l.operation() == Operation.ADDER));
    assertEquals(new Shape(6, 24, 24), weighted.get(0).outputShape());
    assertEquals(new Shape(16, 8, 8), weighted.get(1).outputShape());
    assertEquals(new Shape(120, 1, 1), weighted.get(2).outputShape());
    assertEquals(new Shape(84, 1, 1), weighted.get(3).outputShape());
    assertEquals(10, s.classes());
    assertEquals(NetworkSpec.Kind.BATCHNORM, s.layers().get(s.layers().size() - 1).kind());
  }

  @Test
  void shippedCnnIsTheAdderNetsTwinLayerForLayer() {
    NetworkSpec adder = NetworkSpec.resolve("lenet5-adder");
    NetworkSpec cnn = NetworkSpec.resolve("lenet5-cnn");
    NetworkSpec twin = adder.withOperation(Operation.MULTIPLY, "twin");
    assertEquals(twin.layers().size(), cnn.layers().size());
    for (int i = 0; i < cnn.layers().size(); i++) {
      NetworkSpec.LayerSpec a = twin.layers().get(i);
      NetworkSpec.LayerSpec b = cnn.layers().get(i);
      assertEquals(a.kind(), b.kind());
      assertEquals(a.operation(), b.operation());
      assertEquals(a.outputShape(), b.outputShape());
    }
  }

  private static String error(String text) {
    return assertThrows(SpecException.class, () -> NetworkSpec.parse("net", text)).getMessage();
  }

  @Test
  void channelMismatchNamesTheLayerAndLine() {
    String m = error("input 1x28x28\nconv adder 1->6 kernel=5\nrelu\nconv adder 8->16 kernel=5\nflatten\nfc adder 6400->10\n");
    assertTrue(m.contains("line 4"), m);
    assertTrue(m.contains("conv adder 8->16 kernel=5"), m);
    assertTrue(m.contains("expects 8 input channels"), m);
    assertTrue(m.contains("6x24x24"), m);
  }

  @Test
  void fullyConnectedOnASpatialInputAsksForFlatten() {
    String m = error("input 1x8x8\nconv adder 1->4 kernel=3\nfc adder 144->10\n");
    assertTrue(m.contains("line 3") && m.contains("flatten"), m);
  }

  @Test
  void fullyConnectedWithWrongInputSizeIsRejected() {
    String m = error("input 1x8x8\nflatten\nfc adder 60->10\n");
    assertTrue(m.contains("line 3") && m.contains("expects 60 inputs but its input has 64"), m);
  }

  @Test
  void kernelLargerThanInputIsRejected() {
    String m = error("input 1x4x4\nconv multiply 1->2 kernel=5\nflatten\nfc adder 2->2\n");
    assertTrue(m.contains("line 2") && m.contains("does not fit input 1x4x4"), m);
  }

  @Test
  void networkMustEndInOneScorePerClass() {
    String m = error("input 1x8x8\nconv adder 1->4 kernel=3\nrelu\n");
    assertTrue(m.contains("ends with shape 4x6x6"), m);
  }

  @Test
  void unknownLayersAndMissingInputAreNamed() {
    assertTrue(error("input 1x8x8\ndropout 0.5\n").contains("unknown layer 'dropout'"));
    assertTrue(error("conv adder 1->4 kernel=3\n").contains("first line must be 'input CxHxW'"));
    assertTrue(error("input 1x8x8\nconv adder 1->4\n").contains("kernel=K"));
    assertTrue(error("input 1x8x8\nconv divide 1->4 kernel=3\n").contains("'adder' or 'multiply'"));
  }

  @Test
  void unknownModelNameListsTheShippedOnes() {
    String m = assertThrows(SpecException.class, () -> NetworkSpec.resolve("lenet9")).getMessage();
    assertTrue(m.contains("lenet5-adder"), m);
  }

  @Test
  void parameterBoundIsTwoToTheTwentySevenInAll() {
    // 65536 x 2048 weights are exactly 2^27: accepted; a batch norm's 2 x 2048 more are not.
    NetworkSpec atBound = NetworkSpec.parse("net", "input 65536x1x1\nflatten\nfc adder 65536->2048");
    assertEquals(1L << 27, atBound.parameters());
    assertTrue(error("input 65536x1x1\nflatten\nfc adder 65536->2048\nbatchnorm")
        .contains("line 4 (batchnorm): its 4,096 parameters bring the network to 134,221,824"));
    String m = error("input 1x1x1\nflatten\nfc adder 1->16384\nfc adder 16384->8192\nfc adder 8192->2\n");
    assertTrue(m.contains("line 4") && m.contains("134,217,728 parameters bring the network to 134,234,112"), m);
    assertTrue(m.contains("docs/spec-format.md"), m);
  }

  @Test
  void activationBoundCoversInputOutputsAndPatchMatrices() {
    NetworkSpec.parse("net", "input 1x2048x2048\nmaxpool 2048\nflatten\nfc adder 1->2");
    assertTrue(error("input 2x2048x2048\nmaxpool 2048\nflatten\nfc adder 2->2").contains("8,388,608 values"));
    String m = error("input 4x64x64\nconv adder 4->1 kernel=33\nflatten\nfc adder 1024->2");
    assertTrue(m.contains("line 2") && m.contains("patch matrix") && m.contains("4,460,544"), m);
  }

  @Test
  void numbersArePlainDigitsAndOptionsAppearOnce() {
    assertTrue(error("input 1x8x8\nconv adder 1->4 kernel=+3\nflatten\nfc adder 144->10").contains("got '+3'"));
    assertTrue(error("input 1x8x8\nconv adder 1->4 kernel=\u0663\nflatten\nfc adder 144->10").contains("whole number"));
    assertTrue(error("input 1x8x8\nconv adder 1->4 kernel=3 stride=1 stride=2\nflatten\nfc adder 144->10")
        .contains("option 'stride' is given twice"));
  }

  @Test
  void shapeRefusesSizesBeyondAnInt() {
    assertThrows(IllegalArgumentException.class, () -> new Shape(1 << 20, 2048, 2048));
    assertEquals(Integer.MAX_VALUE, new Shape(Integer.MAX_VALUE, 1, 1).size());
  }

  @Test
  void trainingNeedsThreeCopiesOfTheParametersAndIsRefusedBeyondTheHeap() {
    NetworkSpec lenet = NetworkSpec.resolve("lenet5-adder");
    assertTrue(lenet.trainingBytes(128) > 12 * lenet.parameters());
    assertTrue(lenet.evaluationBytes(500) < lenet.trainingBytes(500));
    lenet.requireFits(128, 500, 1L << 30);
    String m = assertThrows(SpecException.class, () -> lenet.requireFits(2048, 500, 64L << 20)).getMessage();
    assertTrue(m.contains("lenet5-adder") && m.contains("batch of 2048") && m.contains("-Xmx"), m);
  }
}
