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
 * Where a layer of a network with branches reads and writes (docs/accelerator.md, "Networks
 * with branches"). Buffers 0 and 1 feed the mesh; buffer 2, the skip buffer, only ever holds a
 * shortcut's output until the add that reads it. A chain's layer i reads i mod 2 and writes the
 * other, which is what [[LayerRoute.chain]] gives.
 *
 * @param src the buffer the mesh reads (0 or 1)
 * @param dst the buffer the results go to (0..2; for a pooling layer the pooled vector's); -1 for
 *            the last layer, whose logits have their own memory
 * @param addFrom the buffer whose word at the output's own address is added to each result
 *                (numeric contract, section 9), or -1
 * @param addShift the add's right shift
 * @param poolShift n of a global average pool of 2^n values that the results feed instead of
 *                  being stored (section 10), or -1
 */
final case class LayerRoute(src: Int, dst: Int, addFrom: Int, addShift: Int, poolShift: Int) {
  def adds: Boolean = addFrom >= 0
  def pools: Boolean = poolShift >= 0
}

object LayerRoute {
  val Skip = 2
  def chain(i: Int, count: Int): LayerRoute =
    LayerRoute(i % 2, if (i == count - 1) -1 else (i + 1) % 2, -1, 0, -1)
}

/** Where the weights live; each is a word of accel.json's `weightMemory`. */
sealed trait WeightMemory {
  def name: String
}

object WeightMemory {
  /** ROMs initialised from the folder's images by the bitstream or the simulator. */
  case object Rom extends WeightMemory { val name = "rom" }
  /** RAM filled through the weight stream port before a run. */
  case object Stream extends WeightMemory { val name = "stream" }
  /** Streamed, into the iCE40 UP5K's SPRAM, which a bitstream cannot initialise. */
  case object Spram extends WeightMemory { val name = "spram" }
  /** Two layers of RAM, each layer read from off-chip memory by the AXI4 read master while the one before computes. */
  case object Fetch extends WeightMemory { val name = "fetch" }

  val all: Seq[WeightMemory] = Seq(Rom, Stream, Spram, Fetch)

  def byName(name: String): WeightMemory = all.find(_.name == name).getOrElse(
    throw new IllegalArgumentException(s"unknown weight memory '$name' (expected rom, stream, spram or fetch)"))
}

/** How the accelerator is driven; each is a word of accel.json's `control`. */
sealed trait Control {
  def name: String
}

object Control {
  /** AcceleratorAxi: the engine behind AXI4-Lite registers (ControlRegisters). */
  case object Axi extends Control { val name = "axi" }
  /** The engine's own start/busy/done ports. */
  case object Plain extends Control { val name = "plain" }

  val all: Seq[Control] = Seq(Axi, Plain)

  def byName(name: String): Control = all.find(_.name == name).getOrElse(
    throw new IllegalArgumentException(s"unknown control '$name' (expected axi or plain)"))
}

/**
 * Everything the whole-network accelerator is generated from, validated before any Verilog.
 * `op` is the mesh's PE operation: the AdderNet's adder, or the multiply of its CNN twin (then
 * `accBits` comes from the multiply's bound, numeric contract section 3); nothing else in the
 * accelerator depends on it. `weightMemory` says where the weights live; with `Control.Axi` the
 * top is AcceleratorAxi, whose registers also choose how many images a run takes.
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
    trace: Boolean = false,
    weightMemory: WeightMemory = WeightMemory.Rom,
    control: Control = Control.Plain,
    givenRoutes: Array[LayerRoute] = Array.empty,
    givenRequantizers: Int = 0) {
  /** The weights are loaded through the stream port (into RAM or SPRAM), not held in ROMs. */
  def weightStream: Boolean = weightMemory == WeightMemory.Stream || weightMemory == WeightMemory.Spram
  /** The weights are fetched layer by layer through the AXI4 read master (docs/accelerator.md, "Weights fetched from memory"). */
  def fetchWeights: Boolean = weightMemory == WeightMemory.Fetch
  def spramWeights: Boolean = weightMemory == WeightMemory.Spram
  def axiControl: Boolean = control == Control.Axi

  require(rows >= 1 && cols >= 1, "array sizes must be positive")
  require(batch >= 1, "batch must be positive")
  require(dataBits >= 2 && dataBits <= 16, "data bits must be in 2..16")
  require(logitBits >= 2 && logitBits <= 32, "logit bits must be in 2..32")
  require(layers.nonEmpty, "a network needs layers")
  require(maxTerms >= 1, "requantization needs at least one digit")
  require(batch < (1 << 15), s"batch $batch is too large (images are counted in 15 bits)")
  for (l <- layers) {
    require(l.inH < (1 << 15) && l.inW < (1 << 15) && l.outC + cols < (1 << 15) && l.kernel < 256,
      s"${l.name}: dimensions beyond 2^15 (or a kernel over 255)")
  }
  for (l <- layers; t <- l.terms) require(t.length <= maxTerms, s"${l.name}: more than $maxTerms digits")
  /** Each layer's buffers: the chain's ping-pong unless the network has branches. */
  val routes: Array[LayerRoute] =
    if (givenRoutes.isEmpty) Array.tabulate(layers.length)(LayerRoute.chain(_, layers.length)) else givenRoutes
  require(routes.length == layers.length, s"${routes.length} routes for ${layers.length} layers")
  /** Whether any layer leaves the chain's ping-pong: only then is the residual datapath generated. */
  val residual: Boolean = routes.indices.exists(i => routes(i) != LayerRoute.chain(i, layers.length))
  if (!residual) {
    for (i <- 1 until layers.length) {
      val p = layers(i - 1)
      val l = layers(i)
      require(
        l.inC == p.outC && l.inH == p.outH && l.inW == p.outW,
        s"${l.name}: input ${l.inC}x${l.inH}x${l.inW} does not match ${p.name}'s output ${p.outC}x${p.outH}x${p.outW}")
    }
  } else {
    // Follow what each buffer holds through the schedule: every read must find the tensor it expects.
    val held = Array.fill[Option[(Int, Int, Int)]](3)(None)
    held(0) = Some((layers.head.inC, layers.head.inH, layers.head.inW))
    def shape(t: Option[(Int, Int, Int)]) = t.map { case (c, h, w) => s"${c}x${h}x$w" }.getOrElse("nothing")
    for (i <- layers.indices) {
      val l = layers(i)
      val r = routes(i)
      val isLast = i == layers.length - 1
      require(r.src == 0 || r.src == 1, s"${l.name}: the mesh reads buffer 0 or 1, not ${r.src}")
      require(held(r.src).contains((l.inC, l.inH, l.inW)),
        s"${l.name}: input ${l.inC}x${l.inH}x${l.inW}, but buffer ${r.src} holds ${shape(held(r.src))}")
      if (r.adds) {
        require(!isLast && !l.pool, s"${l.name}: an add cannot follow a max-pool or give the logits")
        require(r.addFrom >= 0 && r.addFrom <= 2 && r.addFrom != r.src,
          s"${l.name}: the add reads buffer ${r.addFrom}, which must be another than the mesh's ${r.src}")
        require(held(r.addFrom).contains((l.outC, l.outH, l.outW)),
          s"${l.name}: the add needs ${l.outC}x${l.outH}x${l.outW}, but buffer ${r.addFrom} holds ${shape(held(r.addFrom))}")
        require(r.addShift >= 0 && r.addShift <= dataBits, s"${l.name}: add shift ${r.addShift} is not in 0..$dataBits")
        require(l.lo < 0 && l.lo >= -(1 << (dataBits - 1)) && l.hi <= (1 << (dataBits - 1)) - 1,
          s"${l.name}: a layer that adds must end signed, in $dataBits bits")
      }
      if (r.pools) {
        require(!isLast && !l.pool, s"${l.name}: an average pool cannot follow a max-pool or give the logits")
        require(l.outH * l.outW == (1 << r.poolShift),
          s"${l.name}: the global average pool takes 2^${r.poolShift} values, but the map is ${l.outH}x${l.outW}")
      }
      if (isLast) {
        require(r.dst == -1, s"${l.name}: the last layer writes the logits, not buffer ${r.dst}")
      } else {
        require(r.dst >= 0 && r.dst <= 2 && r.dst != r.src,
          s"${l.name}: writes buffer ${r.dst}, which must be 0..2 and not the mesh's ${r.src}")
        require(r.dst != LayerRoute.Skip || !r.adds && !r.pools, s"${l.name}: the skip buffer holds shortcut outputs only")
        held(r.dst) = Some(if (r.pools) (l.outC, 1, 1) else (l.outC, l.outH, l.outW))
      }
    }
  }

  val layerBits: Int = log2(layers.length)
  private def log2(n: Int): Int = math.max(1, 32 - Integer.numberOfLeadingZeros(n - 1))
  private def bitsFor(maxValue: Long): Int = math.max(1, 64 - java.lang.Long.numberOfLeadingZeros(maxValue))

  def arrayConfig: ArrayConfig = ArrayConfig(rows, cols, dataBits, accBits, op)

  val last: LayerParams = layers.last
  val classes: Int = last.outC * last.outH * last.outW
  require(last.outH == 1 && last.outW == 1, "the last layer must produce a vector of logits (1x1 output)")
  require(!last.pool, "the last layer cannot pool")
  // PE rows are images (docs/accelerator.md, "Dataflow"): a batch smaller than the rows would
  // leave rows idle forever.
  require(batch >= rows, s"batch $batch is smaller than the $rows rows (each PE row serves one image of the batch)")

  def inSize: Int = layers.head.inC * layers.head.inH * layers.head.inW

  def ceilDiv(a: Int, b: Int): Int = (a + b - 1) / b

  /** Image groups: row i of group g serves image g * rows + i. */
  val groups: Int = ceilDiv(batch, rows)

  /** Words per image of layer l's input and output tensors (one lane holds an image). */
  def inWords(l: LayerParams): Int = l.inC * l.inH * l.inW
  def outWords(l: LayerParams): Int = l.outC * l.outH * l.outW

  /**
   * Depth of activation buffer b: the largest tensor any layer's route leaves in it (a chain's
   * layer l writes buffer (l + 1) % 2), the input in buffer 0, times the groups; the last layer
   * writes the logits memory instead.
   */
  val bufferDepth: Array[Int] = Array.tabulate(if (routes.exists(_.dst == LayerRoute.Skip)) 3 else 2) { b =>
    val held = (if (b == 0) Seq(inSize) else Seq.empty) ++
      layers.indices.init.collect { case i if routes(i).dst == b => storedWords(i) }
    groups * math.max(1, held.maxOption.getOrElse(1))
  }
  /** Words per image that layer i leaves in its destination: its output, or the pooled vector. */
  def storedWords(i: Int): Int = if (routes(i).pools) layers(i).outC else outWords(layers(i))
  val bufferAddrBits: Int = log2(bufferDepth.max max 2)

  // ---------------------------------------------------------------- global average pool
  /** Whether a layer feeds a global average pool: then the writeback keeps a pool RAM. */
  val hasPool: Boolean = routes.exists(_.pools)
  /** Pool RAM words: one per channel of a group's image, every lane an image. */
  val poolDepth: Int = if (hasPool) groups * routes.indices.filter(routes(_).pools).map(layers(_).outC).max else 0
  /** Width of a window sum: 2^n values of at most 2^(B-1) - 1, unsigned. */
  val poolSumBits: Int = if (hasPool) dataBits - 1 + routes.map(_.poolShift).max else 0

  /** The two ping-pong buffers' bits against the least any ping-pong schedule needs. */
  def activationBitsStored: Long = bufferDepth.map(_.toLong).sum * rows * dataBits
  def activationBitsNeeded: Long =
    if (!residual) layers.init.indices.map(i => inWords(layers(i)).toLong + outWords(layers(i))).maxOption
      .getOrElse(inSize.toLong) * batch * dataBits
    else liveWords.max * batch * dataBits

  /**
   * Words per image live while each layer runs: every tensor in a buffer that this layer or a later
   * one still reads (before the buffer is written again), and the layer's own output.
   */
  def liveWords: Seq[Long] = {
    // (buffer, layer that wrote it (-1: the input), words) of every tensor, and its last reader.
    val written = (0, -1, inSize) +: layers.indices.init.map(i => (routes(i).dst, i, storedWords(i)))
    val lastRead = written.map { case (b, w, _) =>
      val overwrite = layers.indices.find(j => j > w && j < layers.length - 1 && routes(j).dst == b)
        .getOrElse(layers.length)
      layers.indices.filter(j => j > w && j <= overwrite && (routes(j).src == b || routes(j).addFrom == b)).maxOption
        .getOrElse(w)
    }
    layers.indices.map { i =>
      // A tensor the layer overwrites in place as it reads it (an identity add) shares its words
      // with the output.
      written.zip(lastRead).collect {
        case ((b, w, words), last) if w == i || (w < i && last >= i && !(last == i && routes(i).dst == b)) => words.toLong
      }.sum
    }
  }

  // ---------------------------------------------------------------- shared requantization
  /** Columns a layer uses: its channels, at most the array's columns. */
  def usedCols(l: LayerParams): Int = math.min(cols, l.outC)
  def colBlocks(l: LayerParams): Int = ceilDiv(l.outC, cols)

  /** Writeback steps per column with q requantizers, and the first step's offset after a tile. */
  def stepsPerCol(q: Int): Int = ceilDiv(rows, q)
  def firstStep(q: Int): Int = 2 + (rows - 1) - (rows - 1) / q

  /** The least period that lets q requantizers drain a tile before the next replaces it. */
  def period(l: LayerParams, q: Int): Int = {
    val m = stepsPerCol(q)
    val cl = usedCols(l)
    Seq(l.k, rows, 2, cl * m, (rows - 1) - (rows - 1) / q + (cl - 1) * (m - 1) + 1, firstStep(q), m + 1).max
  }
  private def cyclesWith(q: Int): Long =
    layers.map(l => groups.toLong * l.positions * colBlocks(l) * period(l, q)).sum

  /**
   * The requantizers asked for, or else the fewest that reach the least total cycles (requantizers
   * are the largest unit beside the mesh, so fewer may be worth a few cycles: generate --requantizers).
   */
  require(givenRequantizers >= 0 && givenRequantizers <= rows,
    s"requantizers must be in 1..$rows (the rows), got $givenRequantizers")
  val requantizers: Int =
    if (givenRequantizers > 0) givenRequantizers
    else {
      val best = (1 to rows).map(cyclesWith).min
      (1 to rows).find(q => cyclesWith(q) == best).get
    }
  val steps: Int = stepsPerCol(requantizers)
  /**
   * The logits memory has one lane per requantizer (requantizer q only ever writes images whose row
   * is q mod Q): image g * R + m * Q + q at word (g * M + m) * classes + t of lane q.
   */
  val logitDepth: Int = groups * steps * classes
  val s0: Int = firstStep(requantizers)
  def period(l: LayerParams): Int = period(l, requantizers)
  /** Cycles after a layer's last tile until its last write has landed. */
  def drainCycles(l: LayerParams): Int = s0 + usedCols(l) * steps + 8

  /** Words per column of layer l (rows of its fetched image). */
  def weightRows(l: LayerParams): Int = colBlocks(l) * l.k
  /** Fetch: the two halves of the weight RAM, even layers in half 0, odd layers in half 1. */
  val weightHalves: Array[Int] = Array.tabulate(2) { h =>
    layers.indices.filter(_ % 2 == h).map(i => weightRows(layers(i))).maxOption.getOrElse(0)
  }
  /**
   * Weight memory words (one per column) of layer i start here: [tb][k] order; with weights
   * fetched, at the start of the layer's half.
   */
  val weightBase: Array[Int] =
    if (fetchWeights) Array.tabulate(layers.length)(i => if (i % 2 == 0) 0 else weightHalves(0))
    else layers.scanLeft(0)((acc, l) => acc + colBlocks(l) * l.k).init
  val weightDepth: Int =
    if (fetchWeights) weightHalves.sum else layers.map(l => colBlocks(l) * l.k).sum

  // ---------------------------------------------------------------- weights fetched from memory
  /** Bytes of one weight in memory and beats of one row (one word of every column). */
  def weightBytes: Int = (dataBits + 7) / 8
  val fetchBeatBytes: Int = 8
  val fetchBurstBeats: Int = 16
  val fetchAlign: Int = fetchBeatBytes * fetchBurstBeats
  def rowBeats: Int = ceilDiv(cols * weightBytes, fetchBeatBytes)
  /** Weights per beat. */
  def beatWeights: Int = fetchBeatBytes / weightBytes
  def fetchBeats(l: LayerParams): Long = weightRows(l).toLong * rowBeats
  /** Each layer's byte offset in weights.bin: layers padded to whole bursts. */
  val fetchOffsets: Array[Long] = layers.scanLeft(0L)((acc, l) =>
    acc + (fetchBeats(l) * fetchBeatBytes + fetchAlign - 1) / fetchAlign * fetchAlign).init
  def fetchImageBytes: Long = fetchOffsets.last + (fetchBeats(last) * fetchBeatBytes + fetchAlign - 1) / fetchAlign * fetchAlign
  def weightBitsStored: Long = cols.toLong * weightDepth * dataBits
  def weightBitsNeeded: Long = {
    val rows = layers.map(weightRows(_).toLong)
    val pairs = if (rows.length == 1) Seq(rows(0)) else rows.indices.tail.map(i => rows(i - 1) + rows(i))
    pairs.max * cols * dataBits
  }
  /** Width of the plain top's error port: fetch codes go up to 11. */
  def errorBits: Int = if (fetchWeights) 4 else AccelError.Bits

  /** Requantization table entries (one per channel slot tb * C + j) of layer i start here. */
  val requantBase: Array[Int] = layers.scanLeft(0)((acc, l) => acc + colBlocks(l) * cols).init
  val requantDepth: Int = layers.map(colBlocks(_) * cols).sum
  val requantEntryBits: Int = log2(requantDepth)

  /** Cycles the whole network spends issuing tiles per batch (no stalls): the schedule's length. */
  def issueCycles: Long = cyclesWith(requantizers)

  // ---------------------------------------------------------------- counter widths
  /** Signed width of activation addresses, padding's negative origins included. */
  val addrBits: Int = {
    val reach = layers.map(l => l.pad.toLong * (l.inW + 1) + l.kernel.toLong * (l.inW + 1)).max
    val words = Seq(bufferDepth.max.toLong, logitDepth.toLong, steps.toLong * classes,
      layers.map(l => cols.toLong * l.outH * l.outW).max, coordMax).max
    bitsFor(words + reach + 1) + 1
  }
  /** Signed width of image coordinates (input rows and columns, with padding and kernel reach). */
  private def coordMax: Long =
    layers.map(l => math.max(l.inH, l.inW).toLong + l.pad + l.kernel + l.stride.toLong * math.max(l.convH, l.convW)).max
  val coordBits: Int = bitsFor(coordMax) + 1
  /** Width of output coordinates, kernel and period counters, channel counters. */
  val dimBits: Int = bitsFor(layers.map(l => math.max(l.convH, l.convW).toLong).max + 1)
  val kernelBits: Int = bitsFor(layers.map(_.kernel.toLong).max)
  val periodBits: Int = bitsFor(layers.map(period(_).toLong).max)
  val chanBits: Int = bitsFor(layers.map(l => colBlocks(l).toLong * cols).max + 1)
  val groupBits: Int = bitsFor(groups.toLong)
  val laneBits: Int = math.max(1, bitsFor((rows - 1).toLong))
  val weightAddrBits: Int = log2(weightDepth max 2)
  val drainBits: Int = bitsFor(layers.map(drainCycles(_).toLong).max)
  /** Beats of a weight load: every column's words, interleaved (docs/accelerator.md, "Weights at run time"). */
  def weightBeats: Long = cols.toLong * math.max(1, weightDepth)
  /** Weight columns per 16-bit SPRAM word: weights are packed in whole nibbles. */
  val spramColumns: Int = 16 / (4 * ((dataBits + 3) / 4))
  val sprams: Int = ceilDiv(cols, spramColumns)
  require(!spramWeights || sprams <= Spram.Count,
    s"weights of $cols columns at $dataBits bits need $sprams SPRAMs of ${Spram.Depth} words " +
      s"($spramColumns columns each); the UP5K has ${Spram.Count}: use ${Spram.Count * spramColumns} columns or fewer")
  require(!spramWeights || weightDepth <= Spram.Depth,
    s"each column holds $weightDepth weight words, ${weightDepth - Spram.Depth} more than an SPRAM's " +
      s"${Spram.Depth}: use more columns (each then holds fewer channels) or a smaller network")

  /** The weight stream's tdata: whole bytes, the weight in the low dataBits bits. */
  val weightStreamBits: Int = 8 * ((dataBits + 7) / 8)
}
