package addernet.hw

import chisel3._
import chisel3.util._

/**
 * The global average pool of numeric contract, section 10, for a window of 2^n values
 * (docs/accelerator.md, "Networks with branches"). While its layer drains, each result joins its
 * channel's window sum in the pool RAM (one word per channel and image group, R lanes of
 * B - 1 + n bits): the writeback reads the word with its other operands and writes it back with
 * the lanes of each step, as max-pool does. After the layer, a pass writes every sum's exact mean,
 * (sum + 2^(n-1)) >> n, to the destination at word g * C + c, one word in M + 1 cycles: a read,
 * then the lanes of each of the M steps, which the trace port can show.
 */
class GlobalPool(cfg: AccelConfig) extends Module {
  private val R = cfg.rows
  private val B = cfg.dataBits
  private val Q = cfg.requantizers
  private val M = cfg.steps
  private val S = cfg.poolSumBits
  private val PA = Ram.addrBits(cfg.poolDepth)
  private val stepBits = log2Ceil(M) max 1
  val io = IO(new Bundle {
    // Accumulation: read with the writeback's read-modify-write, written a cycle later.
    val read = Input(Bool())
    val readAddr = Input(UInt(PA.W))
    val write = Input(UInt(R.W)) // the lanes of this step
    val writeAddr = Input(UInt(PA.W))
    val first = Input(Bool()) // the map's first position: the sums start over
    val values = Input(Vec(R, UInt(B.W)))
    // The pass.
    val start = Input(Bool())
    val outC = Input(UInt(cfg.chanBits.W))
    val shift = Input(UInt(RouteEntry.shiftBits(cfg).W))
    val busy = Output(Bool())
    val writing = Output(Bool())
    val lanes = Output(UInt(R.W))
    val step = Output(UInt(stepBits.W))
    val addr = Output(UInt(PA.W))
    val means = Output(Vec(R, UInt(B.W)))
  })
  private val ram = Module(new LaneRam(cfg.poolDepth, R, S))
  ram.io.clock := clock

  // ---------------------------------------------------------------- accumulation
  private val readD = RegNext(io.read, false.B)
  private val held = Reg(UInt((R * S).W))
  when(readD) { held := ram.io.rdata }
  private val oldSums = Mux(readD, ram.io.rdata, held)
  private val sums = (0 until R).map { i =>
    Mux(io.first, 0.U, oldSums((i + 1) * S - 1, i * S)) + io.values(i)
  }

  // ---------------------------------------------------------------- the pass
  private val busy = RegInit(false.B)
  private val reading = Reg(Bool())
  private val idx = Reg(UInt(PA.W))
  private val chan = Reg(UInt(cfg.chanBits.W))
  private val group = Reg(UInt(cfg.groupBits.W))
  private val pStep = Reg(UInt(stepBits.W))
  private val writing = busy && !reading
  when(io.start) {
    busy := true.B; reading := true.B; idx := 0.U; chan := 0.U; group := 0.U; pStep := 0.U
  }.elsewhen(busy) {
    reading := false.B
    when(writing) {
      pStep := pStep + 1.U
      when(pStep === (M - 1).U) {
        pStep := 0.U
        reading := true.B
        idx := idx + 1.U
        chan := chan + 1.U
        when(chan === io.outC - 1.U) {
          chan := 0.U
          group := group + 1.U
          when(group === (cfg.groups - 1).U) { busy := false.B; reading := false.B }
        }
      }
    }
  }
  private val fresh = RegNext(reading && busy, false.B)
  private val word = Reg(UInt((R * S).W))
  when(fresh) { word := ram.io.rdata }
  private val now = Mux(fresh, ram.io.rdata, word)
  // Most networks pool once (ResNet's one global pool), so the shift is then wiring, not a shifter.
  private val shifts = cfg.routes.filter(_.pools).map(_.poolShift).distinct
  private val roundedOff = scala.collection.mutable.ArrayBuffer.empty[UInt]
  io.means := VecInit((0 until R).map { i =>
    val sum = now((i + 1) * S - 1, i * S)
    if (shifts.length == 1) {
      val n = shifts.head
      val wide = sum +& (if (n > 0) (1 << (n - 1)).U else 0.U)
      if (n > 0) roundedOff += wide(n - 1, 0)
      wide(B - 1 + n, n)
    } else {
      val round = Mux(io.shift === 0.U, 0.U, 1.U << (io.shift - 1.U))
      ((sum +& round) >> io.shift)(B - 1, 0)
    }
  })
  if (shifts.length == 1) {
    // The mean drops the rounded-off bits by definition; the names tell lint so.
    val unused_pool_shift = WireDefault(io.shift)
    dontTouch(unused_pool_shift)
    if (roundedOff.nonEmpty) {
      val unused_pool_rounded_bits = WireDefault(Cat(roundedOff.toSeq))
      dontTouch(unused_pool_rounded_bits)
    }
  }
  io.busy := busy
  io.writing := writing
  io.lanes := VecInit((0 until R).map(i => writing && pStep === (i / Q).U)).asUInt
  io.step := pStep
  io.addr := idx

  ram.io.ren := Mux(busy, reading, io.read)
  ram.io.raddr := Mux(busy, idx, io.readAddr)
  ram.io.wen := io.write
  ram.io.waddr := io.writeAddr
  ram.io.wdata := VecInit(sums.map(_(S - 1, 0))).asUInt
}
