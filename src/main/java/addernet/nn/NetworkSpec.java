package addernet.nn;

import java.util.List;

/**
 * A network as written in a {@code model/*.spec} file: one layer per line, checked for shape
 * consistency and against the size bounds of docs/spec-format.md when parsed.
 *
 * <pre>
 * # comment
 * input 1x28x28                       channels x height x width, first line
 * conv adder 1->6 kernel=5            or multiply; optional stride=S padding=P
 * batchnorm
 * relu
 * maxpool 2                           window = stride = 2
 * flatten                             C x H x W to (C*H*W) x 1 x 1
 * fc adder 120->84                    needs a flat input
 * avgpool                             global average (or 'avgpool W': W x W windows)
 * add with=NAME                       the previous layer's output plus tensor NAME
 * block adder 16->32 stride=2         a residual block (docs/spec-format.md)
 * </pre>
 *
 * <p>The network is a graph: every line is a node that produces one tensor, named by {@code
 * name=} or {@code layers.<index>}, and reads the previous line's tensor or, with {@code from=},
 * an earlier one ({@code from=input} is the network's input).
 *
 * The last layer must give one value per class (K x 1 x 1); its K is the number of classes.
 * docs/spec-format.md is the format's reference, bounds included.
 */
public record NetworkSpec(String name, String text, Shape input, List<LayerSpec> layers) {
  /** Kinds of layer lines. */
  public enum Kind {
    CONV,
    FC,
    BATCHNORM,
    RELU,
    MAXPOOL,
    FLATTEN,
    /** Element-wise sum of two tensors of one shape (a residual block's shortcut join). */
    ADD,
    /** Mean over non-overlapping kernel x kernel windows (stride = kernel). */
    AVGPOOL
  }

  /** Where {@link LayerSpec#inputs} points for the network's input. */
  public static final int NETWORK_INPUT = -1;

  /**
   * One node of the network, from one spec line (a block's line gives several). Fields that a
   * kind does not use are 0 (or null for the operation); {@code inputShape} and {@code
   * outputShape} are the checked shapes around the layer (for an add, of either input).
   *
   * @param name the tensor the node produces: its {@code name=} or {@code layers.<index>}
   * @param inputs indices of the nodes it reads, earlier in the list, or {@link #NETWORK_INPUT};
   *     two for an add, one otherwise
   */
  public record LayerSpec(
      int line,
      Kind kind,
      Operation operation,
      int in,
      int out,
      int kernel,
      int stride,
      int padding,
      Shape inputShape,
      Shape outputShape,
      String name,
      int[] inputs) {
    LayerSpec(int line, Kind kind, Operation operation, int in, int out, int kernel, int stride,
        int padding, Shape inputShape, Shape outputShape) {
      this(line, kind, operation, in, out, kernel, stride, padding, inputShape, outputShape, null, null);
    }

    LayerSpec placed(String name, int... inputs) {
      return new LayerSpec(line, kind, operation, in, out, kernel, stride, padding, inputShape,
          outputShape, name, inputs);
    }

    /** The single input of a node that is not an add. */
    public int input() {
      return inputs[0];
    }
  }

  /** Every number in a spec (sizes, channels, kernel, stride, pool) is at most this: 2^20. */
  public static final int MAX_NUMBER = 1 << 20;

  /** Padding is at most this. */
  public static final int MAX_PADDING = 1 << 10;

  /**
   * Values per image in any one array: the input, every layer's output and every convolution's
   * patch matrix (K x output positions). 2^22 keeps a batch of 500 images (the evaluation
   * batch) below 2^31 values, the most one Java array holds.
   */
  public static final long MAX_VALUES_PER_IMAGE = 1L << 22;

  /** Trainable values (weights, batch-norm scales and shifts) of the whole network: 2^27. */
  public static final long MAX_PARAMETERS = 1L << 27;

  /** A spec file is read whole; anything larger than this is not a spec. */
  public static final long MAX_FILE_BYTES = 1 << 20;

