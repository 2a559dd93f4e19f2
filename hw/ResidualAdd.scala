package addernet.hw

import chisel3._
import chisel3.util.log2Ceil

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
  // The shifter spans only the shifts the network's adds take (ResNet-20's: 0 and 1).
  private val stages = log2Ceil(cfg.routes.filter(_.adds).map(_.addShift).maxOption.getOrElse(0) + 1)
  if (stages < io.shift.getWidth) {
    val unused_add_shift_bits = WireDefault(io.shift(io.shift.getWidth - 1, stages))
    dontTouch(unused_add_shift_bits)
  }
  for (i <- 0 until R) {
    val v = (io.a(i) +& io.b(i)) +& io.round.zext // exact: B + 2 bits
    val shifted = if (stages == 0) v else v >> io.shift(stages - 1, 0)
    io.q(i) := Mux(shifted < 0.S, 0.S, Mux(shifted > hi, hi, shifted))
  }
}
