package addernet.quant;

import addernet.nn.BatchNorm;
import addernet.nn.Conv2d;
import addernet.nn.Dense;
import addernet.nn.Flatten;
import addernet.nn.Layer;
import addernet.nn.MaxPool;
import addernet.nn.Network;
import addernet.nn.Relu;
import addernet.nn.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * One weighted layer of a float network (an adder layer, or a multiply layer of the CNN twin)
 * together with what follows it up to the next weighted layer: batch norm, optional ReLU, optional 2x2 max-pool, optional flatten. This is the
 * unit that becomes one {@link IntLayer} (numeric contract, sections 6 and 7).
 *
 * @param name hardware-facing name: conv1, conv2, ..., fc1, fc2, ... in network order
 * @param layerIndex index of the weighted layer in {@link Network#layers()}
 * @param weighted the {@link Conv2d} or {@link Dense}
 * @param inputShape the weighted layer's input as the integer layer sees it (before any flatten)
 */
public record FloatStage(
    String name,
    int layerIndex,
    Layer weighted,
    Shape inputShape,
    BatchNorm batchNorm,
    boolean relu,
    boolean pool) {

  public boolean fullyConnected() {
    return weighted instanceof Dense;
  }

  /** The PE operation that reduces this layer. */
  public PeOp op() {
    return PeOp.of(weighted instanceof Conv2d c ? c.operation() : ((Dense) weighted).operation());
  }

  public float[] weights() {
    return weighted instanceof Conv2d c ? c.weight().value() : ((Dense) weighted).weight().value();
  }

  public int outChannels() {
    return weighted.outputShape().channels();
  }

  /** K of the layer's product: inputs per output. */
  public int reduction() {
    return inputShape.channels() * kernel() * kernel();
  }

  public int kernel() {
    return weighted instanceof Conv2d c ? c.kernel() : inputShape.height();
  }

  public int stride() {
    return weighted instanceof Conv2d c ? c.stride() : 1;
  }

  public int padding() {
    return weighted instanceof Conv2d c ? c.padding() : 0;
  }

  /**
   * Splits a network into stages and checks that it is one the hardware can run: every weighted
   * layer (adder or multiply) followed by batch norm, then optionally ReLU, a 2x2 max-pool and a
   * flatten; no ReLU after the last (its batch-norm outputs are the logits). The first problem is
   * named by layer index.
   */
  public static List<FloatStage> of(Network net) {
    net.spec().requireChain("quantization");
    List<Layer> layers = net.layers();
    List<FloatStage> stages = new ArrayList<>();
    int convs = 0;
    int fcs = 0;
    Shape pendingFlattenFrom = null;
    int i = 0;
    while (i < layers.size()) {
      Layer l = layers.get(i);
      Shape in;
      String name;
      if (l instanceof Conv2d c) {
        if (pendingFlattenFrom != null) {
          throw unsupported(net, i, "a convolution after flatten");
        }
        in = c.inputShape();
        name = "conv" + (++convs);
      } else if (l instanceof Dense d) {
        // A fully-connected layer is a conv whose kernel covers its (square) input,
        // flattened channel-major exactly as Flatten does (contract section 6).
        in = pendingFlattenFrom != null ? pendingFlattenFrom : d.inputShape();
        if (in.height() != in.width()) {
          throw unsupported(net, i, "an fc layer after flattening a non-square " + in + " input");
        }
        name = "fc" + (++fcs);
      } else {
        throw unsupported(net, i, "'" + l.describe() + "' where a conv or fc layer must come");
      }
      pendingFlattenFrom = null;
      int wi = i++;
      if (i >= layers.size() || !(layers.get(i) instanceof BatchNorm bn)) {
        throw unsupported(net, wi, "a conv or fc layer without batch norm right after it");
      }
      i++;
      boolean relu = i < layers.size() && layers.get(i) instanceof Relu;
      if (relu) {
        i++;
      }
      boolean pool = false;
      if (i < layers.size() && layers.get(i) instanceof MaxPool mp) {
        if (mp.size() != 2) {
          throw unsupported(net, i, "a " + mp.size() + "x" + mp.size() + " max-pool (only 2x2)");
        }
        if (!relu) {
          throw unsupported(net, i, "a max-pool without ReLU before it");
        }
        pool = true;
        i++;
      }
      if (i < layers.size() && layers.get(i) instanceof Flatten f) {
        pendingFlattenFrom = f.inputShape();
        i++;
      }
      stages.add(new FloatStage(name, wi, layers.get(wi), in, bn, relu, pool));
    }
    if (stages.isEmpty()) {
      throw new IllegalArgumentException(net.name() + ": no conv or fc layer to quantize");
    }
    for (int s = 0; s < stages.size(); s++) {
      boolean last = s == stages.size() - 1;
      FloatStage st = stages.get(s);
      if (last && (st.relu || st.pool)) {
        throw unsupported(net, st.layerIndex, "ReLU or max-pool after the last layer (its batch-norm outputs are the logits)");
      }
      if (!last && !st.relu) {
        throw unsupported(net, st.layerIndex, "a hidden layer without ReLU (activations must be non-negative)");
      }
    }
    return stages;
  }

  private static IllegalArgumentException unsupported(Network net, int index, String what) {
    return new IllegalArgumentException(
        net.name() + " layer " + index + ": cannot quantize " + what);
  }
}
