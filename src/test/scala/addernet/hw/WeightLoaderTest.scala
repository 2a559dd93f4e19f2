package addernet.hw

import addernet.hw.Bench._
import chisel3._
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

/**
 * The WeightLoader alone against docs/accelerator.md, "Weights at run time": beat b writes word
 * b div C of column b mod C; a stream of exactly C * weightDepth beats ends with error None, one
 * whose tlast comes early with WeightsShort, one that runs long with WeightsLong at its last
 * weight, after which beats are taken and dropped up to tlast. Checked every cycle, with stalls.
 */
class WeightLoaderTest {
  @Test def streamsLandInTheirColumnsAndEveryEndIsAnswered(): Unit = {
    val cfg = Bench.config(weightStream = true)
    val C = cfg.cols
    val beats = C * cfg.weightDepth
    val rnd = Bench.random()
    simulate(new WeightLoader(cfg)) { dut =>
      dut.reset.poke(true.B); dut.io.start.poke(false.B); dut.io.tvalid.poke(false.B); dut.io.tlast.poke(false.B)
      dut.clock.step()
      dut.reset.poke(false.B)
      assertEquals(false, dut.io.tready.peek().litToBoolean, "tready before any load")

      var loading = false
      var dropping = false
      var b = 0
      var outcomes = Vector.empty[Int]

      /** One cycle: offer a beat (or not), check every output against the model, then advance it. */
      def cycle(valid: Boolean, last: Boolean, what: String): Unit = {
        val data = rnd.nextInt(1 << cfg.weightStreamBits)
        dut.io.tvalid.poke(valid.B)
        dut.io.tlast.poke(last.B)
        dut.io.tdata.poke(data.U)
        val at = s"$what, beat $b"
        assertEquals(loading || dropping, dut.io.tready.peek().litToBoolean, s"tready, $at")
        val fire = valid && (loading || dropping)
        val en = dut.io.wen.peek().litValue
        if (fire && loading) {
          assertEquals(BigInt(1) << (b % C), en, s"column enables, $at")
          assertEquals(b / C, dut.io.waddr.peek().litValue.toInt, s"word, $at")
          assertEquals(signed(BigInt(data), cfg.dataBits), dut.io.wdata.peek().litValue, s"weight, $at")
          val lastWord = b == beats - 1
          b += 1
          if (last || lastWord) {
            loading = false
            dropping = lastWord && !last
            val code = if (!lastWord) AccelError.WeightsShort else if (last) AccelError.None else AccelError.WeightsLong
            assertEquals(true, dut.io.done.valid.peek().litToBoolean, s"done, $at")
            assertEquals(code, dut.io.done.bits.peek().litValue.toInt, s"outcome, $at")
            outcomes :+= code
          } else assertEquals(false, dut.io.done.valid.peek().litToBoolean, s"no done mid-stream, $at")
        } else {
          assertEquals(BigInt(0), en, s"no write, $at")
          assertEquals(false, dut.io.done.valid.peek().litToBoolean, s"no done, $at")
          if (fire && dropping && last) dropping = false
        }
        dut.clock.step()
      }

      def start(): Unit = {
        dut.io.start.poke(true.B); dut.io.tvalid.poke(false.B); dut.clock.step(); dut.io.start.poke(false.B)
        loading = true; dropping = false; b = 0
      }

      /** `n` beats offered with random stalls, tlast on beat `lastAt` (if any). */
      def stream(n: Int, lastAt: Int, what: String): Unit = {
        var sent = 0
        while (sent < n) {
          if (rnd.nextInt(4) == 0) cycle(valid = false, last = rnd.nextBoolean(), what)
          else { cycle(valid = true, last = sent == lastAt, what); sent += 1 }
        }
        for (_ <- 0 until 3) cycle(valid = false, last = false, s"$what, after")
      }

      start(); stream(beats, beats - 1, "exact stream")
      start(); stream(beats / 3, beats / 3 - 1, "short stream")
      start(); stream(1, 0, "tlast on the first beat")
      start(); stream(beats + 7, beats + 6, "long stream")
      assertEquals(false, dropping, "the long stream's tlast ends the dropping")
      // A load that starts while a long stream is still being dropped takes the next beat as word 0.
      start(); stream(beats + 2, -1, "long stream, no tlast yet")
      start(); stream(beats, beats - 1, "exact stream after a drop")
      assertEquals(Vector(AccelError.None, AccelError.WeightsShort, AccelError.WeightsShort, AccelError.WeightsLong,
        AccelError.WeightsLong, AccelError.None), outcomes)
    }
  }
}
