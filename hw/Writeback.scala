package addernet.hw

import chisel3._
import chisel3.util._

/** One value the writeback writes, for layer-by-layer co-simulation (docs/accelerator.md, "The trace port"). */
class WriteTrace(cfg: AccelConfig) extends Bundle {
  val layer = UInt(cfg.layerBits.W)
  val lane = UInt(cfg.laneBits.W)
  val addr = UInt(cfg.addrBits.W)
  val data = SInt(32.W)
}

/** A write port of a lane memory: one address, a write enable per lane. */
class LaneWrite(lanes: Int, addrBits: Int, width: Int) extends Bundle {
  val en = UInt(lanes.W)
  val addr = UInt(addrBits.W)
  val data = UInt((lanes * width).W)
}

/**
 * Drains the mesh through Q shared requantizers and writes each layer's results. The tile whose
 * last element issued at cycle T is taken column by column: column j in cycles
 * T + s0 + j * M + m (m < M = ceil(R / Q)), requantizer q taking row m * Q + q, every sum read
 * while its PE still holds it (AccelConfig.period makes sure). All requantizers serve the same
 * column, so they share one table of per-channel constants and write the lanes of one word.
 * A pooled layer keeps the maximum by a read-modify-write of the destination word; the last
 * layer's logits go to their own memory.
 */
class Writeback(cfg: AccelConfig, table: RequantTable) extends Module {
  private val R = cfg.rows
  private val C = cfg.cols
  private val Q = cfg.requantizers
  private val M = cfg.steps
  private val A = cfg.addrBits
  private val B = cfg.dataBits
  private val stepBits = log2Ceil(M) max 1
  val io = IO(new Bundle {
    val tileDone = Input(Bool())
    val tile = Input(new TileInfo(cfg))
    val p = Input(new LayerEntry(cfg)) // the current layer's, held until its drain is over
    val layer = Input(UInt(cfg.layerBits.W))
    val sums = Input(Vec(R, Vec(C, SInt(cfg.accBits.W))))
    // The destination buffer: its read port for max-pool's old value, its write port.
    val rmwEn = Output(Bool())
    val rmwAddr = Output(UInt(cfg.bufferAddrBits.W))
    val rmwData = Input(UInt((R * B).W))
    val write = Output(new LaneWrite(R, cfg.bufferAddrBits, B))
    val logits = Output(new LaneWrite(Q, Ram.addrBits(cfg.logitDepth), cfg.logitBits))
    val trace = if (cfg.trace) Some(Output(Vec(Q, Valid(new WriteTrace(cfg))))) else None
    // A global average pool: after its layer has drained, write the window means to the destination.
    val poolStart = if (cfg.hasPool) Some(Input(Bool())) else None
    val poolBusy = if (cfg.hasPool) Some(Output(Bool())) else None
  })
  private val route = io.p.route
  private val adds = route.map(_.add).getOrElse(false.B)
  private val pools = route.map(_.pool).getOrElse(false.B)

  private val constants = Module(new Rom(cfg.requantDepth, table.entryBits, GenerateAccelerator.requantFile))
  constants.io.clock := clock

  // ---------------------------------------------------------------- the column walk
  private val captured = Reg(new TileInfo(cfg))
  when(io.tileDone) { captured := io.tile }
  private val begin = ShiftRegister(io.tileDone, cfg.s0 - 1, false.B, true.B)
  private val info = Reg(new TileInfo(cfg))
  private val active = RegInit(false.B)
  private val col = Reg(UInt(cfg.chanBits.W))
  private val step = Reg(UInt(stepBits.W))
  private val colPlane = Reg(UInt(A.W))
  private val entry = Reg(UInt(cfg.requantEntryBits.W))
  when(begin) {
    info := captured
    active := true.B
    col := 0.U; step := 0.U; colPlane := 0.U; entry := captured.entry
  }.elsewhen(active) {
    val stepWrap = step === (M - 1).U
    step := Mux(stepWrap, 0.U, step + 1.U)
    when(stepWrap) {
      col := col + 1.U
      colPlane := colPlane + io.p.outPlane
      entry := entry + 1.U
      when(col === io.p.usedCols - 1.U) { active := false.B }
    }
  }

