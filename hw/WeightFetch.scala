package addernet.hw

import chisel3._
import chisel3.util._

/** The AXI4 read master's channels (address and data, no IDs), from the master's side. */
class AxiReadMaster extends Bundle {
  val araddr = Output(UInt(64.W))
  val arlen = Output(UInt(8.W))
  val arsize = Output(UInt(3.W))
  val arburst = Output(UInt(2.W))
  val arvalid = Output(Bool())
  val arready = Input(Bool())
  val rdata = Input(UInt(64.W))
  val rresp = Input(UInt(2.W))
  val rlast = Input(Bool())
  val rvalid = Input(Bool())
  val rready = Output(Bool())
}

/** Error codes of a fetch build (docs/accelerator.md, "When a fetch fails"). */
object FetchError {
  val Response = 9 // a beat came back SLVERR or DECERR
  val Timeout = 10 // no handshake for TimeoutCycles while the fetch waited for one
  val Unaligned = 11 // start with a base that is not a multiple of the burst alignment
  val TimeoutCycles = 65536
  /** Bytes of beats that may be requested and not yet received: 4 bursts. */
  val OutstandingBeats = 64
}

/**
 * Reads one layer's rows of weights.bin (docs/accelerator.md, "Weights fetched from memory") into
 * its half of the weight RAM: bursts of up to 16 beats from the layer's 128-byte aligned offset,
 * up to 4 bursts in flight, every beat written at once (`rready` is always high: the weight RAM's
 * write port is free while the sequencer reads the other half). Beat e of a row carries columns
 * e * P .. e * P + P - 1 (P weights per beat), all at the row's address.
 *
 * This unit lives under the hard reset: the engine's (soft) reset arrives as `abort`, which ends a
 * fetch but not an address handshake already offered nor the counting of requested beats, so
 * that beats of bursts requested before it are taken and dropped rather than mistaken for the
 * next fetch's.
 */
class WeightFetch(cfg: AccelConfig) extends Module {
  private val C = cfg.cols
  private val L = cfg.layers.length
  private val E = cfg.rowBeats
  private val P = cfg.beatWeights
  private val W = 8 * cfg.weightBytes
  private val maxBeats = cfg.layers.map(cfg.fetchBeats).max
  private val beatBits = math.max(1, 64 - java.lang.Long.numberOfLeadingZeros(maxBeats))
  val io = IO(new Bundle {
    val abort = Input(Bool())
    val start = Input(Bool()) // fetch `layer`, from `base`; only while `ready`
    val layer = Input(UInt(cfg.layerBits.W))
    val base = Input(UInt(64.W))
    val ready = Output(Bool())
    val done = Output(Bool()) // the layer's last beat is written
    val fault = Output(Valid(UInt(4.W)))
    val stuck = Output(Bool()) // after a timeout, until reset
    val wen = Output(UInt(C.W))
    val waddr = Output(UInt(cfg.weightAddrBits.W))
    val wdata = Output(Vec(C, SInt(cfg.dataBits.W)))
    val axi = new AxiReadMaster
  })

  private val offsets = VecInit(cfg.fetchOffsets.map(o => (o / cfg.fetchBeatBytes).U(61.W)).toSeq)
  private val beats = VecInit(cfg.layers.map(l => cfg.fetchBeats(l).U(beatBits.W)).toSeq)
  private val bases = VecInit(cfg.weightBase.map(_.U(cfg.weightAddrBits.W)).toSeq)

  private val active = RegInit(false.B)
  private val stuck = RegInit(false.B)
  private val arValid = RegInit(false.B)
  private val arAddr = Reg(UInt(64.W))
  private val arLen = Reg(UInt(8.W))
  private val outstanding = RegInit(0.U(log2Ceil(FetchError.OutstandingBeats + 1).W))
  private val reqAddr = Reg(UInt(64.W))
  private val reqLeft = Reg(UInt(beatBits.W))
  private val recvLeft = Reg(UInt(beatBits.W))
  private val rowAddr = Reg(UInt(cfg.weightAddrBits.W))
  private val beatInRow = Reg(UInt(log2Ceil(E max 2).W))
  private val idle = Reg(UInt(log2Ceil(FetchError.TimeoutCycles + 1).W))

