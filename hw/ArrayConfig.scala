package addernet.hw

/**
 * Every parameter of the bare PE array, validated once. The Java side ([[addernet.gen.ArrayConfig]])
 * derives accBits from the largest reduction length K (numeric contract, section "Accumulator
 * bound") and hands the result here; the checks below repeat the structural ones so that a
 * Scala caller cannot build an impossible array either.
 */
final case class ArrayConfig(rows: Int, cols: Int, dataBits: Int, accBits: Int, op: PEOp) {
  require(rows >= 1, s"rows must be >= 1, got $rows")
  require(cols >= 1, s"cols must be >= 1, got $cols")
  require(dataBits >= 2 && dataBits <= 16, s"dataBits must be in 2..16, got $dataBits")
  require(accBits > dataBits && accBits <= 62, s"accBits must be in ${dataBits + 1}..62, got $accBits")
}
