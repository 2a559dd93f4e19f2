package addernet.hw

import chisel3.RawModule
import circt.stage.ChiselStage

/**
 * Entry points the Java side calls as plain static methods: an object without a companion class
 * gets static forwarders, so Java never reaches into a `Foo$.MODULE$`. Configurations cross as
 * words (the PE operation, the weight memory, the control), the same words accel.json holds.
 */
object Generate {
  // Verilog-2001-style output that both yosys 0.23 and Verilator read: no local variables or
  // packed arrays, no randomization; and no debug or source-location comments, so the Verilog of
  // a configuration is the same text whatever checkout generated it.
  private val firtoolOpts = Array(
    "-disable-all-randomization",
    "-strip-debug-info",
    "--lowering-options=disallowLocalVariables,disallowPackedArrays,locationInfoStyle=none"
  )

  /** Writes one Verilog file per module of a bare mesh into `targetDir`. */
  def mesh(rows: Int, cols: Int, dataBits: Int, accBits: Int, op: String, targetDir: String): Unit =
    emitTo(new Mesh(ArrayConfig(rows, cols, dataBits, accBits, PEOp.byName(op))), targetDir)

  /**
   * The validated accelerator config. A broken `require` is an IllegalArgumentException whose
   * message is the reason alone, without Scala's "requirement failed: ", so Java never parses it.
   */
  def accelConfig(
      rows: Int, cols: Int, batch: Int, dataBits: Int, accBits: Int, op: String, maxTerms: Int,
      logitBits: Int, inputShift: Int, layers: Array[LayerParams], trace: Boolean,
      weightMemory: String, control: String): AccelConfig =
    accelConfig(rows, cols, batch, dataBits, accBits, op, maxTerms, logitBits, inputShift, layers, trace,
      weightMemory, control, Array.empty[LayerRoute], 0)

  /**
   * As above, for a network with branches: each layer's buffers, add and pool (empty for a chain);
   * `requantizers` 0 for the fewest that reach the least cycles.
   */
  def accelConfig(
      rows: Int, cols: Int, batch: Int, dataBits: Int, accBits: Int, op: String, maxTerms: Int,
      logitBits: Int, inputShift: Int, layers: Array[LayerParams], trace: Boolean,
      weightMemory: String, control: String, routes: Array[LayerRoute], requantizers: Int): AccelConfig =
    try {
      AccelConfig(rows, cols, batch, dataBits, accBits, PEOp.byName(op), maxTerms, logitBits, inputShift,
        layers, trace, WeightMemory.byName(weightMemory), Control.byName(control), routes, requantizers)
    } catch {
      case e: IllegalArgumentException if e.getMessage != null && e.getMessage.startsWith(RequirementFailed) =>
        throw new IllegalArgumentException(e.getMessage.stripPrefix(RequirementFailed), e)
    }

  private val RequirementFailed = "requirement failed: "

  /** Clocks from configuration until the board's reset falls (PowerOnReset). */
  def powerOnResetClocks: Int = PowerOnReset.Clocks

  /** The iCEBreaker shell's UART clocks per bit. */
  def boardUartDivisor: Int = IceBreakerTop.Divisor

  /** The byte the board shell answers a resynchronisation with. */
  def boardResyncToken: Int = IceBreakerTop.ResyncToken

  def emitTo(gen: => RawModule, targetDir: String): Unit = {
    ChiselStage.emitSystemVerilogFile(gen, Array("--target-dir", targetDir, "--split-verilog"), firtoolOpts)
  }
}

/** The whole-network accelerator: weight ROM images first, then the Verilog that loads them. */
object GenerateAccelerator {
  val memFilePrefix = "weights_col"
  /** The requantizers' shared table of per-channel constants (RequantTable's layout). */
  val requantFile = "requant.mem"

  /** Column j's weight ROM image, word by word (one word for a network without weights). */
  def columnWords(cfg: AccelConfig, j: Int): Seq[Int] = {
    val words = cfg.layers.toSeq.flatMap { l =>
      for (tb <- 0 until cfg.colBlocks(l); k <- 0 until l.k) yield {
        val t = tb * cfg.cols + j
        if (t < l.outC) l.weights(t * l.k + k) else 0
      }
    }
    if (words.isEmpty) Seq(0) else words
  }

  /**
   * The weight stream (docs/accelerator.md, "Weights at run time"): beat b is word b div C of
   * column b mod C, each the weight's low dataBits bits.
   */
  def weightStream(cfg: AccelConfig): Seq[Int] = {
    val cols = (0 until cfg.cols).map(columnWords(cfg, _))
    val mask = (1 << cfg.dataBits) - 1
    for (a <- cols(0).indices; j <- 0 until cfg.cols) yield cols(j)(a) & mask
  }

  /** The weight image a fetch build reads (docs/accelerator.md, "Weights fetched from memory"). */
  val fetchFile = "weights.bin"

  /**
   * weights.bin: layer l from byte fetchOffsets(l), row a (word a of every column) as C weights
   * of weightBytes little-endian bytes each, padded to whole beats; zero bytes elsewhere.
   */
  def fetchImage(cfg: AccelConfig): Array[Byte] = {
    val image = new Array[Byte](Math.toIntExact(cfg.fetchImageBytes))
    val rowBytes = cfg.rowBeats * cfg.fetchBeatBytes
    for ((l, i) <- cfg.layers.zipWithIndex; a <- 0 until cfg.weightRows(l); j <- 0 until cfg.cols) {
      val t = (a / l.k) * cfg.cols + j
      val w = if (t < l.outC) l.weights(t * l.k + a % l.k) else 0
      val at = cfg.fetchOffsets(i) + a.toLong * rowBytes + j * cfg.weightBytes
      for (b <- 0 until cfg.weightBytes) image((at + b).toInt) = (w >> (8 * b)).toByte
    }
    image
  }

  def apply(cfg: AccelConfig, targetDir: String): Unit = apply(cfg, targetDir, 0L, 0)

  /**
   * As above; with `cfg.axiControl` the top is AcceleratorAxi, whose identification registers
   * read `networkId` (the network digest's first 32 bits) and `identVersion`, the hardware's
   * version (docs/accelerator.md, "Registers").
   */
  def apply(cfg: AccelConfig, targetDir: String, networkId: Long, identVersion: Int): Unit = {
    val dir = new java.io.File(targetDir)
    dir.mkdirs()
    val digits = (cfg.dataBits + 3) / 4
    val mask = (1L << cfg.dataBits) - 1
    for (j <- 0 until cfg.cols) {
      val text = columnWords(cfg, j).map(w => String.format(s"%0${digits}x", java.lang.Long.valueOf(w.toLong & mask))).mkString("", "\n", "\n")
      java.nio.file.Files.writeString(new java.io.File(dir, s"$memFilePrefix$j.mem").toPath, text)
    }
    val table = new RequantTable(cfg)
    val entryDigits = (table.entryBits + 3) / 4
    val entries = table.entries.indices.map(e => {
      val hex = table.encode(e).toString(16)
      "0" * (entryDigits - hex.length) + hex
    })
    java.nio.file.Files.writeString(new java.io.File(dir, requantFile).toPath, entries.mkString("", "\n", "\n"))
    if (cfg.fetchWeights) java.nio.file.Files.write(new java.io.File(dir, fetchFile).toPath, fetchImage(cfg))
    if (cfg.axiControl) Generate.emitTo(new AcceleratorAxi(cfg, memFilePrefix, networkId, identVersion), targetDir)
    else Generate.emitTo(new Accelerator(cfg, memFilePrefix), targetDir)
  }
}
