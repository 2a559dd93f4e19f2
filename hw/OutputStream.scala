package addernet.hw

import chisel3._
import chisel3.util._

/**
 * Sends the batch's logits on `m_axis`, image by image, class by class, `tlast` on each image's
 * last class. Image g * R + m * Q + q sits in lane q of the logits memory from word
 * (g * M + m) * classes (AccelConfig.logitDepth). One logit in flight at a time: read, then hold
 * it until it is taken.
 */
class OutputStream(cfg: AccelConfig) extends Module {
  private val R = cfg.rows
  private val Q = cfg.requantizers
  private val LB = cfg.logitBits
  private val aBits = Ram.addrBits(cfg.logitDepth)
  val io = IO(new Bundle {
    val start = Input(Bool())
    val images = Input(UInt(16.W)) // images in this run, held while sending
    val done = Output(Bool()) // the last logit has been taken (a one-cycle pulse)
    val ren = Output(Bool())
    val raddr = Output(UInt(aBits.W))
    val rdata = Input(UInt((Q * LB).W))
    val tdata = Output(UInt(32.W))
    val tvalid = Output(Bool())
    val tready = Input(Bool())
    val tlast = Output(Bool())
  })
  private val sending = RegInit(false.B)
  private val cls = Reg(UInt(16.W))
  private val image = Reg(UInt(16.W))
  private val row = Reg(UInt(cfg.laneBits.W))
  private val lane = Reg(UInt((log2Ceil(Q) max 1).W))
  private val base = Reg(UInt(aBits.W))
  private val addr = Reg(UInt(aBits.W))
  private val issued = RegInit(false.B) // every logit has been read
  private val inflight = RegInit(false.B)
  private val outValid = RegInit(false.B)
  private val outData = Reg(UInt(32.W))
  private val outLast = Reg(Bool())

  private val canRead = sending && !issued && !outValid && !inflight
  io.ren := canRead
  io.raddr := addr
  private val lastD = RegNext(cls === (cfg.classes - 1).U)
  private val laneD = RegNext(lane)
  inflight := canRead
  when(inflight) {
    outValid := true.B
    val lanes = VecInit((0 until Q).map(i => io.rdata((i + 1) * LB - 1, i * LB).asSInt))
    outData := (if (Q == 1) lanes(0) else lanes(laneD)).pad(32).asUInt
    outLast := lastD
  }.elsewhen(outValid && io.tready) {
    outValid := false.B
  }
  io.tvalid := outValid
  io.tdata := outData
  io.tlast := outLast
  io.done := false.B

  when(io.start) {
    sending := true.B
    cls := 0.U; image := 0.U; row := 0.U; lane := 0.U; base := 0.U; addr := 0.U; issued := false.B
  }.elsewhen(canRead) {
    val clsWrap = cls === (cfg.classes - 1).U
    cls := Mux(clsWrap, 0.U, cls + 1.U)
    addr := addr + 1.U
    when(clsWrap) {
      image := image + 1.U
      val rowWrap = row === (R - 1).U
      row := Mux(rowWrap, 0.U, row + 1.U)
      // The next requantizer's lane at the same words, or, after the last, the next step's words.
      val laneWrap = rowWrap || lane === (Q - 1).U
      lane := Mux(laneWrap, 0.U, lane + 1.U)
      val nextBase = Mux(laneWrap, base + cfg.classes.U, base)
      base := nextBase
      addr := nextBase
      when(image === io.images - 1.U) { issued := true.B }
    }
  }
  when(sending && issued && !inflight && !outValid) {
    sending := false.B
    io.done := true.B
  }
}
