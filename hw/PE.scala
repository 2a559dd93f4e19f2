package addernet.hw

import chisel3._

/** Control that travels with the left (activation) operand of a row. */
class PECtl extends Bundle {
  val valid = Bool()
  /** First step of a tile: the accumulator restarts instead of adding to the previous tile. */
  val first = Bool()
  /** Last step of a tile: the finished sum is copied to the output register. */
  val last = Bool()
}

/**
 * One output-stationary processing element. It consumes the activation `a` from the west and the
 * weight `b` from the north in the same cycle, updates its accumulator with the PE operation and
 * passes both operands on, registered, to its east and south neighbours. A finished tile sum sits
 * in `out` (with `outValid` high for one cycle) while the next tile already accumulates, so tiles
 * stream back to back.
 */
class PE(cfg: ArrayConfig, east: Boolean = true, south: Boolean = true) extends Module {
  val io = IO(new Bundle {
    val aIn      = Input(SInt(cfg.dataBits.W))
    val ctlIn    = Input(new PECtl)
    val bIn      = Input(SInt(cfg.dataBits.W))
    // A PE on an edge whose operands go nowhere has no such outputs (nothing left dangling).
    val aOut     = if (east) Some(Output(SInt(cfg.dataBits.W))) else None
    val ctlOut   = if (east) Some(Output(new PECtl)) else None
    val bOut     = if (south) Some(Output(SInt(cfg.dataBits.W))) else None
    val out      = Output(SInt(cfg.accBits.W))
    val outValid = Output(Bool())
  })

  val acc = Reg(SInt(cfg.accBits.W))
  val outReg = Reg(SInt(cfg.accBits.W))
  // Only the control bits need a reset value: data registers are don't-care until valid arrives.
  val outValidReg = RegInit(false.B)

  val base = Mux(io.ctlIn.first, 0.S(cfg.accBits.W), acc)
  val next = cfg.op.step(base, io.aIn, io.bIn, cfg.accBits)
  when(io.ctlIn.valid) {
    acc := next
  }
  outValidReg := io.ctlIn.valid && io.ctlIn.last
  when(io.ctlIn.valid && io.ctlIn.last) {
    outReg := next
  }

  io.aOut.foreach(_ := RegNext(io.aIn))
  io.ctlOut.foreach(_ := RegNext(io.ctlIn, 0.U.asTypeOf(new PECtl)))
  io.bOut.foreach(_ := RegNext(io.bIn))
  io.out := outReg
  io.outValid := outValidReg
}
