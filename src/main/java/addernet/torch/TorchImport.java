package addernet.torch;

import addernet.nn.BatchNorm;
import addernet.nn.Conv2d;
import addernet.nn.Dense;
import addernet.nn.Layer;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.NetworkSpec.Kind;
import addernet.nn.NetworkSpec.LayerSpec;
import addernet.nn.Operation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Puts a PyTorch state_dict into a network built from a spec (docs/torch.md, "Import"). The
 * state_dict's modules (keys grouped by everything before the last dot, in the file's order) are
 * matched one by one to the spec's layers with parameters (conv, fc, batchnorm), by kind and shape:
 * an adder layer takes an {@code adder2d} ({@code .adder}, an fc one with kernel 1), a multiply
 * conv an {@code nn.Conv2d}, a multiply fc an {@code nn.Linear} (or a 1x1 {@code nn.Conv2d}), a
 * batch norm an {@code nn.BatchNorm1d/2d}. Every mismatch is collected and reported together,
 * each naming the key, its shape, the spec line and what that line expects. A branching network
 * is matched by node name instead ({@link #loadByName}).
 */
public final class TorchImport {
  /** How many mismatches one message lists before it only counts the rest. */
  private static final int LISTED = 12;

  private TorchImport() {}

  /** One spec layer and the state_dict keys it was filled from. */
  public record Match(int specLine, String specText, String module, String kind, List<String> keys) {}

  public record Result(Network network, List<Match> matches) {}

  private enum ModuleKind {
    ADDER2D("adder2d"),
    CONV2D("nn.Conv2d"),
    LINEAR("nn.Linear"),
    BATCHNORM("BatchNorm"),
    UNKNOWN("unknown module");

    final String text;

    ModuleKind(String text) {
      this.text = text;
    }
  }

  private record Module(String prefix, Map<String, TorchTensor> fields) {
    String key(String field) {
      return prefix.isEmpty() ? field : prefix + "." + field;
    }

    ModuleKind kind() {
      if (fields.containsKey("adder")) {
        return ModuleKind.ADDER2D;
      }
      if (fields.containsKey("running_mean") || fields.containsKey("running_var")) {
        return ModuleKind.BATCHNORM;
      }
      TorchTensor w = fields.get("weight");
      if (w != null && w.shape().length == 4) {
        return ModuleKind.CONV2D;
      }
      if (w != null && w.shape().length == 2) {
        return ModuleKind.LINEAR;
      }
      return ModuleKind.UNKNOWN;
    }

    String describe() {
      List<String> parts = new ArrayList<>();
      fields.forEach((f, t) -> parts.add("'" + key(f) + "' " + t.shapeText()));
      return String.join(", ", parts);
    }
  }

  /**
   * A fresh network of {@code spec} holding the state_dict's values.
   *
   * @param source the file name, for messages
   */
  public static Result load(NetworkSpec spec, Map<String, TorchTensor> state, String source) {
    if (!spec.isChain()) {
      return loadByName(spec, state, source);
    }
    List<Module> modules = group(state);
    Network net = Network.build(spec, 0);
    List<String> errors = new ArrayList<>();
    List<Match> matches = new ArrayList<>();
    List<Integer> weighted = new ArrayList<>();
    for (int i = 0; i < spec.layers().size(); i++) {
      Kind k = spec.layers().get(i).kind();
      if (k == Kind.CONV || k == Kind.FC || k == Kind.BATCHNORM) {
        weighted.add(i);
      }
    }
    int next = 0;
    for (Module m : modules) {
      if (m.kind() == ModuleKind.UNKNOWN) {
        errors.add(m.describe() + ": not the parameters of an adder2d, nn.Conv2d, nn.Linear or BatchNorm"
            + " module, which are all a spec's layers can take");
        continue;
      }
      if (next >= weighted.size()) {
        errors.add(m.describe() + " (" + m.kind().text + "): extra; " + spec.name() + " has only "
            + weighted.size() + " layers with parameters (conv, fc, batchnorm), all matched before it");
        continue;
      }
      int index = weighted.get(next++);
      LayerSpec ls = spec.layers().get(index);
      String against = "matched against " + spec.name() + " line " + ls.line() + " (" + lineText(spec, ls) + ")";
      int before = errors.size();
      List<String> used = fill(m, ls, net.layers().get(index), against, errors);
      if (errors.size() == before) {
        matches.add(new Match(ls.line(), lineText(spec, ls), m.prefix(), m.kind().text, used));
      }
    }
    for (int j = next; j < weighted.size(); j++) {
      LayerSpec ls = spec.layers().get(weighted.get(j));
      errors.add(spec.name() + " line " + ls.line() + " (" + lineText(spec, ls) + "): no PyTorch module left for it;"
          + " expected " + expected(ls));
    }
    refuseIfAny(errors, spec, source);
    return new Result(net, matches);
  }

  private static void refuseIfAny(List<String> errors, NetworkSpec spec, String source) {
    if (errors.isEmpty()) {
      return;
    }
    StringBuilder sb = new StringBuilder(source + " does not fit " + spec.name() + ": ");
    for (int i = 0; i < Math.min(LISTED, errors.size()); i++) {
      sb.append(i == 0 ? "" : "; ").append(errors.get(i));
    }
    if (errors.size() > LISTED) {
      sb.append("; and ").append(errors.size() - LISTED).append(" more");
    }
    throw new TorchFormatException(sb.toString());
  }

  /** What nn.DataParallel puts before every key of the model it wraps. */
  static final String DATA_PARALLEL = "module.";

  /**
   * A branching network (docs/torch.md, "Residual networks"): each node with parameters takes the
   * module of its own name, wherever it stands in the file, as the official resnet20's modules
   * are named by the attributes of its classes, not by the order of its forward pass.
   */
  private static Result loadByName(NetworkSpec spec, Map<String, TorchTensor> state, String source) {
    Map<String, Module> modules = new LinkedHashMap<>();
    for (Module m : group(withoutDataParallel(state, source))) {
      modules.put(m.prefix(), m);
    }
    Network net = Network.build(spec, 0);
    Map<String, Integer> nodes = new LinkedHashMap<>();
    for (int i = 0; i < spec.layers().size(); i++) {
      nodes.put(spec.layers().get(i).name(), i);
    }
    List<String> errors = new ArrayList<>();
    // A block whose shortcut differs is one mistake on one spec line, however many keys show it.
    Set<String> shortcutReported = new HashSet<>();
    for (Module m : modules.values()) {
      Integer i = nodes.get(m.prefix());
      if (i != null && hasParameters(spec.layers().get(i))) {
        continue;
      }
      String key = m.key(m.fields().keySet().iterator().next());
      String shown = "key '" + key + "' " + m.fields().values().iterator().next().shapeText();
      String block = blockOfShortcut(m.prefix());
      Integer conv1 = block == null || nodes.containsKey(block + ".downsample.0") ? null : nodes.get(block + ".conv1");
      if (conv1 != null) {
        if (shortcutReported.add(block)) {
          LayerSpec ls = spec.layers().get(conv1);
          errors.add(shown + ": the file's block " + block + " has a conv shortcut (" + block + ".downsample.0 and .1)"
              + " but " + where(spec, ls) + " gives it an identity shortcut; add shortcut=conv to that line");
        }
      } else if (i != null) {
        LayerSpec ls = spec.layers().get(i);
        errors.add(shown + ": " + where(spec, ls) + " names node " + m.prefix() + " a "
            + ls.kind().name().toLowerCase(Locale.ROOT) + ", which has no parameters");
      } else {
        errors.add(shown + ": " + spec.name() + " has no node named " + m.prefix()
            + " (a module's name is its keys' text before the last dot)");
      }
    }
    List<Match> matches = new ArrayList<>();
    for (int i = 0; i < spec.layers().size(); i++) {
      LayerSpec ls = spec.layers().get(i);
      if (!hasParameters(ls)) {
        continue;
      }
      Module m = modules.get(ls.name());
      if (m == null) {
        String block = blockOfShortcut(ls.name());
        if (block != null && modules.containsKey(block + ".conv1") && !modules.containsKey(block + ".downsample.0")
            && !modules.containsKey(block + ".downsample.1")) {
          if (shortcutReported.add(block)) {
            errors.add(where(spec, ls) + " gives block " + block + " a conv shortcut, but the file has no key '"
                + block + ".downsample.0." + field(ls) + "': its block has an identity shortcut (the block's input"
                + " as it is); write shortcut=identity on that line (the block must then keep its shape)");
          }
        } else {
          errors.add(where(spec, ls) + ", node " + ls.name() + ": the file has no key for it; expected "
              + expectedKeys(ls));
        }
        continue;
      }
      String against = "for " + where(spec, ls);
      int before = errors.size();
      List<String> used = fill(m, ls, net.layers().get(i), against, errors);
      if (errors.size() == before) {
        matches.add(new Match(ls.line(), lineText(spec, ls), m.prefix(), m.kind().text, used));
      }
    }
    refuseIfAny(errors, spec, source);
    return new Result(net, matches);
  }

  /**
   * The keys without nn.DataParallel's prefix when every key has it; as they are when none has;
   * refused when only some have it (two models' keys in one file).
   */
  static Map<String, TorchTensor> withoutDataParallel(Map<String, TorchTensor> state, String source) {
    String with = null;
    String without = null;
    for (String k : state.keySet()) {
      if (k.startsWith(DATA_PARALLEL)) {
        with = with == null ? k : with;
      } else {
        without = without == null ? k : without;
      }
    }
    if (with == null) {
      return state;
    }
    if (without != null) {
      throw new TorchFormatException(source + ": some keys start with '" + DATA_PARALLEL + "' (nn.DataParallel's"
          + " prefix), such as '" + with + "', and some do not, such as '" + without + "'; expected all or none"
          + " (save model.module.state_dict() or model.state_dict() of one model)");
    }
    Map<String, TorchTensor> out = new LinkedHashMap<>();
    state.forEach((k, v) -> out.put(k.substring(DATA_PARALLEL.length()), v));
    return out;
  }

  private static boolean hasParameters(LayerSpec ls) {
    return ls.kind() == Kind.CONV || ls.kind() == Kind.FC || ls.kind() == Kind.BATCHNORM;
  }

  /** {@code B} for a module named {@code B.downsample.N}, else null. */
  private static String blockOfShortcut(String module) {
    int at = module.lastIndexOf(".downsample.");
    return at > 0 ? module.substring(0, at) : null;
  }

  private static String where(NetworkSpec spec, LayerSpec ls) {
    return spec.name() + " line " + ls.line() + " (" + lineText(spec, ls) + ")";
  }

  private static String field(LayerSpec ls) {
    return ls.operation() == Operation.ADDER ? "adder" : "weight";
  }

  private static String expectedKeys(LayerSpec ls) {
    String p = ls.name() + ".";
    return switch (ls.kind()) {
      case BATCHNORM -> "'" + p + "weight', '" + p + "bias', '" + p + "running_mean' and '" + p + "running_var' of shape "
          + shape(ls.inputShape().channels());
      case CONV -> "'" + p + field(ls) + "' of shape " + shape(ls.out(), ls.in(), ls.kernel(), ls.kernel());
      default -> "'" + p + field(ls) + "' of shape " + (ls.operation() == Operation.ADDER
          ? shape(ls.out(), ls.in(), 1, 1) : shape(ls.out(), ls.in()) + " or " + shape(ls.out(), ls.in(), 1, 1));
    };
  }

  private static List<Module> group(Map<String, TorchTensor> state) {
    Map<String, Map<String, TorchTensor>> byPrefix = new LinkedHashMap<>();
    for (Map.Entry<String, TorchTensor> e : state.entrySet()) {
      String k = e.getKey();
      int dot = k.lastIndexOf('.');
      String prefix = dot < 0 ? "" : k.substring(0, dot);
      byPrefix.computeIfAbsent(prefix, p -> new LinkedHashMap<>()).put(k.substring(dot + 1), e.getValue());
    }
    List<Module> out = new ArrayList<>();
    byPrefix.forEach((p, f) -> out.add(new Module(p, f)));
    return out;
  }

  static String lineText(NetworkSpec spec, LayerSpec ls) {
    String raw = spec.text().split("\r?\n", -1)[ls.line() - 1];
    int hash = raw.indexOf('#');
    return (hash >= 0 ? raw.substring(0, hash) : raw).strip();
  }

  private static String expected(LayerSpec ls) {
    return switch (ls.kind()) {
      case CONV -> ls.operation() == Operation.ADDER
          ? "an adder2d (key ending in .adder) of shape " + shape(ls.out(), ls.in(), ls.kernel(), ls.kernel())
          : "an nn.Conv2d without bias (key ending in .weight) of shape "
              + shape(ls.out(), ls.in(), ls.kernel(), ls.kernel());
      case FC -> ls.operation() == Operation.ADDER
          ? "an adder2d with kernel 1 (key ending in .adder) of shape " + shape(ls.out(), ls.in(), 1, 1)
          : "an nn.Linear without bias (key ending in .weight) of shape " + shape(ls.out(), ls.in());
      case BATCHNORM -> "a BatchNorm1d/2d with weight, bias, running_mean and running_var of shape "
          + shape(ls.inputShape().channels());
      default -> "nothing";
    };
  }

  private static String shape(int... dims) {
    return Arrays.toString(dims);
  }

  /** Copies one module into one layer; returns the keys used, adds an error per mismatch. */
  private static List<String> fill(Module m, LayerSpec ls, Layer layer, String against, List<String> errors) {
    ModuleKind kind = m.kind();
    List<String> used = new ArrayList<>();
    String mismatch = m.describe() + " (" + kind.text + ") " + against + ": expected " + expected(ls);
    switch (ls.kind()) {
      case CONV, FC -> {
        boolean adder = ls.operation() == Operation.ADDER;
        String field = adder ? "adder" : "weight";
        boolean kindOk = adder ? kind == ModuleKind.ADDER2D
            : kind == ModuleKind.CONV2D || (ls.kind() == Kind.FC && kind == ModuleKind.LINEAR);
        if (!kindOk) {
          errors.add(mismatch);
          return used;
        }
        int[] want = ls.kind() == Kind.CONV ? new int[] {ls.out(), ls.in(), ls.kernel(), ls.kernel()}
            : kind == ModuleKind.LINEAR ? new int[] {ls.out(), ls.in()} : new int[] {ls.out(), ls.in(), 1, 1};
        for (String f : m.fields().keySet()) {
          if (!f.equals(field)) {
            String why = f.equals("b") || f.equals("bias")
                ? "a bias, which the spec's layers do not have (a batch norm follows them): build the layer with"
                    + " bias=False"
                : "not a parameter of " + kind.text;
            errors.add("key '" + m.key(f) + "' " + m.fields().get(f).shapeText() + " " + against + ": " + why);
          }
        }
        float[] target = layer instanceof Conv2d c ? c.weight().value() : ((Dense) layer).weight().value();
        copy(m, field, want, target, against, errors);
        used.add(m.key(field));
      }
      case BATCHNORM -> {
        if (kind != ModuleKind.BATCHNORM) {
          errors.add(mismatch);
          return used;
        }
        BatchNorm bn = (BatchNorm) layer;
        int[] want = {bn.channels()};
        TorchTensor w = m.fields().get("weight");
        if (w != null && !Arrays.equals(w.shape(), want)) {
          // One message for the module: its four arrays share the channel count.
          errors.add(m.describe() + " (BatchNorm) " + against + ": expected " + bn.channels() + " channels, shape "
              + Arrays.toString(want));
          return used;
        }
        for (String f : m.fields().keySet()) {
          if (!List.of("weight", "bias", "running_mean", "running_var", "num_batches_tracked").contains(f)) {
            errors.add("key '" + m.key(f) + "' " + m.fields().get(f).shapeText() + " " + against
                + ": not a parameter of a batch norm");
          }
        }
        copy(m, "weight", want, bn.gamma().value(), against, errors);
        copy(m, "bias", want, bn.beta().value(), against, errors);
        copy(m, "running_mean", want, bn.runningMean(), against, errors);
        copy(m, "running_var", want, bn.runningVar(), against, errors);
        for (int c = 0; c < bn.channels(); c++) {
          if (bn.runningVar()[c] < 0) {
            errors.add("key '" + m.key("running_var") + "' " + against + ": value " + bn.runningVar()[c]
                + " at [" + c + "]; a variance must be >= 0");
            break;
          }
        }
        used.addAll(List.of(m.key("weight"), m.key("bias"), m.key("running_mean"), m.key("running_var")));
        TorchTensor n = m.fields().get("num_batches_tracked");
        if (n != null) {
          // PyTorch's step counter; eval mode ignores it, so it is checked for its type only and skipped.
          if (n.dtype() != TorchTensor.DType.INT64 || n.count() != 1) {
            errors.add("key '" + m.key("num_batches_tracked") + "' " + n.shapeText() + " " + n.dtype().torchName()
                + " " + against + ": expected a single torch.int64 (the batch counter, which is skipped)");
          }
        }
      }
      default -> throw new IllegalStateException("no parameters for " + ls.kind());
    }
    return used;
  }

  private static void copy(Module m, String field, int[] want, float[] target, String against, List<String> errors) {
    String key = m.key(field);
    TorchTensor t = m.fields().get(field);
    if (t == null) {
      errors.add("key '" + key + "' is missing (" + against + "): expected torch.float32 of shape "
          + Arrays.toString(want));
      return;
    }
    if (!Arrays.equals(t.shape(), want)) {
      errors.add("key '" + key + "' has shape " + t.shapeText() + " " + against + ": expected shape "
          + Arrays.toString(want));
      return;
    }
    if (t.dtype() != TorchTensor.DType.FLOAT32) {
      errors.add("key '" + key + "' " + t.shapeText() + " is " + t.dtype().torchName() + " " + against
          + ": expected torch.float32 (convert with model.float() before saving)");
      return;
    }
    float[] v = t.floats();
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) {
        errors.add("key '" + key + "' " + t.shapeText() + " " + against + ": value " + v[i] + " at flat index " + i
            + "; expected finite values");
        return;
      }
    }
    System.arraycopy(v, 0, target, 0, v.length);
  }
}
