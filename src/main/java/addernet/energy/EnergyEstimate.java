package addernet.energy;

import addernet.quant.QuantConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Energy per inference of an adder net and its CNN twin, from operation counts and per-operation
 * energies: arithmetic only. Memory traffic, registers, control and clocking are left out although
 * in real accelerators they often cost more than the arithmetic (Horowitz's own point); so this
 * compares the two nets' datapaths, it does not predict a chip's power.
 *
 * <p>What each weight use costs, per the assumptions stated in {@link #ASSUMPTIONS}:
 *
 * <ul>
 *   <li>adder net, integer: a B-bit subtraction, an absolute value (charged as a B-bit add: a
 *       conditional negation is an add of the same width) and an accumulator-width add;
 *   <li>CNN twin, integer: a B-bit multiply and an accumulator-width add (its accumulator is wider,
 *       by its own bound);
 *   <li>both, integer: the requantization's signed-digit adds per output (contract section 7), at
 *       the accumulator width plus the multiplier's precision;
 *   <li>float32 for context: FP32 subtract, absolute value (again charged as an add) and add for
 *       the adder net, FP32 multiply and add for the CNN; per output both pay one FP32 multiply
 *       and add for the folded batch norm.
 * </ul>
 */
public final class EnergyEstimate {

  /** The assumptions, worded for the JSON and HTML reports. */
  public static final List<String> ASSUMPTIONS =
      List.of(
          "Arithmetic only: memory accesses, registers, control and clock are not counted; in real"
              + " accelerators they often dominate, so this compares datapaths, not chips.",
          "Per weight use the adder net does a B-bit subtraction, an absolute value and an"
              + " accumulator-width add; the absolute value is charged as a B-bit add (a"
              + " conditional negation). The AdderNet paper counts it as free; the per-kind"
              + " breakdown shows what that changes.",
          "Per weight use the CNN twin does a B-bit multiply and an accumulator-width add; each"
              + " net's accumulator is as wide as its own worst-case bound (numeric contract,"
              + " section 3), the MAC's being wider.",
          "Both nets requantize every output with the same signed-digit adds (numeric contract,"
              + " section 7), each add as wide as the accumulator plus "
              + QuantConfig.DEFAULT_REQUANT_PRECISION + " bits of multiplier precision. From a"
              + " spec, every output is charged the quantizer's maximum of "
              + QuantConfig.DEFAULT_REQUANT_TERMS + " digits (an upper bound); from a model"
              + " package, its actual digits (the CNN twin is assumed to need as many).",
          "Integer energies at widths other than 8 and 32 bits follow the power law through the"
              + " two published points (adds about linear in width, multiplies about quadratic).",
          "Float32: FP32 subtract, absolute value (charged as an add) and add per weight use for"
              + " the adder net, FP32 multiply and add for the CNN; per output one FP32 multiply"
              + " and add for the folded batch norm in both. Max-pool comparisons, ReLU, residual"
              + " adds and average pools are left out in all variants: they are the same in both"
              + " nets, about one add per activation (for ResNet-20, 90,112 adds beside 40.5"
              + " million weight uses).");

  /** Energy of one net in one arithmetic, split by kind of operation, in picojoules. */
  public record Breakdown(Map<String, Double> perKindPj, double totalPj) {
    public Breakdown {
      perKindPj = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(perKindPj));
    }

    static Breakdown of(Map<String, Double> perKind) {
      return new Breakdown(perKind, perKind.values().stream().mapToDouble(Double::doubleValue).sum());
    }
  }

  /** One layer's energies, adder vs CNN, integer and float32. */
  public record LayerEnergy(
      LayerOps ops, Breakdown adder, Breakdown cnn, Breakdown adderFloat32, Breakdown cnnFloat32) {}

  /** The whole estimate, as written to JSON (snake_case keys). */
  public record Result(
      String network,
      String countedFrom,
      String source,
      String technology,
      List<String> assumptions,
      long weightUsesPerInference,
      List<LayerEnergy> layers,
      Breakdown adder,
      Breakdown cnn,
      Breakdown adderFloat32,
      Breakdown cnnFloat32,
      double adderOverCnn,
      double adderOverCnnFloat32) {

    public String label() {
      return "estimate (arithmetic only) from " + source;
    }
  }

  private EnergyEstimate() {}

  /** The estimate for {@code ops} with the per-operation energies of {@code table}. */
  public static Result of(NetworkOps ops, OperationEnergy table) {
    List<LayerEnergy> layers = new ArrayList<>();
    for (LayerOps l : ops.layers()) {
      layers.add(layer(l, table));
    }
    Breakdown adder = sum(layers.stream().map(LayerEnergy::adder).toList());
    Breakdown cnn = sum(layers.stream().map(LayerEnergy::cnn).toList());
    Breakdown adderF = sum(layers.stream().map(LayerEnergy::adderFloat32).toList());
    Breakdown cnnF = sum(layers.stream().map(LayerEnergy::cnnFloat32).toList());
    return new Result(ops.network(), ops.origin(), table.source(), "45 nm CMOS", ASSUMPTIONS,
        ops.weightUses(), layers, adder, cnn, adderF, cnnF,
        adder.totalPj() / cnn.totalPj(), adderF.totalPj() / cnnF.totalPj());
  }

  static LayerEnergy layer(LayerOps l, OperationEnergy e) {
    double uses = l.weightUses();
    int b = l.dataBits();
    int precision = QuantConfig.DEFAULT_REQUANT_PRECISION;
    Map<String, Double> adder = new LinkedHashMap<>();
    adder.put("subtract", uses * e.intAdd(b));
    adder.put("absolute", uses * e.intAdd(b));
    adder.put("accumulate", uses * e.intAdd(l.adderAccBits()));
    adder.put("requantize", l.requantAdds() * e.intAdd(l.adderAccBits() + precision));
    Map<String, Double> cnn = new LinkedHashMap<>();
    cnn.put("multiply", uses * e.intMultiply(b));
    cnn.put("accumulate", uses * e.intAdd(l.macAccBits()));
    cnn.put("requantize", l.requantAdds() * e.intAdd(l.macAccBits() + precision));
    double bn = l.outputs() * (e.fp32Multiply() + e.fp32Add());
    Map<String, Double> adderF = new LinkedHashMap<>();
    adderF.put("subtract", uses * e.fp32Add());
    adderF.put("absolute", uses * e.fp32Add());
    adderF.put("accumulate", uses * e.fp32Add());
    adderF.put("batch_norm", bn);
    Map<String, Double> cnnF = new LinkedHashMap<>();
    cnnF.put("multiply", uses * e.fp32Multiply());
    cnnF.put("accumulate", uses * e.fp32Add());
    cnnF.put("batch_norm", bn);
    return new LayerEnergy(l, Breakdown.of(adder), Breakdown.of(cnn), Breakdown.of(adderF), Breakdown.of(cnnF));
  }

  private static Breakdown sum(List<Breakdown> parts) {
    Map<String, Double> total = new LinkedHashMap<>();
    for (Breakdown p : parts) {
      p.perKindPj().forEach((k, v) -> total.merge(k, v, Double::sum));
    }
    return Breakdown.of(total);
  }
}
