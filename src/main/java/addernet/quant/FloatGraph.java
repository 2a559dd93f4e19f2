package addernet.quant;

import addernet.data.ImageSet;
import addernet.data.Normalization;
import addernet.nn.Add;
import addernet.nn.AvgPool;
import addernet.nn.BatchNorm;
import addernet.nn.Conv2d;
import addernet.nn.Dense;
import addernet.nn.Flatten;
import addernet.nn.Layer;
import addernet.nn.MaxPool;
import addernet.nn.Mode;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.Relu;
import addernet.nn.Shape;
import addernet.nn.Tensor;
import addernet.nn.Workers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A float network with branches split into the nodes of numeric contract section 8: each weighted
 * layer with its batch norm (and ReLU, max-pool, flatten) becomes a layer node, each add with the
 * ReLU after it an add node, each average pool a pool node. The first problem is named by the
 * spec's line and node.
 *
 * @param nodes the integer nodes to be, in network order
 */
public record FloatGraph(Network net, List<Node> nodes) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,63}");

  /**
   * One node to be.
   *
   * @param kind what it computes
   * @param name the hardware-facing name: the spec's node name with each '.' as '_'
   * @param inputs the nodes it reads ({@link IntNode#NETWORK_INPUT} for the network input)
   * @param stage the weighted layer of a layer node, else null
   * @param window an average pool's window, else 0
   * @param value index in the float network of the node whose output is this node's value
   * @param shape this node's output shape (before any flatten)
   */
  public record Node(IntNode.Kind kind, String name, int[] inputs, FloatStage stage, int window, int value,
      Shape shape) {
    /** Whether the output can be negative: a layer without ReLU. */
    public boolean signed() {
      return kind == IntNode.Kind.LAYER && !stage.relu();
    }
  }

  /** Splits {@code net} into nodes, or refuses it naming the spec line of the first problem. */
  public static FloatGraph of(Network net) {
    NetworkSpec spec = net.spec();
    List<NetworkSpec.LayerSpec> specs = spec.layers();
    List<Layer> layers = net.layers();
    int n = layers.size();
    int[] readers = new int[n];
    for (NetworkSpec.LayerSpec s : specs) {
      for (int j : s.inputs()) {
        if (j != NetworkSpec.NETWORK_INPUT) {
          readers[j]++;
        }
      }
    }
    // The integer node whose value float node i's output is, or -2 inside a node.
    int[] nodeOf = new int[n];
    java.util.Arrays.fill(nodeOf, -2);
    List<Node> nodes = new ArrayList<>();
    Map<String, String> names = new HashMap<>();
    int i = 0;
    while (i < n) {
      Layer l = layers.get(i);
      NetworkSpec.LayerSpec s = specs.get(i);
      int[] in = new int[s.inputs().length];
      for (int k = 0; k < in.length; k++) {
        int src = s.inputs()[k];
        in[k] = src == NetworkSpec.NETWORK_INPUT ? IntNode.NETWORK_INPUT : nodeOf[src];
        if (in[k] == -2) {
          throw refuse(net, s, "it reads " + specs.get(src).name() + ", which is inside a layer (between a conv and"
              + " its batch norm, ReLU or max-pool)");
        }
        if (in[k] == IntNode.NETWORK_INPUT && (!nodes.isEmpty() || !(l instanceof Conv2d || l instanceof Dense))) {
          throw refuse(net, s, "only the first node, a conv or fc layer, may read the network's input");
        }
        if (in[k] >= 0 && nodes.get(in[k]).signed() && !(l instanceof Add)) {
          throw refuse(net, s, "it reads " + nodes.get(in[k]).name() + ", a layer without ReLU (only an add may)");
        }
      }
      String name = s.name().replace('.', '_');
      if (l instanceof Conv2d || l instanceof Dense) {
        Shape inShape = in[0] == IntNode.NETWORK_INPUT ? net.inputShape() : nodes.get(in[0]).shape();
        if (l instanceof Conv2d c && !c.inputShape().equals(inShape)) {
          throw refuse(net, s, "a convolution after flatten");
        }
        if (l instanceof Dense && inShape.height() != inShape.width()) {
          throw refuse(net, s, "an fc layer after flattening a non-square " + inShape + " input");
        }
        int wi = i;
        int bn = follower(specs, readers, i);
        if (bn < 0 || !(layers.get(bn) instanceof BatchNorm)) {
          throw refuse(net, s, "a conv or fc layer without batch norm right after it");
        }
        int last = bn;
        int relu = follower(specs, readers, last);
        boolean hasRelu = relu >= 0 && layers.get(relu) instanceof Relu;
        if (hasRelu) {
          last = relu;
        }
        int mp = follower(specs, readers, last);
        boolean pool = false;
        if (mp >= 0 && layers.get(mp) instanceof MaxPool m) {
          if (m.size() != 2) {
            throw refuse(net, specs.get(mp), "a " + m.size() + "x" + m.size() + " max-pool (only 2x2)");
          }
          if (!hasRelu) {
            throw refuse(net, specs.get(mp), "a max-pool without ReLU before it");
          }
          pool = true;
          last = mp;
        }
        int fl = follower(specs, readers, last);
        Shape out = layers.get(last).outputShape();
        if (fl >= 0 && layers.get(fl) instanceof Flatten) {
          last = fl;
        }
        FloatStage st = new FloatStage(name, wi, l, inShape, (BatchNorm) layers.get(bn), hasRelu, pool);
        nodes.add(new Node(IntNode.Kind.LAYER, name, in, st, 0, last, out));
        i = last + 1;
      } else if (l instanceof Add) {
        int relu = follower(specs, readers, i);
        if (relu < 0 || !(layers.get(relu) instanceof Relu)) {
          throw refuse(net, s, "an add without ReLU right after it (the integer add ends in ReLU, contract"
              + " section 9)");
        }
        if (in[0] == IntNode.NETWORK_INPUT || in[1] == IntNode.NETWORK_INPUT) {
          throw refuse(net, s, "an add that reads the network's input");
        }
        Node a = nodes.get(in[0]);
        Node b = nodes.get(in[1]);
        if (!a.signed() && !b.signed()) {
          throw refuse(net, s, "an add of " + a.name() + " and " + b.name() + ", neither a conv with batch norm"
              + " and no ReLU (one must be, to be requantized onto the other's scale)");
        }
        if (!a.signed()) {
          in = new int[] {in[1], in[0]}; // the signed branch first, as contract section 9 names them
        }
        for (int k : in) {
          Node src = nodes.get(k);
          if (src.signed() && readers[src.value()] != 1) {
            throw refuse(net, s, src.name() + " is read by more than this add (its requantization targets the"
                + " add's scale)");
          }
        }
        nodes.add(new Node(IntNode.Kind.ADD, name, in, null, 0, relu, layers.get(relu).outputShape()));
        i = relu + 1;
      } else if (l instanceof AvgPool p) {
        if (in[0] == IntNode.NETWORK_INPUT) {
          throw refuse(net, s, "an average pool of the network's input");
        }
        int last = i;
        int fl = follower(specs, readers, i);
        if (fl >= 0 && layers.get(fl) instanceof Flatten) {
          last = fl;
        }
        nodes.add(new Node(IntNode.Kind.AVGPOOL, name, in, null, p.size(), last, p.outputShape()));
        i = last + 1;
      } else if (l instanceof Flatten && in[0] >= 0) {
        nodeOf[i] = in[0]; // the integer layout is already channel-major
        i++;
        continue;
      } else {
        throw refuse(net, s, "'" + l.describe() + "' where a conv, fc, add or average pool must come");
      }
      Node made = nodes.get(nodes.size() - 1);
      if (!NAME.matcher(made.name()).matches() || made.name().equalsIgnoreCase("input")) {
        throw refuse(net, s, "its name " + made.name() + " is not a package node name (a letter, then up to 63"
            + " letters, digits, '_' or '-'; not input)");
      }
      String earlier = names.putIfAbsent(made.name().toLowerCase(Locale.ROOT), made.name());
      if (earlier != null) {
        throw refuse(net, s, "its package name " + made.name() + " is already that of " + earlier
            + " (names are unique ignoring case, '.' written as '_')");
      }
      nodeOf[made.value()] = nodes.size() - 1;
    }
    Node last = nodes.get(nodes.size() - 1);
    if (!last.signed() || nodeOf[n - 1] != nodes.size() - 1) {
      throw refuse(net, specs.get(n - 1), "a last node that is not a conv or fc layer with batch norm and no ReLU"
          + " (its batch-norm outputs are the logits)");
    }
    PeOp op = null;
    for (Node nd : nodes) {
      if (nd.kind() == IntNode.Kind.LAYER) {
        if (op == null) {
          op = nd.stage().op();
        } else if (nd.stage().op() != op) {
          throw new IllegalArgumentException(net.name() + ": cannot quantize " + nd.name() + ", a "
              + nd.stage().op().word() + " layer, beside " + op.word() + " layers: every layer of a package runs on one"
              + " PE operation (contract section 6)");
        }
      }
    }
    for (int j = 0; j + 1 < nodes.size(); j++) {
      Node nd = nodes.get(j);
      if (nd.signed() && (readers[nd.value()] != 1 || nodes.stream().noneMatch(
          m -> m.kind() == IntNode.Kind.ADD && (nodes.get(m.inputs()[0]) == nd || nodes.get(m.inputs()[1]) == nd)))) {
        throw refuse(net, specs.get(nd.stage().layerIndex()), "a hidden layer without ReLU that is not one input of an add");
      }
    }
    return new FloatGraph(net, List.copyOf(nodes));
  }

  /** The node right after {@code i} if it reads {@code i} alone and nothing else reads {@code i}. */
  private static int follower(List<NetworkSpec.LayerSpec> specs, int[] readers, int i) {
    if (i + 1 >= specs.size() || readers[i] != 1) {
      return -1;
    }
    NetworkSpec.LayerSpec next = specs.get(i + 1);
    return next.inputs().length == 1 && next.input() == i ? i + 1 : -1;
  }

  private static IllegalArgumentException refuse(Network net, NetworkSpec.LayerSpec s, String what) {
    return new IllegalArgumentException(net.name() + " line " + s.line() + " (" + s.name() + "): cannot quantize " + what);
  }

  /** Receives, per batch, every float node's output (channel-major, batch inside each channel). */
  @FunctionalInterface
  public interface Sink {
    void accept(Tensor[] outputs, int batch);
  }

  /** Eval-mode pass over the first {@code count} images of {@code set}, showing every node's output. */
  public void run(ImageSet set, int count, Normalization norm, Workers workers, Sink sink) {
    List<Layer> layers = net.layers();
    List<NetworkSpec.LayerSpec> specs = net.spec().layers();
    for (int from = 0; from < count; from += FloatPass.BATCH) {
      int b = Math.min(FloatPass.BATCH, count - from);
      Tensor x = Tensor.fromImages(net.inputShape(), b, FloatPass.normalized(set, from, b, norm));
      // Each layer owns its output buffer and runs once per pass, so every output stays valid.
      Tensor[] out = new Tensor[layers.size()];
      for (int i = 0; i < layers.size(); i++) {
        int[] src = specs.get(i).inputs();
        Tensor a = src[0] == NetworkSpec.NETWORK_INPUT ? x : out[src[0]];
        out[i] = layers.get(i) instanceof Add add
            ? add.forward(a, out[src[1]], workers)
            : layers.get(i).forward(a, Mode.EVAL, workers);
      }
      sink.accept(out, b);
    }
  }
}