  // Stage 0: pick each requantizer's sum; read the column's constants.
  constants.io.ren := active
  constants.io.raddr := entry
  private val colOk = active && info.keep && (info.chan + col) < io.p.outC
  private val picked = (0 until Q).map { q =>
    val rows = (0 until M).map(m => m * Q + q).filter(_ < R)
    // One of M x C sums, as an AND-OR tree over the decoded column and step.
    val colHot = (0 until C).map(j => col === j.U)
    val stepHot = rows.indices.map(m => step === m.U)
    val chosen = Mux1H(for (j <- 0 until C; (i, m) <- rows.zipWithIndex) yield
      (colHot(j) && stepHot(m)) -> io.sums(i)(j))
    val lane = step * Q.U + q.U
    (chosen, colOk && lane < info.lanes)
  }
  class Slot extends Bundle {
    val addr = UInt(A.W)
    val first = Bool()
    val last = Bool()
    val layer = UInt(cfg.layerBits.W)
    val step = UInt(stepBits.W)
    val posFirst = if (cfg.hasPool) Some(Bool()) else None
    val poolAddr = if (cfg.hasPool) Some(UInt(Ram.addrBits(cfg.poolDepth).W)) else None
  }
  private val slot = Wire(new Slot)
  slot.addr := info.outBase + colPlane
  slot.first := info.first
  slot.last := io.p.last
  slot.layer := io.layer
  slot.step := step
  slot.posFirst.foreach(_ := info.posFirst.get)
  slot.poolAddr.foreach(_ := (info.poolBase.get +& col)(Ram.addrBits(cfg.poolDepth) - 1, 0))

  // Stage 1: the sums registered beside the table word; the requantizer's stages follow.
  private val slot1 = RegNext(slot)
  private val results = picked.map { case (sum, valid) =>
    val rq = Module(new Requantizer(cfg, table))
    rq.io.in.valid := RegNext(valid, false.B)
    rq.io.in.bits := RegNext(sum)
    rq.io.entry := constants.io.rdata
    rq.io.layer := slot1.layer
    rq.io.out
  }
  // As results leave: read the word's old value for pooling, once per column, before the
  // column's first write: later steps write other lanes of the same word, and a memory never
  // reads the word it writes in the same cycle (AccelConfig.period keeps tiles apart, too).
  private val slotOut = ShiftRegister(slot1, Requantizer.latency)
  private val activeOut = ShiftRegister(active, 1 + Requantizer.latency, false.B, true.B)
  // An add reads the word of its operand at the output's own address (numeric contract, section 9);
  // a pooling layer reads its window sums in the same cycle.
  private val readNow =
    if (!cfg.residual) activeOut && slotOut.step === 0.U && !slotOut.first && !slotOut.last
    else activeOut && slotOut.step === 0.U && (adds || pools || !slotOut.first && !slotOut.last)
  io.rmwEn := readNow
  io.rmwAddr := slotOut.addr(cfg.bufferAddrBits - 1, 0)
  // One cycle later: max with the old value, write the lanes of this step.
  private val slotWrite = RegNext(slotOut)
  private val validW = results.map(r => RegNext(r.valid, false.B))
  private val valueW = results.map(r => RegNext(r.bits))
  private val readD = RegNext(readNow, false.B)
  private val held = Reg(UInt((R * B).W))
  when(readD) { held := io.rmwData }
  private val oldWord = Mux(readD, io.rmwData, held)
  private val old = (0 until R).map(i => oldWord((i + 1) * B - 1, i * B).asSInt)
  // The residual add (numeric contract, section 9): the result and the operand read at its address.
  private val adder = if (cfg.residual) Some(Module(new ResidualAdd(cfg))) else None
  adder.foreach { u =>
    for (i <- 0 until R) {
      u.io.a(i) := valueW(i % Q)(B - 1, 0).asSInt
      u.io.b(i) := old(i)
    }
    u.io.round := route.get.addRound
    u.io.shift := route.get.addShift
  }
  private val laneValue = (0 until R).map { i =>
    val fresh = valueW(i % Q)
    // A hidden layer's value is clamped into B bits, so the max compares B bits (it sits right
    // behind the block RAM's output, on the accelerator's slowest path).
    val narrow = fresh(B - 1, 0).asSInt
    if (!cfg.residual) Mux(slotWrite.first, fresh, Mux(old(i) > narrow, old(i), narrow).pad(32))
    else {
      // The chain's expression again, not a shared val: a chain's Verilog keeps its names.
      val kept = Mux(slotWrite.first, fresh, Mux(old(i) > narrow, old(i), narrow).pad(32))
      Mux(route.get.add, adder.get.io.q(i).pad(32), kept)
    }
  }
  private val laneOn = (0 until R).map(i => validW(i % Q) && slotWrite.step === (i / Q).U)
  private val en = VecInit(laneOn).asUInt

