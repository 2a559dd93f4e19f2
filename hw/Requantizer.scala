package addernet.hw

import chisel3._
import chisel3.util._

/**
 * Numeric contract, section 7, for one column: v = sum of +-(acc << e) + bias, then
 * q = clamp(v >> S, lo, hi). The digits of every channel this column serves come from a table
 * indexed by entry; shift, lo and hi per layer. Two register stages: the sum, then shift and clamp.
 *
 * Everything the constants allow is fixed when the hardware is generated, because on an FPGA
 * the requantizer, not the PE array, is the large part: the sum is exactly as wide as the
 * constants' worst case needs, digit d shifts only across the exponents it actually takes (the
 * rest of its shift is wiring), a negative digit is added as its complement with the +1 folded
 * into the bias, and the per-layer right shift is a choice among fixed shifts.
 */
class Requantizer(cfg: AccelConfig, col: Int) extends Module {
  val io = IO(new Bundle {
    val in = Input(Valid(SInt(cfg.accBits.W)))
    val entry = Input(UInt(cfg.requantEntryBits.W))
    val layer = Input(UInt(cfg.layerBits.W))
    val out = Output(Valid(SInt(32.W)))
  })

  // Per entry (layer l, column block tb) the channel t = tb * C + col; entries beyond outC are
  // never used (their column is masked), and get zero digits.
  private val entries: Seq[(Array[Int], Long)] = cfg.layers.toSeq.flatMap { l =>
    (0 until cfg.colBlocks(l)).map { tb =>
      val t = tb * cfg.cols + col
      if (t < l.outC) (l.terms(t), l.bias(t)) else (Array.empty[Int], 0L)
    }
  }
  private val D = cfg.maxTerms
  private def exp(code: Int) = math.abs(code) - 1

  // |v| <= sum_d 2^(A-1+e_d) + |bias| for every entry; one more bit for the sign.
  private val vBits: Int = {
    val worst = entries.map { case (digits, bias) =>
      digits.map(c => BigInt(1) << (cfg.accBits - 1 + exp(c))).sum + BigInt(bias).abs
    }.maxOption.getOrElse(BigInt(0))
    // At least the accumulator and the clamp bounds, so the stage-2 compare sees every value.
    math.max(worst.bitLength + 1, cfg.accBits + 1)
  }

  // Exponent range of digit d over the entries that use it.
  private val expLo = (0 until D).map(d => entries.flatMap(_._1.lift(d)).map(exp).minOption.getOrElse(0))
  private val expHi = (0 until D).map(d => entries.flatMap(_._1.lift(d)).map(exp).maxOption.getOrElse(0))

  private val digitSign = VecInit(entries.map(e => VecInit((0 until D).map(d =>
    (d < e._1.length && e._1(d) < 0).B))))
  private val digitOn = VecInit(entries.map(e => VecInit((0 until D).map(d => (d < e._1.length).B))))
  private val digitExp = (0 until D).map { d =>
    val w = log2Ceil(expHi(d) - expLo(d) + 1) max 1
    VecInit(entries.map(e => (if (d < e._1.length) exp(e._1(d)) - expLo(d) else 0).U(w.W)))
  }
  // -x = ~x + 1: each negative digit's +1 is a constant of the entry, added once in its bias.
  private val biasRom = VecInit(entries.map { case (digits, bias) =>
    (bias + digits.count(_ < 0)).S(vBits.W)
  })

  private val entry = io.entry
  private val acc = io.in.bits
  private val accWide = acc.pad(vBits).asUInt
  private val terms = (0 until D).map { d =>
    // Shift stages of 1, 2, 4, ... that keep vBits (the bound says nothing above them is lost).
    val amount = digitExp(d)(entry)
    val variable = (0 until amount.getWidth).foldLeft(accWide) { (x, i) =>
      Mux(amount(i), (x << (1 << i))(vBits - 1, 0), x)
    }
    val shifted = (variable << expLo(d))(vBits - 1, 0)
    val on = Mux(digitOn(entry)(d), shifted, 0.U(vBits.W))
    on ^ Fill(vBits, digitSign(entry)(d))
  }
  private val sum = terms.foldLeft(biasRom(entry).asUInt)((a, b) => (a + b)(vBits - 1, 0))

  // Bits below the smallest layer shift never reach an output: they are not registered.
  private val minShift = math.min(cfg.layers.map(_.shift).min, vBits - 1)
  private val vReg = RegNext(sum(vBits - 1, minShift).asSInt)
  if (minShift > 0) {
    // Their carries are in the kept bits; the name tells lint they are dropped on purpose.
    val unused_requant_low_bits = WireDefault(sum(minShift - 1, 0))
    dontTouch(unused_requant_low_bits)
  }
  private val validA = RegNext(io.in.valid, false.B)
  private val layerA = RegNext(io.layer)

  private val shifted = MuxLookup(layerA, 0.S(vBits.W))(
    cfg.layers.toSeq.zipWithIndex.map { case (l, i) => i.U -> (vReg >> (l.shift - minShift)) })
  private val lo = MuxLookup(layerA, 0.S(33.W))(cfg.layers.toSeq.zipWithIndex.map { case (l, i) => i.U -> l.lo.S(33.W) })
  private val hi = MuxLookup(layerA, 0.S(33.W))(cfg.layers.toSeq.zipWithIndex.map { case (l, i) => i.U -> l.hi.S(33.W) })
  private val clamped = Mux(shifted < lo, lo, Mux(shifted > hi, hi, shifted))

  io.out.valid := RegNext(validA, false.B)
  io.out.bits := RegNext(clamped(31, 0).asSInt)
}
