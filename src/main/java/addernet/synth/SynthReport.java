package addernet.synth;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * What one synth run found, as {@code synth --report} writes it (snake_case keys) and the run
 * report reads it back: the same records on both sides, so that a key cannot drift between them.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SynthReport(
    String rtl, String target, List<Run> runs, Map<String, Double> adderOverMacLuts,
    List<WholeDesign> wholeDesign,
    @JsonInclude(JsonInclude.Include.NON_NULL) Long activationBitsNeeded,
    @JsonInclude(JsonInclude.Include.NON_NULL) Long activationBitsStored,
    @JsonInclude(JsonInclude.Include.NON_NULL) Long requantizers) {

  /**
   * One synthesis run: per module (by readable name) and the total, plus word-level multipliers
   * of the design; the bits its Ram and Rom instances hold and, for iCE40, the bits of the block
   * RAMs used.
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Run(
      String design, String flow, int multiplierCells, Map<String, ModuleReport> modules, Pnr pnr,
      long memoryBits, @JsonInclude(JsonInclude.Include.NON_NULL) Long blockRamBits) {
    public Run withPnr(Pnr p) {
      return new Run(design, flow, multiplierCells, modules, p, memoryBits, blockRamBits);
    }

    @JsonIgnore
    public Resources total() {
      return modules.get(Design.TOTAL).resources();
    }
  }

  /**
   * One module's resources per instance (the fields of {@link Resources}), its readable name,
   * its instances in the design, the Verilog module and its parameters (absent for the total and
   * for modules without parameters).
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record ModuleReport(
      int luts, int flipFlops, int carries, int blockRams, int dsps,
      String name, long instances,
      @JsonInclude(JsonInclude.Include.NON_NULL) String module,
      @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, Object> parameters) {
    static ModuleReport of(Design.Module m) {
      Resources r = m.each();
      return new ModuleReport(r.luts(), r.flipFlops(), r.carries(), r.blockRams(), r.dsps(),
          m.name(), m.instances(), m.module(), m.parameters());
    }

    public Resources resources() {
      return new Resources(luts, flipFlops, carries, blockRams, dsps);
    }
  }

  /** The whole design's adder/MAC LUT ratio for one flow, with each side's LUTs and DSP blocks. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record WholeDesign(
      String versus, String flow, boolean dspBlocksAllowed, int adderLuts, int adderDsps,
      int macLuts, int macDsps, Double adderOverMacLuts) {}

  /**
   * Place and route of one design: where, how fast, how full; or why it was not done.
   * {@code pkg} is the iCE40 package (its key in reports that users already have).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Pnr(
      String device,
      String pkg,
      Double targetMhz,
      Double fmaxMhz,
      Map<String, Map<String, Integer>> utilisation,
      String bitstream,
      Double seconds,
      String note) {
    static Pnr note(String note) {
      return new Pnr(null, null, null, null, null, null, null, note);
    }
  }
}
