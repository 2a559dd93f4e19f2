package addernet.nn;

import addernet.nn.NetworkSpec.Kind;
import addernet.nn.NetworkSpec.LayerSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads the text of a spec into a {@link NetworkSpec}: one node per line (a block's line gives
 * several), each checked against its input's shape and the bounds of docs/spec-format.md, the
 * first problem named by line.
 */
final class SpecParser {
  private static final int NETWORK_INPUT = NetworkSpec.NETWORK_INPUT;
  private static final int MAX_NUMBER = NetworkSpec.MAX_NUMBER;
  private static final int MAX_PADDING = NetworkSpec.MAX_PADDING;
  private static final long MAX_VALUES_PER_IMAGE = NetworkSpec.MAX_VALUES_PER_IMAGE;
  private static final long MAX_PARAMETERS = NetworkSpec.MAX_PARAMETERS;

  private SpecParser() {}

  /** A node name given with {@code name=}: a letter, then letters, digits, '_', '-' or '.'. */
  private static final java.util.regex.Pattern NODE_NAME =
      java.util.regex.Pattern.compile("[a-z][a-z0-9_.-]{0,63}");

  /** The prefix of the names of nodes that have no {@code name=}. */
  private static final String AUTO_PREFIX = "layers.";

  static NetworkSpec parse(String name, String text) {
    String problem = addernet.io.Names.problem(name);
    if (problem != null) {
      throw new SpecException("network name " + addernet.io.Names.printable(name) + ": " + problem
          + " (docs/spec-format.md, \"Names\")");
    }
    Shape input = null;
    int inputLine = 0;
    long parameters = 0;
    List<LayerSpec> layers = new ArrayList<>();
    java.util.Map<String, Integer> byName = new java.util.HashMap<>();
    BlockNames blocks = new BlockNames();
    String[] lines = text.split("\r?\n", -1);
    for (int i = 0; i < lines.length; i++) {
      int lineNo = i + 1;
      String raw = lines[i];
      int hash = raw.indexOf('#');
      String line = (hash >= 0 ? raw.substring(0, hash) : raw).strip();
      if (line.isEmpty()) {
        continue;
      }
      String[] all = line.toLowerCase(Locale.ROOT).split("\\s+");
      String where = name + " line " + lineNo + " ("
          + (addernet.io.Names.valid(line) ? line : addernet.io.Names.printable(line)) + ")";
      if (input == null) {
        if (!all[0].equals("input") || all.length != 2) {
          throw new SpecException(
              where + ": the first line must be 'input CxHxW', e.g. 'input 1x28x28'");
        }
        input = parseShape(all[1], where);
        inputLine = lineNo;
        continue;
      }
      // name=, from= and with= place the node in the graph; the rest of the line is the layer.
      String given = null;
      String from = null;
      String with = null;
      List<String> rest = new ArrayList<>();
      for (String w : all) {
        String key = w.contains("=") ? w.substring(0, w.indexOf('=')) : "";
        String value = w.substring(w.indexOf('=') + 1);
        switch (key) {
          case "name" -> given = once(given, value, "name", where);
          case "from" -> from = once(from, value, "from", where);
          case "with" -> with = once(with, value, "with", where);
          default -> rest.add(w);
        }
      }
      String[] words = rest.toArray(String[]::new);
      if (words.length == 0) {
        throw new SpecException(where + ": name=, from= and with= need a layer on their line");
      }
      if (given != null && (!NODE_NAME.matcher(given).matches() || given.equals("input")
          || given.startsWith(AUTO_PREFIX))) {
        throw new SpecException(where + ": name '" + given + "' must be a letter followed by up to 63"
            + " letters, digits, '_', '-' or '.', not 'input' and not starting with '" + AUTO_PREFIX
            + "' (the names of unnamed layers)");
      }
      int src = from == null ? layers.size() - 1 : node(from, byName, where);
      Shape current = src == NETWORK_INPUT ? input : layers.get(src).outputShape();
      if (with != null && !words[0].equals("add")) {
        throw new SpecException(where + ": with= belongs to 'add' only");
      }
      List<LayerSpec> nodes = new ArrayList<>();
      switch (words[0]) {
        case "conv" -> nodes.add(conv(words, lineNo, where, current).placed(given, src));
        case "fc" -> nodes.add(fc(words, lineNo, where, current).placed(given, src));
        case "batchnorm" -> nodes.add(simple(words, lineNo, where, Kind.BATCHNORM, current, current).placed(given, src));
        case "relu" -> nodes.add(simple(words, lineNo, where, Kind.RELU, current, current).placed(given, src));
        case "flatten" -> nodes.add(
            simple(words, lineNo, where, Kind.FLATTEN, current, new Shape(current.size(), 1, 1)).placed(given, src));
        case "maxpool" -> nodes.add(maxpool(words, lineNo, where, current).placed(given, src));
        case "avgpool" -> nodes.add(avgpool(words, lineNo, where, current).placed(given, src));
        case "add" -> {
          if (words.length != 1 || with == null) {
            throw new SpecException(where + ": expected 'add with=NAME' (the previous layer's output plus tensor NAME)");
          }
          int other = node(with, byName, where);
          Shape second = other == NETWORK_INPUT ? input : layers.get(other).outputShape();
          if (!second.equals(current)) {
            throw new SpecException(where + ": cannot add " + nodeName(layers, src) + " (" + current + ") and "
                + nodeName(layers, other) + " (" + second + "): an add needs two tensors of one shape");
          }
          nodes.add(new LayerSpec(lineNo, Kind.ADD, null, 0, 0, 0, 0, 0, current, current).placed(given, src, other));
        }
        case "block" -> nodes.addAll(block(words, lineNo, where, current, src, layers.size(),
            given != null ? given : blocks.next(words, where)));
        case "input" -> throw new SpecException(where + ": 'input' may appear only once, first");
        default ->
            throw new SpecException(
                where
                    + ": unknown layer '"
                    + words[0]
                    + "'; expected conv, fc, batchnorm, relu, maxpool, avgpool, flatten, add or block");
      }
      for (LayerSpec node : nodes) {
        if (NetworkSpec.patchValues(node) > MAX_VALUES_PER_IMAGE) {
          throw new SpecException(String.format(
              "%s: its patch matrix (K = %,d x %,d output positions) holds %,d values per image, more"
                  + " than the limit of %,d (2^22, docs/spec-format.md)", where,
              (long) node.in() * node.kernel() * node.kernel(),
              (long) node.outputShape().height() * node.outputShape().width(), NetworkSpec.patchValues(node),
              MAX_VALUES_PER_IMAGE));
        }
        long own = NetworkSpec.parameters(node);
        parameters = own > Long.MAX_VALUE - parameters ? Long.MAX_VALUE : parameters + own;
        if (parameters > MAX_PARAMETERS) {
          throw new SpecException(String.format(
              "%s: its %s parameters bring the network to %s, more than the limit of %,d (2^27,"
                  + " docs/spec-format.md)", where, NetworkSpec.figure(own), NetworkSpec.figure(parameters), MAX_PARAMETERS));
        }
        if (node.name() == null) {
          node = node.placed(AUTO_PREFIX + layers.size(), node.inputs());
        }
        Integer clash = byName.put(node.name(), layers.size());
        if (clash != null) {
          throw new SpecException(where + ": the name '" + node.name() + "' is already line "
              + layers.get(clash).line() + "'s");
        }
        layers.add(node);
      }
    }
    if (input == null) {
      throw new SpecException(name + ": empty spec; it must start with 'input CxHxW'");
    }
    if (layers.isEmpty()) {
      throw new SpecException(name + " line " + inputLine + ": no layers after 'input'");
    }
    LayerSpec last = layers.get(layers.size() - 1);
    Shape output = last.outputShape();
    if (output.height() != 1 || output.width() != 1 || output.channels() < 2) {
      throw new SpecException(
          name + " line " + last.line() + ": the network ends with shape " + output
              + "; the last layer must give one score per class (Kx1x1 with K >= 2)");
    }
    if (layers.stream().noneMatch(l -> l.kind() == Kind.CONV || l.kind() == Kind.FC)) {
      throw new SpecException(name + ": no conv or fc layer, nothing to train");
    }
    boolean[] read = new boolean[layers.size()];
    for (LayerSpec l : layers) {
      for (int j : l.inputs()) {
        if (j != NETWORK_INPUT) {
          read[j] = true;
        }
      }
    }
    for (int j = 0; j < layers.size() - 1; j++) {
      if (!read[j]) {
        LayerSpec l = layers.get(j);
        throw new SpecException(name + " line " + l.line() + ": the output of " + l.name()
            + " is never read; every layer but the last must feed another (use from= to branch)");
      }
    }
    return new NetworkSpec(name, text, input, layers);
  }

