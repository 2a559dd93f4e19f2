package addernet.hw

import chisel3._

/**
 * CRC-32 as zlib computes it (reflected polynomial 0xEDB88320, initial value and final XOR all
 * ones), over a stream's beats taken as little-endian bytes: the WEIGHTS_CRC register
 * (docs/accelerator.md, "Registers"). The same steps run in hardware over the weight stream and
 * here in Scala over ROM images, so a ROM build and a streamed build of one network read alike.
 */
object Crc32 {
  val Poly = 0xEDB88320L
  val Init = 0xFFFFFFFFL

  /** The register after `bits` more bits of `data`, least significant first: XORs and shifts. */
  def step(crc: UInt, data: UInt, bits: Int): UInt = {
    var c = crc
    for (i <- 0 until bits) {
      val b = c(0) ^ data(i)
      c = (c >> 1) ^ Mux(b, Poly.U(32.W), 0.U(32.W))
    }
    c
  }

  /** What `step` leaves after every beat of `beats`, complemented: the CRC of the whole stream. */
  def of(beats: Seq[Long], bits: Int): Long = {
    var c = Init
    for (beat <- beats; i <- 0 until bits) {
      val b = (c ^ (beat >> i)) & 1L
      c = (c >>> 1) ^ (if (b != 0) Poly else 0L)
    }
    c ^ Init
  }
}
