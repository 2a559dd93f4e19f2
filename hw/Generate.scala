package addernet.hw

import chisel3.RawModule
import circt.stage.ChiselStage

/** Entry points the Java side calls as plain static methods. */
object Generate {
  // Verilog-2001-style output that yosys 0.23 and Verilator both read (see STACK.md).
  private val firtoolOpts = Array(
    "-disable-all-randomization",
    "-strip-debug-info",
    "--lowering-options=disallowLocalVariables,disallowPackedArrays,locationInfoStyle=none"
  )

  /** Writes one Verilog file per module of a bare mesh into `targetDir`. */
  def mesh(rows: Int, cols: Int, dataBits: Int, accBits: Int, op: String, targetDir: String): Unit =
    emitTo(new Mesh(ArrayConfig(rows, cols, dataBits, accBits, PEOp.byName(op))), targetDir)

  def emitTo(gen: => RawModule, targetDir: String): Unit = {
    ChiselStage.emitSystemVerilogFile(gen, Array("--target-dir", targetDir, "--split-verilog"), firtoolOpts)
  }
}

/** The whole-network accelerator: weight ROM images first, then the Verilog that loads them. */
object GenerateAccelerator {
  val memFilePrefix = "weights_col"
  /** The requantizers' shared table of per-channel constants (RequantTable's layout). */
  val requantFile = "requant.mem"

  def apply(cfg: AccelConfig, targetDir: String): Unit = {
    val dir = new java.io.File(targetDir)
    dir.mkdirs()
    val digits = (cfg.dataBits + 3) / 4
    val mask = (1L << cfg.dataBits) - 1
    for (j <- 0 until cfg.cols) {
      val words = cfg.layers.toSeq.flatMap { l =>
        for (tb <- 0 until cfg.colBlocks(l); k <- 0 until l.k) yield {
          val t = tb * cfg.cols + j
          if (t < l.outC) l.weights(t * l.k + k) else 0
        }
      }
      val padded = if (words.isEmpty) Seq(0) else words
      val text = padded.map(w => String.format(s"%0${digits}x", java.lang.Long.valueOf(w.toLong & mask))).mkString("", "\n", "\n")
      java.nio.file.Files.writeString(new java.io.File(dir, s"$memFilePrefix$j.mem").toPath, text)
    }
    val table = new RequantTable(cfg)
    val entryDigits = (table.entryBits + 3) / 4
    val entries = table.entries.indices.map(e => {
      val hex = table.encode(e).toString(16)
      "0" * (entryDigits - hex.length) + hex
    })
    java.nio.file.Files.writeString(new java.io.File(dir, requantFile).toPath, entries.mkString("", "\n", "\n"))
    Generate.emitTo(new Accelerator(cfg, memFilePrefix), targetDir)
  }
}
