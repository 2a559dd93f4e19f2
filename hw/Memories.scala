package addernet.hw

import chisel3._
import chisel3.util._

/**
 * A simple dual-port RAM (one synchronous read port, one write port, one clock), written as
 * plain Verilog so that FPGA tools infer block RAM and lint sees nothing unused. A read in the
 * same cycle as a write to the same address returns the old word.
 */
class Ram(depth: Int, width: Int)
    extends BlackBox(Map("DEPTH" -> depth, "WIDTH" -> width, "ADDR" -> Ram.addrBits(depth)))
    with HasBlackBoxInline {
  private val a = Ram.addrBits(depth)
  val io = IO(new Bundle {
    val clock = Input(Clock())
    val ren = Input(Bool())
    val raddr = Input(UInt(a.W))
    val rdata = Output(UInt(width.W))
    val wen = Input(Bool())
    val waddr = Input(UInt(a.W))
    val wdata = Input(UInt(width.W))
  })
  setInline(
    "Ram.v",
    """// Simple dual-port RAM: synchronous read (old data on a same-address write), one write port.
      |module Ram #(parameter DEPTH = 2, parameter WIDTH = 8, parameter ADDR = 1) (
      |  input              clock,
      |  input              ren,
      |  input  [ADDR-1:0]  raddr,
      |  output [WIDTH-1:0] rdata,
      |  input              wen,
      |  input  [ADDR-1:0]  waddr,
      |  input  [WIDTH-1:0] wdata
      |);
      |  reg [WIDTH-1:0] mem [0:DEPTH-1];
      |  reg [WIDTH-1:0] q;
      |  always @(posedge clock) begin
      |    if (wen) mem[waddr] <= wdata;
      |    if (ren) q <= mem[raddr];
      |  end
      |  assign rdata = q;
      |endmodule
      |""".stripMargin)
}

/** A ROM initialised by $readmemh from a file (relative to the tool's working directory). */
class Rom(depth: Int, width: Int, file: String)
    extends BlackBox(
      Map("DEPTH" -> depth, "WIDTH" -> width, "ADDR" -> Ram.addrBits(depth), "FILE" -> file))
    with HasBlackBoxInline {
  private val a = Ram.addrBits(depth)
  val io = IO(new Bundle {
    val clock = Input(Clock())
    val ren = Input(Bool())
    val raddr = Input(UInt(a.W))
    val rdata = Output(UInt(width.W))
  })
  setInline(
    "Rom.v",
    """// ROM with a synchronous read port, contents from a $readmemh file.
      |module Rom #(parameter DEPTH = 2, parameter WIDTH = 8, parameter ADDR = 1,
      |             parameter FILE = "") (
      |  input              clock,
      |  input              ren,
      |  input  [ADDR-1:0]  raddr,
      |  output [WIDTH-1:0] rdata
      |);
      |  reg [WIDTH-1:0] mem [0:DEPTH-1];
      |  reg [WIDTH-1:0] q;
      |  // Elaborated without a file (a tool reading this module alone) the ROM stays empty.
      |  generate
      |    if (FILE != "") begin : init
      |      initial $readmemh(FILE, mem);
      |    end
      |  endgenerate
      |  always @(posedge clock) begin
      |    if (ren) q <= mem[raddr];
      |  end
      |  assign rdata = q;
      |endmodule
      |""".stripMargin)
}

/**
 * A simple dual-port RAM whose word is `lanes` lanes of `width` bits, each lane with its own write
 * enable (one write address for all). FPGA tools map the lanes onto a block RAM's write mask or
 * byte enables. A read of the word being written in the same cycle is undefined (as on iCE40
 * block RAM); the accelerator never does it, and Verilator's model returns garbage then, so a
 * design that did would fail co-simulation.
 */