  private static String once(String old, String value, String key, String where) {
    if (old != null) {
      throw new SpecException(where + ": option '" + key + "' is given twice");
    }
    if (value.isEmpty()) {
      throw new SpecException(where + ": " + key + "= needs a name");
    }
    return value;
  }

  private static int node(String ref, java.util.Map<String, Integer> byName, String where) {
    if (ref.equals("input")) {
      return NETWORK_INPUT;
    }
    Integer j = byName.get(ref);
    if (j == null) {
      throw new SpecException(where + ": no earlier layer is named '" + ref + "'");
    }
    return j;
  }

  private static String nodeName(List<LayerSpec> layers, int j) {
    return j == NETWORK_INPUT ? "input" : layers.get(j).name() == null ? AUTO_PREFIX + j : layers.get(j).name();
  }

  /**
   * The official ResNet names for unnamed blocks: {@code layerS.I}, a new stage S at the first
   * block and at every block that changes the channels or strides.
   */
  private static final class BlockNames {
    private int stage;
    private int index;

    String next(String[] w, String where) {
      int[] io = w.length >= 3 ? channels(w[2], where) : new int[] {0, 0};
      boolean strided = java.util.Arrays.stream(w).anyMatch(x -> x.startsWith("stride=") && !x.equals("stride=1"));
      if (stage == 0 || strided || io[0] != io[1]) {
        stage++;
        index = 0;
      } else {
        index++;
      }
      return "layer" + stage + "." + index;
    }
  }

