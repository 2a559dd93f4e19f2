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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Puts a PyTorch state_dict into a network built from a spec (docs/torch.md, "Import"). The
 * state_dict's modules (keys grouped by everything before the last dot, in the file's order) are
 * matched one by one to the spec's layers with parameters (conv, fc, batchnorm), by kind and shape:
 * an adder layer takes an {@code adder2d} ({@code .adder}, an fc one with kernel 1), a multiply
 * conv an {@code nn.Conv2d}, a multiply fc an {@code nn.Linear} (or a 1x1 {@code nn.Conv2d}), a
 * batch norm an {@code nn.BatchNorm1d/2d}. Every mismatch is collected and reported together,
 * each naming the key, its shape, the spec line and what that line expects.
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
    spec.requireChain("import");
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
    if (!errors.isEmpty()) {
      StringBuilder sb = new StringBuilder(source + " does not fit " + spec.name() + ": ");
      for (int i = 0; i < Math.min(LISTED, errors.size()); i++) {
        sb.append(i == 0 ? "" : "; ").append(errors.get(i));
      }
      if (errors.size() > LISTED) {
        sb.append("; and ").append(errors.size() - LISTED).append(" more");
      }
      throw new TorchFormatException(sb.toString());
    }
    return new Result(net, matches);
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
