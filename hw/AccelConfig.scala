package addernet.hw

/**
 * One quantized adder layer as the accelerator runs it (numeric contract, sections 6 and 7).
 * Arrays rather than Seqs so that the Java side can build it directly.
 *
 * @param weights [t][c][ky][kx] flattened; a fully-connected layer is a kernel covering its input
 * @param terms per output channel, signed digits coded as sign * (exponent + 1)
 * @param bias per output channel, rounding half included
 */
final case class LayerParams(
    name: String,
    inC: Int,
    inH: Int,
    inW: Int,
    outC: Int,
    kernel: Int,
    stride: Int,
    pad: Int,
    pool: Boolean,
    shift: Int,
    lo: Int,
    hi: Int,
    terms: Array[Array[Int]],
    bias: Array[Long],
    weights: Array[Int]) {
  require(inC >= 1 && inH >= 1 && inW >= 1 && outC >= 1, s"$name: sizes must be positive")
  require(kernel >= 1 && stride >= 1 && pad >= 0, s"$name: bad kernel/stride/padding")
  val k: Int = inC * kernel * kernel
  val convH: Int = (inH + 2 * pad - kernel) / stride + 1
  val convW: Int = (inW + 2 * pad - kernel) / stride + 1
  require(convH >= 1 && convW >= 1, s"$name: kernel does not fit the input")
  require(!pool || (convH >= 2 && convW >= 2), s"$name: too small to pool")
  val outH: Int = if (pool) convH / 2 else convH
  val outW: Int = if (pool) convW / 2 else convW
  val positions: Int = convH * convW
  require(weights.length == outC * k, s"$name: expected ${outC * k} weights, got ${weights.length}")
  require(terms.length == outC && bias.length == outC, s"$name: requant constants for $outC channels expected")
}

/**
 * Everything the whole-network accelerator is generated from, validated before any Verilog.
 * `op` is the mesh's PE operation: the AdderNet's adder, or the MAC of its CNN twin (then
 * `accBits` comes from the MAC's bound, numeric contract section 3); nothing else in the
 * accelerator depends on it.
 */
final case class AccelConfig(
    rows: Int,
    cols: Int,
    batch: Int,
    dataBits: Int,
    accBits: Int,
    op: PEOp,
    maxTerms: Int,
    logitBits: Int,
    inputShift: Int,
    layers: Array[LayerParams],
    trace: Boolean) {
  require(rows >= 1 && cols >= 1, "array sizes must be positive")
  require(batch >= 1, "batch must be positive")
  require(dataBits >= 2 && dataBits <= 16, "data bits must be in 2..16")
  require(logitBits >= 2 && logitBits <= 32, "logit bits must be in 2..32")
  require(layers.nonEmpty, "a network needs layers")
  require(maxTerms >= 1, "requantization needs at least one digit")
  // Row positions, images and channel counters are 16-bit registers in the controller.
  require(batch + rows < (1 << 15), s"batch $batch is too large (positions are counted in 16 bits)")
  for (l <- layers) {
    require(l.inH < (1 << 15) && l.inW < (1 << 15) && l.outC + cols < (1 << 15) && l.kernel < 256,
      s"${l.name}: dimensions beyond the controller's 16-bit counters (or a kernel over 255)")
  }
  for (l <- layers; t <- l.terms) require(t.length <= maxTerms, s"${l.name}: more than $maxTerms digits")
  for (i <- 1 until layers.length) {
    val p = layers(i - 1)
    val l = layers(i)
    require(
      l.inC == p.outC && l.inH == p.outH && l.inW == p.outW,
      s"${l.name}: input ${l.inC}x${l.inH}x${l.inW} does not match ${p.name}'s output ${p.outC}x${p.outH}x${p.outW}")
  }

  val layerBits: Int = log2(layers.length)
  private def log2(n: Int): Int = math.max(1, 32 - Integer.numberOfLeadingZeros(n - 1))

  def arrayConfig: ArrayConfig = ArrayConfig(rows, cols, dataBits, accBits, op)

  val last: LayerParams = layers.last
  val classes: Int = last.outC * last.outH * last.outW
  require(last.outH == 1 && last.outW == 1, "the last layer must produce a vector of logits (1x1 output)")
  require(!last.pool, "the last layer cannot pool")

  def inSize: Int = layers.head.inC * layers.head.inH * layers.head.inW

  def ceilDiv(a: Int, b: Int): Int = (a + b - 1) / b

  /** Words per image of a tensor in one bank: channels are spread over the C banks. */
  def bankImageStride(ch: Int, h: Int, w: Int): Int = ceilDiv(ch, cols) * h * w

  /** Depth of every activation bank: the largest tensor any layer reads or (before logits) writes. */
  val bankDepth: Int = {
    val tensors = (layers.head.inC, layers.head.inH, layers.head.inW) +:
      layers.init.map(l => (l.outC, l.outH, l.outW)).toSeq
    tensors.map { case (c, h, w) => batch * bankImageStride(c, h, w) }.max
  }
  val logitDepth: Int = batch * ceilDiv(last.outC, cols)

  /** A tile lasts at least R cycles so each column drains its R outputs before the next tile's. */
  def period(l: LayerParams): Int = Seq(l.k, rows, 2).max
  def rowBlocks(l: LayerParams): Int = ceilDiv(batch * l.positions, rows)
  def colBlocks(l: LayerParams): Int = ceilDiv(l.outC, cols)

  /** Weight ROM words (one per column) of layer i start here: [tb][k] order. */
  val weightBase: Array[Int] = layers.scanLeft(0)((acc, l) => acc + colBlocks(l) * l.k).init
  val weightDepth: Int = layers.map(l => colBlocks(l) * l.k).sum

  /** Requantization ROM entries (one per column) of layer i start here: one per column block. */
  val requantBase: Array[Int] = layers.scanLeft(0)((acc, l) => acc + colBlocks(l)).init
  val requantDepth: Int = layers.map(colBlocks).sum
  val requantEntryBits: Int = log2(requantDepth)

  /** Cycles the whole network spends issuing tiles per batch (no stalls): the schedule's length. */
  def issueCycles: Long = layers.map(l => rowBlocks(l).toLong * colBlocks(l) * period(l)).sum
}
