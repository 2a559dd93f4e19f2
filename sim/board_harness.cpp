// Verilator harness for a board folder (docs/board.md): the protocol of accel_harness.cpp on
// stdin/stdout, unchanged, so that Java drives a board shell like a bare accelerator; each request
// becomes UART frames on the shell's uart_rx (8N1, LSB first, BOARD_UART_DIVISOR clocks per bit),
// and uart_tx is decoded the way the board's own receiver does it (mid-bit samples).
//
// What differs from accel_harness.cpp, all of it because the board has only its UART:
// - a weight load of count beats sends 'W' and the beats' low bytes; the board frames the stream
//   by its length (it has no tlast), so a count other than BOARD_WEIGHT_BYTES is not sent and
//   answered with error -3; otherwise the error is the board's answer ('0' + error), -2 if it
//   never answers. The load's cycles are the simulated clocks of the exchange.
// - a batch sends 'I' and the pixels; n must be BOARD_BATCH x BOARD_IN_SIZE. The board answers
//   '0' + error and, when 0, 4 bytes per logit (little-endian). tlast indices are every
//   BOARD_CLASSES-th logit as received, the accelerator cycles are 0 (the board does not send its
//   counter), there are no trace records, and the status word is bit 0 busy (the busy LED) and
//   bits 4-5 the error the board answered. reset_after is refused (the board has no reset pin).
// - stall_percent puts a random idle gap (1..3 bit periods) before that share of the host's bytes;
//   the board's transmitter cannot be held up, so nothing stalls it.
// - one more request, for tests: in: int32 -2, int32 count, int32 stall_percent, uint32 seed,
//   int32 want, then count raw bytes; out: int32 m, m x int32 bytes the board answered (up to
//   want, or what came before the line was quiet for 40 byte times).
// - and one for the break (docs/board.md, "Losing step"): in: int32 -3, int32 count, int32 after,
//   int32 delay, int32 hold, then count raw bytes. The bytes are sent; delay clocks after a
//   reference point the line is held low for hold clocks (the byte being sent, if any, is cut and
//   the rest are not sent), then released. The reference is the start bit of the last byte sent
//   when after < 0, else the start bit of the board's answer byte number after (counting from 0).
//   out: int32 before (bytes received before the release), int32 m, m x int32 bytes received
//   after it, until the line has been quiet for 20 byte times after one, int64 clocks from the
//   release to the first start bit after it (-1 for none).
#include <vector>

#include "Vtop.h"
// harness.h's Bench clocks top->clock; the board's clock pin is clk.
struct BoardTop : Vtop {
  CData& clock;
  explicit BoardTop(VerilatedContext* context) : Vtop(context), clock(clk) {}
};
#define Vtop BoardTop
#include "harness.h"
#include "ports.h"


static const int P = BOARD_UART_DIVISOR;
static const uint64_t BYTE_CLOCKS = 10ull * P;

/** The host's end of the serial line: a transmitter on uart_rx, a receiver on uart_tx. */
struct Line {
  Bench& bench;
  BoardTop* top;
  uint64_t cycles = 0;
  int stall = 0;
  std::vector<uint8_t> out;  // to send
  size_t next = 0;
  int tx_bit = -1;  // -1 idle, 0 start, 1..8 data, 9 stop
  int tx_left = 0;
  int gap = -1;     // idle clocks before the next byte; -1 not yet drawn
  std::vector<uint8_t> in;  // received
  int rx_bit = -1;
  int rx_wait = 0;
  uint8_t rx_shift = 0;
  uint64_t quiet = 0;  // clocks since a byte was last sent or received
  bool held_low = false;   // a break: uart_rx low whatever is being sent
  uint64_t tx_starts = 0;  // start bits sent, and the clock of the latest
  uint64_t tx_start_at = 0;
  uint64_t rx_starts = 0;  // start bits received, and the clock of the latest
  uint64_t rx_start_at = 0;

  explicit Line(Bench& b) : bench(b), top(b.top.get()) {}

