// Thin Verilator harness for the whole-network accelerator
// (see README, "From a trained network to checked RTL").
// Java decides what to send and what to expect; this program clocks the model, drives the
// AXI4-Stream input and output with seeded random stalls, and reports what came out.
//
// Protocol on stdin/stdout, little-endian. A weight load (folders generated with --weights
// stream): in: int32 -1, int32 count, int32 stall_percent, uint32 seed, int32 0, then count x
// uint16 beats (tlast on the last); out: int32 error code after the load (-1: no weight port),
// uint64 cycles it took. Then, repeated per batch:
//   in:  int32 n (pixels in the batch, n <= 0 ends the run), int32 stall_percent,
//        uint32 seed, int32 want_trace, int32 reset_after (0: run to done; else assert reset
//        after that many cycles, for two cycles, and stop), then n bytes of pixels
//   out: int32 m, m x int32 logits (as they left m_axis), int32 tlast mask count, then
//        that many int32 indices of beats that had tlast set, uint32 accelerator cycles
//        (its own counter), uint64 simulated cycles for the batch, int32 t, then t trace
//        records of 4 x int32 (lane, layer, address, value), int32 status after the batch
//        (bit 0 busy, bit 1 m_axis_tvalid, bit 2 s_axis_tready, bit 3 done, bits 4-5 the error
//        code with a weight stream; a start refused for want of weights returns at once)
// A weight image (folders generated with --weights fetch): in: int32 -4, int32 bytes, uint32
// base low, uint32 base high, int32 latency, int32 error_beat (-1 none, -2 never answer), then
// the bytes; the memory model on m_axi_weights holds them from then on and weight_base is the
// base; out: int32 0 (-1: no read port).
#include <vector>

#include "harness.h"
#include "ports.h"

#if defined(HAS_WEIGHT_STREAM) || defined(HAS_WEIGHT_FETCH)
#define HAS_ERROR_PORT 1
#endif


