package addernet.hw

import addernet.hw.Bench._
import chisel3._
import org.junit.jupiter.api.Assertions.{assertEquals, assertTrue}
import org.junit.jupiter.api.Test

/** The sequencer with the layer table in front of it, as the accelerator wires them. */
class TileSequencerBench(cfg: AccelConfig) extends Module {
  val io = IO(new Bundle {
    val layer = Input(UInt(cfg.layerBits.W))
    val start = Input(Bool())
    val images = Input(UInt(16.W))
    val busy = Output(Bool())
    val issue = Output(Bool())
    val inside = Output(Bool())
    val addr = Output(UInt(cfg.bufferAddrBits.W))
    val first = Output(Bool())
    val last = Output(Bool())
    val wAddr = Output(UInt(cfg.weightAddrBits.W))
    val tileDone = Output(Bool())
    val tile = Output(new TileInfo(cfg))
  })
  private val sequencer = Module(new TileSequencer(cfg))
  sequencer.io.start := io.start
  sequencer.io.images := io.images
  sequencer.io.p := LayerTable(cfg, io.layer)
  io.busy := sequencer.io.busy
  io.issue := sequencer.io.issue
  io.inside := sequencer.io.inside
  io.addr := sequencer.io.addr
  io.first := sequencer.io.first
  io.last := sequencer.io.last
  io.wAddr := sequencer.io.wAddr
  io.tileDone := sequencer.io.tileDone
  io.tile := sequencer.io.tile
}

/**
 * The TileSequencer against TileOrder, cycle by cycle: one tile per period, its K elements in
 * its first K cycles (activation address where inside the image, weight address, first, last),
 * the tile's destination when its last element issues, and busy exactly as long as the layer's
 * tiles last. Every layer of the bench network, for a full batch with a partial last group, one
 * image, and exactly one group.
 */
class TileSequencerTest {
  @Test def everyCycleOfEveryLayerFollowsTheTileOrder(): Unit = {
    val cfg = Bench.config()
    val mask = (1 << cfg.bufferAddrBits) - 1
    def bool(b: Bool) = b.peek().litToBoolean
    def int(u: UInt) = u.peek().litValue.toInt
    simulate(new TileSequencerBench(cfg)) { dut =>
      dut.reset.poke(true.B); dut.io.start.poke(false.B); dut.clock.step(); dut.reset.poke(false.B)
      for (layer <- cfg.layers.indices; images <- Seq(cfg.batch, 1, cfg.rows)) {
        val l = cfg.layers(layer)
        val period = cfg.period(l)
        dut.io.layer.poke(layer.U)
        dut.io.images.poke(images.U)
        dut.io.start.poke(true.B); dut.clock.step(); dut.io.start.poke(false.B)
        for ((tile, n) <- TileOrder.tiles(cfg, layer, images).zipWithIndex; kIdx <- 0 until period) {
          val at = s"${l.name}, $images images, tile $n (g ${tile.group} oy ${tile.oy} ox ${tile.ox} tb ${tile.tb}), cycle $kIdx"
          assertTrue(bool(dut.io.busy), s"busy, $at")
          val issuing = kIdx < l.k
          assertEquals(issuing, bool(dut.io.issue), s"issue, $at")
          if (issuing) {
            val e = tile.elements(kIdx)
            assertEquals(e.inside, bool(dut.io.inside), s"inside, $at")
            if (e.inside) assertEquals(e.addr & mask, int(dut.io.addr), s"activation address, $at")
            assertEquals(e.wAddr, int(dut.io.wAddr), s"weight address, $at")
            assertEquals(kIdx == 0, bool(dut.io.first), s"first, $at")
            assertEquals(kIdx == l.k - 1, bool(dut.io.last), s"last, $at")
          }
          assertEquals(kIdx == l.k - 1, bool(dut.io.tileDone), s"tileDone, $at")
          if (kIdx == l.k - 1) {
            val t = dut.io.tile
            assertEquals(tile.lanes, int(t.lanes), s"lanes, $at")
            assertEquals(tile.outBase, int(t.outBase), s"outBase, $at")
            assertEquals(tile.keep, bool(t.keep), s"keep, $at")
            assertEquals(tile.first, bool(t.first), s"first of its pooling window, $at")
            assertEquals(tile.chan, int(t.chan), s"chan, $at")
            assertEquals(tile.entry, int(t.entry), s"requant entry, $at")
          }
          dut.clock.step()
        }
        for (_ <- 0 until 3) {
          assertEquals(false, bool(dut.io.busy), s"${l.name}, $images images: busy after the last tile")
          assertEquals(false, bool(dut.io.issue), s"${l.name}, $images images: issue after the last tile")
          dut.clock.step()
        }
      }
    }
  }
}
