package addernet.torch;

import addernet.data.Normalization;
import addernet.nn.AvgPool;
import addernet.nn.BatchNorm;
import addernet.nn.Conv2d;
import addernet.nn.Dense;
import addernet.nn.Flatten;
import addernet.nn.Layer;
import addernet.nn.MaxPool;
import addernet.nn.Network;
import addernet.nn.Operation;
import addernet.nn.Relu;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;

/**
 * A network as an {@code nn.Sequential} of the official AdderNet layer and PyTorch's own modules
 * (docs/torch.md, "Export"): its state_dict, keyed as that Sequential names its parameters, and the
 * Python source that builds the Sequential. After a flatten the activations stay [N, C, 1, 1] for
 * adder fc layers (the official code's form of an adder fc: adder2d with kernel 1 on a 1x1 map)
 * and become [N, C] for multiply fc layers (nn.Linear), so each batch norm is the 2d or 1d kind
 * its input needs.
 */
public final class TorchExport {
  /** The Python file's first words; they mark it as an earlier output that --force may replace. */
  public static final String WRITTEN_BY = "# Written by addernet export";

  private TorchExport() {}

  public record Exported(LinkedHashMap<String, TorchTensor> stateDict, String python) {}

  /**
   * @param source where the network came from, for the Python file's header
   * @param stateDictName the .pt file's name, for the Python file's usage note
   */
  public static Exported of(Network net, Normalization norm, String source, String stateDictName) {
    if (!net.spec().isChain()) {
      return GraphExport.of(net, norm, source, stateDictName);
    }
    LinkedHashMap<String, TorchTensor> sd = new LinkedHashMap<>();
    List<String> modules = new ArrayList<>();
    // true while the activations are [N, C, H, W] (or [N, C, 1, 1] after a flatten), false while [N, C].
    boolean fourD = true;
    for (Layer l : net.layers()) {
      if (l instanceof Conv2d c) {
        int i = modules.size();
        String comment = "  # " + c.describe();
        if (c.operation() == Operation.ADDER) {
          modules.add(String.format(Locale.ROOT, "adder2d(%d, %d, %d, stride=%d, padding=%d, bias=False),%s",
              c.inChannels(), c.outChannels(), c.kernel(), c.stride(), c.padding(), comment));
          sd.put(i + ".adder", TorchTensor.ofFloats(
              new int[] {c.outChannels(), c.inChannels(), c.kernel(), c.kernel()}, c.weight().value().clone()));
        } else {
          modules.add(String.format(Locale.ROOT, "nn.Conv2d(%d, %d, %d, stride=%d, padding=%d, bias=False),%s",
              c.inChannels(), c.outChannels(), c.kernel(), c.stride(), c.padding(), comment));
          sd.put(i + ".weight", TorchTensor.ofFloats(
              new int[] {c.outChannels(), c.inChannels(), c.kernel(), c.kernel()}, c.weight().value().clone()));
        }
      } else if (l instanceof Dense d) {
        String comment = "  # " + d.describe();
        if (d.operation() == Operation.ADDER) {
          if (!fourD) {
            modules.add(String.format(Locale.ROOT, "nn.Unflatten(1, (%d, 1, 1)),", d.inFeatures()));
            fourD = true;
          }
          int i = modules.size();
          modules.add(String.format(Locale.ROOT, "adder2d(%d, %d, 1, bias=False),%s",
              d.inFeatures(), d.outFeatures(), comment));
          sd.put(i + ".adder", TorchTensor.ofFloats(
              new int[] {d.outFeatures(), d.inFeatures(), 1, 1}, d.weight().value().clone()));
        } else {
          if (fourD) {
            modules.add("nn.Flatten(),");
            fourD = false;
          }
          int i = modules.size();
          modules.add(String.format(Locale.ROOT, "nn.Linear(%d, %d, bias=False),%s",
              d.inFeatures(), d.outFeatures(), comment));
          sd.put(i + ".weight", TorchTensor.ofFloats(
              new int[] {d.outFeatures(), d.inFeatures()}, d.weight().value().clone()));
        }
      } else if (l instanceof BatchNorm b) {
        int i = modules.size();
        modules.add(String.format(Locale.ROOT, "nn.BatchNorm%s(%d, eps=%s, momentum=%s),",
            fourD ? "2d" : "1d", b.channels(), Float.toString(b.eps()), Float.toString(b.momentum())));
        int[] s = {b.channels()};
        sd.put(i + ".weight", TorchTensor.ofFloats(s, b.gamma().value().clone()));
        sd.put(i + ".bias", TorchTensor.ofFloats(s, b.beta().value().clone()));
        sd.put(i + ".running_mean", TorchTensor.ofFloats(s, b.runningMean().clone()));
        sd.put(i + ".running_var", TorchTensor.ofFloats(s, b.runningVar().clone()));
        sd.put(i + ".num_batches_tracked", TorchTensor.scalarLong(0));
      } else if (l instanceof Relu) {
        modules.add("nn.ReLU(),");
      } else if (l instanceof MaxPool m) {
        modules.add("nn.MaxPool2d(" + m.size() + "),");
      } else if (l instanceof AvgPool a) {
        modules.add("nn.AvgPool2d(" + a.size() + "),");
      } else if (l instanceof Flatten f) {
        // [N, C, H, W] -> [N, C*H*W, 1, 1]: the feature order is PyTorch's flatten order.
        modules.add("nn.Flatten(),");
        modules.add(String.format(Locale.ROOT, "nn.Unflatten(1, (%d, 1, 1)),", f.outputShape().channels()));
        fourD = true;
      } else {
        throw new IllegalArgumentException("no PyTorch module for " + l.describe());
      }
    }
    if (fourD) {
      // [N, classes, 1, 1] -> [N, classes], whether or not the net had a flatten.
      modules.add("nn.Flatten(),");
    }
    return new Exported(sd, python(net, norm, source, stateDictName, modules));
  }

