package addernet.hw

import chisel3._

/**
 * Multiplication by a constant known when the hardware is generated, built as a fixed sequence of
 * shifts and additions (one per set bit), so that no multiplier cell is ever inferred.
 */
object ConstMul {
  def apply(x: SInt, c: Int, width: Int): SInt = {
    require(c >= 0, s"constant $c must be non-negative")
    val parts = (0 until 31).filter(b => ((c >> b) & 1) == 1).map(b => (x << b).asSInt)
    val sum = parts.foldLeft(0.S(width.W))((acc, p) => acc + p)
    sum(width - 1, 0).asSInt
  }
}
