package addernet.hw

import addernet.hw.Bench._
import chisel3._
import org.junit.jupiter.api.Assertions.{assertEquals, assertTrue}
import org.junit.jupiter.api.Test

/**
 * The OutputStream alone, reading a model of the logits memory (one synchronous read port), against
 * the order docs/accelerator.md gives m_axis: image by image, class by class, tlast on each image's
 * last class, image g * R + m * Q + q read from lane q at word (g * M + m) * classes + t. The sink
 * stalls at random: the beat must hold until taken, and `done` pulses once after the last.
 */
class OutputStreamTest {
  @Test def logitsLeaveInImageThenClassOrder(): Unit = {
    // Three rows and one requantizer per step would not exercise the lanes; rows 4 makes Q > 1.
    val cfg = Bench.config(rows = 4, cols = 2, batch = 7)
    val R = cfg.rows
    val Q = cfg.requantizers
    val M = cfg.steps
    val LB = cfg.logitBits
    val rnd = Bench.random()
    val memory = Array.fill(cfg.logitDepth)(Array.fill(Q)(BigInt(LB, rnd.self)))
    def word(a: Int): BigInt = (0 until Q).map(q => memory(a)(q) << (q * LB)).sum

    def expected(images: Int): Seq[(BigInt, Boolean)] = for {
      n <- 0 until images
      t <- 0 until cfg.classes
    } yield {
      val (g, r) = (n / R, n % R)
      val (m, q) = (r / Q, r % Q)
      (unsigned(signed(memory((g * M + m) * cfg.classes + t)(q), LB), 32), t == cfg.classes - 1)
    }

    simulate(new OutputStream(cfg)) { dut =>
      dut.reset.poke(true.B); dut.io.start.poke(false.B); dut.io.tready.poke(false.B); dut.clock.step()
      dut.reset.poke(false.B)
      var rdata = BigInt(0)
      for ((images, stallPercent) <- Seq((cfg.batch, 50), (1, 0), (R, 90), (cfg.batch, 0))) {
        dut.io.images.poke(images.U)
        dut.io.start.poke(true.B); dut.clock.step(); dut.io.start.poke(false.B)
        val want = expected(images)
        var taken = 0
        var held: Option[(BigInt, Boolean)] = None
        var dones = 0
        var cycle = 0
        while (dones == 0) {
          assertTrue(cycle < 50 * want.size + 100, s"$images images: no done after $cycle cycles")
          val ready = rnd.nextInt(100) >= stallPercent
          dut.io.rdata.poke(rdata.U((Q * LB).W))
          dut.io.tready.poke(ready.B)
          val at = s"$images images, logit $taken, cycle $cycle"
          val valid = dut.io.tvalid.peek().litToBoolean
          if (valid) {
            val beat = (dut.io.tdata.peek().litValue, dut.io.tlast.peek().litToBoolean)
            held.foreach(h => assertEquals(h, beat, s"a stalled beat changed, $at"))
            held = Some(beat)
            if (ready) {
              assertTrue(taken < want.size, s"more logits than ${want.size}, $at")
              assertEquals(want(taken), beat, s"(tdata, tlast), $at")
              taken += 1
              held = None
            }
          } else assertEquals(None, held, s"tvalid dropped before the beat was taken, $at")
          if (dut.io.done.peek().litToBoolean) {
            dones += 1
            assertEquals(want.size, taken, s"done before every logit was taken, $at")
          }
          if (dut.io.ren.peek().litToBoolean) {
            val a = dut.io.raddr.peek().litValue.toInt
            assertTrue(a < cfg.logitDepth, s"read past the logits memory at $a, $at")
            rdata = word(a)
          }
          dut.clock.step()
          cycle += 1
        }
        for (_ <- 0 until 4) {
          dut.io.tready.poke(true.B)
          assertEquals(false, dut.io.tvalid.peek().litToBoolean, s"$images images: tvalid after done")
          assertEquals(false, dut.io.done.peek().litToBoolean, s"$images images: a second done")
          dut.clock.step()
        }
      }
    }
  }
}
