package addernet.hw

import chisel3._
import chisel3.util._

/**
 * The per-channel constants of numeric contract, section 7, as one table entry per channel slot
 * (layer l, channel tb * C + j at entry requantBase(l) + tb * C + j), shared by every
 * requantizer, since they all serve the same column at the same time. Each entry packs, per
 * digit d, whether it is used, its sign and its exponent above the smallest exponent digit d takes
 * anywhere in the network, then the bias (the negative digits' +1 folded in). The generator writes
 * the entries into `requant.mem` and the requantizer decodes them; both use this layout.
 */
final class RequantTable(cfg: AccelConfig) {
  val digits: Int = cfg.maxTerms
  private def exp(code: Int) = math.abs(code) - 1

  /** (digits, bias) of every entry; slots beyond a layer's channels have no digits. */
  val entries: Seq[(Array[Int], Long)] = cfg.layers.toSeq.flatMap { l =>
    (0 until cfg.colBlocks(l) * cfg.cols).map { t =>
      if (t < l.outC) (l.terms(t), l.bias(t)) else (Array.empty[Int], 0L)
    }
  }

  /** |v| <= sum_d 2^(A-1+e_d) + |bias| for every entry; one more bit for the sign. */
  val vBits: Int = {
    val worst = entries.map { case (ds, bias) =>
      ds.map(c => BigInt(1) << (cfg.accBits - 1 + exp(c))).sum + BigInt(bias).abs
    }.maxOption.getOrElse(BigInt(0))
    math.max(worst.bitLength + 1, cfg.accBits + 1)
  }

  val expLo: Seq[Int] = (0 until digits).map(d => entries.flatMap(_._1.lift(d)).map(exp).minOption.getOrElse(0))
  val expHi: Seq[Int] = (0 until digits).map(d => entries.flatMap(_._1.lift(d)).map(exp).maxOption.getOrElse(0))
  val expBits: Seq[Int] = (0 until digits).map(d => log2Ceil(expHi(d) - expLo(d) + 1) max 1)

  /** Bits of one digit's field: used, sign, exponent. */
  def digitBits(d: Int): Int = 2 + expBits(d)
  val entryBits: Int = (0 until digits).map(digitBits).sum + vBits

  /** Entry e as an unsigned integer, digit 0 in the low bits, the bias on top. */
  def encode(e: Int): BigInt = {
    val (ds, bias) = entries(e)
    var word = BigInt(0)
    var at = 0
    for (d <- 0 until digits) {
      if (d < ds.length) {
        val field = BigInt(1) | (BigInt(if (ds(d) < 0) 1 else 0) << 1) | (BigInt(exp(ds(d)) - expLo(d)) << 2)
        word |= field << at
      }
      at += digitBits(d)
    }
    val b = BigInt(bias + ds.count(_ < 0))
    word | ((if (b < 0) b + (BigInt(1) << vBits) else b) << at)
  }
}

/**
 * Numeric contract, section 7, for one value per cycle: v = sum of +-(acc << e) + bias, then
 * q = clamp(v >> S, lo, hi), with the channel's digits and bias from a table entry and shift, lo
 * and hi per layer. The entry arrives with the accumulator. Three register stages (Requantizer.latency):
 * the shifted digits, their sum, then shift and clamp, so that no stage holds a barrel shifter and
 * a wide adder chain together (on an iCE40 that pair was the accelerator's slowest path).
 *
 * Everything the constants allow is fixed when the hardware is generated, because on an FPGA the
 * requantizer, not the PE, is the large unit: the sum is exactly as wide as the constants' worst
 * case needs, digit d shifts only across the exponents it actually takes (the rest of its shift
 * is wiring), a negative digit is added as its complement with the +1 folded into the bias, and
 * the per-layer right shift is a choice among fixed shifts.
 */
class Requantizer(cfg: AccelConfig, table: RequantTable) extends Module {
  val io = IO(new Bundle {
    val in = Input(Valid(SInt(cfg.accBits.W)))
    val entry = Input(UInt(table.entryBits.W))
    val layer = Input(UInt(cfg.layerBits.W))
    val out = Output(Valid(SInt(32.W)))
  })
  private val vBits = table.vBits
  private val accWide = io.in.bits.pad(vBits).asUInt

  private var at = 0
  private val terms = (0 until table.digits).map { d =>
    val field = io.entry(at + table.digitBits(d) - 1, at)
    at += table.digitBits(d)
    val on = field(0)
    val negative = field(1)
    val amount = field(table.digitBits(d) - 1, 2)
    // Shift stages of 1, 2, 4, ... that keep vBits (the bound says nothing above them is lost).
    val stages = log2Ceil(table.expHi(d) - table.expLo(d) + 1)
    if (stages == 0) {
      // A digit with one exponent in the whole network has no shifter; its field bit is spare.
      val unused_fixed_exponent = WireDefault(amount)
      dontTouch(unused_fixed_exponent)
    }
    val variable = (0 until stages).foldLeft(accWide) { (x, i) =>
      Mux(amount(i), (x << (1 << i))(vBits - 1, 0), x)
    }
    val shifted = (variable << table.expLo(d))(vBits - 1, 0)
    RegNext(Mux(on, shifted, 0.U(vBits.W)) ^ Fill(vBits, negative && on))
  }
  private val bias = RegNext(io.entry(at + vBits - 1, at))
  private val sum = terms.foldLeft(bias)((a, b) => (a + b)(vBits - 1, 0))

  // Bits below the smallest layer shift never reach an output: they are not registered.
  private val minShift = math.min(cfg.layers.map(_.shift).min, vBits - 1)
  private val vReg = RegNext(sum(vBits - 1, minShift).asSInt)
  if (minShift > 0) {
    // Their carries are in the kept bits; the name tells lint they are dropped on purpose.
    val unused_requant_low_bits = WireDefault(sum(minShift - 1, 0))
    dontTouch(unused_requant_low_bits)
  }
  private val validA = ShiftRegister(io.in.valid, 2, false.B, true.B)
  private val layerA = ShiftRegister(io.layer, 2)

  private val shifted = MuxLookup(layerA, 0.S(vBits.W))(
    cfg.layers.toSeq.zipWithIndex.map { case (l, i) => i.U -> (vReg >> (l.shift - minShift)) })
  private val lo = MuxLookup(layerA, 0.S(33.W))(cfg.layers.toSeq.zipWithIndex.map { case (l, i) => i.U -> l.lo.S(33.W) })
  private val hi = MuxLookup(layerA, 0.S(33.W))(cfg.layers.toSeq.zipWithIndex.map { case (l, i) => i.U -> l.hi.S(33.W) })
  private val clamped = Mux(shifted < lo, lo, Mux(shifted > hi, hi, shifted))

  io.out.valid := RegNext(validA, false.B)
  io.out.bits := RegNext(clamped(31, 0).asSInt)
}

object Requantizer {
  /** Cycles from a value at the input to its result at the output. */
  val latency = 3
}
