package addernet.quant;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * The figures of one quantization, as {@code quantize --report} writes them (snake_case keys)
 * and the run report reads them back.
 *
 * @param packagePath the model package folder as the user named it
 * @param postTrainingAccuracy the accuracy before fine-tuning; only with QAT epochs
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record QuantizeReport(
    String network,
    String checkpoint,
    @JsonProperty("package") String packagePath,
    int bits,
    Map<String, Integer> layerBits,
    int qatEpochs,
    int testImages,
    Double floatAccuracy,
    @JsonInclude(JsonInclude.Include.NON_NULL) Double postTrainingAccuracy,
    Double quantizedAccuracy,
    Double accuracyDropPoints,
    int inputShift,
    int logitBits,
    double logitScale,
    List<Layer> layers,
    long adderOpsPerImage,
    double seconds) {

  /** One layer's widths, scales and requantization. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Layer(
      String name, int dataBits, int accBits, int k, String operation, double scale,
      double weightScale, int requantShift, int requantTerms) {}
}
