package addernet.hw

import chisel3._
import chisel3.util._

/** Error codes of the `error` port (docs/accelerator.md, "Weights at run time"). */
object AccelError {
  val None = 0
  val WeightsShort = 1 // tlast came before the last weight: the weights are not valid
  val WeightsLong = 2 // the last weight came without tlast: the load ended there, the rest up to tlast is dropped
  val NoWeights = 3 // start without a complete weight load since reset: the run did not start
  val Bits = 2
}

/**
 * Fills the weight RAMs from `s_axis_weights`: beat b is word b div C of column b mod C, so the
 * stream is the columns' ROM images interleaved word by word, `tlast` on the last beat. A stream
 * that ends early or runs long is answered with an error code and leaves the weights invalid. A
 * long one is answered at its last weight, not at its tlast, which may never come: the load ends
 * there, and the beats after it are taken and dropped (even while the engine does something else)
 * up to the next tlast or load, so that the stream stays framed.
 */
class WeightLoader(cfg: AccelConfig) extends Module {
  private val C = cfg.cols
  private val depth = cfg.weightDepth max 1
  val io = IO(new Bundle {
    val start = Input(Bool())
    val tdata = Input(UInt(cfg.weightStreamBits.W))
    val tvalid = Input(Bool())
    val tready = Output(Bool())
    val tlast = Input(Bool())
    val wen = Output(UInt(C.W))
    val waddr = Output(UInt(cfg.weightAddrBits.W))
    val wdata = Output(SInt(cfg.dataBits.W))
    val done = Output(Valid(UInt(AccelError.Bits.W))) // the load's outcome, one cycle
  })
  private val loading = RegInit(false.B)
  private val dropping = RegInit(false.B) // after a long stream, until its tlast
  private val col = Reg(UInt(log2Ceil(C max 2).W))
  private val addr = Reg(UInt(cfg.weightAddrBits.W))
  io.tready := loading || dropping
  private val fire = io.tvalid && (loading || dropping)
  io.wen := Mux(fire && loading, VecInit((0 until C).map(j => col === j.U)).asUInt, 0.U)
  io.waddr := addr
  io.wdata := io.tdata(cfg.dataBits - 1, 0).asSInt
  if (cfg.weightStreamBits > cfg.dataBits) {
    // Whole bytes on the wire; the weight is in the low bits.
    val unused_weight_padding = WireDefault(io.tdata(cfg.weightStreamBits - 1, cfg.dataBits))
    dontTouch(unused_weight_padding)
  }
  io.done.valid := false.B
  io.done.bits := AccelError.None.U

  when(io.start) {
    loading := true.B
    dropping := false.B
    col := 0.U
    addr := 0.U
  }.elsewhen(fire && loading) {
    val lastWord = col === (C - 1).U && addr === (depth - 1).U
    val colWrap = col === (C - 1).U
    col := Mux(colWrap, 0.U, col + 1.U)
    when(colWrap) { addr := addr + 1.U }
    when(io.tlast || lastWord) {
      loading := false.B
      dropping := lastWord && !io.tlast
      io.done.valid := true.B
      io.done.bits := Mux(lastWord, Mux(io.tlast, AccelError.None.U, AccelError.WeightsLong.U),
        AccelError.WeightsShort.U)
    }
  }.elsewhen(fire && dropping) {
    when(io.tlast) { dropping := false.B }
  }
}