  /**
   * A residual block as the official ResNet's BasicBlock: {@code P.conv1} (3x3, the block's
   * stride), {@code P.bn1}, {@code P.relu1}, {@code P.conv2} (3x3), {@code P.bn2}; the shortcut,
   * the block's input as it is or {@code P.downsample.0} (a 1x1 conv with the block's stride) and
   * {@code P.downsample.1} (batch norm); then {@code P.add} and {@code P.relu2}.
   */
  private static List<LayerSpec> block(String[] w, int lineNo, String where, Shape in, int src, int first,
      String prefix) {
    if (w.length < 3) {
      throw new SpecException(where + ": expected 'block adder|multiply IN->OUT [stride=S]"
          + " [shortcut=identity|conv]'");
    }
    Operation op = operation(w[1], where);
    int[] io = channels(w[2], where);
    int stride = 1;
    String shortcut = null;
    for (java.util.Map.Entry<String, String> o : options(w, where).entrySet()) {
      String[] kv = {o.getKey(), o.getValue()};
      switch (kv[0]) {
        case "stride" -> stride = positive(kv[1], "stride", where);
        case "shortcut" -> {
          if (!kv[1].equals("identity") && !kv[1].equals("conv")) {
            throw new SpecException(where + ": shortcut must be identity or conv, got '" + kv[1] + "'");
          }
          shortcut = kv[1];
        }
        default -> throw new SpecException(where + ": unknown option '" + kv[0] + "'; expected stride or shortcut");
      }
    }
    String c = op.keyword();
    LayerSpec conv1 = conv(new String[] {"conv", c, io[0] + "->" + io[1], "kernel=3", "stride=" + stride,
        "padding=1"}, lineNo, where, in);
    Shape mid = conv1.outputShape();
    LayerSpec conv2 = conv(new String[] {"conv", c, io[1] + "->" + io[1], "kernel=3", "padding=1"}, lineNo, where, mid);
    boolean project = shortcut == null ? !mid.equals(in) : shortcut.equals("conv");
    if (!project && !mid.equals(in)) {
      throw new SpecException(where + ": an identity shortcut carries the block's input " + in
          + " but the block gives " + mid + "; use shortcut=conv (a strided 1x1 conv and batch norm)");
    }
    List<LayerSpec> n = new ArrayList<>();
    n.add(conv1.placed(prefix + ".conv1", src));
    n.add(new LayerSpec(lineNo, Kind.BATCHNORM, null, 0, 0, 0, 0, 0, mid, mid).placed(prefix + ".bn1", first));
    n.add(new LayerSpec(lineNo, Kind.RELU, null, 0, 0, 0, 0, 0, mid, mid).placed(prefix + ".relu1", first + 1));
    n.add(conv2.placed(prefix + ".conv2", first + 2));
    n.add(new LayerSpec(lineNo, Kind.BATCHNORM, null, 0, 0, 0, 0, 0, mid, mid).placed(prefix + ".bn2", first + 3));
    int shortcutNode = src;
    if (project) {
      LayerSpec down = conv(new String[] {"conv", c, io[0] + "->" + io[1], "kernel=1", "stride=" + stride},
          lineNo, where, in);
      if (!down.outputShape().equals(mid)) {
        throw new SpecException(where + ": the shortcut gives " + down.outputShape() + " but the block gives " + mid);
      }
      n.add(down.placed(prefix + ".downsample.0", src));
      n.add(new LayerSpec(lineNo, Kind.BATCHNORM, null, 0, 0, 0, 0, 0, mid, mid).placed(prefix + ".downsample.1", first + 5));
      shortcutNode = first + 6;
    }
    n.add(new LayerSpec(lineNo, Kind.ADD, null, 0, 0, 0, 0, 0, mid, mid).placed(prefix + ".add", first + 4, shortcutNode));
    n.add(new LayerSpec(lineNo, Kind.RELU, null, 0, 0, 0, 0, 0, mid, mid).placed(prefix + ".relu2", first + n.size() - 1));
    return n;
  }

