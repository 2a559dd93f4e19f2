package addernet.quant;

import java.util.Map;
import java.util.TreeMap;

/**
 * Everything the post-training quantizer needs to know, validated at construction.
 *
 * @param bits data width B of every adder layer's inputs and weights (contract section 1)
 * @param layerBits per-layer overrides of {@code bits}, by stage name (conv1, fc2, ...)
 * @param logitBits width L of the integer logits (contract section 7)
 * @param requantPrecision significant bits of the largest requantization multiplier of a layer
 * @param requantTerms signed-digit terms D kept per multiplier (one adder each in hardware)
 * @param calibrationImages training images run through the float network to choose scales
 * @param clipPercentile 0 for the MSE-optimal clip (default); otherwise the percentile of the
 *     activations that is mapped to the top of the grid
 * @param macSharedScale multiply layers (the CNN twin) put their weights on their input's grid,
 *     as adder layers must; false (default) gives them their own weight scale
 */
public record QuantConfig(
    int bits,
    Map<String, Integer> layerBits,
    int logitBits,
    int requantPrecision,
    int requantTerms,
    int calibrationImages,
    double clipPercentile,
    boolean macSharedScale) {

  public static final int DEFAULT_BITS = 8;
  public static final int DEFAULT_LOGIT_BITS = 16;
  /**
   * 16 significant bits and 6 signed digits keep the requantized value within one step of the
   * exact affine map for accumulators of LeNet-5's size (|a acc| of a few hundred steps needs a
   * relative error well below 1/500); the bias is corrected at the batch-norm mean on top.
   */
  public static final int DEFAULT_REQUANT_PRECISION = 16;

  public static final int DEFAULT_REQUANT_TERMS = 6;
  public static final int DEFAULT_CALIBRATION_IMAGES = 2000;

  public QuantConfig {
    checkBits("bits", bits);
    layerBits = Map.copyOf(new TreeMap<>(layerBits));
    for (Map.Entry<String, Integer> e : layerBits.entrySet()) {
      checkBits("bits of layer " + e.getKey(), e.getValue());
    }
    if (logitBits < 2 || logitBits > 32) {
      throw new IllegalArgumentException("logit bits must be in 2..32, got " + logitBits);
    }
    if (requantPrecision < 2 || requantPrecision > 24) {
      throw new IllegalArgumentException(
          "requantization precision must be in 2..24 bits, got " + requantPrecision);
    }
    if (requantTerms < 1 || requantTerms > 16) {
      throw new IllegalArgumentException("requantization terms must be in 1..16, got " + requantTerms);
    }
    if (calibrationImages < 1) {
      throw new IllegalArgumentException("calibration needs at least 1 image, got " + calibrationImages);
    }
    if (!(clipPercentile == 0 || (clipPercentile >= 50 && clipPercentile <= 100))) {
      throw new IllegalArgumentException(
          "clip percentile must be 0 (MSE-optimal clip) or in 50..100, got " + clipPercentile);
    }
  }

  private static void checkBits(String what, int b) {
    if (b < 4 || b > 16) {
      throw new IllegalArgumentException(what + " must be in 4..16, got " + b);
    }
  }

  public static QuantConfig defaults() {
    return withBits(DEFAULT_BITS);
  }

  public static QuantConfig withBits(int bits) {
    return new QuantConfig(
        bits,
        Map.of(),
        DEFAULT_LOGIT_BITS,
        DEFAULT_REQUANT_PRECISION,
        DEFAULT_REQUANT_TERMS,
        DEFAULT_CALIBRATION_IMAGES,
        0,
        false);
  }

  public QuantConfig withLayerBits(Map<String, Integer> overrides) {
    return new QuantConfig(
        bits, overrides, logitBits, requantPrecision, requantTerms, calibrationImages, clipPercentile,
        macSharedScale);
  }

  public QuantConfig withCalibrationImages(int n) {
    return new QuantConfig(
        bits, layerBits, logitBits, requantPrecision, requantTerms, n, clipPercentile,
        macSharedScale);
  }

  public QuantConfig withMacSharedScale(boolean shared) {
    return new QuantConfig(
        bits, layerBits, logitBits, requantPrecision, requantTerms, calibrationImages,
        clipPercentile, shared);
  }

  /** The data width of stage {@code name}. */
  public int bitsOf(String name) {
    return layerBits.getOrDefault(name, bits);
  }
}
