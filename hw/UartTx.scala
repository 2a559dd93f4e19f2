package addernet.hw

import chisel3._
import chisel3.util.HasBlackBoxInline

/**
 * UART transmitter, 8N1, LSB first, idle high (docs/board.md), with the same build-time bit period
 * as [[UartRx]] (`ADDERNET_UART_DIVISOR` when defined, else the generated `divisor`). The line is a
 * flip-flop's output, so it cannot glitch between bits.
 */
class UartTx(divisor: Int) extends BlackBox(Map("DIVISOR" -> divisor)) with HasBlackBoxInline {
  require(divisor >= 4 && divisor < (1 << 16), s"UART divisor $divisor is outside 4..65535")
  val io = IO(new Bundle {
    val clock = Input(Clock())
    val reset = Input(Bool())
    val data = Input(UInt(8.W))
    val valid = Input(Bool())
    val ready = Output(Bool()) // a byte is taken in a cycle with valid and ready
    val tx = Output(Bool())
  })
  setInline(
    "UartTx.v",
    """// UART transmitter: 8N1, LSB first; DIVISOR clocks per bit unless ADDERNET_UART_DIVISOR is defined.
      |module UartTx #(parameter DIVISOR = 104) (
      |  input        clock,
      |  input        reset,
      |  input  [7:0] data,
      |  input        valid,
      |  output       ready,
      |  output       tx
      |);
      |`ifdef ADDERNET_UART_DIVISOR
      |  localparam integer PERIOD = `ADDERNET_UART_DIVISOR;
      |`else
      |  localparam integer PERIOD = DIVISOR;
      |`endif
      |  localparam integer FULL_N = PERIOD - 1;
      |  localparam [15:0] FULL = FULL_N[15:0];
      |  reg [9:0]  frame;   // the bits still to go, LSB first; all ones when idle
      |  reg [3:0]  left;
      |  reg [15:0] wait_n;
      |  always @(posedge clock) begin
      |    if (reset) begin
      |      frame <= 10'h3ff;
      |      left <= 4'd0;
      |      wait_n <= 16'd0;
      |    end else if (left == 4'd0) begin
      |      if (valid) begin
      |        frame <= {1'b1, data, 1'b0};
      |        left <= 4'd10;
      |        wait_n <= FULL;
      |      end
      |    end else if (wait_n != 16'd0) begin
      |      wait_n <= wait_n - 16'd1;
      |    end else begin
      |      frame <= {1'b1, frame[9:1]};
      |      left <= left - 4'd1;
      |      wait_n <= FULL;
      |    end
      |  end
      |  assign ready = left == 4'd0;
      |  assign tx = frame[0];
      |endmodule
      |""".stripMargin)
}
