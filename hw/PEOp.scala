package addernet.hw

import chisel3._
import chisel3.util.Fill
import chisel3.dontTouch

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
      // acc - |d| = acc + d when d < 0, and acc + ~d + 1 otherwise: invert the operand and feed
      // the +1 in as a carry. Appending a 1 to base and the carry to the operand makes that carry
      // part of a single adder (the low bit of the sum is dropped), so synthesis builds one carry
      // chain instead of an absolute value followed by a subtraction.
      val nonNeg = !diff(diff.getWidth - 1)
      val operand = (diff.pad(accBits).asUInt ^ Fill(accBits, nonNeg)) ## nonNeg
      val sum = (base.asUInt ## 1.U(1.W)) + operand
      // The low bit only carried the +1; the name tells lint it is dropped on purpose
      // (Verilator's default --unused-regexp is *unused*).
      val unused_carry_lsb = WireDefault(sum(0))
      dontTouch(unused_carry_lsb)
      sum(accBits, 1).asSInt
    }
  }

  /** acc + a * b, a multiply-accumulate: the CNN twin, used only to compare costs. */
  case object Multiply extends PEOp {
    val name = "multiply"
    def step(base: SInt, a: SInt, b: SInt, accBits: Int): SInt = {
      val next = base +& (a * b)
      next(accBits - 1, 0).asSInt
    }
  }

  def byName(name: String): PEOp = name match {
    case "adder"    => Adder
    case "multiply" => Multiply
    case other      => throw new IllegalArgumentException(s"unknown PE operation '$other' (expected adder or multiply)")
  }
}