class LaneRam(depth: Int, lanes: Int, width: Int)
    extends BlackBox(Map("DEPTH" -> depth, "LANES" -> lanes, "WIDTH" -> width, "ADDR" -> Ram.addrBits(depth)))
    with HasBlackBoxInline {
  private val a = Ram.addrBits(depth)
  val io = IO(new Bundle {
    val clock = Input(Clock())
    val ren = Input(Bool())
    val raddr = Input(UInt(a.W))
    val rdata = Output(UInt((lanes * width).W))
    val wen = Input(UInt(lanes.W))
    val waddr = Input(UInt(a.W))
    val wdata = Input(UInt((lanes * width).W))
  })
  setInline(
    "LaneRam.v",
    """// Simple dual-port RAM of LANES x WIDTH-bit words, a write enable per lane, synchronous read.
      |module LaneRam #(parameter DEPTH = 2, parameter LANES = 1, parameter WIDTH = 8,
      |                 parameter ADDR = 1) (
      |  input                    clock,
      |  input                    ren,
      |  input  [ADDR-1:0]        raddr,
      |  output [LANES*WIDTH-1:0] rdata,
      |  input  [LANES-1:0]       wen,
      |  input  [ADDR-1:0]        waddr,
      |  input  [LANES*WIDTH-1:0] wdata
      |);
      |  // The accelerator never reads a word in the cycle it writes it (docs/accelerator.md,
      |  // "Storage"), so synthesis need not add logic that orders the two.
      |  (* no_rw_check *) reg [LANES*WIDTH-1:0] mem [0:DEPTH-1];
      |  reg [LANES*WIDTH-1:0] q;
      |  integer i;
      |  always @(posedge clock) begin
      |    for (i = 0; i < LANES; i = i + 1)
      |      if (wen[i]) mem[waddr][i*WIDTH +: WIDTH] <= wdata[i*WIDTH +: WIDTH];
      |`ifdef VERILATOR
      |    // Reading the word being written returns its inverse here, so co-simulation fails if the
      |    // design ever depends on what a block RAM returns then (undefined on FPGAs).
      |    if (ren) q <= (|wen && raddr == waddr) ? ~mem[raddr] : mem[raddr];
      |`else
      |    if (ren) q <= mem[raddr];
      |`endif
      |  end
      |  assign rdata = q;
      |endmodule
      |""".stripMargin)
}

/**
 * One iCE40 UP5K single-port RAM (SB_SPRAM256KA: 16K words of 16 bits, a write mask per nibble,
 * a registered read), which a bitstream cannot initialise. Synthesis (yosys defines `SYNTHESIS`)
 * gets the primitive; every simulator (Verilator, Icarus) a model of its documented behaviour,
 * except that the word read in a write cycle (undefined on the chip) comes back inverted, so a
 * design that relied on it fails co-simulation.
 */
class Spram extends BlackBox with HasBlackBoxInline {
  val io = IO(new Bundle {
    val clock = Input(Clock())
    val addr = Input(UInt(14.W))
    val wen = Input(Bool())
    val mask = Input(UInt(4.W))
    val wdata = Input(UInt(16.W))
    val rdata = Output(UInt(16.W))
  })
  setInline(
    "Spram.v",
    """// One UP5K SPRAM: SB_SPRAM256KA in synthesis (SYNTHESIS defined, as yosys does), else a model.
      |module Spram (
      |  input         clock,
      |  input  [13:0] addr,
      |  input         wen,
      |  input  [3:0]  mask,
      |  input  [15:0] wdata,
      |  output [15:0] rdata
      |);
      |`ifndef SYNTHESIS
      |  reg [15:0] mem [0:16383];
      |  reg [15:0] q;
      |  integer i;
      |  always @(posedge clock) begin
      |    if (wen) begin
      |      for (i = 0; i < 4; i = i + 1)
      |        if (mask[i]) mem[addr][i*4 +: 4] <= wdata[i*4 +: 4];
      |      q <= ~q;
      |    end else begin
      |      q <= mem[addr];
      |    end
      |  end
      |  assign rdata = q;
      |`else
      |  SB_SPRAM256KA ram (
      |    .ADDRESS(addr), .DATAIN(wdata), .MASKWREN(mask), .WREN(wen), .CHIPSELECT(1'b1),
      |    .CLOCK(clock), .STANDBY(1'b0), .SLEEP(1'b0), .POWEROFF(1'b1), .DATAOUT(rdata));
      |`endif
      |endmodule
      |""".stripMargin)
}

object Spram {
  val Depth = 16384
  val Count = 4 // on an iCE40 UP5K
}

object Ram {
  def addrBits(depth: Int): Int = math.max(1, log2Ceil(depth))

  /** A RAM of signed words, with its ports as wires of the caller's types. */
  def apply(depth: Int, width: Int, clock: Clock): Ram = {
    val m = Module(new Ram(depth, width))
    m.io.clock := clock
    m.io.ren := false.B
    m.io.raddr := 0.U
    m.io.wen := false.B
    m.io.waddr := 0.U
    m.io.wdata := 0.U
    m
  }
}
