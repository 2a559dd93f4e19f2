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
    emit(new Mesh(ArrayConfig(rows, cols, dataBits, accBits, PEOp.byName(op))), targetDir)

  private def emit(gen: => RawModule, targetDir: String): Unit = {
    ChiselStage.emitSystemVerilogFile(gen, Array("--target-dir", targetDir, "--split-verilog"), firtoolOpts)
  }
}
