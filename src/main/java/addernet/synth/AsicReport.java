package addernet.synth;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * What {@code synth --target asic} found, as {@code --report} writes it: per design (the adder
 * design and, with a twin, the MAC twin) the logic per module and in total, on yosys' CMOS gate
 * model and, with a Liberty file, in its cell area; memories apart, as bits.
 *
 * @param transistorsPerFlipFlop the count the total charges for each flip-flop (the CMOS model
 *     leaves flip-flops out)
 * @param liberty the Liberty file's name as given, or null
 * @param adderOverMac the adder design's figure over the MAC twin's, per key ("transistors",
 *     "transistors PE", "area", "area PE"); empty without a twin
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record AsicReport(
    String rtl, int transistorsPerFlipFlop,
    @JsonInclude(JsonInclude.Include.NON_NULL) String liberty,
    List<Run> runs, Map<String, Double> adderOverMac) {

  /**
   * One design.
   *
   * @param modules per module (yosys' name), per instance, and the whole design under {@link Design#TOTAL}
   * @param memoryInstances black-box memory module to its instances in the design
   * @param memoryBits the bits those memories hold
   * @param longestPathPs the longest combinational path on the Liberty cells, in picoseconds; null
   *     without a Liberty file
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Run(
      String design, Map<String, ModuleFigures> modules, Map<String, Long> memoryInstances, long memoryBits,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double longestPathPs) {}

  /**
   * One module's logic per instance.
   *
   * @param logicTransistors the CMOS model's transistors of its gates
   * @param flipFlops its D flip-flops
   * @param transistors gates plus flip-flops at {@link AsicReport#transistorsPerFlipFlop} each
   * @param area cell area on the Liberty file, in its area unit (typically square micrometres);
   *     null without one
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record ModuleFigures(
      long instances, long logicTransistors, long flipFlops, long transistors,
      @JsonInclude(JsonInclude.Include.NON_NULL) Double area) {}
}
