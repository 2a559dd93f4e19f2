package addernet.hw

import chisel3._
import chisel3.util._

/** Where a tile's results go, captured by the writeback when the tile's last element issues. */
class TileInfo(cfg: AccelConfig) extends Bundle {
  val lanes = UInt((cfg.laneBits + 1).W) // rows holding an image of this group
  val outBase = UInt(cfg.addrBits.W) // group base + column block's first plane + pooled position
  val keep = Bool() // false for positions pooling's floor drops
  val first = Bool() // first value of its pooling window: overwrite instead of max
  val chan = UInt(cfg.chanBits.W) // the column block's first channel, tb * C
  val entry = UInt(cfg.requantEntryBits.W) // its first requantization entry
  // With a global average pool: the first position of the map (the window sums start over), and
  // the pool RAM word of the column block's first channel, group base included.
  val posFirst = if (cfg.hasPool) Some(Bool()) else None
  val poolBase = if (cfg.hasPool) Some(UInt(Ram.addrBits(cfg.poolDepth).W)) else None
}

/**
 * Walks one layer's tiles: image groups g, then output positions (oy, ox) in row-major order,
 * then column blocks tb, one tile per period. In cycle k < K of a tile it names element
 * k = (c, ky, kx) of the position's receptive field: one activation address for every row (PE
 * rows are the images of a group, stored in the lanes of one word), whether it lies inside the
 * image (else the mesh gets zero), and one weight address for every column. Everything is a
 * running sum of the layer's parameters: adds and compares only.
 */
class TileSequencer(cfg: AccelConfig) extends Module {
  private val A = cfg.addrBits
  private val D = cfg.coordBits
  val io = IO(new Bundle {
    val start = Input(Bool()) // begin the layer whose parameters are on `p`
    val p = Input(new LayerEntry(cfg))
    val images = Input(UInt(16.W)) // images in this run: the groups after the last one are skipped
    val busy = Output(Bool())
    val issue = Output(Bool())
    val inside = Output(Bool())
    val addr = Output(UInt(cfg.bufferAddrBits.W))
    val first = Output(Bool())
    val last = Output(Bool())
    val wAddr = Output(UInt(cfg.weightAddrBits.W))
    val tileDone = Output(Bool()) // the tile's last element issues in this cycle
    val tile = Output(new TileInfo(cfg))
  })
  private val p = io.p
  private val running = RegInit(false.B)

  // Element within the tile.
  private val kIdx = Reg(UInt(cfg.periodBits.W))
  private val kx = Reg(UInt(cfg.kernelBits.W))
  private val ky = Reg(UInt(cfg.kernelBits.W))
  private val plane = Reg(SInt(A.W)) // c * inH * inW
  private val kOff = Reg(SInt(A.W)) // plane + ky * inW + kx
  private val wAddr = Reg(UInt(cfg.weightAddrBits.W))
  // Column block.
  private val tb = Reg(UInt(cfg.chanBits.W))
  private val tbChan = Reg(UInt(cfg.chanBits.W))
  private val tbPlane = Reg(UInt(A.W))
  private val wBlock = Reg(UInt(cfg.weightAddrBits.W))
  private val entry = Reg(UInt(cfg.requantEntryBits.W))
  // Output position and its receptive field's origin.
  private val ox = Reg(UInt(cfg.dimBits.W))
  private val oy = Reg(UInt(cfg.dimBits.W))
  private val ix0 = Reg(SInt(D.W))
  private val iy0 = Reg(SInt(D.W))
  private val rowOrigin = Reg(SInt(A.W)) // group base + iy0 * inW
  private val outRow = Reg(UInt(A.W)) // py * outW
  // Image group.
  private val gIn = Reg(UInt(A.W))
  private val gOut = Reg(UInt(A.W))
  private val left = Reg(UInt(16.W)) // images from this group on

  private val issuing = running && kIdx < p.k
  private val iy = iy0 + ky.zext
  private val ix = ix0 + kx.zext
  io.busy := running
  io.issue := issuing
  io.inside := iy >= 0.S && iy < p.inH && ix >= 0.S && ix < p.inW
  io.addr := (rowOrigin + ix0.pad(A) + kOff).asUInt(cfg.bufferAddrBits - 1, 0)
  io.first := kIdx === 0.U
  io.last := kIdx === p.k - 1.U
  io.wAddr := wAddr
  io.tileDone := running && kIdx === p.k - 1.U