  private static String python(Network net, Normalization norm, String source, String stateDictName,
      List<String> modules) {
    StringBuilder sb = header(net, norm, source, stateDictName, "an nn.Sequential", "");
    sb.append("def build(adder_py):\n");
    sb.append("    \"\"\"The network, with adder2d taken from the official adder.py at path adder_py.\"\"\"\n");
    sb.append(LOAD_ADDER);
    sb.append("    return nn.Sequential(\n");
    for (int i = 0; i < modules.size(); i++) {
      String m = modules.get(i);
      int hash = m.indexOf('#');
      // A layer's description is made of numbers and keywords; anything else is kept out of the comment.
      String line = hash < 0 ? m : m.substring(0, hash) + comment(m.substring(hash));
      sb.append("        ").append(line);
      if (hash < 0) {
        sb.append("  # ").append(i);
      } else {
        sb.append(" (").append(i).append(')');
      }
      sb.append('\n');
    }
    sb.append("    )\n");
    return sb.toString();
  }

  /**
   * The Python file up to its code: the marker line, the docstring, the imports and the constants
   * NAME, SOURCE, STATE_DICT, MEAN and STD.
   *
   * @param form what build returns, for the docstring
   * @param imports further import lines
   */
  static StringBuilder header(Network net, Normalization norm, String source, String stateDictName, String form,
      String imports) {
    // Names come from files and folders the user chose; they reach the Python only as escaped string
    // literals, never inside a docstring or comment where a newline or quote would end it.
    StringBuilder sb = new StringBuilder();
    sb.append(WRITTEN_BY).append("; SOURCE below names the checkpoint.\n");
    sb.append("\"\"\"The network NAME as ").append(form).append(" of the official AdderNet layer (adder2d of\n")
        .append("huawei-noah/AdderNet, adder.py) and PyTorch modules; its state_dict is STATE_DICT, the .pt file\n")
        .append("beside this one.\n\n")
        .append("    model = build(\"path/to/AdderNet/adder.py\")\n")
        .append("    model.load_state_dict(torch.load(STATE_DICT))\n")
        .append("    model.eval()\n\n")
        .append("Inputs are [N, ").append(net.inputShape().channels()).append(", ").append(net.inputShape().height())
        .append(", ").append(net.inputShape().width()).append("] with x = (pixel / 255 - MEAN) / STD; outputs are [N, ")
        .append(net.classes()).append("] class scores.\n\"\"\"\n");
    sb.append("import importlib.util\n\nimport torch.nn as nn\n").append(imports).append('\n');
    sb.append("NAME = ").append(pythonString(net.name())).append('\n');
    sb.append("SOURCE = ").append(pythonString(source)).append('\n');
    sb.append("STATE_DICT = ").append(pythonString(stateDictName)).append('\n');
    if (norm.uniform()) {
      sb.append("MEAN = ").append(norm.mean()).append('\n');
      sb.append("STD = ").append(norm.std()).append("\n\n\n");
    } else {
      // One pair per input channel, in channel order, as torchvision's Normalize takes them.
      StringBuilder m = new StringBuilder();
      StringBuilder d = new StringBuilder();
      for (int c = 0; c < norm.pairs(); c++) {
        m.append(c == 0 ? "" : ", ").append(norm.mean(c));
        d.append(c == 0 ? "" : ", ").append(norm.std(c));
      }
      sb.append("MEAN = [").append(m).append("]  # per input channel\n");
      sb.append("STD = [").append(d).append("]  # per input channel\n\n\n");
    }
    return sb;
  }

  /** The lines of build that load adder2d from the file at adder_py. */
  static final String LOAD_ADDER = "    spec = importlib.util.spec_from_file_location(\"adder\", adder_py)\n"
      + "    module = importlib.util.module_from_spec(spec)\n"
      + "    spec.loader.exec_module(module)\n"
      + "    adder2d = module.adder2d\n";

  /** A comment from a layer's description: numbers and keywords; anything else becomes '?'. */
  static String comment(String text) {
    return text.replaceAll("[^A-Za-z0-9 #>=,_.()x-]", "?");
  }

  /** {@code s} as a Python string literal of printable ASCII: every other character is an escape. */
  static String pythonString(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      i += Character.charCount(cp);
      if (cp == '\\' || cp == '"') {
        sb.append('\\').append((char) cp);
      } else if (cp >= 0x20 && cp < 0x7f) {
        sb.append((char) cp);
      } else if (cp <= 0xff) {
        sb.append(String.format(Locale.ROOT, "\\x%02x", cp));
      } else if (cp <= 0xffff) {
        sb.append(String.format(Locale.ROOT, "\\u%04x", cp));
      } else {
        sb.append(String.format(Locale.ROOT, "\\U%08x", cp));
      }
    }
    return sb.append('"').toString();
  }
}
