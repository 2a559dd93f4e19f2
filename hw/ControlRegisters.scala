package addernet.hw

import chisel3._
import chisel3.util._

/** The AXI4-Lite slave port: 8 address bits, 32 data bits, no `awprot`/`arprot`. */
class AxiLiteSlave extends Bundle {
  val awaddr = Input(UInt(8.W))
  val awvalid = Input(Bool())
  val awready = Output(Bool())
  val wdata = Input(UInt(32.W))
  val wstrb = Input(UInt(4.W))
  val wvalid = Input(Bool())
  val wready = Output(Bool())
  val bresp = Output(UInt(2.W))
  val bvalid = Output(Bool())
  val bready = Input(Bool())
  val araddr = Input(UInt(8.W))
  val arvalid = Input(Bool())
  val arready = Output(Bool())
  val rdata = Output(UInt(32.W))
  val rresp = Output(UInt(2.W))
  val rvalid = Output(Bool())
  val rready = Input(Bool())
}

/** The register map (docs/accelerator.md, "Registers"): word offsets and field positions. */
object ControlMap {
  val Control = 0x00
  val Status = 0x04
  val Error = 0x08
  val IrqEnable = 0x0c
  val Images = 0x10
  val Cycles = 0x14
  val Ident = 0x18
  val Shape = 0x1c
  val Widths = 0x20
  val Batch = 0x24
  val InSize = 0x28
  val Classes = 0x2c
  val NetworkId = 0x30
  val WeightsCrc = 0x34
  val WeightBeats = 0x38
  val WeightBaseLo = 0x3c
  val WeightBaseHi = 0x40
  val Words = 15
  /** A fetch build's registers: the weight image's base after the others. */
  val FetchWords = 17
  /** Register map version, in IDENT's low byte: changes whenever a field moves. */
  val Version = 1

  // ERROR codes beyond the engine's own 1..3 (AccelError)
  val StartBusy = 4
  val LoadBusy = 5
  val BadImages = 6
  val NoWeightPort = 7
  val TwoCommands = 8
  val ErrorBits = 4

  val Okay = 0
  val SlvErr = 2

  // STATUS bits and CONTROL commands
  val StatusBusy = 0
  val StatusDone = 1
  val StatusLoading = 2
  val StatusWeightsValid = 3
  val StatusError = 4
  val ControlStart = 0
  val ControlSoftReset = 1
  val ControlLoadWeights = 2
  val IrqOnDone = 0
  val IrqOnError = 1

  // What the read-only registers hold, for the hardware and for the C header alike.
  def ident(identVersion: Int): Long = 0xadde0000L | (identVersion.toLong << 8) | Version
  def shape(cfg: AccelConfig): Long = cfg.rows.toLong | (cfg.cols.toLong << 16)
  def flags(cfg: AccelConfig): Int = (if (cfg.op == PEOp.Multiply) 1 else 0) |
    (if (cfg.weightStream) 2 else 0) | (if (cfg.spramWeights) 4 else 0) | (if (cfg.trace) 8 else 0) |
    (if (cfg.fetchWeights) 16 else 0)
  def widths(cfg: AccelConfig): Long = cfg.dataBits.toLong | (cfg.logitBits.toLong << 8) |
    (cfg.requantizers.toLong << 16) | (flags(cfg).toLong << 24)
  /** WEIGHTS_CRC of the folder's own weights: what a ROM build always reads. */
  def weightsCrc(cfg: AccelConfig): Long =
    Crc32.of(GenerateAccelerator.weightStream(cfg).map(_.toLong), cfg.weightStreamBits)
  /** WEIGHT_BEATS: the weight stream's beats, or in a fetch build the beats of weights.bin. */
  def weightBeats(cfg: AccelConfig): Long =
    if (cfg.fetchWeights) cfg.fetchImageBytes / cfg.fetchBeatBytes else cfg.weightBeats
}

/**
 * AXI4-Lite control and status of the engine: commands (start, soft reset, weight load) that are
 * refused with an error code rather than half obeyed, the run's image count, a sticky done with an
 * interrupt, and read-only identification so that software can check the bitstream is the one it
 * was built for. One write or read at a time: a write completes when its address and data have
 * both arrived, in any order.
 */
