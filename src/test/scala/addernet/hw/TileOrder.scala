package addernet.hw

/**
 * The tile order of docs/accelerator.md ("Dataflow") as plain Scala, the model the sequencer and
 * writeback benches share: image groups, then output positions row-major, then column blocks;
 * each tile names the K elements (c, ky, kx) of its receptive field and where its results go.
 */
object TileOrder {
  final case class Element(k: Int, inside: Boolean, addr: Int, wAddr: Int)
  final case class Tile(group: Int, oy: Int, ox: Int, tb: Int, lanes: Int, outBase: Int, keep: Boolean,
      first: Boolean, chan: Int, entry: Int, elements: Seq[Element])

  def tiles(cfg: AccelConfig, layer: Int, images: Int): Seq[Tile] = {
    val l = cfg.layers(layer)
    val last = layer == cfg.layers.length - 1
    val R = cfg.rows
    val C = cfg.cols
    val blocks = cfg.colBlocks(l)
    val outPlane = if (last) 1 else l.outH * l.outW
    val outW = if (last) 0 else l.outW
    val outWords = if (last) cfg.steps * cfg.classes else l.outC * l.outH * l.outW
    val inWords = l.inC * l.inH * l.inW
    val groups = (images + R - 1) / R
    for {
      g <- 0 until groups
      oy <- 0 until l.convH
      ox <- 0 until l.convW
      tb <- 0 until blocks
    } yield {
      val elements = for {
        c <- 0 until l.inC
        ky <- 0 until l.kernel
        kx <- 0 until l.kernel
      } yield {
        val k = (c * l.kernel + ky) * l.kernel + kx
        val iy = oy * l.stride - l.pad + ky
        val ix = ox * l.stride - l.pad + kx
        val inside = iy >= 0 && iy < l.inH && ix >= 0 && ix < l.inW
        Element(k, inside, g * inWords + (c * l.inH + iy) * l.inW + ix, cfg.weightBase(layer) + tb * l.k + k)
      }
      val (py, px) = if (l.pool) (oy / 2, ox / 2) else (oy, ox)
      Tile(g, oy, ox, tb, lanes = math.min(R, images - g * R),
        outBase = g * outWords + tb * C * outPlane + py * outW + px,
        keep = !l.pool || (oy < 2 * l.outH && ox < 2 * l.outW),
        first = !l.pool || (oy % 2 == 0 && ox % 2 == 0),
        chan = tb * C, entry = cfg.requantBase(layer) + tb * C, elements)
    }
  }
}