  private static LayerSpec avgpool(String[] w, int lineNo, String where, Shape in) {
    if (w.length > 2) {
      throw new SpecException(where + ": expected 'avgpool' (over the whole map) or 'avgpool SIZE'");
    }
    int size;
    if (w.length == 1) {
      if (in.height() != in.width()) {
        throw new SpecException(where + ": a global average pool needs a square map, got " + in
            + "; give the window, 'avgpool SIZE'");
      }
      size = in.height();
    } else {
      size = positive(w[1], "pool size", where);
    }
    if (in.height() % size != 0 || in.width() % size != 0) {
      throw new SpecException(where + ": window " + size + " does not divide the " + in.height() + "x"
          + in.width() + " map of " + in + "; an average pool must cover it exactly");
    }
    Shape out = new Shape(in.channels(), in.height() / size, in.width() / size);
    return new LayerSpec(lineNo, Kind.AVGPOOL, null, 0, 0, size, size, 0, in, out);
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
    for (java.util.Map.Entry<String, String> o : options(w, where).entrySet()) {
      String[] kv = {o.getKey(), o.getValue()};
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

  /** A layer line's key=value words after its third, each key once, in order. */
  private static java.util.Map<String, String> options(String[] w, String where) {
    java.util.Map<String, String> options = new java.util.LinkedHashMap<>();
    for (int i = 3; i < w.length; i++) {
      String[] kv = w[i].split("=", 2);
      if (kv.length != 2) {
        throw new SpecException(where + ": expected key=value, got '" + w[i] + "'");
      }
      if (options.put(kv[0], kv[1]) != null) {
        throw new SpecException(where + ": option '" + kv[0] + "' is given twice");
      }
    }
    return options;
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
