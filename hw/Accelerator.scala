package addernet.hw

import chisel3._
import chisel3.util._

/**
 * The whole-network engine (docs/accelerator.md, "Inside"): a batch of images streams in
 * (AXI4-Stream, one pixel per beat), every layer runs as a schedule of output tiles on the PE
 * mesh (adder PEs, or MAC PEs for the CNN twin), shared requantizers (adds and shifts) and
 * max-pool write each layer's output into the other activation buffer, and the integer logits
 * stream out (AXI4-Stream, 32-bit signed, tlast on each image's last logit).
 *
 * PE row i serves image g * R + i of image group g and column j channel tb * C + j, so one read
 * of one address of the source buffer feeds every row: lane i enters row i, i cycles late (the
 * skew), as the weight of column j enters j cycles late.
 */
class Accelerator(cfg: AccelConfig, memFilePrefix: String) extends Module {
  private val R = cfg.rows
  private val C = cfg.cols
  private val B = cfg.dataBits
  private val L = cfg.layers.length

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
    // Weights at run time (generate --weights stream): a load command, the stream, an error code.
    val load_weights = if (cfg.weightStream) Some(Input(Bool())) else None
    val s_axis_weights_tdata = if (cfg.weightStream) Some(Input(UInt(cfg.weightStreamBits.W))) else None
    val s_axis_weights_tvalid = if (cfg.weightStream) Some(Input(Bool())) else None
    val s_axis_weights_tready = if (cfg.weightStream) Some(Output(Bool())) else None
    val s_axis_weights_tlast = if (cfg.weightStream) Some(Input(Bool())) else None
    val error = if (cfg.weightStream || cfg.fetchWeights) Some(Output(UInt(cfg.errorBits.W))) else None
    // Weights fetched from memory (generate --weights fetch): the image's base, the read master,
    // and (under AXI4-Lite control) the hard reset, which the read master alone keeps.
    val weight_base = if (cfg.fetchWeights) Some(Input(UInt(64.W))) else None
    val m_axi_weights = if (cfg.fetchWeights) Some(new AxiReadMaster) else None
    val fetch_reset = if (cfg.fetchWeights && cfg.axiControl) Some(Input(Bool())) else None
    // For the AXI4-Lite registers (AcceleratorAxi): the run's image count, taken at start (the
    // plain top runs the whole batch), and what the status register shows.
    val images = if (cfg.axiControl) Some(Input(UInt(16.W))) else None
    val loading = if (cfg.axiControl) Some(Output(Bool())) else None
    val weightsValid = if (cfg.axiControl) Some(Output(Bool())) else None
    // Layer-by-layer co-simulation only; an FPGA build leaves it out.
    val trace = if (cfg.trace) Some(Output(Vec(cfg.requantizers, Valid(new WriteTrace(cfg))))) else None
  })

  private val table = new RequantTable(cfg)
  private val loader = Module(new InputLoader(cfg))
  private val sequencer = Module(new TileSequencer(cfg))
  private val store = Module(new ActivationStore(cfg))
  private val weights = Module(new WeightStore(cfg, memFilePrefix))
  private val mesh = Module(new Mesh(cfg.arrayConfig, exportEdges = false))
  private val writeback = Module(new Writeback(cfg, table))
  private val output = Module(new OutputStream(cfg))

  // ---------------------------------------------------------------- the run
  object S extends ChiselEnum { val idle, weights, load, layerInit, begin, run, drain, emit = Value }
  private val state = RegInit(S.idle)
  private val layer = RegInit(0.U(cfg.layerBits.W))
  private val params = Reg(new LayerEntry(cfg))
  private val drainLeft = Reg(UInt(cfg.drainBits.W))
  private val cycleCount = RegInit(0.U(32.W))
  // A layer that feeds a global average pool ends, after its drain, with the writeback's pass over
  // the window sums; the run holds the layer's last drain cycle until the pass is over.
  private val pooling = if (cfg.hasPool) Some(RegInit(false.B)) else None
  private val poolStart = pooling.map(p => state === S.drain && drainLeft === 0.U && params.route.get.pool && !p)
  io.busy := state =/= S.idle
  io.done := RegNext(output.io.done, false.B)
  io.cycles := cycleCount
  // The cycles of a run, from start to its last logit (a weight load is not part of it).
  when(state =/= S.idle && state =/= S.weights) { cycleCount := cycleCount + 1.U }

  // ROM weights are always there; streamed ones only after a complete load since reset.
  private val weightsValid = RegInit((!cfg.weightStream).B)
  private val errorCode = RegInit(AccelError.None.U(cfg.errorBits.W))
  // Fetch: layer l may start once its weights are in (always, for the other memories).
  private val layerWeightsIn = WireDefault(true.B)
  private val baseAligned = WireDefault(true.B)
  private val canStart = state === S.idle && io.start && weightsValid && baseAligned
  private val images = Reg(UInt(16.W))
  when(canStart) { images := io.images.getOrElse(cfg.batch.U) }
  loader.io.images := images // compared only at an image's end, long after start
  sequencer.io.images := images
  output.io.images := images
  io.loading.foreach(_ := state === S.weights)
  io.weightsValid.foreach(_ := weightsValid)
  loader.io.start := canStart
  sequencer.io.start := state === S.begin
  output.io.start := false.B
  switch(state) {
    is(S.idle) {
      when(io.start) {
        errorCode := Mux(weightsValid, Mux(baseAligned, AccelError.None.U, FetchError.Unaligned.U),
          AccelError.NoWeights.U)
        when(weightsValid && baseAligned) {
          state := S.load
          cycleCount := 0.U
          layer := 0.U
        }
      }
    }
    is(S.load) {
      when(!loader.io.busy) { state := S.layerInit }
    }
    is(S.layerInit) {
      // The layer's parameters, read once into a register; the sequencer starts from them next.
      params := LayerTable(cfg, layer)
      when(layerWeightsIn) { state := S.begin }
    }
    is(S.begin) {
      state := S.run
    }
    is(S.run) {
      when(!sequencer.io.busy) {
        state := S.drain
        drainLeft := params.drain
      }
    }
    is(S.drain) {
      drainLeft := drainLeft - 1.U
      when(drainLeft === 0.U) {
        when(layer === (L - 1).U) {
          state := S.emit
          output.io.start := true.B
        }.otherwise {
          layer := layer + 1.U
          state := S.layerInit
        }
      }
    }
    is(S.emit) {
      when(output.io.done) { state := S.idle }
    }
  }
  sequencer.io.p := params
  if (cfg.hasPool) {
    writeback.io.poolStart.get := poolStart.get
    when(poolStart.get) { pooling.get := true.B }
    when(pooling.get || poolStart.get) {
      state := S.drain
      layer := layer
      drainLeft := 0.U
      output.io.start := false.B
    }
    // The writeback is busy from the cycle after the start.
    when(pooling.get && !writeback.io.poolBusy.get) {
      pooling.get := false.B
      when(state === S.drain) {
        layer := layer + 1.U
        state := S.layerInit
      }
    }
  }

  // ---------------------------------------------------------------- weights at run time
  if (cfg.weightStream) {
    val wl = Module(new WeightLoader(cfg))
    val loadNow = state === S.idle && !io.start && io.load_weights.get
    wl.io.start := loadNow
    when(loadNow) {
      state := S.weights
      weightsValid := false.B
      errorCode := AccelError.None.U
    }
    when(state === S.weights && wl.io.done.valid) {
      state := S.idle
      weightsValid := wl.io.done.bits === AccelError.None.U
      errorCode := wl.io.done.bits
    }
    wl.io.tdata := io.s_axis_weights_tdata.get
    // The loader is loading only in S.weights; after a long stream it also drops beats while idle.
    wl.io.tvalid := io.s_axis_weights_tvalid.get
    wl.io.tlast := io.s_axis_weights_tlast.get
    io.s_axis_weights_tready.get := wl.io.tready
    weights.io.wen.get := Mux(state === S.weights, wl.io.wen, 0.U)
    weights.io.waddr.get := wl.io.waddr
    weights.io.wdata.get := wl.io.wdata
    io.error.get := errorCode
  }

  // ---------------------------------------------------------------- weights fetched from memory
  if (cfg.fetchWeights) {
    val hardReset: Bool = io.fetch_reset.getOrElse(reset.asBool)
    val fetch = withReset(hardReset) {
      Module(new WeightFetch(cfg))
    }
    fetch.io.abort := reset.asBool
    io.m_axi_weights.get <> fetch.io.axi
    val base = Reg(UInt(64.W))
    baseAligned := io.weight_base.get(log2Ceil(cfg.fetchAlign) - 1, 0) === 0.U
    when(canStart) { base := io.weight_base.get }
    weightsValid := !fetch.io.stuck
    // Layers fetched, layers whose tiles have all issued, and the next layer to fetch.
    val fetched = RegInit(0.U((cfg.layerBits + 1).W))
    val issuedLayers = RegInit(0.U((cfg.layerBits + 1).W))
    val next = RegInit(0.U((cfg.layerBits + 1).W))
    val failed = RegInit(false.B)
    val running = state =/= S.idle && state =/= S.weights
    when(canStart) {
      fetched := 0.U
      issuedLayers := 0.U
      next := 0.U
      failed := false.B
    }
    when(state === S.run && !sequencer.io.busy) { issuedLayers := issuedLayers + 1.U }
    when(fetch.io.done) { fetched := fetched + 1.U }
    layerWeightsIn := fetched > layer
    // Layer n goes into the half of layer n - 2, which must have issued its last tile.
    val mayFetch = running && !failed && next < L.U && (next < 2.U || issuedLayers + 1.U >= next)
    fetch.io.start := mayFetch && !canStart
    fetch.io.layer := next
    fetch.io.base := base
    when(fetch.io.start && fetch.io.ready) { next := next + 1.U }
    when(fetch.io.fault.valid && running) {
      failed := true.B
      errorCode := fetch.io.fault.bits
    }
    // A failed fetch ends the run: at once while no layer computes, else once the layer that
    // computes has drained; no later layer starts, so no logit of the run is sent.
    when(failed || (fetch.io.fault.valid && running)) {
      when(state === S.load || state === S.layerInit) { state := S.idle }
      if (cfg.hasPool) {
        when(state === S.drain && drainLeft === 0.U && !pooling.get && !poolStart.get) { state := S.idle }
      } else {
        when(state === S.drain && drainLeft === 0.U) { state := S.idle }
      }
    }
    weights.io.fwen.get := fetch.io.wen
    weights.io.fwaddr.get := fetch.io.waddr
    weights.io.fwdata.get := fetch.io.wdata
    io.error.get := errorCode
  }

  // ---------------------------------------------------------------- input
  loader.io.tdata := io.s_axis_tdata
  loader.io.tvalid := io.s_axis_tvalid && state === S.load
  io.s_axis_tready := loader.io.tready && state === S.load
  store.io.load := loader.io.write

  // ---------------------------------------------------------------- feed: one address, R lanes
  store.io.src := layer(0)
  store.io.route.foreach(_ := params.route.get)
  store.io.feedEn := sequencer.io.issue && sequencer.io.inside
  store.io.feedAddr := sequencer.io.addr
  weights.io.ren := sequencer.io.issue
  weights.io.addr := sequencer.io.wAddr
  // Flags arrive with the data, one cycle after the issue.
  private val issued = RegNext(sequencer.io.issue, false.B)
  private val insideD = RegNext(sequencer.io.inside)
  private val ctl = Wire(new PECtl)
  ctl.valid := issued
  ctl.first := RegNext(sequencer.io.first)
  ctl.last := RegNext(sequencer.io.last)
  for (i <- 0 until R) {
    val lane = store.io.feedData((i + 1) * B - 1, i * B).asSInt
    mesh.io.a(i) := ShiftRegister(Mux(insideD, lane, 0.S(B.W)), i)
    mesh.io.ctl(i) := ShiftRegister(ctl, i, 0.U.asTypeOf(new PECtl), true.B)
  }
  for (j <- 0 until C) {
    mesh.io.b(j) := ShiftRegister(Mux(issued, weights.io.data(j), 0.S), j)
  }

  // ---------------------------------------------------------------- writeback
  writeback.io.tileDone := sequencer.io.tileDone
  writeback.io.tile := sequencer.io.tile
  writeback.io.p := params
  writeback.io.layer := layer
  writeback.io.sums := mesh.io.out
  store.io.rmwEn := writeback.io.rmwEn
  store.io.rmwAddr := writeback.io.rmwAddr
  writeback.io.rmwData := store.io.rmwData
  store.io.write := writeback.io.write
  store.io.logitsWrite := writeback.io.logits
  io.trace.foreach(_ := writeback.io.trace.get)

  // ---------------------------------------------------------------- output
  store.io.logitsEn := output.io.ren
  store.io.logitsAddr := output.io.raddr
  output.io.rdata := store.io.logitsData
  output.io.tready := io.m_axis_tready
  io.m_axis_tdata := output.io.tdata
  io.m_axis_tvalid := output.io.tvalid
  io.m_axis_tlast := output.io.tlast
}
