package addernet.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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
 * </pre>
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
    FLATTEN
  }

  /**
   * One line of the spec. Fields that a kind does not use are 0 (or null for the operation);
   * {@code input} and {@code output} are the checked shapes around the layer.
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
      Shape outputShape) {}

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

  private static long parameters(LayerSpec l) {
    return switch (l.kind()) {
      case CONV -> times(times((long) l.out() * l.in(), l.kernel()), l.kernel());
      case FC -> (long) l.out() * l.in();
      case BATCHNORM -> 2L * l.inputShape().channels();
      default -> 0;
    };
  }

  private static long patchValues(LayerSpec l) {
    return l.kind() == Kind.CONV
        ? times(times((long) l.in() * l.kernel(), l.kernel()),
            (long) l.outputShape().height() * l.outputShape().width())
        : 0;
  }

  private static String figure(long n) {
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
      if (t.startsWith("conv ") || t.startsWith("fc ")) {
        line = raw.replace(from, " " + op.keyword() + " ");
      }
      sb.append(line).append('\n');
    }
    String s = sb.toString();
    return parse(newName, s.substring(0, s.length() - 1));
  }

  /** The specs shipped in the jar under {@code model/}. */
  public static final List<String> SHIPPED = List.of("lenet5-adder", "lenet5-cnn");

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
    String problem = addernet.io.Names.problem(name);
    if (problem != null) {
      throw new SpecException("network name " + addernet.io.Names.printable(name) + ": " + problem
          + " (docs/spec-format.md, \"Names\")");
    }
    Shape input = null;
    Shape current = null;
    int inputLine = 0;
    long parameters = 0;
    List<LayerSpec> layers = new ArrayList<>();
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      int lineNo = i + 1;
      String raw = lines[i];
      int hash = raw.indexOf('#');
      String line = (hash >= 0 ? raw.substring(0, hash) : raw).strip();
      if (line.isEmpty()) {
        continue;
      }
      String[] words = line.toLowerCase(Locale.ROOT).split("\\s+");
      String where = name + " line " + lineNo + " ("
          + (addernet.io.Names.valid(line) ? line : addernet.io.Names.printable(line)) + ")";
      if (input == null) {
        if (!words[0].equals("input") || words.length != 2) {
          throw new SpecException(
              where + ": the first line must be 'input CxHxW', e.g. 'input 1x28x28'");
        }
        input = parseShape(words[1], where);
        current = input;
        inputLine = lineNo;
        continue;
      }
      LayerSpec layer =
          switch (words[0]) {
            case "conv" -> conv(words, lineNo, where, current);
            case "fc" -> fc(words, lineNo, where, current);
            case "batchnorm" -> simple(words, lineNo, where, Kind.BATCHNORM, current, current);
            case "relu" -> simple(words, lineNo, where, Kind.RELU, current, current);
            case "flatten" ->
                simple(words, lineNo, where, Kind.FLATTEN, current, new Shape(current.size(), 1, 1));
            case "maxpool" -> maxpool(words, lineNo, where, current);
            case "input" -> throw new SpecException(where + ": 'input' may appear only once, first");
            default ->
                throw new SpecException(
                    where
                        + ": unknown layer '"
                        + words[0]
                        + "'; expected conv, fc, batchnorm, relu, maxpool or flatten");
          };
      if (patchValues(layer) > MAX_VALUES_PER_IMAGE) {
        throw new SpecException(String.format(
            "%s: its patch matrix (K = %,d x %,d output positions) holds %,d values per image, more"
                + " than the limit of %,d (2^22, docs/spec-format.md)", where,
            (long) layer.in() * layer.kernel() * layer.kernel(),
            (long) layer.outputShape().height() * layer.outputShape().width(), patchValues(layer),
            MAX_VALUES_PER_IMAGE));
      }
      long own = parameters(layer);
      parameters = own > Long.MAX_VALUE - parameters ? Long.MAX_VALUE : parameters + own;
      if (parameters > MAX_PARAMETERS) {
        throw new SpecException(String.format(
            "%s: its %s parameters bring the network to %s, more than the limit of %,d (2^27,"
                + " docs/spec-format.md)", where, figure(own), figure(parameters), MAX_PARAMETERS));
      }
      layers.add(layer);
      current = layer.outputShape();
    }
    if (input == null) {
      throw new SpecException(name + ": empty spec; it must start with 'input CxHxW'");
    }
    if (layers.isEmpty()) {
      throw new SpecException(name + " line " + inputLine + ": no layers after 'input'");
    }
    LayerSpec last = layers.get(layers.size() - 1);
    if (current.height() != 1 || current.width() != 1 || current.channels() < 2) {
      throw new SpecException(
          name + " line " + last.line() + ": the network ends with shape " + current
              + "; the last layer must give one score per class (Kx1x1 with K >= 2)");
    }
    if (layers.stream().noneMatch(l -> l.kind() == Kind.CONV || l.kind() == Kind.FC)) {
      throw new SpecException(name + ": no conv or fc layer, nothing to train");
    }
    return new NetworkSpec(name, text, input, layers);
  }

  private static Shape parseShape(String word, String where) {
    String[] p = word.split("x");
    if (p.length != 3) {
      throw new SpecException(where + ": shape '" + word + "' must look like CxHxW, e.g. 1x28x28");
    }
    int c = positive(p[0], "channels", where);
    int h = positive(p[1], "height", where);
    int w = positive(p[2], "width", where);
    return checkedShape(c, h, w, where, "input");
  }

  /** A shape, refused before it is built if it holds more values than the limit. */
  private static Shape checkedShape(int c, int h, int w, String where, String what) {
    long values = (long) c * h * w;
    if (values > MAX_VALUES_PER_IMAGE) {
      throw new SpecException(String.format(
          "%s: its %s %dx%dx%d holds %,d values per image, more than the limit of %,d (2^22,"
              + " docs/spec-format.md)", where, what, c, h, w, values, MAX_VALUES_PER_IMAGE));
    }
    return new Shape(c, h, w);
  }

  private static int positive(String s, String what, String where) {
    try {
      int v = Integer.parseInt(s);
      if (v >= 1 && v <= MAX_NUMBER && isAsciiNumber(s)) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new SpecException(where + ": " + what + " must be a whole number in 1.." + MAX_NUMBER + ", got '" + s + "'");
  }

  private static int[] channels(String word, String where) {
    String[] p = word.split("->");
    if (p.length != 2) {
      throw new SpecException(where + ": expected IN->OUT, e.g. 6->16, got '" + word + "'");
    }
    return new int[] {positive(p[0], "input size", where), positive(p[1], "output size", where)};
  }

  private static Operation operation(String word, String where) {
    Operation op = Operation.fromKeyword(word);
    if (op == null) {
      throw new SpecException(where + ": operation must be 'adder' or 'multiply', got '" + word + "'");
    }
    return op;
  }

  private static LayerSpec conv(String[] w, int lineNo, String where, Shape in) {
    if (w.length < 4) {
      throw new SpecException(where + ": expected 'conv adder|multiply IN->OUT kernel=K [stride=S] [padding=P]'");
    }
    Operation op = operation(w[1], where);
    int[] io = channels(w[2], where);
    int kernel = 0;
    int stride = 1;
    int padding = 0;
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 3; i < w.length; i++) {
      String[] kv = w[i].split("=", 2);
      if (kv.length != 2) {
        throw new SpecException(where + ": expected key=value, got '" + w[i] + "'");
      }
      if (!seen.add(kv[0])) {
        throw new SpecException(where + ": option '" + kv[0] + "' is given twice");
      }
      switch (kv[0]) {
        case "kernel" -> kernel = positive(kv[1], "kernel", where);
        case "stride" -> stride = positive(kv[1], "stride", where);
        case "padding" -> padding = nonNegative(kv[1], where);
        default -> throw new SpecException(where + ": unknown option '" + kv[0] + "'; expected kernel, stride or padding");
      }
    }
    if (kernel == 0) {
      throw new SpecException(where + ": kernel=K is required");
    }
    if (io[0] != in.channels()) {
      throw new SpecException(
          where + ": expects " + io[0] + " input channels but its input has shape " + in
              + " (" + in.channels() + " channels)");
    }
    if (padding >= kernel) {
      throw new SpecException(where + ": padding " + padding + " must be smaller than kernel " + kernel);
    }
    int oh = in.height() + 2 * padding - kernel;
    int ow = in.width() + 2 * padding - kernel;
    if (oh < 0 || ow < 0) {
      throw new SpecException(
          where + ": kernel " + kernel + " with padding " + padding + " does not fit input " + in);
    }
    Shape out = checkedShape(io[1], oh / stride + 1, ow / stride + 1, where, "output");
    return new LayerSpec(lineNo, Kind.CONV, op, io[0], io[1], kernel, stride, padding, in, out);
  }

  private static int nonNegative(String s, String where) {
    try {
      int v = Integer.parseInt(s);
      if (v >= 0 && v <= MAX_PADDING && isAsciiNumber(s)) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new SpecException(where + ": padding must be a whole number in 0.." + MAX_PADDING + ", got '" + s + "'");
  }

  // Integer.parseInt also takes a sign and digits of other scripts; the format is plain 0-9.
  private static boolean isAsciiNumber(String s) {
    return s.chars().allMatch(ch -> ch >= '0' && ch <= '9');
  }

  private static LayerSpec fc(String[] w, int lineNo, String where, Shape in) {
    if (w.length != 3) {
      throw new SpecException(where + ": expected 'fc adder|multiply IN->OUT'");
    }
    Operation op = operation(w[1], where);
    int[] io = channels(w[2], where);
    if (in.height() != 1 || in.width() != 1) {
      throw new SpecException(
          where + ": needs a flat input (Cx1x1) but gets " + in + "; put 'flatten' before it");
    }
    if (io[0] != in.channels()) {
      throw new SpecException(
          where + ": expects " + io[0] + " inputs but its input has " + in.channels());
    }
    return new LayerSpec(
        lineNo, Kind.FC, op, io[0], io[1], 0, 0, 0, in, new Shape(io[1], 1, 1));
  }

  private static LayerSpec maxpool(String[] w, int lineNo, String where, Shape in) {
    if (w.length != 2) {
      throw new SpecException(where + ": expected 'maxpool SIZE', e.g. 'maxpool 2'");
    }
    int size = positive(w[1], "pool size", where);
    if (in.height() < size || in.width() < size) {
      throw new SpecException(where + ": window " + size + " does not fit input " + in);
    }
    Shape out = new Shape(in.channels(), in.height() / size, in.width() / size);
    return new LayerSpec(lineNo, Kind.MAXPOOL, null, 0, 0, size, size, 0, in, out);
  }

  private static LayerSpec simple(
      String[] w, int lineNo, String where, Kind kind, Shape in, Shape out) {
    if (w.length != 1) {
      throw new SpecException(where + ": '" + w[0] + "' takes no arguments");
    }
    return new LayerSpec(lineNo, kind, null, 0, 0, 0, 0, 0, in, out);
  }
}
