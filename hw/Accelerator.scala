package addernet.hw

import chisel3._
import chisel3.util._

/** One write of the writeback stage, exported for layer-by-layer co-simulation. */
class WriteTrace(cfg: AccelConfig, addrBits: Int) extends Bundle {
  // The full address the writeback computed (wider than any bank), so nothing it holds is lost.
  val layer = UInt(cfg.layerBits.W)
  val addr = UInt(addrBits.W)
  val data = SInt(32.W)
}

/**
 * The whole-network engine: a batch of images streams in (AXI4-Stream, one pixel per beat),
 * every layer runs as a schedule of output tiles on the PE mesh (adder PEs, or MAC PEs for the CNN
 * twin), requantization (adds and shifts) and max-pool write each layer's output into the other
 * of two activation buffers, and the integer logits stream out (AXI4-Stream, 32-bit signed, tlast on each image's last logit).
 *
 * Dataflow per tile (numeric contract, section 4, with im2col addressing done by counters):
 * cycle tau issues element k: every row reads its own replica of the source bank holding input
 * channel c (one replica per row, since the R rows read R different positions), column j reads
 * its weight ROM; data arrive at tau+1, row i is delayed i cycles and column j j cycles (the
 * skew), PE(i,j) presents the tile's sum at tau_last + 2 + i + j. A drain sequencer emits row i's
 * write address at tau_last + 2 + i, delayed j cycles for column j, so each column sees its R
 * sums one per cycle and feeds them through its own requantizer to bank j of the destination.
 */
class Accelerator(cfg: AccelConfig, memFilePrefix: String) extends Module {
  private val R = cfg.rows
  private val C = cfg.cols
  private val N = cfg.batch
  private val L = cfg.layers.length
  private val B = cfg.dataBits
  private val AW = 26 // signed address arithmetic; tensors are far below 2^25 words
  private val bankAddrBits = log2Ceil(cfg.bankDepth max 2)
  private val logitAddrBits = log2Ceil(cfg.logitDepth max 2)
  private val layerBits = cfg.layerBits

  val io = FlatIO(new Bundle {
    val start = Input(Bool())
    val busy = Output(Bool())
    val done = Output(Bool())
    val cycles = Output(UInt(32.W))
    val s_axis_tdata = Input(UInt(8.W))
    val s_axis_tvalid = Input(Bool())
    val s_axis_tready = Output(Bool())
    val m_axis_tdata = Output(UInt(32.W))
    val m_axis_tvalid = Output(Bool())
    val m_axis_tready = Input(Bool())
    val m_axis_tlast = Output(Bool())
    // Layer-by-layer co-simulation only; an FPGA build leaves it out (it costs ~40 pins per column).
    val trace = if (cfg.trace) Some(Output(Vec(C, Valid(new WriteTrace(cfg, AW))))) else None
  })

  // ---------------------------------------------------------------- per-layer constants
  private def romU(f: LayerParams => Int, w: Int): Vec[UInt] = VecInit(cfg.layers.toSeq.map(l => f(l).U(w.W)))
  private def romS(f: LayerParams => Int): Vec[SInt] = VecInit(cfg.layers.toSeq.map(l => f(l).S(AW.W)))
  private def inStride(l: LayerParams) = cfg.bankImageStride(l.inC, l.inH, l.inW)
  private def outStride(l: LayerParams) = cfg.bankImageStride(l.outC, l.outH, l.outW)

  // Advancing a row by R output positions: R = a * positions + b * convW + c with b < convH, c < convW.
  private def advance(l: LayerParams) = {
    val a = R / l.positions
    val rem = R % l.positions
    (a, rem / l.convW, rem % l.convW)
  }
  /** Position p of a layer as (image, output row, output column). */
  private def position(l: LayerParams, p: Int) = (p / l.positions, (p % l.positions) / l.convW, p % l.convW)

