package addernet.hw

import chisel3._

/**
 * The accelerator as an SoC or FPGA project takes it (the default of `generate`): the engine
 * with its streams as they are, controlled through AXI4-Lite registers (ControlRegisters) instead
 * of the plain start/busy/done/cycles ports, with an interrupt. A soft reset restarts the engine
 * alone; the registers' settings survive it.
 */
class AcceleratorAxi(cfg: AccelConfig, memFilePrefix: String, networkId: Long, identVersion: Int)
    extends Module {
  require(cfg.axiControl)
  val io = FlatIO(new Bundle {
    val s_axi = new AxiLiteSlave
    val irq = Output(Bool())
    val s_axis_tdata = Input(UInt(8.W))
    val s_axis_tvalid = Input(Bool())
    val s_axis_tready = Output(Bool())
    val m_axis_tdata = Output(UInt(32.W))
    val m_axis_tvalid = Output(Bool())
    val m_axis_tready = Input(Bool())
    val m_axis_tlast = Output(Bool())
    val s_axis_weights_tdata = if (cfg.weightStream) Some(Input(UInt(cfg.weightStreamBits.W))) else None
    val s_axis_weights_tvalid = if (cfg.weightStream) Some(Input(Bool())) else None
    val s_axis_weights_tready = if (cfg.weightStream) Some(Output(Bool())) else None
    val s_axis_weights_tlast = if (cfg.weightStream) Some(Input(Bool())) else None
    val m_axi_weights = if (cfg.fetchWeights) Some(new AxiReadMaster) else None
    val trace = if (cfg.trace) Some(Output(Vec(cfg.requantizers, chisel3.util.Valid(new WriteTrace(cfg))))) else None
  })

  private val regs = Module(new ControlRegisters(cfg, networkId, identVersion))
  io.s_axi <> regs.io.axi
  io.irq := regs.io.irq
  private val engine = withReset(reset.asBool || regs.io.softReset) {
    Module(new Accelerator(cfg, memFilePrefix))
  }
  engine.io.start := regs.io.start
  engine.io.images.get := regs.io.images
  regs.io.busy := engine.io.busy
  regs.io.loading := engine.io.loading.get
  regs.io.weightsValid := engine.io.weightsValid.get
  regs.io.done := engine.io.done
  regs.io.cycles := engine.io.cycles
  regs.io.engineError := engine.io.error.getOrElse(0.U)

  engine.io.s_axis_tdata := io.s_axis_tdata
  engine.io.s_axis_tvalid := io.s_axis_tvalid
  io.s_axis_tready := engine.io.s_axis_tready
  io.m_axis_tdata := engine.io.m_axis_tdata
  io.m_axis_tvalid := engine.io.m_axis_tvalid
  engine.io.m_axis_tready := io.m_axis_tready
  io.m_axis_tlast := engine.io.m_axis_tlast
  io.trace.foreach(_ := engine.io.trace.get)
  if (cfg.fetchWeights) {
    io.m_axi_weights.get <> engine.io.m_axi_weights.get
    engine.io.weight_base.get := regs.io.weightBase.get
    engine.io.fetch_reset.get := reset.asBool
  }

  regs.io.weightBeat.valid := false.B
  regs.io.weightBeat.bits := 0.U
  if (cfg.weightStream) {
    engine.io.load_weights.get := regs.io.loadWeights
    engine.io.s_axis_weights_tdata.get := io.s_axis_weights_tdata.get
    engine.io.s_axis_weights_tvalid.get := io.s_axis_weights_tvalid.get
    engine.io.s_axis_weights_tlast.get := io.s_axis_weights_tlast.get
    io.s_axis_weights_tready.get := engine.io.s_axis_weights_tready.get
    regs.io.weightBeat.valid := io.s_axis_weights_tvalid.get && engine.io.s_axis_weights_tready.get
    regs.io.weightBeat.bits := io.s_axis_weights_tdata.get
  }
}
