package addernet.hw

import addernet.hw.Bench._
import addernet.quant.Requant
import chisel3._
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

/**
 * The Requantizer alone against the Java integer reference (numeric contract, section 7): every
 * table entry of every layer, random accumulators with the extremes of accBits, one value per
 * cycle with gaps, each result compared Requantizer.latency cycles later.
 */
class RequantizerTest {
  @Test def everyEntryMatchesTheIntegerReference(): Unit = {
    val cfg = Bench.config()
    val table = new RequantTable(cfg)
    val reference = cfg.layers.map(l => new Requant(l.shift, l.terms, l.bias, l.lo, l.hi))
    val rnd = Bench.random()
    val accMax = (1 << (cfg.accBits - 1)) - 1
    val accMin = -(1 << (cfg.accBits - 1))
    // (layer, channel slot, accumulator); slots past a layer's channels have no digits.
    val cases = for {
      (l, li) <- cfg.layers.toSeq.zipWithIndex
      t <- 0 until cfg.colBlocks(l) * cfg.cols
      acc <- Seq(0, 1, -1, accMax, accMin) ++ Seq.fill(40)(rnd.nextInt(1 << cfg.accBits) + accMin)
    } yield (li, t, acc)
    val stimulus = rnd.shuffle(cases)

    def expected(li: Int, t: Int, acc: Int): Int =
      if (t < cfg.layers(li).outC) reference(li).apply(t, acc.toLong)
      else math.max(cfg.layers(li).lo, math.min(cfg.layers(li).hi, 0))

    simulate(new Requantizer(cfg, table)) { dut =>
      dut.reset.poke(true.B); dut.clock.step(); dut.reset.poke(false.B)
      val inFlight = scala.collection.mutable.Queue[Option[(Int, Int, Int)]]()
      val pending = scala.collection.mutable.Queue.from(stimulus)
      var cycle = 0
      while (pending.nonEmpty || inFlight.exists(_.isDefined)) {
        val gap = pending.isEmpty || rnd.nextInt(5) == 0
        val now = if (gap) None else Some(pending.dequeue())
        now match {
          case Some((li, t, acc)) =>
            dut.io.in.valid.poke(true.B)
            dut.io.in.bits.poke(acc.S)
            dut.io.entry.poke(table.encode(cfg.requantBase(li) + t).U(table.entryBits.W))
            dut.io.layer.poke(li.U)
          case None =>
            dut.io.in.valid.poke(false.B)
            // Garbage on the data while invalid must not leak into a valid result.
            dut.io.in.bits.poke((rnd.nextInt(1 << cfg.accBits) + accMin).S)
        }
        inFlight.enqueue(now)
        dut.clock.step()
        cycle += 1
        if (inFlight.size == Requantizer.latency) {
          val due = inFlight.dequeue()
          assertEquals(due.isDefined, dut.io.out.valid.peek().litToBoolean, s"out.valid at cycle $cycle")
          due.foreach { case (li, t, acc) =>
            assertEquals(expected(li, t, acc), dut.io.out.bits.peek().litValue.toInt,
              s"layer $li slot $t acc $acc at cycle $cycle")
          }
        }
      }
    }
  }
}