  // ---------------------------------------------------------------- memories
  /** buffers(b)(bank)(replica): two ping-pong activation buffers, C banks, R read replicas each. */
  private val buffers = Seq.fill(2, C, R)(Ram(cfg.bankDepth, B, clock))
  private val logits = Seq.fill(C)(Ram(cfg.logitDepth, 32, clock))
  private val weightRoms = Seq.tabulate(C) { j =>
    val m = Module(new Rom(cfg.weightDepth max 1, B, s"${memFilePrefix}${j}.mem"))
    m.io.clock := clock
    m
  }

  // ---------------------------------------------------------------- control state
  object S extends ChiselEnum { val idle, load, layerInit, run, drain, emit = Value }
  private val state = RegInit(S.idle)
  private val layer = RegInit(0.U(layerBits.W))
  private val cycleCount = RegInit(0.U(32.W))
  private val doneReg = RegInit(false.B)
  io.busy := state =/= S.idle
  io.done := doneReg
  io.cycles := cycleCount
  doneReg := false.B
  when(state =/= S.idle) { cycleCount := cycleCount + 1.U }

  /** Which buffer layer l reads: 0 for even layers (the input lands in buffer 0). */
  private val src = layer(0)

  // ---------------------------------------------------------------- load: pixels into buffer 0
  private val first = cfg.layers.head
  private val ldX = RegInit(0.U(16.W))
  private val ldY = RegInit(0.U(16.W))
  private val ldC = RegInit(0.U(16.W))
  private val ldBank = RegInit(0.U(log2Ceil(C + 1).W))
  private val ldImg = RegInit(0.U(16.W))
  private val ldAddr = RegInit(0.U(AW.W)) // img base + channel plane + row base + x
  private val ldRowBase = RegInit(0.U(AW.W))
  private val ldPlane = RegInit(0.U(AW.W))
  private val ldImgBase = RegInit(0.U(AW.W))
  io.s_axis_tready := state === S.load
  private val pixelIn = io.s_axis_tvalid && state === S.load
  private val pixelQ = (io.s_axis_tdata >> cfg.inputShift).zext
  // Contract section 5 drops the pixel's low bits on purpose; the wire's name tells lint so
  // (Verilator's default --unused-regexp is *unused*).
  if (cfg.inputShift > 0) {
    val unused_pixel_lsbs = WireDefault(io.s_axis_tdata(cfg.inputShift - 1, 0))
    dontTouch(unused_pixel_lsbs)
  }

  // ---------------------------------------------------------------- tile issue state
  private val pb = RegInit(0.U(24.W))
  private val tb = RegInit(0.U(16.W))
  private val kIdx = RegInit(0.U(24.W))
  private val kx = RegInit(0.U(8.W))
  private val ky = RegInit(0.U(8.W))
  private val kc = RegInit(0.U(16.W))
  private val bank = RegInit(0.U(log2Ceil(C + 1).W))
  private val plane = RegInit(0.S(AW.W)) // channel plane offset within a bank
  private val kOff = RegInit(0.S(AW.W)) // plane + ky * W + kx
  private val wAddr = RegInit(0.U(AW.W))
  private val tChan = RegInit(0.U(16.W)) // tb * C
  private val tbPlane = RegInit(0.U(AW.W)) // tb * output plane size
  private val rqEntry = RegInit(0.U(cfg.requantEntryBits.W))

  private val rowImg = Reg(Vec(R, UInt(16.W)))
  private val rowOy = Reg(Vec(R, UInt(16.W)))
  private val rowOx = Reg(Vec(R, UInt(16.W)))
  private val rowIy0 = Reg(Vec(R, SInt(AW.W)))
  private val rowIx0 = Reg(Vec(R, SInt(AW.W)))
  private val rowOrigin = Reg(Vec(R, SInt(AW.W)))

  private val K = romU(_.k, 24)(layer)
  private val period = romU(cfg.period, 24)(layer)
  private val kern = romU(_.kernel, 8)(layer)
  private val inH = romS(_.inH)(layer)
  private val inW = romS(_.inW)(layer)
  private val planeIn = romS(l => l.inH * l.inW)(layer)
  private val rowBlocks = romU(cfg.rowBlocks, 24)(layer)
  private val colBlocks = romU(cfg.colBlocks, 16)(layer)
  private val convH = romU(_.convH, 16)(layer)
  private val convW = romU(_.convW, 16)(layer)
  private val isLast = layer === (L - 1).U

