package addernet.hw

import chisel3._
import chisel3.util._

/**
 * One weight memory per PE column: column j holds, layer after layer, the weights of channels
 * j, j + C, ..., one K-long block each, in the order the sequencer reads them. Either ROMs
 * initialised from `weights_colJ.mem` ($readmemh, relative to the tool's working directory), or,
 * with a weight stream, RAMs that the WeightLoader fills before a run: inferred RAM, or on the UP5K
 * its SPRAMs, several columns to a 16-bit word (AccelConfig.weightMemory decides).
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
    // Fetched weights: a row (or a beat's part of it) at one address, each column its own weight.
    val fwen = if (cfg.fetchWeights) Some(Input(UInt(cfg.cols.W))) else None
    val fwaddr = if (cfg.fetchWeights) Some(Input(UInt(cfg.weightAddrBits.W))) else None
    val fwdata = if (cfg.fetchWeights) Some(Input(Vec(cfg.cols, SInt(cfg.dataBits.W)))) else None
  })
  if (cfg.spramWeights) {
    // Column j is nibble group j mod P of SPRAM j div P (P columns per word); one port, which
    // writes during a load and reads during a run.
    val P = cfg.spramColumns
    val w = 16 / P
    for (s <- 0 until cfg.sprams) {
      val ram = Module(new Spram)
      ram.io.clock := clock
      val cols = (s * P until math.min(cfg.cols, (s + 1) * P))
      val writing = VecInit(cols.map(j => io.wen.get(j))).asUInt.orR
      ram.io.wen := writing
      ram.io.addr := Mux(writing, io.waddr.get, io.addr).pad(14)(13, 0)
      // Nibble n belongs to the word's column n / (w / 4).
      ram.io.mask := VecInit((0 until 4).map { n =>
        val k = n / (w / 4)
        if (k < cols.length) io.wen.get(cols(k)) else false.B
      }).asUInt
      ram.io.wdata := Fill(P, io.wdata.get.asUInt.pad(w)(w - 1, 0))
      for ((j, k) <- cols.zipWithIndex) {
        io.data(j) := ram.io.rdata((k + 1) * w - 1, k * w)(cfg.dataBits - 1, 0).asSInt
      }
      // The last SPRAM may hold fewer columns than a word has room for, and a weight narrower
      // than its nibbles leaves bits spare; the name tells lint they go nowhere on purpose.
      val unused_spram_bits = WireDefault(ram.io.rdata)
      dontTouch(unused_spram_bits)
    }
  } else for (j <- 0 until cfg.cols) {
    if (cfg.fetchWeights) {
      val ram = Ram(depth, cfg.dataBits, clock)
      ram.io.ren := io.ren
      ram.io.raddr := io.addr(a - 1, 0)
      ram.io.wen := io.fwen.get(j)
      ram.io.waddr := io.fwaddr.get(a - 1, 0)
      ram.io.wdata := io.fwdata.get(j).asUInt
      io.data(j) := ram.io.rdata.asSInt
    } else if (cfg.weightStream) {
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
