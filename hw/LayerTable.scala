package addernet.hw

import chisel3._
import chisel3.experimental.BundleLiterals._

/**
 * One layer's parameters as the sequencer and the writeback use them, every field as narrow as
 * the network needs. The accelerator reads the entry of the current layer into a register when the
 * layer starts, so the datapath sees registers, not per-layer constant multiplexers.
 */
class LayerEntry(cfg: AccelConfig) extends Bundle {
  private val A = cfg.addrBits
  private val D = cfg.coordBits
  // Issue side: the tile loop, the receptive field, the input tensor.
  val k = UInt(cfg.periodBits.W)
  val period = UInt(cfg.periodBits.W)
  val kernel = UInt(cfg.kernelBits.W)
  val inH = SInt(D.W)
  val inW = SInt(D.W)
  val stride = SInt(D.W)
  val negPad = SInt(D.W)
  val kRowStep = SInt(A.W) // inW - kernel + 1: from the end of one kernel row to the next
  val inPlane = SInt(A.W) // inH * inW
  val inWords = UInt(A.W) // one image's input tensor: the next group's base in a lane
  val rowStep = SInt(A.W) // stride * inW
  val originStart = SInt(A.W) // -pad * inW
  val convH = UInt(cfg.dimBits.W)
  val convW = UInt(cfg.dimBits.W)
  val colBlocks = UInt(cfg.chanBits.W)
  val weightBase = UInt(cfg.weightAddrBits.W)
  // Writeback side: where results go.
  val pool = Bool()
  val last = Bool()
  val outW = UInt(A.W)
  val outPlane = UInt(A.W) // outH * outW (1 for the logits)
  val blockPlane = UInt(A.W) // C * outPlane: from one column block to the next
  val outWords = UInt(A.W) // one image's output tensor (for the logits: a group's, M x classes)
  val poolH = UInt(cfg.dimBits.W) // pooled: 2 * outH, rows beyond are dropped by pooling's floor
  val poolW = UInt(cfg.dimBits.W)
  val outC = UInt(cfg.chanBits.W)
  val usedCols = UInt(cfg.chanBits.W)
  val requantBase = UInt(cfg.requantEntryBits.W)
  val drain = UInt(cfg.drainBits.W)
  // Networks with branches only (AccelConfig.residual): the layer's buffers, its add and its pool.
  val route = if (cfg.residual) Some(new RouteEntry(cfg)) else None
}

/** Where a layer of a network with branches reads and writes, and what its writeback adds or pools. */
class RouteEntry(cfg: AccelConfig) extends Bundle {
  val src = UInt(2.W)
  val dst = UInt(2.W)
  val add = Bool()
  val addFrom = UInt(2.W)
  val addShift = UInt(RouteEntry.shiftBits(cfg).W)
  val addRound = UInt(cfg.dataBits.W) // 2^(shift - 1), or 0
  val pool = Bool()
  val poolShift = UInt(RouteEntry.shiftBits(cfg).W)
}

object RouteEntry {
  def shiftBits(cfg: AccelConfig): Int =
    math.max(1, 32 - Integer.numberOfLeadingZeros(math.max(cfg.dataBits, cfg.routes.map(_.poolShift).max)))
}

object LayerTable {
  private def entry(cfg: AccelConfig, i: Int): LayerEntry = {
    val l = cfg.layers(i)
    val A = cfg.addrBits
    val D = cfg.coordBits
    val isLast = i == cfg.layers.length - 1
    val outPlane = if (isLast) 1 else l.outH * l.outW
    val chainFields = Seq[LayerEntry => (Data, Data)](
      _.k -> l.k.U, _.period -> cfg.period(l).U, _.kernel -> l.kernel.U,
      _.inH -> l.inH.S(D.W), _.inW -> l.inW.S(D.W), _.stride -> l.stride.S(D.W), _.negPad -> (-l.pad).S(D.W),
      _.kRowStep -> (l.inW - l.kernel + 1).S(A.W), _.inPlane -> (l.inH * l.inW).S(A.W),
      _.inWords -> cfg.inWords(l).U(A.W), _.rowStep -> (l.stride * l.inW).S(A.W),
      _.originStart -> (-l.pad * l.inW).S(A.W),
      _.convH -> l.convH.U, _.convW -> l.convW.U, _.colBlocks -> cfg.colBlocks(l).U,
      _.weightBase -> cfg.weightBase(i).U(cfg.weightAddrBits.W),
      _.pool -> l.pool.B, _.last -> isLast.B,
      _.outW -> (if (isLast) 0 else l.outW).U(A.W), _.outPlane -> outPlane.U(A.W),
      _.blockPlane -> (cfg.cols * outPlane).U(A.W),
      _.outWords -> (if (isLast) cfg.steps * cfg.classes else cfg.outWords(l)).U(A.W),
      _.poolH -> (if (l.pool) 2 * l.outH else 0).U(cfg.dimBits.W),
      _.poolW -> (if (l.pool) 2 * l.outW else 0).U(cfg.dimBits.W),
      _.outC -> l.outC.U(cfg.chanBits.W), _.usedCols -> cfg.usedCols(l).U(cfg.chanBits.W),
      _.requantBase -> cfg.requantBase(i).U(cfg.requantEntryBits.W),
      _.drain -> cfg.drainCycles(l).U(cfg.drainBits.W))
    new LayerEntry(cfg).Lit(chainFields ++ (if (cfg.residual) routeFields(cfg, i) else Nil): _*)
  }

  private def routeFields(cfg: AccelConfig, i: Int): Seq[LayerEntry => (Data, Data)] = {
    val r = cfg.routes(i)
    val sb = RouteEntry.shiftBits(cfg)
    Seq(
      _.route.get.src -> r.src.U(2.W), _.route.get.dst -> math.max(0, r.dst).U(2.W), _.route.get.add -> r.adds.B,
      _.route.get.addFrom -> math.max(0, r.addFrom).U(2.W), _.route.get.addShift -> r.addShift.U(sb.W),
      _.route.get.addRound -> (if (r.addShift > 0) 1 << (r.addShift - 1) else 0).U(cfg.dataBits.W),
      _.route.get.pool -> r.pools.B, _.route.get.poolShift -> math.max(0, r.poolShift).U(sb.W))
  }

  /** The entry of layer `index`: a small table, read once per layer. */
  def apply(cfg: AccelConfig, index: UInt): LayerEntry =
    VecInit(cfg.layers.indices.map(entry(cfg, _)))(index)
}
