package addernet.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A feed-forward network built from a {@link NetworkSpec}. {@link #layers()} gives the typed
 * layers in order ({@link Conv2d}, {@link Dense}, {@link BatchNorm}, {@link Relu}, {@link
 * MaxPool}, {@link Flatten}) with their live weights and statistics.
 */
public final class Network {
  private final NetworkSpec spec;
  private final List<Layer> layers;
  private final List<Param> params;

  // How many nodes read each node's output.
  private final int[] readers;

  // Null unless a profile is being taken: then every pass reads the clock around every node.
  private LayerTimer timer;

  private Network(NetworkSpec spec, List<Layer> layers) {
    this.spec = spec;
    this.layers = Collections.unmodifiableList(layers);
    this.readers = new int[layers.size()];
    for (NetworkSpec.LayerSpec s : spec.layers()) {
      for (int j : s.inputs()) {
        if (j != NetworkSpec.NETWORK_INPUT) {
          readers[j]++;
        }
      }
    }
    List<Param> ps = new ArrayList<>();
    for (Layer l : layers) {
      ps.addAll(l.params());
    }
    this.params = Collections.unmodifiableList(ps);
  }

  /** Builds the network with fresh weights drawn from {@code seed}. */
  public static Network build(NetworkSpec spec, long seed) {
    List<Layer> layers = new ArrayList<>();
    SplittableRandom root = new SplittableRandom(seed);
    for (int i = 0; i < spec.layers().size(); i++) {
      NetworkSpec.LayerSpec s = spec.layers().get(i);
      String name = s.name();
      SplittableRandom random = root.split();
      Layer layer =
          switch (s.kind()) {
            case CONV -> {
              Conv2d c =
                  new Conv2d(
                      name, s.operation(), s.inputShape(), s.out(), s.kernel(), s.stride(), s.padding());
              c.initialize(random);
              yield c;
            }
            case FC -> {
              Dense d = new Dense(name, s.operation(), s.in(), s.out());
              d.initialize(random);
              yield d;
            }
            case BATCHNORM -> new BatchNorm(name, s.inputShape());
            case RELU -> new Relu(s.inputShape());
            case MAXPOOL -> new MaxPool(s.inputShape(), s.kernel());
            case FLATTEN -> new Flatten(s.inputShape());
            case ADD -> new Add(s.inputShape());
            case AVGPOOL -> new AvgPool(s.inputShape(), s.kernel());
          };
      if (!layer.outputShape().equals(s.outputShape())) {
        throw new IllegalStateException(
            "layer " + i + " computes shape " + layer.outputShape() + ", spec says " + s.outputShape());
      }
      layers.add(layer);
    }
    return new Network(spec, layers);
  }

  public NetworkSpec spec() {
    return spec;
  }

  public String name() {
    return spec.name();
  }

  /** See {@link BatchNorm#restartRunningStatistics()}: every batch norm of the network. */
  public void restartRunningStatistics() {
    for (Layer l : layers) {
      if (l instanceof BatchNorm bn) {
        bn.restartRunningStatistics();
      }
    }
  }

  public List<Layer> layers() {
    return layers;
  }

  /** Every trainable array, in layer order; names are {@code layers.<index>.<field>}. */
  public List<Param> params() {
    return params;
  }

  public Shape inputShape() {
    return spec.input();
  }

  public int classes() {
    return spec.classes();
  }

  /**
   * Sends the wall time of every node's forward and backward (and of a convolution's phases) to
   * {@code timer} from the next pass on; null stops it.
   */
  public void time(LayerTimer timer) {
    this.timer = timer;
    for (int i = 0; i < layers.size(); i++) {
      if (layers.get(i) instanceof Conv2d c) {
        c.time(timer, i);
      }
    }
  }

  /** Runs all layers; the result is class scores (classes x 1 x 1), owned by the last layer. */
  public Tensor forward(Tensor input, Mode mode, Workers workers) {
    return forward(input, mode, workers, null);
  }

  /**
   * As {@link #forward(Tensor, Mode, Workers)}, and when {@code layerInputs} is not null, entry i
   * is set to the tensor layer i was given (so entry i + 1 is layer i's output, for any layer
   * that is not the second of a fused batch norm and ReLU). Valid until the layers run again.
   */
  public Tensor forward(Tensor input, Mode mode, Workers workers, Tensor[] layerInputs) {
    if (layerInputs != null && layerInputs.length != layers.size()) {
      throw new IllegalArgumentException(
          "layerInputs must have one entry per layer (" + layers.size() + "), got " + layerInputs.length);
    }
    if (!input.shape().equals(spec.input())) {
      throw new IllegalArgumentException(
          spec.name() + " takes input " + spec.input() + ", got " + input.shape());
    }
    // Every node's output stays valid to the end of the pass: each layer runs once per pass.
    Tensor[] out = new Tensor[layers.size()];
    for (int i = 0; i < layers.size(); i++) {
      long t0 = timer == null ? 0 : System.nanoTime();
      Layer l = layers.get(i);
      Tensor x = tensor(out, input, spec.layers().get(i).input());
      if (layerInputs != null) {
        layerInputs[i] = x;
      }
      int node = i;
      if (fusesWithNext(i)) {
        out[i + 1] = ((BatchNorm) l).forwardWithRelu(x, mode, workers);
        i++;
      } else if (l instanceof Add add) {
        out[i] = add.forward(x, tensor(out, input, spec.layers().get(i).inputs()[1]), workers);
      } else {
        out[i] = l.forward(x, mode, workers);
      }
      if (timer != null) {
        timer.record(node, LayerTimer.Phase.FORWARD, System.nanoTime() - t0);
      }
    }
    return out[layers.size() - 1];
  }

  private static Tensor tensor(Tensor[] out, Tensor input, int node) {
    return node == NetworkSpec.NETWORK_INPUT ? input : out[node];
  }

  /**
   * Whether layer i is a batch norm followed by a ReLU, which run as one pass (see {@link
   * BatchNorm#forwardWithRelu}); the ReLU layer itself then holds no output. Layers called one
   * by one, outside this class, are not fused.
   */
  private boolean fusesWithNext(int i) {
    return i + 1 < layers.size()
        && layers.get(i) instanceof BatchNorm
        && layers.get(i + 1) instanceof Relu
        && spec.layers().get(i + 1).input() == i
        && readers[i] == 1;
  }

  /** Back-propagates dL/d(scores) through a preceding TRAIN forward, filling every param's grad. */
  public void backward(Tensor scoreGradient, Workers workers) {
    backward(scoreGradient, workers, null);
  }

  /**
   * As {@link #backward(Tensor, Workers)}, with {@code outputGradients[i]}, when given, added to
   * the gradient of weighted layer i's output before that layer's backward (a loss on an
   * intermediate feature). Entries for other layers must be null.
   */
  public void backward(Tensor scoreGradient, Workers workers, Tensor[] outputGradients) {
    // grad[i] is dL/d(output of node i), complete once every node that reads it has run: nodes
    // run in reverse order, and every reader comes after what it reads.
    Tensor[] grad = new Tensor[layers.size()];
    grad[layers.size() - 1] = scoreGradient;
    for (int i = layers.size() - 1; i >= 0; i--) {
      long t0 = timer == null ? 0 : System.nanoTime();
      int node = backwardNode(i, grad, workers, outputGradients);
      if (timer != null) {
        timer.record(node, LayerTimer.Phase.BACKWARD, System.nanoTime() - t0);
      }
      i = node;
    }
  }

  /**
   * The backward of node i, or of the fused batch norm and ReLU ending at i; returns the node
   * that ran (i - 1 for a fused pair).
   */
  private int backwardNode(int i, Tensor[] grad, Workers workers, Tensor[] outputGradients) {
    Tensor g = grad[i];
    if (i > 0 && fusesWithNext(i - 1)) {
      int from = spec.layers().get(i - 1).input();
      give(grad, from, ((BatchNorm) layers.get(i - 1)).backwardThroughRelu(g, from != NetworkSpec.NETWORK_INPUT, workers));
      return i - 1;
    }
    if (outputGradients != null && outputGradients[i] != null) {
      if (!(layers.get(i) instanceof Conv2d || layers.get(i) instanceof Dense)
          || i == layers.size() - 1) {
        throw new IllegalArgumentException(
            "an output gradient can be added only at a weighted layer with a layer after it, not at layer " + i);
      }
      // Into a copy: after an add, the same gradient tensor also serves the other branch.
      float[] d = g.data().clone();
      float[] e = outputGradients[i].data();
      for (int j = 0; j < d.length; j++) {
        d[j] += e[j];
      }
      g = new Tensor(g.shape(), g.batch(), d);
    }
    int[] inputs = spec.layers().get(i).inputs();
    if (layers.get(i) instanceof Add) {
      give(grad, inputs[0], g);
      give(grad, inputs[1], g);
      return i;
    }
    give(grad, inputs[0], layers.get(i).backward(g, inputs[0] != NetworkSpec.NETWORK_INPUT, workers));
    return i;
  }

  /**
   * Adds {@code g} to the gradient of node {@code j}'s output. A tensor read by one node takes
   * that node's gradient as it is (so a chain runs exactly as a list of layers); one read by two
   * gets their sum in a new tensor, leaving both layers' buffers as they were.
   */
  private void give(Tensor[] grad, int j, Tensor g) {
    if (j == NetworkSpec.NETWORK_INPUT || g == null) {
      return;
    }
    if (grad[j] == null) {
      grad[j] = g;
      return;
    }
    float[] a = grad[j].data();
    float[] b = g.data();
    float[] sum = new float[a.length];
    for (int k = 0; k < sum.length; k++) {
      sum[k] = a[k] + b[k];
    }
    grad[j] = new Tensor(g.shape(), g.batch(), sum);
  }

  /** Eval-mode predictions for a batch: the index of the highest score per image. */
  public int[] predict(Tensor input, Workers workers) {
    Tensor s = forward(input, Mode.EVAL, workers);
    int classes = s.shape().channels();
    int batch = s.batch();
    int[] out = new int[batch];
    float[] d = s.data();
    for (int n = 0; n < batch; n++) {
      int best = 0;
      for (int c = 1; c < classes; c++) {
        if (d[c * batch + n] > d[best * batch + n]) {
          best = c;
        }
      }
      out[n] = best;
    }
    return out;
  }
}