int main(int argc, char** argv) {
  Bench bench(argc, argv);
  Vtop* top = bench.top.get();
  auto tick = [&]() { bench.tick(); };

#ifdef HAS_WEIGHT_FETCH
  AxiMemory<Vtop> mem;
  bench.drive = [&]() { mem.drive(top); };
  bench.sample = [&]() { mem.sample(top); };
#endif
  top->start = 0;
  top->s_axis_tvalid = 0;
  top->m_axis_tready = 0;
  top->reset = 1;
  tick();
  tick();
  top->reset = 0;
  tick();

  std::vector<uint8_t> pixels;
  std::vector<uint16_t> beats;
  std::vector<int32_t> logits, lasts, trace;
  for (;;) {
    int32_t hdr[5];
    if (!read_exact(hdr, sizeof(int32_t)) || (hdr[0] <= 0 && hdr[0] != -1 && hdr[0] != -4)) break;
    if (!read_exact(hdr + 1, 4 * sizeof(int32_t))) return 2;
    if (hdr[0] == -4) {
      WeightImage image;
      if (!read_weight_image(hdr, image)) return 2;
      int32_t result = -1;
#ifdef HAS_WEIGHT_FETCH
      mem.load(image);
      top->weight_base = mem.base;
      result = 0;
#endif
      write_exact(&result, sizeof result);
      fflush(stdout);
      continue;
    }
    if (hdr[0] == -1) {
      beats.resize(hdr[1] > 0 ? hdr[1] : 0);
      if (!read_exact(beats.data(), beats.size() * sizeof(uint16_t))) return 2;
      int32_t error = -1;
      uint64_t cycles = 0;
#ifdef HAS_WEIGHT_STREAM
      const int32_t stall = hdr[2];
      rng_state = static_cast<uint32_t>(hdr[3]) | 1u;
      top->load_weights = 1;
      tick();
      top->load_weights = 0;
      size_t sent = 0;
      // Every beat offered (with stalls), then the accelerator must be idle within a bound.
      uint64_t idle_limit = 0, waiting = 0;
      while (cycles < 2000000000ull) {
        bool offer = sent < beats.size() &&
                     (stall == 0 || static_cast<int32_t>(next_rand() % 100) >= stall);
        top->s_axis_weights_tvalid = offer;
        top->s_axis_weights_tdata = offer ? beats[sent] : 0;
        top->s_axis_weights_tlast = offer && sent + 1 == beats.size();
        bench.half(0);
        const bool fire = offer && top->s_axis_weights_tready;
        bench.half(1);
        cycles++;
        exit_if_orphaned(cycles);
        if (fire) sent++;
        waiting = fire ? 0 : waiting + 1;
        if (waiting > 100000) break;  // tready never came: reported as still busy
        if (sent == beats.size()) {
          if (!top->busy) break;
          if (++idle_limit > 1000) break;
        }
      }
      top->s_axis_weights_tvalid = 0;
      top->s_axis_weights_tlast = 0;
      error = top->busy ? -2 : static_cast<int32_t>(top->error);
#endif
      write_exact(&error, sizeof error);
      write_exact(&cycles, sizeof cycles);
      fflush(stdout);
      continue;
    }
    const int32_t reset_after = hdr[4];
    const int32_t n = hdr[0];
    const int32_t stall = hdr[1];
    rng_state = static_cast<uint32_t>(hdr[2]) | 1u;
    const bool want_trace = hdr[3] != 0;
#ifdef HAS_WEIGHT_FETCH
    mem.stall = stall;
#endif
    pixels.resize(n);
    if (!read_exact(pixels.data(), n)) {
      fprintf(stderr, "harness: stimulus ended inside a batch of %d pixels\n", n);
      return 2;
    }
    logits.clear();
    lasts.clear();
    trace.clear();

    top->start = 1;
    tick();
    top->start = 0;
#ifdef HAS_ERROR_PORT
    // A start without valid weights is refused: the accelerator stays idle with its error code.
    const bool refused = !top->busy;
#else
    const bool refused = false;
#endif
    int32_t sent = 0;
    uint64_t cycles = 0;
    const uint64_t limit = 2000000000ull;
    bool finished = false;
    while (!refused && !finished && cycles < limit) {
      // Drive inputs for this cycle, then sample handshakes at the rising edge.
      bool offer = sent < n && (stall == 0 || static_cast<int32_t>(next_rand() % 100) >= stall);
      top->s_axis_tvalid = offer;
      top->s_axis_tdata = offer ? pixels[sent] : 0;
      bool ready = stall == 0 || static_cast<int32_t>(next_rand() % 100) >= stall;
      top->m_axis_tready = ready;
      bench.half(0);
      const bool in_fire = offer && top->s_axis_tready;
      const bool out_fire = ready && top->m_axis_tvalid;
      const int32_t out_data = static_cast<int32_t>(top->m_axis_tdata);
      const bool out_last = top->m_axis_tlast;
      if (want_trace) collect_trace(top, trace);
      bench.half(1);
      cycles++;
      exit_if_orphaned(cycles);
      if (in_fire) sent++;
      if (out_fire) {
        if (out_last) lasts.push_back(static_cast<int32_t>(logits.size()));
        logits.push_back(out_data);
      }
      if (top->done) finished = true;
#ifdef HAS_WEIGHT_FETCH
      // A failed fetch ends the run without done: busy falls with the error code set.
      if (!top->busy && !top->done && top->error != 0) break;
#endif
      if (reset_after > 0 && cycles == static_cast<uint64_t>(reset_after)) break;
    }
    top->s_axis_tvalid = 0;
    top->m_axis_tready = 0;
    if (reset_after > 0 && !finished) {
#ifdef HAS_WEIGHT_FETCH
      // The reset port resets the whole system, the memory's pending bursts with it.
      mem.queue.clear();
#endif
      top->reset = 1;
      tick();
      tick();
      top->reset = 0;
      top->clock = 0;
      top->eval();
    } else if (!finished && !refused && cycles >= limit) {
      fprintf(stderr, "harness: accelerator did not finish within %llu cycles\n",
              static_cast<unsigned long long>(limit));
    }
    int32_t status = (top->busy ? 1 : 0) | (top->m_axis_tvalid ? 2 : 0) |
                     (top->s_axis_tready ? 4 : 0) | (top->done ? 8 : 0);
#ifdef HAS_ERROR_PORT
    status |= static_cast<int32_t>(top->error) << 4;
#endif
    write_batch_reply(logits, lasts, top->cycles, cycles, trace, status);
  }
  return 0;
}