  void clock() {
    if (tx_bit < 0 && next < out.size()) {
      if (gap < 0) {
        gap = stall > 0 && static_cast<int>(next_rand() % 100) < stall
                  ? static_cast<int>(1 + next_rand() % (3 * P))
                  : 0;
      }
      if (gap > 0) {
        gap--;
      } else {
        gap = -1;
        tx_bit = 0;
        tx_left = P;
        tx_starts++;
        tx_start_at = cycles;
      }
    }
    top->uart_rx = held_low ? 0 : tx_bit < 0 || tx_bit == 9 ? 1 : tx_bit == 0 ? 0 : (out[next] >> (tx_bit - 1)) & 1;
    bench.tick();
    cycles++;
    quiet++;
    exit_if_orphaned(cycles);
    if (tx_bit >= 0 && --tx_left == 0) {
      if (++tx_bit == 10) {
        tx_bit = -1;
        next++;
        quiet = 0;
      } else {
        tx_left = P;
      }
    }
    const bool level = top->uart_tx;
    if (rx_bit < 0) {
      if (!level) {
        rx_bit = 0;
        rx_wait = P / 2;
        rx_starts++;
        rx_start_at = cycles;
      }
    } else if (--rx_wait == 0) {
      rx_wait = P;
      if (rx_bit == 0) {
        rx_bit = level ? -1 : 1;  // high in mid start bit: a glitch
      } else if (rx_bit <= 8) {
        rx_shift = static_cast<uint8_t>((rx_shift >> 1) | (level ? 0x80 : 0));
        rx_bit++;
      } else {
        if (level) {
          in.push_back(rx_shift);
          quiet = 0;
        } else {
          fprintf(stderr, "harness: framing error on uart_tx after %zu bytes\n", in.size());
        }
        rx_bit = -1;
      }
    }
  }

  /**
   * Sends {@code bytes} and clocks until every one has gone and {@code want(in)} bytes have come
   * back, or the line has been quiet for {@code limit} clocks after the last byte sent.
   */
  template <typename Want>
  void exchange(std::vector<uint8_t> bytes, Want want, uint64_t limit) {
    out = std::move(bytes);
    next = 0;
    in.clear();
    quiet = 0;
    while (next < out.size() || tx_bit >= 0 || in.size() < want(in)) {
      clock();
      if (next == out.size() && tx_bit < 0 && quiet > limit) break;
    }
  }
};

/** The break request (see the header comment). */
static void line_break(Line& line, std::vector<uint8_t> bytes, int32_t after, int32_t delay,
                       int32_t hold) {
  const size_t count = bytes.size();
  line.out = std::move(bytes);
  line.next = 0;
  line.in.clear();
  line.quiet = 0;
  const uint64_t tx0 = line.tx_starts, rx0 = line.rx_starts;
  const uint64_t give_up = line.cycles + 40ull * BOARD_ISSUE_CYCLES + 4000 * BYTE_CLOCKS;
  // The reference point; then delay clocks.
  for (;;) {
    if (after < 0 ? count == 0 || line.tx_starts - tx0 == count : line.rx_starts - rx0 > static_cast<uint64_t>(after)) break;
    if (line.cycles > give_up) {
      fprintf(stderr, "harness: the break's reference point never came\n");
      exit(2);
    }
    line.clock();
  }
  const uint64_t ref = count == 0 && after < 0 ? line.cycles : after < 0 ? line.tx_start_at : line.rx_start_at;
  while (line.cycles < ref + static_cast<uint64_t>(delay)) line.clock();
  line.held_low = true;
  line.next = line.out.size();
  line.tx_bit = -1;
  for (int32_t i = 0; i < hold; i++) line.clock();
  line.held_low = false;
  const int32_t before = static_cast<int32_t>(line.in.size());
  line.in.clear();
  const uint64_t release = line.cycles, starts = line.rx_starts;
  int64_t first = -1;
  while (line.cycles < give_up + 40ull * BOARD_ISSUE_CYCLES) {
    line.clock();
    if (first < 0 && line.rx_starts > starts) first = static_cast<int64_t>(line.rx_start_at - release);
    if (!line.in.empty() && line.quiet > 20 * BYTE_CLOCKS) break;
  }
  write_exact(&before, sizeof before);
  int32_t m = static_cast<int32_t>(line.in.size());
  write_exact(&m, sizeof m);
  for (uint8_t b : line.in) {
    int32_t v = b;
    write_exact(&v, sizeof v);
  }
  write_exact(&first, sizeof first);
  fflush(stdout);
}

/** The board's answer byte as an error code: '0'..'3', else -4; -2 for no answer. */
static int32_t answer(const std::vector<uint8_t>& in) {
  if (in.empty()) return -2;
  return in[0] >= '0' && in[0] <= '3' ? in[0] - '0' : -4;
}