  // Arrays in the JVM hold at most about 2^31 - 1 elements (a few less in practice).
  private static final long MAX_ARRAY = Integer.MAX_VALUE - 16;

  private static final double GIB = 1024.0 * 1024 * 1024;

  public NetworkSpec {
    layers = List.copyOf(layers);
  }

  /** Trainable values: conv and fc weights, batch-norm gamma and beta. */
  public long parameters() {
    long n = 0;
    for (LayerSpec l : layers) {
      n += parameters(l);
    }
    return n;
  }

  static long parameters(LayerSpec l) {
    return switch (l.kind()) {
      case CONV -> times(times((long) l.out() * l.in(), l.kernel()), l.kernel());
      case FC -> (long) l.out() * l.in();
      case BATCHNORM -> 2L * l.inputShape().channels();
      default -> 0;
    };
  }

  static long patchValues(LayerSpec l) {
    return l.kind() == Kind.CONV
        ? times(times((long) l.in() * l.kernel(), l.kernel()),
            (long) l.outputShape().height() * l.outputShape().width())
        : 0;
  }

  static String figure(long n) {
    return n == Long.MAX_VALUE ? "more than 9 x 10^18" : String.format("%,d", n);
  }

  // Saturates instead of wrapping: the counts are only compared with limits far below.
  private static long times(long a, long b) {
    return a != 0 && b > Long.MAX_VALUE / a ? Long.MAX_VALUE : a * b;
  }

  /**
   * Roughly the heap that training this network at {@code batch} images needs, in bytes: every
   * parameter three times (value, gradient, momentum) plus, per image, each layer's output and
   * input gradient, each convolution's patch matrix three times (patches, their gradient, a
   * transposed copy) and each batch norm's normalized copy.
   */
  public long trainingBytes(int batch) {
    long perImage = input.size();
    for (LayerSpec l : layers) {
      perImage += l.outputShape().size() + l.inputShape().size() + 3 * patchValues(l);
      if (l.kind() == Kind.BATCHNORM) {
        perImage += l.outputShape().size();
      }
    }
    return 4 * (3 * parameters() + (long) batch * perImage);
  }

  /**
   * The activations that evaluating {@code batch} images at once adds, in bytes: each layer's
   * output and each convolution's patch matrix, once (no gradients).
   */
  public long evaluationBytes(int batch) {
    long perImage = input.size();
    for (LayerSpec l : layers) {
      perImage += l.outputShape().size() + patchValues(l);
    }
    return 4L * batch * perImage;
  }

  /**
   * Refuses a network that cannot be trained at {@code trainBatch} images while being evaluated
   * {@code evalBatch} images at a time in a heap of {@code heapBytes}: one of its arrays would
   * exceed a Java array, or {@link #trainingBytes} plus {@link #evaluationBytes} (both sets of
   * arrays stay alive) exceeds 3/4 of the heap (the rest is the data set and the JVM's own).
   * The message gives the figures.
   */
  public void requireFits(int trainBatch, int evalBatch, long heapBytes) {
    int batch = Math.max(trainBatch, evalBatch);
    for (LayerSpec l : layers) {
      long largest = Math.max(l.outputShape().size(), Math.max(l.inputShape().size(), patchValues(l)));
      if (largest * batch > MAX_ARRAY) {
        throw new SpecException(String.format(
            "%s line %d: at a batch of %d images this layer's largest array would hold %,d values,"
                + " more than a Java array can (%,d); use a smaller batch", name, l.line(), batch,
            largest * batch, MAX_ARRAY));
      }
    }
    long need = trainingBytes(trainBatch) + evaluationBytes(evalBatch);
    if (need > heapBytes / 4 * 3) {
      throw new SpecException(String.format(
          "%s: %,d parameters, training at a batch of %d and evaluating %d images at a time, need"
              + " about %.1f GiB of memory, more than 3/4 of the %.1f GiB Java heap; use a smaller"
              + " batch or a larger heap (-Xmx, e.g. in ADDERNET_JAVA_OPTS)", name, parameters(),
          trainBatch, evalBatch, need / GIB, heapBytes / GIB));
    }
  }

