package addernet.hw

import chisel3._
import chisel3.util.HasBlackBoxInline

/**
 * The board's reset: high for the first 128 clocks after configuration, then low for good. The
 * iCE40 clears every flip-flop when it configures, and Verilator honours the counter's initial
 * value, so the chip and the simulation both start in reset without a reset pin.
 */
class PowerOnReset extends BlackBox with HasBlackBoxInline {
  val io = IO(new Bundle {
    val clock = Input(Clock())
    val reset = Output(Bool())
  })
  setInline(
    "PowerOnReset.v",
    """// Reset for the first 128 clocks after configuration (flip-flops start at 0).
      |module PowerOnReset (
      |  input  clock,
      |  output reset
      |);
      |  reg [7:0] count = 8'd0;
      |  always @(posedge clock) begin
      |    if (!count[7]) count <= count + 8'd1;
      |  end
      |  assign reset = !count[7];
      |endmodule
      |""".stripMargin)
}

object PowerOnReset {
  /** Clocks from configuration until reset falls; a harness waits this long before it talks. */
  val Clocks = 128
}
