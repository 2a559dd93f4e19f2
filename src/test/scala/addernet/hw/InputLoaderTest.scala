package addernet.hw

import addernet.hw.Bench._
import chisel3._
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

/**
 * The InputLoader alone against the input buffer's layout (docs/accelerator.md): pixel p of image
 * n goes to lane n mod R at word (n div R) * inSize + p, shifted right by inputShift (numeric
 * contract, section 5). Checked every cycle with a stalling stream, for a full batch whose last
 * group is partial, one image, and exactly one group.
 */
class InputLoaderTest {
  @Test def everyPixelLandsInItsLaneAndWord(): Unit = {
    val cfg = Bench.config()
    val R = cfg.rows
    val rnd = Bench.random()
    simulate(new InputLoader(cfg)) { dut =>
      dut.reset.poke(true.B); dut.io.start.poke(false.B); dut.io.tvalid.poke(false.B); dut.clock.step()
      dut.reset.poke(false.B)
      assertEquals(false, dut.io.tready.peek().litToBoolean, "tready before any start")

      for (images <- Seq(cfg.batch, 1, R)) {
        dut.io.images.poke(images.U)
        dut.io.start.poke(true.B); dut.io.tvalid.poke(false.B); dut.clock.step()
        dut.io.start.poke(false.B)
        var n = 0
        var p = 0
        var cycle = 0
        while (n < images) {
          val valid = rnd.nextInt(10) < 7
          val pixel = rnd.nextInt(256)
          dut.io.tvalid.poke(valid.B)
          dut.io.tdata.poke(pixel.U)
          val at = s"images $images, image $n pixel $p, cycle $cycle"
          assertEquals(true, dut.io.busy.peek().litToBoolean, s"busy, $at")
          assertEquals(true, dut.io.tready.peek().litToBoolean, s"tready, $at")
          val en = dut.io.write.en.peek().litValue
          if (valid) {
            assertEquals(BigInt(1) << (n % R), en, s"lane enables, $at")
            assertEquals((n / R) * cfg.inSize + p, dut.io.write.addr.peek().litValue.toInt, s"word, $at")
            val stored = BigInt(pixel >> cfg.inputShift)
            val word = (0 until R).map(i => stored << (i * cfg.dataBits)).sum
            assertEquals(word, dut.io.write.data.peek().litValue, s"data, $at")
            p += 1
            if (p == cfg.inSize) { p = 0; n += 1 }
          } else {
            assertEquals(BigInt(0), en, s"no write without tvalid, $at")
          }
          dut.clock.step()
          cycle += 1
        }
        // The last pixel ends the load: no more beats are taken.
        dut.io.tvalid.poke(true.B)
        for (_ <- 0 until 3) {
          assertEquals(false, dut.io.busy.peek().litToBoolean, s"busy after $images images")
          assertEquals(false, dut.io.tready.peek().litToBoolean, s"tready after $images images")
          assertEquals(BigInt(0), dut.io.write.en.peek().litValue, s"write after $images images")
          dut.clock.step()
        }
      }
    }
  }
}
