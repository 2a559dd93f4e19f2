package addernet.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A network as written in a {@code model/*.spec} file: one layer per line, checked for shape
 * consistency when parsed.
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

  public NetworkSpec {
    layers = List.copyOf(layers);
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
        return parse(name, java.nio.file.Files.readString(p));
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
    Shape input = null;
    Shape current = null;
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
      String where = name + " line " + lineNo + " (" + line + ")";
      if (input == null) {
        if (!words[0].equals("input") || words.length != 2) {
          throw new SpecException(
              where + ": the first line must be 'input CxHxW', e.g. 'input 1x28x28'");
        }
        input = parseShape(words[1], where);
        current = input;
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
      layers.add(layer);
      current = layer.outputShape();
    }
    if (input == null) {
      throw new SpecException(name + ": empty spec; it must start with 'input CxHxW'");
    }
    if (layers.isEmpty()) {
      throw new SpecException(name + ": no layers after 'input'");
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
    return new Shape(c, h, w);
  }

  private static int positive(String s, String what, String where) {
    try {
      int v = Integer.parseInt(s);
      if (v >= 1 && v <= 1 << 20) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new SpecException(where + ": " + what + " must be a whole number in 1..1048576, got '" + s + "'");
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
    for (int i = 3; i < w.length; i++) {
      String[] kv = w[i].split("=", 2);
      if (kv.length != 2) {
        throw new SpecException(where + ": expected key=value, got '" + w[i] + "'");
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
    Shape out = new Shape(io[1], oh / stride + 1, ow / stride + 1);
    return new LayerSpec(lineNo, Kind.CONV, op, io[0], io[1], kernel, stride, padding, in, out);
  }

  private static int nonNegative(String s, String where) {
    try {
      int v = Integer.parseInt(s);
      if (v >= 0 && v <= 1 << 10) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new SpecException(where + ": padding must be a whole number in 0..1024, got '" + s + "'");
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
