package addernet.energy;

import addernet.quant.PeOp;
import addernet.nn.NetworkSpec;
import addernet.quant.IntLayer;
import addernet.quant.IntNetwork;
import java.util.ArrayList;
import java.util.List;

/**
 * The operation counts of one inference of a network, per weighted layer. The same counts serve
 * the adder net and its CNN twin: the twins differ only in what each weight use costs.
 *
 * @param network the network's name
 * @param origin where the counts come from: a spec (shapes only) or a model package (its real
 *     widths and requantization digits)
 * @param layers the weighted layers in order
 */
public record NetworkOps(String network, String origin, List<LayerOps> layers) {

  public NetworkOps {
    layers = List.copyOf(layers);
    if (layers.isEmpty()) {
      throw new IllegalArgumentException(network + ": no weighted layer to count");
    }
  }

  /**
   * Counts from a spec, as if it were quantized to {@code bits} everywhere. A spec has no
   * requantization digits yet, so each output is charged {@code requantTerms} adds, the most the
   * quantizer may use (it keeps at most that many signed digits per channel; some channels need
   * fewer), which makes this count an upper bound on that part.
   */
  public static NetworkOps of(NetworkSpec spec, int bits, int requantTerms) {
    if (bits < 2 || bits > 16) {
      throw new IllegalArgumentException("bits must be in 2..16, got " + bits);
    }
    if (requantTerms < 0) {
      throw new IllegalArgumentException("requantization terms must not be negative, got " + requantTerms);
    }
    List<LayerOps> out = new ArrayList<>();
    int convs = 0;
    int fcs = 0;
    for (NetworkSpec.LayerSpec l : spec.layers()) {
      long k;
      long positions;
      String name;
      if (l.kind() == NetworkSpec.Kind.CONV) {
        k = (long) l.in() * l.kernel() * l.kernel();
        positions = (long) l.outputShape().height() * l.outputShape().width();
        name = "conv" + (++convs);
      } else if (l.kind() == NetworkSpec.Kind.FC) {
        k = l.in();
        positions = 1;
        name = "fc" + (++fcs);
      } else {
        continue;
      }
      long outputs = positions * l.out();
      out.add(new LayerOps(name, outputs * k, outputs, outputs * requantTerms, bits,
          PeOp.ADDER.accumulatorBits(bits, k), PeOp.MULTIPLY.accumulatorBits(bits, k)));
    }
    return new NetworkOps(spec.name(), "spec " + spec.name() + " at " + bits + " bits", out);
  }

  /** Counts from a quantized network: its per-layer widths and its actual requantization digits. */
  public static NetworkOps of(IntNetwork net) {
    List<LayerOps> out = new ArrayList<>();
    for (int i = 0; i < net.layers().size(); i++) {
      IntLayer l = net.layers().get(i);
      long positions = l.positions();
      long terms = 0;
      for (int c = 0; c < l.outChannels(); c++) {
        terms += l.requant().terms()[c].length;
      }
      out.add(new LayerOps(l.name(), l.adderOps(), positions * l.outChannels(), positions * terms,
          l.dataBits(), net.accBits(i), PeOp.MULTIPLY.accumulatorBits(l.dataBits(), l.k())));
    }
    return new NetworkOps(net.name(), "model package of " + net.name(), out);
  }

  public long weightUses() {
    return layers.stream().mapToLong(LayerOps::weightUses).sum();
  }
}
