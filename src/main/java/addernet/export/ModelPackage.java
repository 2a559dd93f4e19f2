package addernet.export;

import addernet.io.FileHash;
import addernet.io.Outputs;
import addernet.quant.IntLayer;
import addernet.quant.IntNode;
import addernet.quant.IntNetwork;
import addernet.quant.Requant;
import addernet.quant.Scales;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A quantized network on disk: {@code manifest.json}, every layer's weights as {@code .mem} (for
 * {@code $readmemh}) and little-endian {@code .bin}, and golden vectors (input images and every
 * layer's expected integer output from {@link IntNetwork#trace}). The format is specified in
 * docs/model-package.md; this class is its reference writer and reader.
 *
 * @param network the integer network (numeric contract, sections 5 to 7)
 * @param scales the real value of one step of each layer's input and of the logits (informative:
 *     the integers alone define the computation)
 * @param provenance free-form facts about how the package was made (checkpoint, bits, accuracy)
 * @param golden the golden vectors
 */
public record ModelPackage(
    IntNetwork network, Scales scales, Map<String, Object> provenance, Golden golden) {

  public static final String FORMAT = "addernet-model-package";
  /** The version of a chain's package (its layout has not changed since it was first written). */
  public static final int VERSION = 1;
  /** The version of a package of nodes: a network with branches (contract section 8). */
  public static final int GRAPH_VERSION = 2;
  public static final String MANIFEST = "manifest.json";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * Golden vectors: raw input images (0..255, channel-major) with their data-set labels and, per
   * image, the trace of the network (element 0 the shifted input, element i + 1 layer i's output).
   */
  public record Golden(int[][] pixels, int[] labels, List<List<int[]>> traces) {
    public static Golden of(IntNetwork net, int[][] pixels, int[] labels) {
      List<List<int[]>> traces = new ArrayList<>();
      for (int[] p : pixels) {
        traces.add(net.trace(p));
      }
      return new Golden(pixels, labels, traces);
    }

    public int count() {
      return pixels.length;
    }
  }

  public ModelPackage {
    provenance = Map.copyOf(new LinkedHashMap<>(provenance));
    if (scales.input().length != network.layers().size()) {
      throw new IllegalArgumentException(
          "scales for " + scales.input().length + " layers, network has " + network.layers().size());
    }
    if (!network.isChain() && scales.nodes().length != network.nodes().size()) {
      throw new IllegalArgumentException(
          "scales for " + scales.nodes().length + " nodes, network has " + network.nodes().size());
    }
  }

  // ---------------------------------------------------------------- writing

  /**
   * Writes the package as the new folder {@code dir}, whose parent must exist: into a hidden
   * sibling first, renamed into place when complete, so that a failure leaves nothing half-written.
   * Claiming the folder (replacing an earlier output, the output marker) is the caller's.
   */
  public void write(Path dir) throws IOException {
    addernet.io.NewFolder.write(dir, this::writeInto);
  }

  /**
   * Writes the package's files into the existing, empty folder {@code dir}, for a command that
   * claims its outputs itself ({@code addernet.io.Outputs}) and commits the package with its report.
   */
  public void writeInto(Path dir) throws IOException {
    if (!network.isChain()) {
      writeGraphInto(dir);
      return;
    }
    Map<String, String> files = new LinkedHashMap<>();
    ObjectNode root = header(dir, VERSION, "docs/numeric-contract.md, sections 1-7");
    ArrayNode layers = root.putArray("layers");
    for (int i = 0; i < network.layers().size(); i++) {
      IntLayer l = network.layers().get(i);
      ObjectNode n = layers.addObject();
      n.put("name", l.name());
      n.put("type", l.fullyConnected() ? "fc" : "conv");
      n.put("operation", l.op().word());
      n.put("in_channels", l.inChannels());
      n.put("in_height", l.inHeight());
      n.put("in_width", l.inWidth());
      n.put("out_channels", l.outChannels());
      n.put("kernel", l.kernel());
      n.put("stride", l.stride());
      n.put("padding", l.padding());
      n.put("pool", l.pool());
      n.put("out_height", l.outHeight());
      n.put("out_width", l.outWidth());
      n.put("data_bits", l.dataBits());
      n.put("acc_bits", network.accBits(i));
      n.put("scale", scales.input(i));
      n.set("weights", array(dir, files, "weights/" + l.name(), l.weights(), l.dataBits(), true,
          new int[] {l.outChannels(), l.inChannels(), l.kernel(), l.kernel()}));
      n.set("requant", requant(l.requant()));
    }
    ArrayNode outs = golden(root, dir, files).putArray("outputs");
    for (int i = 0; i < network.layers().size(); i++) {
      IntLayer l = network.layers().get(i);
      int bits = outputBits(network, i);
      List<int[]> per = new ArrayList<>();
      for (List<int[]> t : golden.traces()) {
        per.add(t.get(i + 1));
      }
      ObjectNode o = outs.addObject();
      o.put("layer", l.name());
      o.set("values", array(dir, files, "golden/" + l.name(), concat(per, l.outSize()), bits, true,
          new int[] {golden.count(), l.outChannels(), l.outHeight(), l.outWidth()}));
    }
    finish(root, dir, files);
  }

  /** Version 2: the nodes of a network with branches (docs/model-package.md, "Version 2"). */
  private void writeGraphInto(Path dir) throws IOException {
    Map<String, String> files = new LinkedHashMap<>();
    ObjectNode root = header(dir, GRAPH_VERSION, "docs/numeric-contract.md, sections 1-10");
    ArrayNode nodes = root.putArray("nodes");
    int layer = 0;
    for (int j = 0; j < network.nodes().size(); j++) {
      IntNode nd = network.nodes().get(j);
      ObjectNode n = nodes.addObject();
      n.put("name", nd.name());
      n.put("kind", nd.kind().word());
      ArrayNode inputs = n.putArray("inputs");
      Arrays.stream(nd.inputs()).forEach(inputs::add);
      switch (nd.kind()) {
        case LAYER -> {
          IntLayer l = nd.layer();
          n.put("type", l.fullyConnected() ? "fc" : "conv");
          n.put("operation", l.op().word());
          n.put("in_channels", l.inChannels());
          n.put("in_height", l.inHeight());
          n.put("in_width", l.inWidth());
          n.put("kernel", l.kernel());
          n.put("stride", l.stride());
          n.put("padding", l.padding());
          n.put("pool", l.pool());
          n.put("relu", !nd.signed());
          n.put("data_bits", l.dataBits());
          n.put("acc_bits", network.accBits(layer));
          n.put("scale", scales.input(layer));
          n.set("weights", array(dir, files, "weights/" + l.name(), l.weights(), l.dataBits(), true,
              new int[] {l.outChannels(), l.inChannels(), l.kernel(), l.kernel()}));
          n.set("requant", requant(l.requant()));
          layer++;
        }
        case ADD -> {
          n.put("data_bits", nd.dataBits());
          n.put("shift", nd.shift());
        }
        case AVGPOOL -> {
          n.put("in_channels", nd.channels());
          n.put("in_height", nd.height() * nd.window());
          n.put("in_width", nd.width() * nd.window());
          n.put("window", nd.window());
          n.put("data_bits", nd.dataBits());
          n.put("sum_bits", nd.poolSumBits());
          n.set("requant", requant(nd.poolRequant()));
        }
      }
      n.put("out_channels", nd.channels());
      n.put("out_height", nd.height());
      n.put("out_width", nd.width());
      n.put("out_bits", nd.outBits());
      n.put("out_scale", j == network.nodes().size() - 1 ? scales.logit() : scales.node(j));
    }
    ArrayNode outs = golden(root, dir, files).putArray("outputs");
    for (int j = 0; j < network.nodes().size(); j++) {
      IntNode nd = network.nodes().get(j);
      List<int[]> per = new ArrayList<>();
      for (List<int[]> t : golden.traces()) {
        per.add(t.get(j + 1));
      }
      ObjectNode o = outs.addObject();
      o.put("node", nd.name());
      o.set("values", array(dir, files, "golden/" + nd.name(), concat(per, nd.outSize()), nd.outBits(), true,
          new int[] {golden.count(), nd.channels(), nd.height(), nd.width()}));
    }
    finish(root, dir, files);
  }

  /**
   * The manifest's opening fields, the same in both versions up to the layer or node list, and
   * the package's two folders.
   */
  private ObjectNode header(Path dir, int version, String contract) throws IOException {
    Files.createDirectories(dir.resolve("weights"));
    Files.createDirectories(dir.resolve("golden"));
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("version", version);
    root.put("network", network.name());
    root.put("contract", contract);
    ObjectNode in = root.putObject("input");
    in.put("channels", network.inChannels());
    in.put("height", network.inHeight());
    in.put("width", network.inWidth());
    in.put("pixel_bits", 8);
    in.put("input_shift", network.inputShift());
    root.put("classes", network.classes());
    root.put("logit_bits", network.logitBits());
    root.put("logit_scale", scales.logit());
    return root;
  }

  /** The golden vectors' count, labels, predictions and input images; each version adds its outputs. */
  private ObjectNode golden(ObjectNode root, Path dir, Map<String, String> files) throws IOException {
    ObjectNode g = root.putObject("golden");
    g.put("count", golden.count());
    ArrayNode labels = g.putArray("labels");
    ArrayNode predictions = g.putArray("predictions");
    int size = network.inChannels() * network.inHeight() * network.inWidth();
    for (int v = 0; v < golden.count(); v++) {
      labels.add(golden.labels()[v]);
      predictions.add(argmax(last(golden.traces().get(v))));
    }
    g.set("input", array(dir, files, "golden/input", concat(Arrays.asList(golden.pixels()), size),
        8, false, new int[] {golden.count(), network.inChannels(), network.inHeight(), network.inWidth()}));
    return g;
  }

  /** Provenance and the files' hashes close the manifest, which is written last. */
  private void finish(ObjectNode root, Path dir, Map<String, String> files) throws IOException {
    ObjectNode prov = root.putObject("provenance");
    prov.setAll((ObjectNode) JSON.valueToTree(provenance));
    ObjectNode sums = root.putObject("files");
    files.forEach(sums::put);
    JSON.writeValue(dir.resolve(MANIFEST).toFile(), root);
  }

  private static ObjectNode requant(Requant r) {
    ObjectNode rq = JSON.createObjectNode();
    rq.put("shift", r.shift());
    rq.put("lo", r.lo());
    rq.put("hi", r.hi());
    rq.put("max_terms", r.maxTerms());
    ArrayNode terms = rq.putArray("terms");
    ArrayNode bias = rq.putArray("bias");
    for (int c = 0; c < r.channels(); c++) {
      ArrayNode t = terms.addArray();
      Arrays.stream(r.terms()[c]).forEach(t::add);
      bias.add(r.bias()[c]);
    }
    return rq;
  }

  /** Width of layer i's output: the next layer's data bits, or the logit bits for the last. */
  static int outputBits(IntNetwork net, int i) {
    return i + 1 < net.layers().size() ? net.layers().get(i + 1).dataBits() : net.logitBits();
  }

  private static int[] last(List<int[]> trace) {
    return trace.get(trace.size() - 1);
  }

  static int argmax(int[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }

  private static int[] concat(List<int[]> parts, int each) {
    int[] out = new int[parts.size() * each];
    for (int i = 0; i < parts.size(); i++) {
      System.arraycopy(parts.get(i), 0, out, i * each, each);
    }
    return out;
  }

  private static ObjectNode array(Path dir, Map<String, String> files, String base, int[] values,
      int bits, boolean signed, int[] shape) throws IOException {
    String mem = base + ".mem";
    String bin = base + ".bin";
    IntArrayFiles.writeMem(dir.resolve(mem), values, bits);
    IntArrayFiles.writeBin(dir.resolve(bin), values, bits);
    files.put(mem, FileHash.sha256(dir.resolve(mem)));
    files.put(bin, FileHash.sha256(dir.resolve(bin)));
    ObjectNode n = JSON.createObjectNode();
    n.put("mem", mem);
    n.put("bin", bin);
    n.put("count", values.length);
    n.put("bits", bits);
    n.put("signed", signed);
    ArrayNode s = n.putArray("shape");
    Arrays.stream(shape).forEach(s::add);
    return n;
  }

  // ---------------------------------------------------------------- reading

  /**
   * Reads and validates a package: every rule of docs/model-package.md, in the order given there
   * (format and version, files and checksums, shapes, value ranges, requantization, the
   * accumulator and 64-bit bounds), and finally that the network reproduces its own golden
   * vectors. The first problem found is thrown, naming its file and field; no other exception
   * leaves this method for any content of {@code dir}.
   */
  public static ModelPackage read(Path dir) throws PackageException {
    return PackageReader.read(dir);
  }
}
