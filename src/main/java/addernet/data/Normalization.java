package addernet.data;

/**
 * How pixels become network inputs: x = (pixel / 255 - mean) / std. Stored in checkpoints because
 * later stages (quantization, hardware) must feed the network the same numbers.
 */
public record Normalization(double mean, double std) {
  public Normalization {
    if (!(std > 0) || !Double.isFinite(mean)) {
      throw new IllegalArgumentException("normalization needs a finite mean and std > 0, got " + mean + ", " + std);
    }
  }

  public float apply(int pixel) {
    return (float) ((pixel / 255.0 - mean) / std);
  }
}