  private val issuing = state === S.run && kIdx < K
  private val tileEnd = state === S.run && kIdx === period - 1.U
  private val lastElem = state === S.run && kIdx === K - 1.U

  // Row i reads input position (iy0 + ky, ix0 + kx) of its image; zero outside the image.
  private val rowValid = VecInit((0 until R).map(i => rowImg(i) < N.U))
  private val rowAddr = Wire(Vec(R, SInt(AW.W)))
  private val rowInside = Wire(Vec(R, Bool()))
  for (i <- 0 until R) {
    val iy = rowIy0(i) + ky.zext
    val ix = rowIx0(i) + kx.zext
    rowInside(i) := rowValid(i) && iy >= 0.S && iy < inH && ix >= 0.S && ix < inW
    rowAddr(i) := rowOrigin(i) + kOff
  }

  // ---------------------------------------------------------------- reads of the source buffer
  // A buffer that is the destination serves the writeback's read-modify-write (pooling) on
  // replica 0 instead.
  private val rmwAddr = Wire(Vec(C, UInt(bankAddrBits.W)))
  private val rmwEn = Wire(Vec(C, Bool()))
  private val bankData = Seq.tabulate(2, C, R) { (b, j, i) =>
    val mem = buffers(b)(j)(i)
    val isSrc = src === b.U
    mem.io.raddr := Mux(isSrc, rowAddr(i).asUInt(bankAddrBits - 1, 0), if (i == 0) rmwAddr(j) else 0.U)
    mem.io.ren := Mux(isSrc, issuing && rowInside(i) && bank === j.U, if (i == 0) rmwEn(j) else false.B)
    mem.io.rdata.asSInt
  }
  // Flags and the bank select arrive with the data, one cycle after the issue.
  private val issued = RegNext(issuing, false.B)
  private val bankD = RegNext(bank)
  private val srcD = RegNext(src)
  private val insideD = RegNext(rowInside)
  private val validD = RegNext(VecInit((0 until R).map(i => rowValid(i))))
  private val firstD = RegNext(kIdx === 0.U)
  private val lastD = RegNext(kIdx === K - 1.U)

  private val mesh = Module(new Mesh(cfg.arrayConfig, exportEdges = false))
  for (i <- 0 until R) {
    val word = Mux1H((0 until 2).flatMap(b => (0 until C).map(j =>
      (srcD === b.U && bankD === j.U) -> bankData(b)(j)(i))))
    val ctl = Wire(new PECtl)
    ctl.valid := issued && validD(i)
    ctl.first := firstD
    ctl.last := lastD
    val a = Mux(insideD(i), word, 0.S(B.W))
    mesh.io.a(i) := ShiftRegister(a, i)
    mesh.io.ctl(i) := ShiftRegister(ctl, i, 0.U.asTypeOf(new PECtl), true.B)
  }
  for (j <- 0 until C) {
    weightRoms(j).io.raddr := wAddr(Ram.addrBits(cfg.weightDepth max 1) - 1, 0)
    weightRoms(j).io.ren := issuing
    val w = weightRoms(j).io.rdata.asSInt
    mesh.io.b(j) := ShiftRegister(Mux(issued, w, 0.S), j)
  }

  // ---------------------------------------------------------------- drain sequencer
  class RowInfo extends Bundle {
    val valid = Bool()
    val img = UInt(16.W)
    val oy = UInt(16.W)
    val ox = UInt(16.W)
  }
  class TileInfo extends Bundle {
    val rows = Vec(R, new RowInfo)
    val layer = UInt(layerBits.W)
    val tChan = UInt(16.W)
    val tbPlane = UInt(AW.W)
    val rqEntry = UInt(cfg.requantEntryBits.W)
  }
  private val d1 = Reg(new TileInfo)
  private val d2 = Reg(new TileInfo)
  private val captured = RegNext(lastElem, false.B)
  when(lastElem) {
    for (i <- 0 until R) {
      d1.rows(i).valid := rowValid(i)
      d1.rows(i).img := rowImg(i)
      d1.rows(i).oy := rowOy(i)
      d1.rows(i).ox := rowOx(i)
    }
    d1.layer := layer
    d1.tChan := tChan
    d1.tbPlane := tbPlane
    d1.rqEntry := rqEntry
  }
  when(captured) { d2 := d1 }
  // Row i of the tile is emitted at tau_last + 2 + i, when PE(i, 0) presents its sum.
  private val startNow = RegNext(captured, false.B)
  private val emitting = RegInit(false.B)
  private val seqRow = RegInit(0.U((log2Ceil(R) max 1).W))
  when(startNow) {
    emitting := (R > 1).B
    seqRow := (if (R > 1) 1 else 0).U
  }.elsewhen(emitting) {
    seqRow := seqRow + 1.U
    when(seqRow === (R - 1).U) { emitting := false.B }
  }
  private val curRow = Mux(startNow, 0.U, seqRow)
  private val live = startNow || emitting

