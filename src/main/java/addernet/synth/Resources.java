package addernet.synth;

import java.util.Map;

/**
 * FPGA resources of one module or design, classified from yosys cell names (iCE40: SB_*,
 * Xilinx 7-series: LUTn, FD*, CARRY4, RAMB*, DSP48E1; generic synthesis: $_..._ gates).
 */
public record Resources(int luts, int flipFlops, int carries, int blockRams, int dsps) {
  public static Resources of(Map<String, Integer> cells) {
    int luts = 0;
    int ffs = 0;
    int carries = 0;
    int brams = 0;
    int dsps = 0;
    for (Map.Entry<String, Integer> e : cells.entrySet()) {
      String c = e.getKey();
      int n = e.getValue();
      if (c.contains("DFF") || c.matches("FD[A-Z]*")) {
        ffs += n;
      } else if (c.startsWith("SB_CARRY") || c.startsWith("CARRY")) {
        carries += n;
      } else if (c.startsWith("SB_RAM") || c.startsWith("RAMB")) {
        brams += n;
      } else if (c.equals("SB_MAC16") || c.startsWith("DSP48")) {
        dsps += n;
      } else if (c.startsWith("SB_LUT") || c.matches("LUT[1-6]") || c.matches("\\$_[A-Z]+_")) {
        luts += n; // generic synthesis: simple gates stand in for LUTs
      }
    }
    return new Resources(luts, ffs, carries, brams, dsps);
  }
}
