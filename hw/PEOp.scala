package addernet.hw

import chisel3._

/**
 * The PE's operation: the single seam between the AdderNet PE and its multiply-accumulate twin.
 * Nothing else in the generator branches on it.
 */
sealed trait PEOp {
  def name: String

  /** The accumulator after one step: `base` is zero on the first step of a tile, else the old value. */
  def step(base: SInt, a: SInt, b: SInt, accBits: Int): SInt
}

object PEOp {
  /** acc - |a - b|: the negative L1 distance of AdderNet (numeric contract, section 2). */
  case object Adder extends PEOp {
    val name = "adder"
    def step(base: SInt, a: SInt, b: SInt, accBits: Int): SInt = {
      val diff = a -& b // one bit wider than the operands, so it cannot wrap
      // acc - |d| is acc + d when d < 0 and acc - d otherwise: one adder/subtractor and a mux of
      // the operand, with no separate absolute-value stage.
      val next = Mux(diff < 0.S, base +& diff, base -& diff)
      next(accBits - 1, 0).asSInt
    }
  }

  /** acc + a * b: the CNN twin, used only to compare costs. */
  case object Mac extends PEOp {
    val name = "mac"
    def step(base: SInt, a: SInt, b: SInt, accBits: Int): SInt = {
      val next = base +& (a * b)
      next(accBits - 1, 0).asSInt
    }
  }

  def byName(name: String): PEOp = name match {
    case "adder" => Adder
    case "mac"   => Mac
    case other   => throw new IllegalArgumentException(s"unknown PE operation '$other' (expected adder or mac)")
  }
}
