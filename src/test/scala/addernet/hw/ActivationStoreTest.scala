package addernet.hw

import addernet.hw.Bench._
import chisel3._
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

/**
 * The ActivationStore alone against a model of its three memories: layer l reads buffer src on
 * the feed port and the other buffer on the read-modify-write port, writes go to the other
 * buffer, input loads to buffer 0, reads return the word one cycle later and hold it while not
 * enabled. Random traffic that swaps src now and then; lanes never written and words read in the
 * cycle they are written (undefined on block RAM) are not compared.
 */
class ActivationStoreTest {
  @Test def readsReturnWhatTheModelHolds(): Unit = {
    val cfg = Bench.config()
    val R = cfg.rows
    val B = cfg.dataBits
    val Q = cfg.requantizers
    val LB = cfg.logitBits
    val rnd = Bench.random()
    type Word = Array[Option[BigInt]]
    val buffers = Array.tabulate(2)(b => Array.fill(cfg.bufferDepth(b))(Array.fill[Option[BigInt]](R)(None)))
    val logits = Array.fill(cfg.logitDepth)(Array.fill[Option[BigInt]](Q)(None))
    // What each read port shows: the word it read last (None: undefined).
    val port: Array[Word] = Array.fill(2)(Array.fill[Option[BigInt]](R)(None))
    var logitPort: Word = Array.fill[Option[BigInt]](Q)(None)
    var srcBefore = 0

    def lanes(v: BigInt, n: Int, w: Int): Seq[BigInt] = (0 until n).map(i => (v >> (i * w)) & ((BigInt(1) << w) - 1))
    def check(got: BigInt, want: Word, w: Int, what: String): Unit =
      lanes(got, want.length, w).zip(want).zipWithIndex.foreach { case ((g, e), i) =>
        e.foreach(v => assertEquals(v, g, s"$what, lane $i"))
      }
    def pokeWrite(p: LaneWrite, en: Int, addr: Int, data: BigInt): Unit = {
      p.en.poke(en.U); p.addr.poke(addr.U); p.data.poke(data.U)
    }

    simulate(new ActivationStore(cfg)) { dut =>
      dut.reset.poke(true.B); dut.clock.step(); dut.reset.poke(false.B)
      var src = 0
      for (cycle <- 0 until 4000) {
        if (rnd.nextInt(200) == 0) src ^= 1
        val dst = 1 - src
        val feedEn = rnd.nextInt(3) > 0
        val rmwEn = rnd.nextInt(3) == 0
        val feedAddr = rnd.nextInt(cfg.bufferDepth(src))
        val rmwAddr = rnd.nextInt(cfg.bufferDepth(dst))
        // Loading and a layer's writeback never overlap: one or the other, or neither.
        val (writeEn, loadEn) = rnd.nextInt(3) match {
          case 0 => (rnd.nextInt(1 << R), 0)
          case 1 => (0, rnd.nextInt(1 << R))
          case _ => (0, 0)
        }
        val writeAddr = rnd.nextInt(cfg.bufferDepth(dst))
        val loadAddr = rnd.nextInt(cfg.bufferDepth(0))
        val writeData = BigInt(R * B, rnd.self)
        val loadData = BigInt(R * B, rnd.self)
        val logitEn = rnd.nextInt(1 << Q)
        val logitWAddr = rnd.nextInt(cfg.logitDepth)
        val logitData = BigInt(Q * LB, rnd.self)
        val logitREn = rnd.nextBoolean()
        val logitRAddr = rnd.nextInt(cfg.logitDepth)

        dut.io.src.poke(src.U)
        dut.io.feedEn.poke(feedEn.B); dut.io.feedAddr.poke(feedAddr.U)
        dut.io.rmwEn.poke(rmwEn.B); dut.io.rmwAddr.poke(rmwAddr.U)
        pokeWrite(dut.io.write, writeEn, writeAddr, writeData)
        pokeWrite(dut.io.load, loadEn, loadAddr, loadData)
        pokeWrite(dut.io.logitsWrite, logitEn, logitWAddr, logitData)
        dut.io.logitsEn.poke(logitREn.B); dut.io.logitsAddr.poke(logitRAddr.U)

        // The outputs now show what was read in the cycle before, through that cycle's src.
        check(dut.io.feedData.peek().litValue, port(srcBefore), B, s"feedData at cycle $cycle")
        check(dut.io.rmwData.peek().litValue, port(1 - srcBefore), B, s"rmwData at cycle $cycle")
        check(dut.io.logitsData.peek().litValue, logitPort, LB, s"logitsData at cycle $cycle")

        // The model's edge: reads see the old words, then the writes land.
        val writes = Array.fill(2)(Option.empty[(Int, Int, BigInt)])
        writes(dst) = Some((writeEn, writeAddr, writeData)).filter(_._1 != 0)
        if (loadEn != 0) writes(0) = Some((loadEn, loadAddr, loadData))
        for (b <- 0 until 2) {
          val (en, addr) = if (b == src) (feedEn, feedAddr) else (rmwEn, rmwAddr)
          if (en) {
            val clash = writes(b).exists(_._2 == addr)
            port(b) = if (clash) Array.fill(R)(None) else buffers(b)(addr).clone()
          }
        }
        if (logitREn)
          logitPort = if (logitEn != 0 && logitWAddr == logitRAddr) Array.fill(Q)(None) else logits(logitRAddr).clone()
        for (b <- 0 until 2; (en, addr, data) <- writes(b); (v, i) <- lanes(data, R, B).zipWithIndex if (en >> i & 1) == 1)
          buffers(b)(addr)(i) = Some(v)
        for ((v, i) <- lanes(logitData, Q, LB).zipWithIndex if (logitEn >> i & 1) == 1) logits(logitWAddr)(i) = Some(v)
        srcBefore = src
        dut.clock.step()
      }
    }
  }
}
