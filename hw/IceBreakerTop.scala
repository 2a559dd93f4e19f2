package addernet.hw

import chisel3._
import chisel3.util._

/**
 * The iCEBreaker board shell (docs/board.md): the accelerator with its weights in the UP5K's
 * SPRAM, behind the FTDI UART, so that the whole design needs the 12 MHz clock and two UART pins
 * (and drives the two user LEDs). A host sends `'W'` and the weight stream's bytes, or `'I'` and a
 * batch of pixels; the board answers with `'0' + error` and, after a run, the logits as 4 bytes
 * each, little-endian. Everything else is answered with `'?'`. A break on the line (UartRx) is the
 * host's way back into step from anywhere: the shell abandons the frame it was in and the answer it
 * was sending, lets the accelerator finish (a run gets zero pixels for the ones not sent and its
 * logits are dropped; a weight load is completed without tlast, so the weights are invalid), and once the line
 * is high again and the accelerator idle, answers [[IceBreakerTop.ResyncToken]].
 *
 * The shell holds one byte for each direction and the logit being sent: UART bytes come at least
 * ten bit periods apart, far slower than the accelerator takes them, so no FIFO is needed.
 */
class IceBreakerTop(cfg: AccelConfig, memFilePrefix: String, divisor: Int) extends RawModule {
  require(cfg.weightStream && cfg.spramWeights, "the board shell loads the weights into SPRAM")
  require(!cfg.trace, "the board shell has no pins for the trace port")
  require(cfg.weightStreamBits == 8, s"the board sends one byte per weight; ${cfg.dataBits}-bit weights need more")

  val clk = IO(Input(Clock()))
  val uart_rx = IO(Input(Bool()))
  val uart_tx = IO(Output(Bool()))
  val led_busy_n = IO(Output(Bool())) // active low, as the board's LEDs
  val led_error_n = IO(Output(Bool()))

  private val por = Module(new PowerOnReset)
  por.io.clock := clk