  class ColInfo extends Bundle {
    val valid = Bool()
    val first = Bool() // first value of its pooling window: overwrite instead of max
    val addr = UInt(AW.W)
    val layer = UInt(layerBits.W)
    val tChan = UInt(16.W)
    val rqEntry = UInt(cfg.requantEntryBits.W)
  }
  private val row = d2.rows(curRow)
  private val dl = d2.layer
  private val pooled = VecInit(cfg.layers.toSeq.map(_.pool.B))(dl)
  private val py = Mux(pooled, row.oy >> 1, row.oy)
  private val px = Mux(pooled, row.ox >> 1, row.ox)
  private val keep = !pooled ||
    (row.oy < VecInit(cfg.layers.toSeq.map(l => (2 * l.outH).U(16.W)))(dl) &&
      row.ox < VecInit(cfg.layers.toSeq.map(l => (2 * l.outW).U(16.W)))(dl))
  private val imgTerm = VecInit(cfg.layers.toSeq.map { l =>
    val stride = if (l eq cfg.last) cfg.ceilDiv(l.outC, C) else outStride(l)
    ConstMul(row.img.zext, stride, AW).asUInt
  })(dl)
  private val yTerm = VecInit(cfg.layers.toSeq.map(l => ConstMul(py.zext, l.outW, AW).asUInt))(dl)
  private val seqOut = Wire(new ColInfo)
  seqOut.valid := live && row.valid && keep
  seqOut.first := !pooled || (row.oy(0) === 0.U && row.ox(0) === 0.U)
  seqOut.addr := imgTerm + Mux(dl === (L - 1).U, 0.U, yTerm + px) + d2.tbPlane
  seqOut.layer := dl
  seqOut.tChan := d2.tChan
  seqOut.rqEntry := d2.rqEntry

  // Column j sees the sequencer's output j cycles later, exactly when its PEs present their sums.
  private val colInfo = Wire(Vec(C, new ColInfo))
  colInfo(0) := seqOut
  for (j <- 1 until C) {
    colInfo(j) := RegNext(colInfo(j - 1))
    colInfo(j).valid := RegNext(colInfo(j - 1).valid, false.B)
  }

