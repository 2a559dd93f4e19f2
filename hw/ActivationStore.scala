package addernet.hw

import chisel3._

/**
 * The activations, each stored once: two ping-pong buffers (layer l reads buffer l mod 2 and
 * writes the other), each one memory whose word holds R lanes, lane i holding images i, i + R,
 * ...; and the logits memory, one lane per requantizer. Each buffer is as deep as the largest tensor
 * it ever holds (AccelConfig.bufferDepth). The source buffer's read port feeds the mesh, the
 * destination's serves max-pool's read-modify-write.
 */
class ActivationStore(cfg: AccelConfig) extends Module {
  private val R = cfg.rows
  private val B = cfg.dataBits
  private val AB = cfg.bufferAddrBits
  private val LA = Ram.addrBits(cfg.logitDepth)
  val io = IO(new Bundle {
    val src = Input(UInt(1.W))
    // Networks with branches: the layer's route names the buffers (AccelConfig.routes).
    val route = if (cfg.residual) Some(Input(new RouteEntry(cfg))) else None
    val feedEn = Input(Bool())
    val feedAddr = Input(UInt(AB.W))
    val feedData = Output(UInt((R * B).W))
    val rmwEn = Input(Bool())
    val rmwAddr = Input(UInt(AB.W))
    val rmwData = Output(UInt((R * B).W))
    val write = Input(new LaneWrite(R, AB, B)) // into the destination buffer
    val load = Input(new LaneWrite(R, AB, B)) // into buffer 0, while the input is loading
    val logitsWrite = Input(new LaneWrite(cfg.requantizers, LA, cfg.logitBits))
    val logitsEn = Input(Bool())
    val logitsAddr = Input(UInt(LA.W))
    val logitsData = Output(UInt((cfg.requantizers * cfg.logitBits).W))
  })
  // The buffer the writeback reads: the add's operand, or for max-pool the destination.
  private val rmwBuf = io.route.map(r => Mux(r.add, r.addFrom, r.dst))
  private val buffers = Seq.tabulate(cfg.bufferDepth.length) { b =>
    val m = Module(new LaneRam(cfg.bufferDepth(b), R, B))
    m.io.clock := clock
    val a = Ram.addrBits(cfg.bufferDepth(b))
    val w = if (b == 0) Mux(io.load.en.orR, io.load, io.write) else io.write
    io.route match {
      case None =>
        val isSrc = io.src === b.U
        m.io.ren := Mux(isSrc, io.feedEn, io.rmwEn)
        m.io.raddr := Mux(isSrc, io.feedAddr, io.rmwAddr)(a - 1, 0)
        val fromWriteback = Mux(isSrc, 0.U, io.write.en)
        m.io.wen := (if (b == 0) io.load.en | fromWriteback else fromWriteback)
      case Some(r) =>
        // The mesh reads src; the writeback reads rmwBuf and writes dst.
        val isSrc = r.src === b.U
        val isRmw = rmwBuf.get === b.U
        m.io.ren := Mux(isSrc, io.feedEn, isRmw && io.rmwEn)
        m.io.raddr := Mux(isSrc, io.feedAddr, io.rmwAddr)(a - 1, 0)
        val fromWriteback = Mux(r.dst === b.U, io.write.en, 0.U)
        m.io.wen := (if (b == 0) io.load.en | fromWriteback else fromWriteback)
    }
    m.io.waddr := w.addr(a - 1, 0)
    m.io.wdata := w.data
    if (a < AB) {
      // A buffer shallower than the deepest only takes the low address bits.
      val unused_high_address_bits = WireDefault(
        chisel3.util.Cat(io.feedAddr(AB - 1, a), io.rmwAddr(AB - 1, a), w.addr(AB - 1, a)))
      dontTouch(unused_high_address_bits)
    }
    m
  }
  io.route match {
    case None =>
      val srcD = RegNext(io.src)
      io.feedData := Mux(srcD === 0.U, buffers(0).io.rdata, buffers(1).io.rdata)
      io.rmwData := Mux(srcD === 0.U, buffers(1).io.rdata, buffers(0).io.rdata)
    case Some(r) =>
      val srcD = RegNext(r.src)
      val rmwD = RegNext(rmwBuf.get)
      val ib = chisel3.util.log2Ceil(buffers.length)
      io.feedData := VecInit(buffers.map(_.io.rdata))(srcD(ib - 1, 0))
      io.rmwData := VecInit(buffers.map(_.io.rdata))(rmwD(ib - 1, 0))
  }

  private val logits = Module(new LaneRam(cfg.logitDepth, cfg.requantizers, cfg.logitBits))
  logits.io.clock := clock
  logits.io.ren := io.logitsEn
  logits.io.raddr := io.logitsAddr
  logits.io.wen := io.logitsWrite.en
  logits.io.waddr := io.logitsWrite.addr
  logits.io.wdata := io.logitsWrite.data
  io.logitsData := logits.io.rdata
}
