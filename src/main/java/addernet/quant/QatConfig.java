package addernet.quant;

/**
 * Quantization-aware fine-tuning settings, validated. {@code flip} (random left-right flips) should
 * follow the recipe the checkpoint was trained with. The default rate (0.01) is well below the
 * training recipe's peak: the float weights are already good, fine-tuning only has to adapt them
 * to the integer grid's rounding and clipping.
 */
public record QatConfig(
    int epochs,
    int batch,
    double learningRate,
    double momentum,
    double weightDecay,
    double eta,
    boolean flip,
    long seed) {
  public static final double DEFAULT_LEARNING_RATE = 0.01;

  public QatConfig {
    if (epochs < 0 || epochs > 1000) {
      throw new IllegalArgumentException("QAT epochs must be in 0..1000, got " + epochs);
    }
    if (batch < 2 || batch > 65536) {
      throw new IllegalArgumentException("QAT batch must be in 2..65536, got " + batch);
    }
    if (!(learningRate > 0) || learningRate > 10) {
      throw new IllegalArgumentException("QAT learning rate must be in (0, 10], got " + learningRate);
    }
    if (momentum < 0 || momentum >= 1) {
      throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
    }
    if (weightDecay < 0 || !(eta > 0)) {
      throw new IllegalArgumentException("weight decay must be >= 0 and eta > 0");
    }
  }

  public static QatConfig epochs(int epochs) {
    return new QatConfig(epochs, 128, DEFAULT_LEARNING_RATE, 0.9, 5e-4, 0.2, false, 1);
  }
}