  // ---------------------------------------------------------------- requantize and write back
  private val outC = VecInit(cfg.layers.toSeq.map(_.outC.U(16.W)))
  for (j <- 0 until C) {
    val info = colInfo(j)
    val sum = Mux1H((0 until R).map(i => mesh.io.outValid(i)(j) -> mesh.io.out(i)(j)))
    val chanOk = info.tChan + j.U < outC(info.layer)
    val rq = Module(new Requantizer(cfg, j))
    rq.io.in.valid := info.valid && chanOk
    rq.io.in.bits := sum
    rq.io.entry := info.rqEntry
    rq.io.layer := info.layer
    // The requantizer takes two cycles; address and flags travel beside it.
    val infoQ = ShiftRegister(info, 2)
    // Stage C: read the old value of the pooling window (replica 0 of the destination bank).
    val q = rq.io.out
    val toLogits = infoQ.layer === (L - 1).U
    rmwAddr(j) := infoQ.addr(bankAddrBits - 1, 0)
    rmwEn(j) := q.valid && !infoQ.first && !toLogits
    // Stage D: max with the old value (forwarded from the previous write if it hit the same word).
    val vD = RegNext(q.valid, false.B)
    val qD = RegNext(q.bits)
    val infoD = RegNext(infoQ)
    val dst = !infoD.layer(0) // layer l writes buffer (l + 1) % 2
    val oldMem = Mux1H((0 until 2).map(b => (dst === b.U) -> bankData(b)(j)(0)))
    val prevValid = RegInit(false.B)
    val prevAddr = Reg(UInt(AW.W))
    val prevData = Reg(SInt(32.W))
    val old = Mux(prevValid && prevAddr === infoD.addr, prevData, oldMem)
    val value = Mux(infoD.first, qD, Mux(old > qD, old, qD))
    val toLogitsD = infoD.layer === (L - 1).U
    prevValid := vD && !toLogitsD
    prevAddr := infoD.addr
    prevData := value
    logits(j).io.wen := vD && toLogitsD
    logits(j).io.waddr := infoD.addr(logitAddrBits - 1, 0)
    logits(j).io.wdata := value.asUInt
    // One write port per bank replica: the writeback, or (buffer 0, while loading) a pixel.
    for (b <- 0 until 2; i <- 0 until R) {
      val mem = buffers(b)(j)(i)
      val loading = if (b == 0) pixelIn && ldBank === j.U else false.B
      mem.io.wen := loading || (vD && !toLogitsD && dst === b.U)
      mem.io.waddr := Mux(loading, ldAddr(bankAddrBits - 1, 0), infoD.addr(bankAddrBits - 1, 0))
      mem.io.wdata := Mux(loading, pixelQ.pad(B)(B - 1, 0), value(B - 1, 0))
    }
    io.trace.foreach { t =>
      t(j).valid := vD
      t(j).bits.layer := infoD.layer
      t(j).bits.addr := infoD.addr
      t(j).bits.data := value
    }
  }


  // ---------------------------------------------------------------- emit: logits out
  private val emImg = RegInit(0.U(16.W))
  private val emT = RegInit(0.U(16.W))
  private val emBank = RegInit(0.U(log2Ceil(C + 1).W))
  private val emAddr = RegInit(0.U(AW.W)) // img * ceil(F/C) + t / C
  private val emRowBase = RegInit(0.U(AW.W))
  // One logit in flight at a time: read, then hold it on m_axis until it is taken.
  private val inflight = RegInit(false.B)
  private val emDone = RegInit(false.B)
  private val outValid = RegInit(false.B)
  private val outData = Reg(UInt(32.W))
  private val outLast = Reg(Bool())
  private val canIssue = state === S.emit && !emDone && !outValid && !inflight
  for ((m, j) <- logits.zipWithIndex) {
    m.io.raddr := emAddr(logitAddrBits - 1, 0)
    m.io.ren := canIssue && emBank === j.U
  }
  private val emBankD = RegNext(emBank)
  private val emLastD = RegNext(emT === (cfg.classes - 1).U)
  inflight := canIssue
  when(inflight) {
    outValid := true.B
    outData := Mux1H((0 until C).map(j => (emBankD === j.U) -> logits(j).io.rdata))
    outLast := emLastD
  }.elsewhen(outValid && io.m_axis_tready) {
    outValid := false.B
  }
  io.m_axis_tvalid := outValid
  io.m_axis_tdata := outData
  io.m_axis_tlast := outLast

  // ---------------------------------------------------------------- the state machine
  private val drainWait = RegInit(0.U(16.W))
  private val drainCycles = (R + C + 12).U

  // Row state at the start of a layer: position p = i.
  private def initRows(): Unit = {
    for (i <- 0 until R) {
      val pos = cfg.layers.toSeq.map(l => position(l, i))
      rowImg(i) := VecInit(pos.map(_._1.U(16.W)))(layer)
      rowOy(i) := VecInit(pos.map(_._2.U(16.W)))(layer)
      rowOx(i) := VecInit(pos.map(_._3.U(16.W)))(layer)
      rowIy0(i) := VecInit(cfg.layers.toSeq.zip(pos).map { case (l, p) => (p._2 * l.stride - l.pad).S(AW.W) })(layer)
      rowIx0(i) := VecInit(cfg.layers.toSeq.zip(pos).map { case (l, p) => (p._3 * l.stride - l.pad).S(AW.W) })(layer)
      rowOrigin(i) := VecInit(cfg.layers.toSeq.zip(pos).map { case (l, p) =>
        (p._1 * inStride(l) + (p._2 * l.stride - l.pad) * l.inW + (p._3 * l.stride - l.pad)).S(AW.W)
      })(layer)
    }
  }

