package addernet.energy;

/**
 * What one weighted layer computes per inference, counted from its shapes. Every weight use is one
 * step of a sum of K terms: {@code |x - w|} for the adder layer, {@code x * w} for its CNN twin.
 *
 * @param name conv1.., fc1.. in network order
 * @param weightUses output positions (before pooling) x output channels x K
 * @param outputs output positions (before pooling) x output channels: one requantization each
 * @param requantAdds the requantization's signed-digit terms over all outputs, one add each
 *     (numeric contract, section 7)
 * @param dataBits width of the layer's inputs and weights
 * @param adderAccBits accumulator width of the adder layer (contract section 3)
 * @param macAccBits accumulator width of the multiply-accumulate twin by its own bound
 */
public record LayerOps(
    String name,
    long weightUses,
    long outputs,
    long requantAdds,
    int dataBits,
    int adderAccBits,
    int macAccBits) {

  public LayerOps {
    if (weightUses < 1 || outputs < 1 || requantAdds < 0) {
      throw new IllegalArgumentException(
          name + ": weight uses and outputs must be positive, requantization adds not negative");
    }
    if (dataBits < 2 || adderAccBits < dataBits || macAccBits < dataBits) {
      throw new IllegalArgumentException(
          name + ": data " + dataBits + " bits, accumulators " + adderAccBits + " and " + macAccBits + " bits");
    }
  }
}
