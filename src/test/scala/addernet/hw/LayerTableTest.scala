package addernet.hw

import addernet.hw.Bench._
import chisel3._
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

/** LayerTable's lookup as a module of its own: it is a function, not a unit with ports. */
class LayerTableBench(cfg: AccelConfig) extends Module {
  val io = IO(new Bundle {
    val index = Input(UInt(cfg.layerBits.W))
    val entry = Output(new LayerEntry(cfg))
  })
  io.entry := LayerTable(cfg, io.index)
}

/**
 * Every field of every layer's entry against the layer's shape, written out from what each field
 * means to the sequencer and the writeback (docs/accelerator.md): the schedule's own numbers
 * (period, drain, bases) come from AccelConfig, the geometry from the layer.
 */
class LayerTableTest {
  @Test def everyFieldOfEveryLayer(): Unit = {
    val cfg = Bench.config()
    val C = cfg.cols
    def expected(i: Int): Map[String, BigInt] = {
      val l = cfg.layers(i)
      val last = i == cfg.layers.length - 1
      val convH = (l.inH + 2 * l.pad - l.kernel) / l.stride + 1
      val convW = (l.inW + 2 * l.pad - l.kernel) / l.stride + 1
      val (outH, outW) = if (l.pool) (convH / 2, convW / 2) else (convH, convW)
      val blocks = (l.outC + C - 1) / C
      val outPlane = if (last) 1 else outH * outW
      val prior = cfg.layers.take(i)
      Map[String, Int](
        "k" -> l.inC * l.kernel * l.kernel, "period" -> cfg.period(l), "kernel" -> l.kernel,
        "inH" -> l.inH, "inW" -> l.inW, "stride" -> l.stride, "negPad" -> -l.pad,
        "kRowStep" -> (l.inW - l.kernel + 1), "inPlane" -> l.inH * l.inW, "inWords" -> l.inC * l.inH * l.inW,
        "rowStep" -> l.stride * l.inW, "originStart" -> -l.pad * l.inW, "convH" -> convH, "convW" -> convW,
        "colBlocks" -> blocks,
        "weightBase" -> prior.map(p => ((p.outC + C - 1) / C) * p.inC * p.kernel * p.kernel).sum,
        "pool" -> (if (l.pool) 1 else 0), "last" -> (if (last) 1 else 0), "outW" -> (if (last) 0 else outW),
        "outPlane" -> outPlane, "blockPlane" -> C * outPlane,
        "outWords" -> (if (last) cfg.steps * l.outC else l.outC * outH * outW),
        "poolH" -> (if (l.pool) 2 * outH else 0), "poolW" -> (if (l.pool) 2 * outW else 0),
        "outC" -> l.outC, "usedCols" -> math.min(C, l.outC),
        "requantBase" -> prior.map(p => ((p.outC + C - 1) / C) * C).sum,
        "drain" -> cfg.drainCycles(l)).map { case (k, v) => k -> BigInt(v) }
    }
    simulate(new LayerTableBench(cfg)) { dut =>
      for (i <- cfg.layers.indices.reverse ++ cfg.layers.indices) {
        dut.io.index.poke(i.U)
        val want = expected(i)
        val fields = dut.io.entry.elements
        assertEquals(want.keySet, fields.keySet, "the entry's fields")
        for ((name, field) <- fields) {
          val got = field match {
            case b: Bool => if (b.peek().litToBoolean) BigInt(1) else BigInt(0)
            case s: SInt => s.peek().litValue
            case u: UInt => u.peek().litValue
            case other => throw new IllegalStateException(s"unexpected field type $other")
          }
          assertEquals(want(name), got, s"${cfg.layers(i).name}.$name")
        }
      }
    }
  }
}