  io.axi.araddr := arAddr
  io.axi.arlen := arLen
  io.axi.arsize := log2Ceil(cfg.fetchBeatBytes).U
  io.axi.arburst := 1.U // INCR
  io.axi.arvalid := arValid
  io.axi.rready := true.B
  // The master counts beats, and EXOKAY is as good as OKAY: rlast and rresp's low bit go unread,
  // and so do a beat's bytes beyond a narrow mesh's row and above a weight's bits.
  private val unused_rlast_exokay_rdata = WireDefault(io.axi.rlast ## io.axi.rresp(0) ## io.axi.rdata)
  dontTouch(unused_rlast_exokay_rdata)
  io.ready := !active && !arValid && outstanding === 0.U && !stuck
  io.stuck := stuck

  private val arFire = arValid && io.axi.arready
  private val rFire = io.axi.rvalid
  private val bad = io.axi.rresp(1)
  private val take = rFire && active && !io.abort

  // The beat's weights go to their columns at the row's address.
  io.wen := Mux(take && !bad,
    VecInit((0 until C).map(j => if (E == 1) true.B else beatInRow === (j / P).U)).asUInt, 0.U)
  io.waddr := rowAddr
  for (j <- 0 until C) {
    val lane = j % P
    io.wdata(j) := io.axi.rdata(lane * W + cfg.dataBits - 1, lane * W).asSInt
  }

  io.done := false.B
  io.fault.valid := false.B
  io.fault.bits := 0.U

  // A new burst once the last is taken, while the beats in flight leave room for it.
  private val len = Mux(reqLeft > cfg.fetchBurstBeats.U, cfg.fetchBurstBeats.U, reqLeft)
  private val issue = active && !io.abort && !arValid && reqLeft =/= 0.U &&
    outstanding +& len <= FetchError.OutstandingBeats.U
  when(arFire) { arValid := false.B }
  when(issue) {
    arValid := true.B
    arAddr := reqAddr
    arLen := len - 1.U
    reqAddr := reqAddr + (len << log2Ceil(cfg.fetchBeatBytes))
    reqLeft := reqLeft - len
  }
  outstanding := outstanding + Mux(issue, len, 0.U) - Mux(rFire && outstanding =/= 0.U, 1.U, 0.U)

  when(take) {
    val rowEnd = if (E == 1) true.B else beatInRow === (E - 1).U
    beatInRow := Mux(rowEnd, 0.U, beatInRow + 1.U)
    when(rowEnd) { rowAddr := rowAddr + 1.U }
    recvLeft := recvLeft - 1.U
    when(bad) {
      active := false.B
      io.fault.valid := true.B
      io.fault.bits := FetchError.Response.U
    }.elsewhen(recvLeft === 1.U) {
      active := false.B
      io.done := true.B
    }
  }

  // The timeout counts cycles without a handshake while the fetch waits for one.
  private val waiting = active && !io.abort && (reqLeft =/= 0.U || recvLeft =/= 0.U)
  idle := Mux(waiting && !arFire && !rFire, idle + 1.U, 0.U)
  when(waiting && idle === (FetchError.TimeoutCycles - 1).U) {
    active := false.B
    stuck := true.B
    arValid := false.B
    outstanding := 0.U
    io.fault.valid := true.B
    io.fault.bits := FetchError.Timeout.U
  }

  when(io.abort) {
    active := false.B
  }.elsewhen(io.start && io.ready) {
    active := true.B
    reqAddr := io.base + (offsets(io.layer) << log2Ceil(cfg.fetchBeatBytes))
    reqLeft := beats(io.layer)
    recvLeft := beats(io.layer)
    rowAddr := bases(io.layer)
    beatInRow := 0.U
    idle := 0.U
  }
  require(L >= 1)
}
