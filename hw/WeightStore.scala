package addernet.hw

import chisel3._

/**
 * One weight memory per PE column: column j holds, layer after layer, the weights of channels
 * j, j + C, ..., one K-long block each, in the order the sequencer reads them. Either ROMs
 * initialised from `weights_colJ.mem` ($readmemh, relative to the tool's working directory), or,
 * with a weight stream, RAMs that the WeightLoader fills before a run.
 */
class WeightStore(cfg: AccelConfig, filePrefix: String) extends Module {
  private val depth = cfg.weightDepth max 1
  private val a = Ram.addrBits(depth)
  val io = IO(new Bundle {
    val ren = Input(Bool())
    val addr = Input(UInt(cfg.weightAddrBits.W))
    val data = Output(Vec(cfg.cols, SInt(cfg.dataBits.W)))
    val wen = if (cfg.weightStream) Some(Input(UInt(cfg.cols.W))) else None
    val waddr = if (cfg.weightStream) Some(Input(UInt(cfg.weightAddrBits.W))) else None
    val wdata = if (cfg.weightStream) Some(Input(SInt(cfg.dataBits.W))) else None
  })
  for (j <- 0 until cfg.cols) {
    if (cfg.weightStream) {
      val ram = Ram(depth, cfg.dataBits, clock)
      ram.io.ren := io.ren
      ram.io.raddr := io.addr(a - 1, 0)
      ram.io.wen := io.wen.get(j)
      ram.io.waddr := io.waddr.get(a - 1, 0)
      ram.io.wdata := io.wdata.get.asUInt
      io.data(j) := ram.io.rdata.asSInt
    } else {
      val rom = Module(new Rom(depth, cfg.dataBits, s"$filePrefix$j.mem"))
      rom.io.clock := clock
      rom.io.ren := io.ren
      rom.io.raddr := io.addr(a - 1, 0)
      io.data(j) := rom.io.rdata.asSInt
    }
  }
}