  withClockAndReset(clk, por.io.reset) {
    val acc = Module(new Accelerator(cfg, memFilePrefix))
    val receiver = Module(new UartRx(divisor))
    receiver.io.clock := clk
    receiver.io.reset := por.io.reset
    receiver.io.rx := uart_rx
    val transmitter = Module(new UartTx(divisor))
    transmitter.io.clock := clk
    transmitter.io.reset := por.io.reset
    uart_tx := transmitter.io.tx

    val weightBytes = cfg.weightBeats
    val pixelBytes = cfg.batch.toLong * cfg.inSize
    val count = Reg(UInt(log2Ceil(math.max(weightBytes, pixelBytes) + 1).W))

    object S extends ChiselEnum { val idle, weights, weightsDone, check, pixels, reply, emit, resync = Value }
    val state = RegInit(S.idle)

    // The byte for the UART transmitter; whoever fills it waits until it has been taken.
    val txValid = RegInit(false.B)
    val txByte = Reg(UInt(8.W))
    transmitter.io.valid := txValid
    transmitter.io.data := txByte
    when(txValid && transmitter.io.ready) { txValid := false.B }
    def send(b: UInt): Unit = {
      txValid := true.B
      txByte := b
    }

    // The byte for the accelerator's weight or pixel stream, held until its handshake.
    val inValid = RegInit(false.B)
    val inByte = Reg(UInt(8.W))
    val inLast = Reg(Bool())
    val accepted = Reg(Bool()) // the accelerator started this batch (it had weights)
    // What a break interrupted: a weight load or a batch whose stream is not yet complete.
    val cutLoad = Reg(Bool())
    val fillBatch = Reg(Bool())

    val command = state === S.idle && receiver.io.valid
    acc.io.load_weights.get := command && receiver.io.data === 'W'.U
    acc.io.start := command && receiver.io.data === 'I'.U
    acc.io.s_axis_weights_tdata.get := inByte
    acc.io.s_axis_weights_tlast.get := inLast
    acc.io.s_axis_weights_tvalid.get := inValid && (state === S.weights || (state === S.resync && cutLoad))
    acc.io.s_axis_tdata := inByte
    acc.io.s_axis_tvalid := inValid && (state === S.pixels || (state === S.resync && fillBatch)) && accepted
    when((acc.io.s_axis_weights_tvalid.get && acc.io.s_axis_weights_tready.get) ||
        (acc.io.s_axis_tvalid && acc.io.s_axis_tready)) {
      inValid := false.B
    }

    // The logit on its way out, low byte first.
    val word = Reg(UInt(32.W))
    val wordLeft = RegInit(0.U(3.W))
    val doneSeen = Reg(Bool())
    acc.io.m_axis_tready := (state === S.emit && wordLeft === 0.U) || state === S.resync
    val errorCode = acc.io.error.get

    switch(state) {
      is(S.idle) {
        when(receiver.io.valid) {
          count := 0.U
          when(receiver.io.data === 'W'.U) {
            state := S.weights
          }.elsewhen(receiver.io.data === 'I'.U) {
            state := S.check
          }.otherwise {
            send('?'.U)
          }
        }
      }
      is(S.weights) {
        when(receiver.io.valid && count =/= weightBytes.U) {
          inValid := true.B
          inByte := receiver.io.data
          inLast := count === (weightBytes - 1).U
          count := count + 1.U
        }
        when(count === weightBytes.U && !inValid) { state := S.weightsDone }
      }
      is(S.weightsDone) {
        when(!acc.io.busy && !txValid) {
          send('0'.U + errorCode)
          state := S.idle
        }
      }
      is(S.check) {
        // One clock after start the accelerator is busy, or idle with error 3 (no weights).
        accepted := acc.io.busy
        state := S.pixels
      }
      is(S.pixels) {
        // A refused batch is still read to its end, so the host never has to resynchronise.
        when(receiver.io.valid && count =/= pixelBytes.U) {
          inValid := accepted
          inByte := receiver.io.data
          count := count + 1.U
        }
        when(count === pixelBytes.U && !inValid) { state := S.reply }
      }
      is(S.reply) {
        when(!txValid) {
          send('0'.U + errorCode)
          doneSeen := false.B
          state := Mux(accepted, S.emit, S.idle)
        }
      }
      is(S.resync) {
        // The streams a break cut are completed with zeros, one byte a clock. A weight stream
        // completed so has no tlast, so the accelerator ends the load at its last byte with error
        // 2 and invalid weights; a load whose last byte had come from the host is complete.
        when(cutLoad && count =/= weightBytes.U && !inValid) {
          inValid := true.B
          inByte := 0.U
          inLast := false.B
          count := count + 1.U
        }
        when(fillBatch && count =/= pixelBytes.U && !inValid) {
          inValid := accepted
          inByte := 0.U
          count := count + 1.U
        }
        val streamsDone = !inValid && (!cutLoad || count === weightBytes.U) &&
          (!fillBatch || count === pixelBytes.U)
        when(!receiver.io.line_break && streamsDone && !acc.io.busy && !txValid) {
          send(IceBreakerTop.ResyncToken.U)
          state := S.idle
        }
      }
      is(S.emit) {
        when(acc.io.m_axis_tvalid && acc.io.m_axis_tready) {
          word := acc.io.m_axis_tdata
          wordLeft := 4.U
        }
        when(wordLeft =/= 0.U && !txValid) {
          send(word(7, 0))
          word := word >> 8
          wordLeft := wordLeft - 1.U
        }
        when(acc.io.done) { doneSeen := true.B }
        when(doneSeen && wordLeft === 0.U) { state := S.idle }
      }
    }

    // A break, from any state but the one clock of S.check (a break is far longer than a clock).
    when(receiver.io.line_break && state =/= S.resync && state =/= S.check) {
      state := S.resync
      cutLoad := state === S.weights
      fillBatch := state === S.pixels
      txValid := false.B // the byte not yet taken; one already on the line finishes
      wordLeft := 0.U
    }

    led_busy_n := state === S.idle
    led_error_n := errorCode === 0.U
  }
}

object IceBreakerTop {
  /** 12 MHz over 115,200 baud (0.16% fast), the FTDI bridge's usual rate. */
  val ClockHz = 12000000
  val Baud = 115200
  val Divisor: Int = math.round(ClockHz.toDouble / Baud).toInt
  /** The answer to a break (docs/board.md, "Losing step"): `'R'`. */
  val ResyncToken = 0x52
}

/**
 * The board design: the accelerator's weight images and requantization table (written by
 * [[GenerateAccelerator]] into a scratch folder, whose Verilog is then dropped: the shell's
 * elaboration writes every module again, as the shell uses it), then the shell's Verilog.
 */
object GenerateIceBreaker {
  def apply(cfg: AccelConfig, divisor: Int, targetDir: String, scratchDir: String): Unit = {
    GenerateAccelerator(cfg, scratchDir)
    val dir = new java.io.File(targetDir)
    dir.mkdirs()
    val mems = (0 until cfg.cols).map(j => s"${GenerateAccelerator.memFilePrefix}$j.mem") :+
      GenerateAccelerator.requantFile
    for (m <- mems) {
      java.nio.file.Files.copy(new java.io.File(scratchDir, m).toPath, new java.io.File(dir, m).toPath,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING)
    }
    Generate.emitTo(new IceBreakerTop(cfg, GenerateAccelerator.memFilePrefix, divisor), targetDir)
  }
}
