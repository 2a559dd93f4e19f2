package addernet.torch;

import addernet.data.Normalization;
import addernet.nn.Add;
import addernet.nn.AvgPool;
import addernet.nn.BatchNorm;
import addernet.nn.Conv2d;
import addernet.nn.Dense;
import addernet.nn.Flatten;
import addernet.nn.Layer;
import addernet.nn.MaxPool;
import addernet.nn.Network;
import addernet.nn.NetworkSpec;
import addernet.nn.NetworkSpec.LayerSpec;
import addernet.nn.Operation;
import addernet.nn.Relu;
import java.util.LinkedHashMap;
import java.util.Locale;

/**
 * A branching network (a residual one) as a {@code class Network(nn.Module)} whose forward follows
 * the graph node by node (docs/torch.md, "Residual networks"). Each node with parameters is a
 * module registered under the node's own name, dots making nested modules, so the state_dict keys
 * are the spec's names ({@code layer2.0.downsample.0.adder}), the official resnet20's keys for the
 * official layout. Every activation stays [N, C, H, W]: a flatten gives [N, C*H*W, 1, 1] and an fc
 * is a 1x1 convolution on it (adder2d or nn.Conv2d), as the official code writes its classifier,
 * so every batch norm is an nn.BatchNorm2d.
 */
final class GraphExport {
  private GraphExport() {}

  static TorchExport.Exported of(Network net, Normalization norm, String source, String stateDictName) {
    NetworkSpec spec = net.spec();
    LinkedHashMap<String, TorchTensor> sd = new LinkedHashMap<>();
    StringBuilder init = new StringBuilder();
    StringBuilder forward = new StringBuilder();
    for (int i = 0; i < net.layers().size(); i++) {
      Layer l = net.layers().get(i);
      LayerSpec ls = spec.layers().get(i);
      String name = ls.name();
      String in = tensor(ls.input());
      String module = null;
      if (l instanceof Conv2d c) {
        int[] shape = {c.outChannels(), c.inChannels(), c.kernel(), c.kernel()};
        module = String.format(Locale.ROOT, "%s(%d, %d, %d, stride=%d, padding=%d, bias=False)",
            c.operation() == Operation.ADDER ? "adder2d" : "nn.Conv2d", c.inChannels(), c.outChannels(), c.kernel(),
            c.stride(), c.padding());
        sd.put(key(name, c.operation()), TorchTensor.ofFloats(shape, c.weight().value().clone()));
      } else if (l instanceof Dense d) {
        int[] shape = {d.outFeatures(), d.inFeatures(), 1, 1};
        module = String.format(Locale.ROOT, "%s(%d, %d, 1, bias=False)",
            d.operation() == Operation.ADDER ? "adder2d" : "nn.Conv2d", d.inFeatures(), d.outFeatures());
        sd.put(key(name, d.operation()), TorchTensor.ofFloats(shape, d.weight().value().clone()));
      } else if (l instanceof BatchNorm b) {
        module = String.format(Locale.ROOT, "nn.BatchNorm2d(%d, eps=%s, momentum=%s)", b.channels(),
            Float.toString(b.eps()), Float.toString(b.momentum()));
        int[] s = {b.channels()};
        sd.put(name + ".weight", TorchTensor.ofFloats(s, b.gamma().value().clone()));
        sd.put(name + ".bias", TorchTensor.ofFloats(s, b.beta().value().clone()));
        sd.put(name + ".running_mean", TorchTensor.ofFloats(s, b.runningMean().clone()));
        sd.put(name + ".running_var", TorchTensor.ofFloats(s, b.runningVar().clone()));
        sd.put(name + ".num_batches_tracked", TorchTensor.scalarLong(0));
      }
      String value;
      if (module != null) {
        requireModuleName(spec, ls);
        init.append("        _place(self, ").append(TorchExport.pythonString(name)).append(", ").append(module)
            .append(")  # ").append(TorchExport.comment(l.describe())).append('\n');
        value = "self.get_submodule(" + TorchExport.pythonString(name) + ")(" + in + ")";
      } else if (l instanceof Relu) {
        value = "F.relu(" + in + ")";
      } else if (l instanceof MaxPool m) {
        value = "F.max_pool2d(" + in + ", " + m.size() + ")";
      } else if (l instanceof AvgPool a) {
        value = "F.avg_pool2d(" + in + ", " + a.size() + ")";
      } else if (l instanceof Flatten) {
        // Channel, row, column: PyTorch's flatten order, which the fc weights' columns follow.
        value = in + ".reshape(" + in + ".shape[0], -1, 1, 1)";
      } else if (l instanceof Add) {
        value = in + " + " + tensor(ls.inputs()[1]);
      } else {
        throw new IllegalArgumentException("no PyTorch module for " + l.describe());
      }
      forward.append("        ").append(tensor(i)).append(" = ").append(value).append("  # ")
          .append(TorchExport.comment(name)).append('\n');
    }
    forward.append("        return ").append(tensor(net.layers().size() - 1)).append(".flatten(1)\n");
    return new TorchExport.Exported(sd, python(net, norm, source, stateDictName, init, forward));
  }

  private static String key(String name, Operation op) {
    return name + (op == Operation.ADDER ? ".adder" : ".weight");
  }

  private static String tensor(int node) {
    return node == NetworkSpec.NETWORK_INPUT ? "x" : "t" + node;
  }

  /** nn.Module.add_module takes no empty name: a name with an empty part has no module path. */
  private static void requireModuleName(NetworkSpec spec, LayerSpec ls) {
    for (String part : ls.name().split("\\.", -1)) {
      if (part.isEmpty()) {
        throw new TorchFormatException(spec.name() + " line " + ls.line() + ": node " + ls.name()
            + " has an empty part between dots, which a PyTorch module path cannot hold; rename it");
      }
    }
  }

  private static String python(Network net, Normalization norm, String source, String stateDictName,
      CharSequence init, CharSequence forward) {
    StringBuilder sb = TorchExport.header(net, norm, source, stateDictName, "an nn.Module (class Network)",
        "import torch.nn.functional as F\n");
    sb.append("def _place(root, name, module):\n")
        .append("    \"\"\"Registers module under its dotted state_dict name, making plain containers on the way.\"\"\"\n")
        .append("    *path, last = name.split(\".\")\n")
        .append("    for part in path:\n")
        .append("        if part not in root._modules:\n")
        .append("            root.add_module(part, nn.Module())\n")
        .append("        root = root._modules[part]\n")
        .append("    root.add_module(last, module)\n\n\n");
    sb.append("class Network(nn.Module):\n")
        .append("    \"\"\"The spec's graph: tensor tI is node I's output, x the network's input.\"\"\"\n\n")
        .append("    def __init__(self, adder2d):\n")
        .append("        super().__init__()\n")
        .append(init).append('\n')
        .append("    def forward(self, x):\n")
        .append(forward).append("\n\n");
    sb.append("def build(adder_py):\n");
    sb.append("    \"\"\"The network, with adder2d taken from the official adder.py at path adder_py.\"\"\"\n");
    sb.append(TorchExport.LOAD_ADDER);
    sb.append("    return Network(adder2d)\n");
    return sb.toString();
  }
}
