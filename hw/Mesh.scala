package addernet.hw

import chisel3._

/**
 * A rows x cols grid of PEs. Row i takes activations (with their control) at its west edge,
 * column j takes weights at its north edge; each PE forwards both one register on. The feeder
 * skews the edges: row i's element k enters at cycle T+k+i and column j's at T+k+j, so that
 * PE(i,j) meets a[i][k] and b[k][j] together at T+k+i+j. Operands leaving the east and south
 * edges are outputs when {@code exportEdges} is set, so meshes can be chained; otherwise the edge
 * PEs are built without those outputs (nothing is left dangling for lint).
 */
class Mesh(cfg: ArrayConfig, exportEdges: Boolean = true) extends Module {
  val io = IO(new Bundle {
    val a        = Input(Vec(cfg.rows, SInt(cfg.dataBits.W)))
    val ctl      = Input(Vec(cfg.rows, new PECtl))
    val b        = Input(Vec(cfg.cols, SInt(cfg.dataBits.W)))
    val aEast    = if (exportEdges) Some(Output(Vec(cfg.rows, SInt(cfg.dataBits.W)))) else None
    val ctlEast  = if (exportEdges) Some(Output(Vec(cfg.rows, new PECtl))) else None
    val bSouth   = if (exportEdges) Some(Output(Vec(cfg.cols, SInt(cfg.dataBits.W)))) else None
    val out      = Output(Vec(cfg.rows, Vec(cfg.cols, SInt(cfg.accBits.W))))
    val outValid = Output(Vec(cfg.rows, Vec(cfg.cols, Bool())))
  })

  val pes = Seq.tabulate(cfg.rows, cfg.cols) { (i, j) =>
    Module(new PE(cfg, east = exportEdges || j < cfg.cols - 1, south = exportEdges || i < cfg.rows - 1))
  }
  for (i <- 0 until cfg.rows; j <- 0 until cfg.cols) {
    val pe = pes(i)(j)
    if (j == 0) {
      pe.io.aIn := io.a(i)
      pe.io.ctlIn := io.ctl(i)
    } else {
      pe.io.aIn := pes(i)(j - 1).io.aOut.get
      pe.io.ctlIn := pes(i)(j - 1).io.ctlOut.get
    }
    pe.io.bIn := (if (i == 0) io.b(j) else pes(i - 1)(j).io.bOut.get)
    io.out(i)(j) := pe.io.out
    io.outValid(i)(j) := pe.io.outValid
  }
  for (i <- 0 until cfg.rows) {
    io.aEast.foreach(_(i) := pes(i)(cfg.cols - 1).io.aOut.get)
    io.ctlEast.foreach(_(i) := pes(i)(cfg.cols - 1).io.ctlOut.get)
  }
  for (j <- 0 until cfg.cols) {
    io.bSouth.foreach(_(j) := pes(cfg.rows - 1)(j).io.bOut.get)
  }
}
