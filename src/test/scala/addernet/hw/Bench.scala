package addernet.hw

import chisel3.RawModule
import chisel3.simulator.{PeekPokeAPI, SingleBackendSimulator}
import svsim.{CommonCompilationSettings, verilator}

import java.nio.file.{Files, Path}
import scala.util.Random

/**
 * What the per-unit benches share: the one place they build an AccelConfig (so a change to its
 * constructor touches this file only), a small network that exercises every path of the units
 * (padding, pooling, a partial last image group, more channels than columns), and a ChiselSim
 * runner whose simulation directory can hold the $readmemh files a unit's ROMs read.
 */
object Bench extends PeekPokeAPI {
  val Seed = 20261207L

  def random(): Random = new Random(Seed)

  def layer(name: String, inC: Int, inH: Int, inW: Int, outC: Int, kernel: Int, stride: Int, pad: Int,
      pool: Boolean, shift: Int, lo: Int, hi: Int, maxTerms: Int, rnd: Random): LayerParams = {
    val k = inC * kernel * kernel
    val terms = Array.fill(outC) {
      val n = 1 + rnd.nextInt(maxTerms)
      Array.fill(n)((1 + rnd.nextInt(6)) * (if (rnd.nextBoolean()) 1 else -1))
    }
    val bias = Array.fill(outC)((rnd.nextInt(1 << 10) - (1 << 9)).toLong + (1L << (shift - 1)))
    val weights = Array.fill(outC * k)(rnd.nextInt(256) - 128)
    LayerParams(name, inC, inH, inW, outC, kernel, stride, pad, pool, shift, lo, hi, terms, bias, weights)
  }

  /**
   * conv 1x7x7 -> 3 channels (3x3, pad 1, pooled to 3x3, its last row and column dropped), conv 3x3x3 -> 4 (2x2, stride 2, pad 1),
   * dense 4x2x2 -> 5 logits. On a 2x2 array with a batch of 5 the last group holds one image.
   */
  def config(rows: Int = 2, cols: Int = 2, batch: Int = 5, inputShift: Int = 1, weightStream: Boolean = false,
      layers: Option[Array[LayerParams]] = None): AccelConfig = {
    val rnd = random()
    val maxTerms = 3
    val ls = layers.getOrElse(Array(
      layer("conv1", 1, 7, 7, 3, 3, 1, 1, pool = true, shift = 6, lo = 0, hi = 127, maxTerms, rnd),
      layer("conv2", 3, 3, 3, 4, 3, 2, 1, pool = false, shift = 5, lo = -128, hi = 127, maxTerms, rnd),
      layer("fc", 4, 2, 2, 5, 2, 1, 0, pool = false, shift = 4, lo = -32768, hi = 32767, maxTerms, rnd)))
    AccelConfig(rows, cols, batch, dataBits = 8, accBits = 16, op = PEOp.Adder, maxTerms = maxTerms,
      logitBits = 16, inputShift = inputShift, layers = ls, trace = false,
      weightMemory = if (weightStream) WeightMemory.Stream else WeightMemory.Rom, control = Control.Plain)
  }

  private class Verilated(val workspacePath: String, runIn: String) extends SingleBackendSimulator[verilator.Backend] {
    val backend = verilator.Backend.initializeFromProcessEnvironment()
    val tag = "verilator"
    val commonCompilationSettings = CommonCompilationSettings()
    val backendSpecificCompilationSettings = verilator.Backend.CompilationSettings()
    override def customSimulationWorkingDirectory: Option[String] = Some(runIn)
  }

  /** One Verilator build of `module`, then `body`; `files` land where the simulation runs. */
  def simulate[T <: RawModule](module: => T, files: Map[String, String] = Map.empty)(body: T => Unit): Unit = {
    val root = Path.of("target", "unit-benches")
    Files.createDirectories(root)
    val workspace = Files.createTempDirectory(root, "bench")
    // Outside the workspace: compiling clears the workspace.
    val runIn = Files.createDirectories(Path.of(workspace.toString + "-run"))
    for ((name, text) <- files) Files.writeString(runIn.resolve(name), text)
    new Verilated(workspace.toAbsolutePath.toString, runIn.toAbsolutePath.toString)
      .simulate(module)({ m =>
        m.controller.setTraceEnabled(false)
        body(m.wrapped)
      }).result
  }

  /** Two's complement of `v` in `bits` bits, as the unsigned value a port shows. */
  def unsigned(v: BigInt, bits: Int): BigInt = v & ((BigInt(1) << bits) - 1)

  def signed(v: BigInt, bits: Int): BigInt = if (v.testBit(bits - 1)) v - (BigInt(1) << bits) else v
}