  // Advance every row by R positions (adds, compares and per-layer constants only).
  private def advanceRows(): Unit = {
    val adv = cfg.layers.toSeq.map(advance)
    val aImg = VecInit(adv.map(_._1.U(16.W)))(layer)
    val bY = VecInit(adv.map(_._2.U(16.W)))(layer)
    val cX = VecInit(adv.map(_._3.U(16.W)))(layer)
    val dIy = VecInit(cfg.layers.toSeq.zip(adv).map { case (l, a) => (a._2 * l.stride).S(AW.W) })(layer)
    val dIx = VecInit(cfg.layers.toSeq.zip(adv).map { case (l, a) => (a._3 * l.stride).S(AW.W) })(layer)
    val stride = romS(_.stride)(layer)
    val wrapIx = romS(l => l.convW * l.stride)(layer)
    val wrapIy = romS(l => l.convH * l.stride)(layer)
    val c0 = VecInit(cfg.layers.toSeq.zip(adv).map { case (l, a) =>
      (a._3 * l.stride + a._2 * l.stride * l.inW + a._1 * inStride(l)).S(AW.W)
    })(layer)
    val c1 = romS(l => l.stride * l.inW - l.convW * l.stride)(layer)
    val c2 = romS(l => inStride(l) - l.convH * l.stride * l.inW)(layer)
    for (i <- 0 until R) {
      val ox1 = rowOx(i) +& cX
      val cx = ox1 >= convW
      val oy1 = rowOy(i) +& bY +& cx.asUInt
      val cy = oy1 >= convH
      rowOx(i) := Mux(cx, ox1 - convW, ox1)
      rowOy(i) := Mux(cy, oy1 - convH, oy1)
      rowImg(i) := rowImg(i) + aImg + cy.asUInt
      rowIx0(i) := rowIx0(i) + dIx - Mux(cx, wrapIx, 0.S)
      rowIy0(i) := rowIy0(i) + dIy + Mux(cx, stride, 0.S) - Mux(cy, wrapIy, 0.S)
      rowOrigin(i) := rowOrigin(i) + c0 + Mux(cx, c1, 0.S) + Mux(cy, c2, 0.S)
    }
  }

  private def resetK(): Unit = {
    kIdx := 0.U; kx := 0.U; ky := 0.U; kc := 0.U; bank := 0.U; plane := 0.S; kOff := 0.S
  }