int main(int argc, char** argv) {
  Bench bench(argc, argv);
  Line line(bench);
  BoardTop* top = line.top;
  top->uart_rx = 1;
  for (int i = 0; i < BOARD_POR_CLOCKS + 16; i++) line.clock();

  const uint64_t quiet_frames = 40 * BYTE_CLOCKS;
  std::vector<uint16_t> beats;
  for (;;) {
    int32_t hdr[5];
    if (!read_exact(hdr, sizeof(int32_t)) || (hdr[0] <= 0 && hdr[0] != -1 && hdr[0] != -2 && hdr[0] != -3)) break;
    if (!read_exact(hdr + 1, 4 * sizeof(int32_t))) return 2;
    if (hdr[0] == -3) {
      std::vector<uint8_t> bytes(hdr[1] > 0 ? hdr[1] : 0);
      if (!read_exact(bytes.data(), bytes.size())) return 2;
      line.stall = 0;
      line_break(line, std::move(bytes), hdr[2], hdr[3], hdr[4]);
      continue;
    }
    line.stall = hdr[0] == -1 || hdr[0] == -2 ? hdr[2] : hdr[1];
    rng_state = static_cast<uint32_t>(hdr[0] < 0 ? hdr[3] : hdr[2]) | 1u;
    const uint64_t start = line.cycles;
    if (hdr[0] == -1) {
      beats.resize(hdr[1] > 0 ? hdr[1] : 0);
      if (!read_exact(beats.data(), beats.size() * sizeof(uint16_t))) return 2;
      int32_t error = -3;
      if (beats.size() == BOARD_WEIGHT_BYTES) {
        std::vector<uint8_t> bytes{'W'};
        for (uint16_t b : beats) bytes.push_back(static_cast<uint8_t>(b));
        line.exchange(bytes, [](const std::vector<uint8_t>&) { return size_t{1}; }, quiet_frames);
        error = answer(line.in);
      }
      uint64_t cycles = line.cycles - start;
      write_exact(&error, sizeof error);
      write_exact(&cycles, sizeof cycles);
      fflush(stdout);
      continue;
    }
    if (hdr[0] == -2) {
      std::vector<uint8_t> bytes(hdr[1] > 0 ? hdr[1] : 0);
      if (!read_exact(bytes.data(), bytes.size())) return 2;
      const size_t want = hdr[4] > 0 ? static_cast<size_t>(hdr[4]) : 0;
      line.exchange(bytes, [want](const std::vector<uint8_t>&) { return want; }, quiet_frames);
      int32_t m = static_cast<int32_t>(line.in.size());
      write_exact(&m, sizeof m);
      for (uint8_t b : line.in) {
        int32_t v = b;
        write_exact(&v, sizeof v);
      }
      fflush(stdout);
      continue;
    }
    const int32_t n = hdr[0];
    if (hdr[4] > 0) {
      fprintf(stderr, "harness: the board shell has no reset pin (reset_after %d)\n", hdr[4]);
      return 2;
    }
    std::vector<uint8_t> bytes(1 + static_cast<size_t>(n));
    bytes[0] = 'I';
    if (!read_exact(bytes.data() + 1, n)) {
      fprintf(stderr, "harness: stimulus ended inside a batch of %d pixels\n", n);
      return 2;
    }
    if (n != BOARD_BATCH * BOARD_IN_SIZE) {
      fprintf(stderr, "harness: a batch is %d pixels on this board, got %d\n",
              BOARD_BATCH * BOARD_IN_SIZE, n);
      return 2;
    }
    const size_t logit_bytes = 4ull * BOARD_BATCH * BOARD_CLASSES;
    line.exchange(
        bytes,
        [logit_bytes](const std::vector<uint8_t>& in) {
          return in.empty() ? size_t{1} : in[0] == '0' ? 1 + logit_bytes : size_t{1};
        },
        4 * BOARD_ISSUE_CYCLES + 1000000 + quiet_frames);
    const int32_t error = answer(line.in);
    std::vector<int32_t> logits, lasts;
    for (size_t i = 1; i + 4 <= line.in.size(); i += 4) {
      uint32_t v = line.in[i] | line.in[i + 1] << 8 | line.in[i + 2] << 16 |
                   static_cast<uint32_t>(line.in[i + 3]) << 24;
      logits.push_back(static_cast<int32_t>(v));
      if (logits.size() % BOARD_CLASSES == 0) lasts.push_back(static_cast<int32_t>(logits.size() - 1));
    }
    if (error == 0 && line.in.size() != 1 + logit_bytes) {
      fprintf(stderr, "harness: the board sent %zu of %zu bytes\n", line.in.size(), 1 + logit_bytes);
    }
    // The UART carries no cycle counter and no trace.
    int32_t status = (top->led_busy_n ? 0 : 1) | ((error >= 0 ? error : 0) << 4);
    write_batch_reply(logits, lasts, 0, line.cycles - start, {}, status);
  }
  return 0;
}