  /** The number of classes the network scores. */
  public int classes() {
    return layers.get(layers.size() - 1).outputShape().channels();
  }

  public Shape output() {
    return layers.get(layers.size() - 1).outputShape();
  }

  /** The same network with every weighted layer using {@code op} (the adder net's CNN twin). */
  public NetworkSpec withOperation(Operation op, String newName) {
    String from = op == Operation.ADDER ? " multiply " : " adder ";
    StringBuilder sb = new StringBuilder();
    for (String raw : text.split("\n", -1)) {
      String line = raw;
      String t = raw.strip();
      if (t.startsWith("conv ") || t.startsWith("fc ") || t.startsWith("block ")) {
        line = raw.replace(from, " " + op.keyword() + " ");
      }
      sb.append(line).append('\n');
    }
    String s = sb.toString();
    return parse(newName, s.substring(0, s.length() - 1));
  }

  /** The specs shipped in the jar under {@code model/}. */
  public static final List<String> SHIPPED =
      List.of("lenet5-adder", "lenet5-cnn", "resnet20-adder", "resnet20-cnn", "resnet20-official");

  /**
   * Reads a spec from a file path (anything ending in .spec or naming an existing file) or, by
   * name, from the {@code model/} directory shipped in the jar.
   */
  public static NetworkSpec resolve(String nameOrPath) {
    java.nio.file.Path p = java.nio.file.Path.of(nameOrPath);
    if (java.nio.file.Files.isRegularFile(p)) {
      try {
        String file = p.getFileName().toString();
        String name = file.endsWith(".spec") ? file.substring(0, file.length() - 5) : file;
        long size = java.nio.file.Files.size(p);
        if (size > MAX_FILE_BYTES) {
          throw new SpecException(nameOrPath + ": " + size + " bytes; a spec file is at most "
              + MAX_FILE_BYTES + " bytes (docs/spec-format.md)");
        }
        return parse(name, java.nio.file.Files.readString(p));
      } catch (java.nio.charset.CharacterCodingException e) {
        throw new SpecException(nameOrPath + ": not a spec: not UTF-8 text");
      } catch (java.io.IOException e) {
        throw new SpecException(nameOrPath + ": cannot read: " + e.getMessage());
      }
    }
    if (nameOrPath.endsWith(".spec") || nameOrPath.contains("/")) {
      throw new SpecException(nameOrPath + ": no such spec file");
    }
    try (java.io.InputStream in =
        NetworkSpec.class.getResourceAsStream("/model/" + nameOrPath + ".spec")) {
      if (in == null) {
        throw new SpecException(
            "no model '" + nameOrPath + "': not a file, and the shipped models are " + SHIPPED);
      }
      return parse(nameOrPath, new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.io.IOException e) {
      throw new SpecException("cannot read shipped model " + nameOrPath + ": " + e.getMessage());
    }
  }

  public static NetworkSpec parse(String name, String text) {
    return SpecParser.parse(name, text);
  }

  /** Whether every node reads the one before it (the network input for the first): no branches. */
  public boolean isChain() {
    for (int i = 0; i < layers.size(); i++) {
      if (layers.get(i).inputs().length != 1 || layers.get(i).input() != i - 1) {
        return false;
      }
    }
    return true;
  }

  /**
   * Refuses a network with branches (a residual block, an add, a from=) for a stage that runs
   * only chains of layers, naming the first node that branches.
   */
  public void requireChain(String stage) {
    for (int i = 0; i < layers.size(); i++) {
      LayerSpec l = layers.get(i);
      if (l.inputs().length != 1 || l.input() != i - 1) {
        throw new SpecException(name + " line " + l.line() + " (" + l.name() + "): " + stage
            + " takes a chain of layers, each reading the one before; this network branches here");
      }
    }
  }

}
