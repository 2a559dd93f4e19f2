package addernet.hw

import chisel3._
import chisel3.util._

/**
 * Takes a run's images (the batch, or fewer under AXI4-Lite control) from `s_axis` (one pixel per beat, image after image, each channel-major
 * and row-major) into the input buffer: image n goes to lane n mod R at word
 * (n div R) * inSize + its offset, so that PE row i later reads image g * R + i.
 */
class InputLoader(cfg: AccelConfig) extends Module {
  private val R = cfg.rows
  private val B = cfg.dataBits
  val io = IO(new Bundle {
    val start = Input(Bool())
    val images = Input(UInt(16.W)) // images in this run, 1..batch, held while busy
    val busy = Output(Bool())
    val tdata = Input(UInt(8.W))
    val tvalid = Input(Bool())
    val tready = Output(Bool())
    val write = Output(new LaneWrite(R, cfg.bufferAddrBits, B))
  })
  private val loading = RegInit(false.B)
  private val offset = Reg(UInt(cfg.bufferAddrBits.W))
  private val groupBase = Reg(UInt(cfg.bufferAddrBits.W))
  private val lane = Reg(UInt(cfg.laneBits.W))
  private val image = Reg(UInt(16.W))
  io.busy := loading
  io.tready := loading
  private val fire = loading && io.tvalid
  // Contract section 5 drops the pixel's low bits on purpose; the wire's name tells lint so
  // (Verilator's default --unused-regexp is *unused*).
  private val pixel = (io.tdata >> cfg.inputShift).zext.pad(B)(B - 1, 0)
  if (cfg.inputShift > 0) {
    val unused_pixel_lsbs = WireDefault(io.tdata(cfg.inputShift - 1, 0))
    dontTouch(unused_pixel_lsbs)
  }
  io.write.en := Mux(fire, VecInit((0 until R).map(i => lane === i.U)).asUInt, 0.U)
  io.write.addr := groupBase + offset
  io.write.data := Fill(R, pixel)

  when(io.start) {
    loading := true.B
    offset := 0.U; groupBase := 0.U; lane := 0.U; image := 0.U
  }.elsewhen(fire) {
    offset := offset + 1.U
    when(offset === (cfg.inSize - 1).U) {
      offset := 0.U
      image := image + 1.U
      val laneWrap = lane === (R - 1).U
      lane := Mux(laneWrap, 0.U, lane + 1.U)
      when(laneWrap) { groupBase := groupBase + cfg.inSize.U }
      when(image === io.images - 1.U) { loading := false.B }
    }
  }
}
