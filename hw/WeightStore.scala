package addernet.hw

import chisel3._

/**
 * One weight ROM per PE column: column j holds, layer after layer, the weights of channels
 * j, j + C, ..., one K-long block each, in the order the sequencer reads them
 * (`weights_colJ.mem`, loaded with $readmemh relative to the tool's working directory).
 */
class WeightStore(cfg: AccelConfig, filePrefix: String) extends Module {
  private val depth = cfg.weightDepth max 1
  val io = IO(new Bundle {
    val ren = Input(Bool())
    val addr = Input(UInt(cfg.weightAddrBits.W))
    val data = Output(Vec(cfg.cols, SInt(cfg.dataBits.W)))
  })
  for (j <- 0 until cfg.cols) {
    val rom = Module(new Rom(depth, cfg.dataBits, s"$filePrefix$j.mem"))
    rom.io.clock := clock
    rom.io.ren := io.ren
    rom.io.raddr := io.addr(Ram.addrBits(depth) - 1, 0)
    io.data(j) := rom.io.rdata.asSInt
  }
}