class ControlRegisters(cfg: AccelConfig, networkId: Long, identVersion: Int) extends Module {
  import ControlMap._
  val io = IO(new Bundle {
    val axi = new AxiLiteSlave
    val irq = Output(Bool())
    // to the engine
    val start = Output(Bool())
    val loadWeights = Output(Bool())
    val softReset = Output(Bool())
    val images = Output(UInt(16.W))
    // from the engine
    val busy = Input(Bool())
    val loading = Input(Bool())
    val weightsValid = Input(Bool())
    val done = Input(Bool())
    val cycles = Input(UInt(32.W))
    val engineError = Input(UInt(cfg.errorBits.W))
    val weightBase = if (cfg.fetchWeights) Some(Output(UInt(64.W))) else None
    // the weight stream's handshakes, for WEIGHTS_CRC
    val weightBeat = Input(Valid(UInt(cfg.weightStreamBits.W)))
  })

  private val done = RegInit(false.B)
  private val error = RegInit(0.U(ErrorBits.W))
  private val irqEnable = RegInit(0.U(2.W))
  private val images = RegInit(cfg.batch.U(16.W))
  private val crc = RegInit(Crc32.Init.U(32.W))
  private val crcHeld = RegInit(0.U(32.W))
  io.images := images
  io.irq := (irqEnable(IrqOnDone) && done) || (irqEnable(IrqOnError) && error =/= 0.U)

  // ---------------------------------------------------------------- write channel
  private val awHeld = RegInit(false.B)
  private val wHeld = RegInit(false.B)
  private val awIndex = Reg(UInt(6.W)) // the word: the two byte-address bits are not decoded
  private val wData = Reg(UInt(32.W))
  private val wStrb = Reg(UInt(4.W))
  private val bValid = RegInit(false.B)
  private val bResp = RegInit(Okay.U(2.W))
  io.axi.awready := !awHeld && !bValid
  io.axi.wready := !wHeld && !bValid
  io.axi.bvalid := bValid
  io.axi.bresp := bResp
  when(io.axi.awvalid && io.axi.awready) { awHeld := true.B; awIndex := io.axi.awaddr(7, 2) }
  private val unused_byte_address_bits = WireDefault(io.axi.awaddr(1, 0) ^ io.axi.araddr(1, 0))
  dontTouch(unused_byte_address_bits)
  when(io.axi.wvalid && io.axi.wready) { wHeld := true.B; wData := io.axi.wdata; wStrb := io.axi.wstrb }
  when(bValid && io.axi.bready) { bValid := false.B }