  private val px = Mux(p.pool, ox >> 1, ox)
  io.tile.lanes := Mux(left >= cfg.rows.U, cfg.rows.U, left)
  io.tile.outBase := gOut + tbPlane + outRow + px
  io.tile.keep := !p.pool || (oy < p.poolH && ox < p.poolW)
  io.tile.first := !p.pool || (oy(0) === 0.U && ox(0) === 0.U)
  io.tile.chan := tbChan
  io.tile.entry := entry
  // The group's first pool word: one word per channel of an image.
  private val gPool = if (cfg.hasPool) Some(Reg(UInt(Ram.addrBits(cfg.poolDepth).W))) else None
  io.tile.posFirst.foreach(_ := ox === 0.U && oy === 0.U)
  io.tile.poolBase.foreach(_ := gPool.get + tbChan)
  if (cfg.hasPool && cfg.chanBits > Ram.addrBits(cfg.poolDepth)) {
    // Channel counts wider than the pool RAM's address only reach it below the depth.
    val unused_pool_channel_bits = WireDefault(Cat(p.outC(cfg.chanBits - 1, Ram.addrBits(cfg.poolDepth)),
      tbChan(cfg.chanBits - 1, Ram.addrBits(cfg.poolDepth))))
    dontTouch(unused_pool_channel_bits)
  }

  private def restartElement(): Unit = {
    kIdx := 0.U; kx := 0.U; ky := 0.U; plane := 0.S; kOff := 0.S
  }

  when(io.start) {
    running := true.B
    restartElement()
    tb := 0.U; tbChan := 0.U; tbPlane := 0.U
    wBlock := p.weightBase; wAddr := p.weightBase; entry := p.requantBase
    ox := 0.U; oy := 0.U; ix0 := p.negPad; iy0 := p.negPad
    rowOrigin := p.originStart; outRow := 0.U
    gIn := 0.U; gOut := 0.U; left := io.images
    gPool.foreach(_ := 0.U)
  }.elsewhen(running) {
    kIdx := kIdx + 1.U
    when(issuing) {
      wAddr := wAddr + 1.U
      // k walks kx, ky, then the input channel c.
      val kxWrap = kx === p.kernel - 1.U
      kx := Mux(kxWrap, 0.U, kx + 1.U)
      kOff := kOff + 1.S
      when(kxWrap) {
        val kyWrap = ky === p.kernel - 1.U
        ky := Mux(kyWrap, 0.U, ky + 1.U)
        kOff := kOff + p.kRowStep
        when(kyWrap) {
          plane := plane + p.inPlane
          kOff := plane + p.inPlane
        }
      }
    }
    when(kIdx === p.period - 1.U) {
      restartElement()
      val tbWrap = tb === p.colBlocks - 1.U
      tb := Mux(tbWrap, 0.U, tb + 1.U)
      tbChan := Mux(tbWrap, 0.U, tbChan + cfg.cols.U)
      tbPlane := Mux(tbWrap, 0.U, tbPlane + p.blockPlane)
      val nextBlock = Mux(tbWrap, p.weightBase, wBlock + p.k)
      wBlock := nextBlock
      wAddr := nextBlock
      entry := Mux(tbWrap, p.requantBase, entry + cfg.cols.U)
      when(tbWrap) {
        val oxWrap = ox === p.convW - 1.U
        ox := Mux(oxWrap, 0.U, ox + 1.U)
        ix0 := Mux(oxWrap, p.negPad, ix0 + p.stride)
        when(oxWrap) {
          val oyWrap = oy === p.convH - 1.U
          oy := Mux(oyWrap, 0.U, oy + 1.U)
          iy0 := Mux(oyWrap, p.negPad, iy0 + p.stride)
          // A pooled row of outputs starts at every second conv row.
          outRow := Mux(oyWrap, 0.U, Mux(!p.pool || oy(0) === 1.U, outRow + p.outW, outRow))
          rowOrigin := rowOrigin + p.rowStep
          when(oyWrap) {
            val nextIn = gIn + p.inWords
            gIn := nextIn
            gOut := gOut + p.outWords
            gPool.foreach(g => g := g + p.outC)
            rowOrigin := nextIn.asSInt + p.originStart
            left := left - cfg.rows.U
            when(left <= cfg.rows.U) { running := false.B }
          }
        }
      }
    }
  }
}
