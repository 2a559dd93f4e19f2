package addernet.hw

import chisel3._

/**
 * The residual add of numeric contract, section 9, for the R lanes of one word: each lane's
 * signed B-bit result `a` of the layer, plus its operand `b` (the block input or the shortcut,
 * read at the same address), rounded and shifted by the layer's add shift, clamped to the
 * non-negative range; the clamp is the block's ReLU. An adder, a shifter and a compare per lane.
 */
class ResidualAdd(cfg: AccelConfig) extends Module {
  private val R = cfg.rows
  private val B = cfg.dataBits
  val io = IO(new Bundle {
    val a = Input(Vec(R, SInt(B.W)))
    val b = Input(Vec(R, SInt(B.W)))
    val round = Input(UInt(B.W)) // 2^(shift - 1), or 0
    val shift = Input(UInt(RouteEntry.shiftBits(cfg).W))
    val q = Output(Vec(R, SInt(B.W)))
  })
  private val hi = ((1 << (B - 1)) - 1).S
  for (i <- 0 until R) {
    val v = (io.a(i) +& io.b(i)) +& io.round.zext // exact: B + 2 bits
    val shifted = v >> io.shift
    io.q(i) := Mux(shifted < 0.S, 0.S, Mux(shifted > hi, hi, shifted))
  }
}
