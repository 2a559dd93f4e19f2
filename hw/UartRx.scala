package addernet.hw

import chisel3._
import chisel3.util.HasBlackBoxInline

/**
 * UART receiver, 8N1, LSB first, idle high (docs/board.md). Written as Verilog so that the bit
 * period can be replaced at build time without generating again: a Verilator build with
 * `+define+ADDERNET_UART_DIVISOR=N` runs the line at N clocks per bit, every other build at the
 * generated `divisor`. The line is asynchronous to the clock, so it passes two flip-flops first;
 * each bit is then sampled in its middle, timed from the start bit's falling edge. A byte whose
 * stop bit is low (a framing error) is dropped.
 *
 * A break (the line low for [[UartRx.BreakBits]] bit periods, twice the longest low run of any
 * byte stream) raises `line_break` until the line is high again; meanwhile no byte is received, and the
 * receiver is idle when the line rises, so the break's end cannot begin a byte.
 */
class UartRx(divisor: Int) extends BlackBox(Map("DIVISOR" -> divisor)) with HasBlackBoxInline {
  require(divisor >= 4 && divisor < (1 << 16), s"UART divisor $divisor is outside 4..65535")
  val io = IO(new Bundle {
    val clock = Input(Clock())
    val reset = Input(Bool())
    val rx = Input(Bool())
    val data = Output(UInt(8.W))
    val valid = Output(Bool()) // one cycle, in the middle of the stop bit
    val line_break = Output(Bool()) // the line has been low for BreakBits bit periods, and still is
  })
  setInline(
    "UartRx.v",
    """// UART receiver: 8N1, LSB first; DIVISOR clocks per bit unless ADDERNET_UART_DIVISOR is defined.
      |module UartRx #(parameter DIVISOR = 104) (
      |  input        clock,
      |  input        reset,
      |  input        rx,
      |  output [7:0] data,
      |  output       valid,
      |  output       line_break
      |);
      |`ifdef ADDERNET_UART_DIVISOR
      |  localparam integer PERIOD = `ADDERNET_UART_DIVISOR;
      |`else
      |  localparam integer PERIOD = DIVISOR;
      |`endif
      |  localparam integer HALF_N = PERIOD / 2 - 1;
      |  localparam integer FULL_N = PERIOD - 1;
      |  localparam [15:0] HALF = HALF_N[15:0];
      |  localparam [15:0] FULL = FULL_N[15:0];
      |  localparam integer BREAK_N = 20 * PERIOD - 1;  // a break: 20 bit periods low
      |  localparam [20:0] BREAK = BREAK_N[20:0];
      |  reg [20:0] low_n;       // clocks the line has been low, up to BREAK
      |  reg        in_break;
      |  reg        meta, line;  // the two synchronising flip-flops
      |  reg        busy;
      |  reg [3:0]  bit_n;       // 0 start bit, 1..8 data bits, 9 stop bit
      |  reg [15:0] wait_n;      // clocks left to the middle of the current bit
      |  reg [7:0]  shift;
      |  reg        got;
      |  always @(posedge clock) begin
      |    meta <= rx;
      |    line <= meta;
      |    got <= 1'b0;
      |    if (reset || line) begin
      |      low_n <= 21'd0;
      |      in_break <= 1'b0;
      |    end else if (low_n != BREAK) begin
      |      low_n <= low_n + 21'd1;
      |    end else begin
      |      in_break <= 1'b1;
      |    end
      |    if (reset || in_break) begin
      |      busy <= 1'b0;
      |      bit_n <= 4'd0;
      |      wait_n <= 16'd0;
      |    end else if (!busy) begin
      |      if (!line) begin
      |        busy <= 1'b1;
      |        bit_n <= 4'd0;
      |        wait_n <= HALF;
      |      end
      |    end else if (wait_n != 16'd0) begin
      |      wait_n <= wait_n - 16'd1;
      |    end else begin
      |      wait_n <= FULL;
      |      bit_n <= bit_n + 4'd1;
      |      if (bit_n == 4'd0) begin
      |        if (line) busy <= 1'b0;  // high again in mid start bit: a glitch, not a byte
      |      end else if (bit_n == 4'd9) begin
      |        busy <= 1'b0;
      |        got <= line;
      |      end else begin
      |        shift <= {line, shift[7:1]};
      |      end
      |    end
      |  end
      |  assign data = shift;
      |  assign valid = got;
      |  assign line_break = in_break;
      |endmodule
      |""".stripMargin)
}

object UartRx {
  /** The bit periods of low line after which the receiver reports a break (UartRx.v's BREAK_N). */
  val BreakBits = 20
}