  switch(state) {
    is(S.idle) {
      when(io.start) {
        state := S.load
        cycleCount := 0.U
        ldX := 0.U; ldY := 0.U; ldC := 0.U; ldBank := 0.U; ldImg := 0.U
        ldAddr := 0.U; ldRowBase := 0.U; ldPlane := 0.U; ldImgBase := 0.U
      }
    }
    is(S.load) {
      when(pixelIn) {
        // Walk x, y, channel (bank, then plane), image; the address is kept as running sums.
        val xWrap = ldX === (first.inW - 1).U
        val yWrap = ldY === (first.inH - 1).U
        val cWrap = ldC === (first.inC - 1).U
        val bankWrap = ldBank === (C - 1).U
        ldX := Mux(xWrap, 0.U, ldX + 1.U)
        ldAddr := ldAddr + 1.U
        when(xWrap) {
          ldY := Mux(yWrap, 0.U, ldY + 1.U)
          ldRowBase := ldRowBase + first.inW.U
          ldAddr := ldImgBase + ldPlane + ldRowBase + first.inW.U
          when(yWrap) {
            ldRowBase := 0.U
            ldC := Mux(cWrap, 0.U, ldC + 1.U)
            ldBank := Mux(bankWrap || cWrap, 0.U, ldBank + 1.U)
            val nextPlane = Mux(cWrap, 0.U, Mux(bankWrap, ldPlane + (first.inH * first.inW).U, ldPlane))
            ldPlane := nextPlane
            val nextImgBase = Mux(cWrap, ldImgBase + inStride(first).U, ldImgBase)
            ldAddr := nextImgBase + nextPlane
            when(cWrap) {
              ldImgBase := nextImgBase
              ldImg := ldImg + 1.U
              when(ldImg === (N - 1).U) {
                state := S.layerInit
                layer := 0.U
              }
            }
          }
        }
      }
    }
    is(S.layerInit) {
      initRows()
      resetK()
      pb := 0.U; tb := 0.U; tChan := 0.U; tbPlane := 0.U
      wAddr := VecInit(cfg.weightBase.toSeq.map(_.U(AW.W)))(layer)
      rqEntry := VecInit(cfg.requantBase.toSeq.map(_.U(cfg.requantEntryBits.W)))(layer)
      state := S.run
    }
    is(S.run) {
      kIdx := kIdx + 1.U
      when(issuing) {
        wAddr := wAddr + 1.U
        // k walks kx, ky, then the input channel c (bank, then plane within the bank).
        val kxWrap = kx === kern - 1.U
        val kyWrap = ky === kern - 1.U
        kx := Mux(kxWrap, 0.U, kx + 1.U)
        kOff := kOff + 1.S
        when(kxWrap) {
          ky := Mux(kyWrap, 0.U, ky + 1.U)
          kOff := kOff + inW - kern.zext + 1.S
          when(kyWrap) {
            kc := kc + 1.U
            val bankWrap = bank === (C - 1).U
            bank := Mux(bankWrap, 0.U, bank + 1.U)
            val nextPlane = Mux(bankWrap, plane + planeIn, plane)
            plane := nextPlane
            kOff := nextPlane
          }
        }
      }
      when(tileEnd) {
        resetK()
        val tbWrap = tb === colBlocks - 1.U
        tb := Mux(tbWrap, 0.U, tb + 1.U)
        tChan := Mux(tbWrap, 0.U, tChan + C.U)
        tbPlane := Mux(tbWrap, 0.U, tbPlane + VecInit(cfg.layers.toSeq.map(l =>
          (if (l eq cfg.last) 1 else l.outH * l.outW).U(AW.W)))(layer))
        rqEntry := Mux(tbWrap, VecInit(cfg.requantBase.toSeq.map(_.U(cfg.requantEntryBits.W)))(layer), rqEntry + 1.U)
        when(tbWrap) {
          wAddr := VecInit(cfg.weightBase.toSeq.map(_.U(AW.W)))(layer)
          pb := pb + 1.U
          advanceRows()
          when(pb === rowBlocks - 1.U) {
            state := S.drain
            drainWait := 0.U
          }
        }
      }
    }
    is(S.drain) {
      drainWait := drainWait + 1.U
      when(drainWait === drainCycles) {
        when(isLast) {
          state := S.emit
          emImg := 0.U; emT := 0.U; emBank := 0.U; emAddr := 0.U; emRowBase := 0.U; emDone := false.B
        }.otherwise {
          layer := layer + 1.U
          state := S.layerInit
        }
      }
    }
    is(S.emit) {
      when(canIssue) {
        val tWrap = emT === (cfg.classes - 1).U
        val bankWrap = emBank === (C - 1).U
        emT := Mux(tWrap, 0.U, emT + 1.U)
        emBank := Mux(tWrap || bankWrap, 0.U, emBank + 1.U)
        emAddr := Mux(bankWrap, emAddr + 1.U, emAddr)
        when(tWrap) {
          val nextRow = emRowBase + cfg.ceilDiv(cfg.last.outC, C).U
          emRowBase := nextRow
          emAddr := nextRow
          emImg := emImg + 1.U
          when(emImg === (N - 1).U) { emDone := true.B }
        }
      }
      when(emDone && !inflight && !outValid) {
        state := S.idle
        doneReg := true.B
      }
    }
  }
}