  // ---------------------------------------------------------------- global average pool
  // A layer that feeds the pool stores nothing: its results go to the pool's window sums.
  private val pool = if (cfg.hasPool) Some(Module(new GlobalPool(cfg))) else None
  pool.foreach { p =>
    p.io.read := readNow && pools
    p.io.readAddr := slotOut.poolAddr.get
    p.io.write := Mux(pools && !slotWrite.last, en, 0.U)
    p.io.writeAddr := slotWrite.poolAddr.get
    p.io.first := slotWrite.posFirst.get
    p.io.values := VecInit(laneValue.map(_(B - 1, 0)))
    p.io.start := io.poolStart.get
    p.io.outC := io.p.outC
    p.io.shift := route.get.poolShift
    io.poolBusy.get := p.io.busy
  }
  private val pass = pool.map(_.io)

  if (!cfg.residual) {
    io.write.en := Mux(slotWrite.last, 0.U, en)
    io.write.addr := slotWrite.addr(cfg.bufferAddrBits - 1, 0)
    io.write.data := VecInit(laneValue.map(_(B - 1, 0))).asUInt
  } else {
    val stored = Mux(slotWrite.last || pools, 0.U, en)
    io.write.en := pass.map(p => Mux(p.writing, p.lanes, stored)).getOrElse(stored)
    io.write.addr := pass.map(p => Mux(p.writing, p.addr.pad(cfg.bufferAddrBits), slotWrite.addr(cfg.bufferAddrBits - 1, 0)))
      .getOrElse(slotWrite.addr(cfg.bufferAddrBits - 1, 0))
    val data = VecInit(laneValue.map(_(B - 1, 0))).asUInt
    io.write.data := pass.map(p => Mux(p.writing, p.means.asUInt, data)).getOrElse(data)
  }
  // Logits: lane q, the step's block of classes within the group.
  private val logitAddr = slotWrite.addr + ConstMul(slotWrite.step.zext, cfg.classes, A).asUInt
  io.logits.en := Mux(slotWrite.last, VecInit(validW).asUInt, 0.U)
  io.logits.addr := logitAddr(Ram.addrBits(cfg.logitDepth) - 1, 0)
  io.logits.data := VecInit(valueW.map(_(cfg.logitBits - 1, 0))).asUInt

  if (!cfg.trace) {
    // Without the trace port some bits of the address and of the 32-bit results go nowhere; the
    // name tells lint so (Verilator's default --unused-regexp is *unused*).
    val unused_without_trace = WireDefault(Cat(slotWrite.addr +: valueW.map(_.asUInt)))
    dontTouch(unused_without_trace)
  }
  io.trace.foreach { t =>
    for (q <- 0 until Q) {
      val lanes = (0 until M).map(m => m * Q + q).filter(_ < R)
      t(q).valid := validW(q)
      t(q).bits.layer := slotWrite.layer
      t(q).bits.lane := (slotWrite.step * Q.U + q.U)(cfg.laneBits - 1, 0)
      t(q).bits.addr := Mux(slotWrite.last, logitAddr, slotWrite.addr)
      t(q).bits.data := Mux1H(lanes.zipWithIndex.map { case (i, m) =>
        (slotWrite.step === m.U || (lanes.length == 1).B) -> laneValue(i) })
      // A pooling layer's results are in no buffer; its pass's means are what it stores.
      pass.foreach { p =>
        when(pools) { t(q).valid := false.B }
        when(p.writing) {
          t(q).valid := lanes.indices.map(m => p.step === m.U).reduce(_ || _)
          t(q).bits.lane := (p.step * Q.U + q.U)(cfg.laneBits - 1, 0)
          t(q).bits.addr := p.addr.pad(A).asUInt
          t(q).bits.data := Mux1H(lanes.zipWithIndex.map { case (i, m) =>
            (p.step === m.U || (lanes.length == 1).B) -> p.means(i).zext.pad(32) })
        }
      }
    }
  }
}
