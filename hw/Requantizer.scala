package addernet.hw

import chisel3._
import chisel3.util._

/**
 * Numeric contract, section 7, for one column: v = sum of +-(acc << e) + bias, then
 * q = clamp(v >> S, lo, hi). The digits of every channel this column serves come from a table
 * indexed by entry; shift, lo and hi per layer. Two register stages: the sum, then shift and clamp.
 */
class Requantizer(cfg: AccelConfig, col: Int) extends Module {
  private val vBits = cfg.accBits + 32 + log2Ceil(cfg.maxTerms + 1) + 2
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
  private val digitSign = VecInit(entries.map(e => VecInit((0 until cfg.maxTerms).map(d =>
    (if (d < e._1.length) e._1(d) < 0 else false).B))))
  private val digitOn = VecInit(entries.map(e => VecInit((0 until cfg.maxTerms).map(d => (d < e._1.length).B))))
  private val digitExp = VecInit(entries.map(e => VecInit((0 until cfg.maxTerms).map(d =>
    (if (d < e._1.length) math.abs(e._1(d)) - 1 else 0).U(5.W)))))
  private val biasRom = VecInit(entries.map(e => e._2.S(vBits.W)))

  private val entry = io.entry
  private val acc = io.in.bits
  private val terms = (0 until cfg.maxTerms).map { d =>
    val shifted = (acc << digitExp(entry)(d)).pad(vBits)
    Mux(digitOn(entry)(d), Mux(digitSign(entry)(d), -shifted, shifted), 0.S(vBits.W))
  }
  private val sum = terms.foldLeft(biasRom(entry))((a, b) => (a + b)(vBits - 1, 0).asSInt)

  private val vReg = RegNext(sum)
  private val validA = RegNext(io.in.valid, false.B)
  private val layerA = RegNext(io.layer)

  private val shiftRom = VecInit(cfg.layers.toSeq.map(l => l.shift.U(6.W)))
  private val loRom = VecInit(cfg.layers.toSeq.map(l => l.lo.S(33.W)))
  private val hiRom = VecInit(cfg.layers.toSeq.map(l => l.hi.S(33.W)))
  private val shifted = vReg >> shiftRom(layerA)
  private val lo = loRom(layerA)
  private val hi = hiRom(layerA)
  private val clamped = Mux(shifted < lo, lo, Mux(shifted > hi, hi, shifted))

  io.out.valid := RegNext(validA, false.B)
  io.out.bits := RegNext(clamped(31, 0).asSInt)
}