  private val write = awHeld && wHeld
  private val byteMask = Cat((0 until 4).reverse.map(i => Fill(8, wStrb(i))))
  private def merged(old: UInt): UInt = (old.pad(32) & ~byteMask) | (wData & byteMask)
  private val cmd = Mux(wStrb(0), wData(2, 0), 0.U)
  private val start = cmd(ControlStart)
  private val load = cmd(ControlLoadWeights)
  private val writable = awIndex === (Control >> 2).U || awIndex === (Status >> 2).U ||
    awIndex === (Error >> 2).U || awIndex === (IrqEnable >> 2).U || awIndex === (Images >> 2).U ||
    (if (cfg.fetchWeights) awIndex === (WeightBaseLo >> 2).U || awIndex === (WeightBaseHi >> 2).U else false.B)
  private val baseLo = if (cfg.fetchWeights) Some(RegInit(0.U(32.W))) else None
  private val baseHi = if (cfg.fetchWeights) Some(RegInit(0.U(32.W))) else None
  io.weightBase.foreach(_ := baseHi.get ## baseLo.get)
  private val baseAligned =
    if (cfg.fetchWeights) baseLo.get(log2Ceil(cfg.fetchAlign) - 1, 0) === 0.U else true.B
  when(write) {
    awHeld := false.B
    wHeld := false.B
    bValid := true.B
    bResp := Mux(writable, Okay.U, SlvErr.U)
  }

  io.start := false.B
  io.loadWeights := false.B
  private val softReset = write && awIndex === (Control >> 2).U && cmd(ControlSoftReset)
  io.softReset := softReset
  private def fail(code: Int): Unit = error := code.U

  when(write && awIndex === (Control >> 2).U && !cmd(ControlSoftReset)) {
    when(start && load) {
      fail(TwoCommands)
    }.elsewhen(start) {
      when(io.busy) {
        fail(StartBusy)
      }.elsewhen(!io.weightsValid) {
        fail(AccelError.NoWeights)
      }.elsewhen(!baseAligned) {
        fail(FetchError.Unaligned)
      }.otherwise {
        io.start := true.B
        done := false.B
      }
    }.elsewhen(load) {
      if (cfg.weightStream) {
        when(io.busy) {
          fail(LoadBusy)
        }.otherwise {
          io.loadWeights := true.B
          crc := Crc32.Init.U
        }
      } else {
        fail(NoWeightPort)
      }
    }
  }
  when(write && awIndex === (Status >> 2).U && wStrb(0) && wData(StatusDone)) { done := false.B }
  if (cfg.fetchWeights) {
    when(write && awIndex === (WeightBaseLo >> 2).U) { baseLo.get := merged(baseLo.get) }
    when(write && awIndex === (WeightBaseHi >> 2).U) { baseHi.get := merged(baseHi.get) }
    // A failed fetch ends the run without done; its code shows once BUSY has fallen.
    val runEnded = RegNext(io.busy, false.B) && !io.busy
    when(runEnded && io.engineError =/= 0.U) { error := io.engineError }
  }
  when(write && awIndex === (Error >> 2).U && wStrb(0)) { error := 0.U }
  when(write && awIndex === (IrqEnable >> 2).U) { irqEnable := merged(irqEnable)(1, 0) }
  when(write && awIndex === (Images >> 2).U) {
    val n = merged(images)
    when(n === 0.U || n > cfg.batch.U) { fail(BadImages) }.otherwise { images := n(15, 0) }
  }

  // ---------------------------------------------------------------- what the engine reports
  when(io.done) { done := true.B }
  // A weight load's outcome, once it has ended (the engine holds its code until the next command).
  private val loadEnded = RegNext(io.loading, false.B) && !io.loading
  when(loadEnded && io.engineError =/= 0.U) { error := io.engineError }
  if (cfg.weightStream) {
    when(io.loading && io.weightBeat.valid) { crc := Crc32.step(crc, io.weightBeat.bits, cfg.weightStreamBits) }
    when(loadEnded) { crcHeld := ~crc }
  }
  // Soft reset: the engine restarts from reset, and so do the status bits (not the settings).
  when(softReset) {
    done := false.B
    error := 0.U
  }

  // ---------------------------------------------------------------- read channel
  private val rValid = RegInit(false.B)
  private val rData = RegInit(0.U(32.W))
  private val rResp = RegInit(Okay.U(2.W))
  io.axi.arready := !rValid
  io.axi.rvalid := rValid
  io.axi.rdata := rData
  io.axi.rresp := rResp
  when(rValid && io.axi.rready) { rValid := false.B }

  private val status = Seq(StatusBusy -> io.busy, StatusDone -> done, StatusLoading -> io.loading,
    StatusWeightsValid -> io.weightsValid, StatusError -> (error =/= 0.U))
    .map { case (bit, b) => b.asUInt << bit }.reduce(_ | _)
  private val crcValue =
    if (cfg.weightStream) Mux(io.weightsValid, crcHeld, 0.U) else ControlMap.weightsCrc(cfg).U(32.W)
  private val words: Seq[(Int, UInt)] = Seq(
    Control -> 0.U,
    Status -> status,
    Error -> error,
    IrqEnable -> irqEnable,
    Images -> images,
    Cycles -> io.cycles,
    Ident -> ident(identVersion).U(32.W),
    Shape -> shape(cfg).U(32.W),
    Widths -> widths(cfg).U(32.W),
    Batch -> cfg.batch.U(32.W),
    InSize -> cfg.inSize.U(32.W),
    Classes -> cfg.classes.U(32.W),
    NetworkId -> (networkId & 0xffffffffL).U(32.W),
    WeightsCrc -> crcValue,
    WeightBeats -> weightBeats(cfg).U(32.W)) ++
    (if (cfg.fetchWeights) Seq(WeightBaseLo -> baseLo.get, WeightBaseHi -> baseHi.get) else Seq.empty)
  private val wordCount = if (cfg.fetchWeights) FetchWords else Words
  require(words.length == wordCount && weightBeats(cfg) < (1L << 32))
  when(io.axi.arvalid && io.axi.arready) {
    rValid := true.B
    val index = io.axi.araddr(7, 2)
    val hit = index < wordCount.U
    rData := Mux(hit, MuxLookup(index, 0.U(32.W))(words.map { case (a, v) => (a >> 2).U -> v.pad(32) }), 0.U)
    rResp := Mux(hit, Okay.U, SlvErr.U)
  }
}
