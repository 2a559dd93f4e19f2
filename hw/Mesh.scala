package addernet.hw

import chisel3._

/**
 * A rows x cols grid of PEs. Row i takes activations (with their control) at its west edge,
 * column j takes weights at its north edge; each PE forwards both one register on. The feeder
 * skews the edges: row i's element k enters at cycle T+k+i and column j's at T+k+j, so that
 * PE(i,j) meets a[i][k] and b[k][j] together at T+k+i+j. Operands leaving the east and south
 * edges are outputs, so meshes can be chained (and nothing is left dangling for lint).
 */
class Mesh(cfg: ArrayConfig) extends Module {
  val io = IO(new Bundle {
    val a        = Input(Vec(cfg.rows, SInt(cfg.dataBits.W)))
    val ctl      = Input(Vec(cfg.rows, new PECtl))
    val b        = Input(Vec(cfg.cols, SInt(cfg.dataBits.W)))
    val aEast    = Output(Vec(cfg.rows, SInt(cfg.dataBits.W)))
    val ctlEast  = Output(Vec(cfg.rows, new PECtl))
    val bSouth   = Output(Vec(cfg.cols, SInt(cfg.dataBits.W)))
    val out      = Output(Vec(cfg.rows, Vec(cfg.cols, SInt(cfg.accBits.W))))
    val outValid = Output(Vec(cfg.rows, Vec(cfg.cols, Bool())))
  })

  val pes = Seq.tabulate(cfg.rows, cfg.cols)((_, _) => Module(new PE(cfg)))
  for (i <- 0 until cfg.rows; j <- 0 until cfg.cols) {
    val pe = pes(i)(j)
    if (j == 0) {
      pe.io.aIn := io.a(i)
      pe.io.ctlIn := io.ctl(i)
    } else {
      pe.io.aIn := pes(i)(j - 1).io.aOut
      pe.io.ctlIn := pes(i)(j - 1).io.ctlOut
    }
    pe.io.bIn := (if (i == 0) io.b(j) else pes(i - 1)(j).io.bOut)
    io.out(i)(j) := pe.io.out
    io.outValid(i)(j) := pe.io.outValid
  }
  for (i <- 0 until cfg.rows) {
    io.aEast(i) := pes(i)(cfg.cols - 1).io.aOut
    io.ctlEast(i) := pes(i)(cfg.cols - 1).io.ctlOut
  }
  for (j <- 0 until cfg.cols) {
    io.bSouth(j) := pes(cfg.rows - 1)(j).io.bOut
  }
}
