// Thin Verilator harness for the bare PE array
// (see README, "From a trained network to checked RTL").
// Java decides what to send and what to expect; this program only clocks the model.
//
// Protocol on stdin/stdout, little-endian, repeated per batch:
//   in:  int32 n (n <= 0 ends the run), then n cycles of STIM_WORDS int32 each
//        (laid out as ports.h's set_inputs expects)
//   out: int32 m, m x int32 PE index (row * COLS + col), m x int64 value,
//        int64 cycles simulated so far
// Every output a PE presents (outValid high after a rising edge) is reported, in cycle order.
#include <vector>

#include "harness.h"
#include "ports.h"

int main(int argc, char** argv) {
  Bench bench(argc, argv);
  Vtop* top = bench.top.get();
  uint64_t cycles = 0;
  auto tick = [&]() { bench.tick(); };

  std::vector<int32_t> idle(STIM_WORDS, 0);
  set_inputs(top, idle.data());
  top->reset = 1;
  tick();
  tick();
  top->reset = 0;

  std::vector<int32_t> stim;
  std::vector<int32_t> pe;
  std::vector<int64_t> val;
  pe.reserve(ROWS * COLS);
  for (;;) {
    int32_t n = 0;
    if (!read_exact(&n, sizeof n) || n <= 0) break;
    stim.resize(static_cast<size_t>(n) * STIM_WORDS);
    if (!read_exact(stim.data(), stim.size() * sizeof(int32_t))) {
      fprintf(stderr, "harness: stimulus ended inside a batch of %d cycles\n", n);
      return 2;
    }
    pe.clear();
    val.clear();
    for (int32_t c = 0; c < n; c++) {
      set_inputs(top, &stim[static_cast<size_t>(c) * STIM_WORDS]);
      tick();
      cycles++;
      exit_if_orphaned(cycles);
      collect_outputs(top, pe, val);
    }
    int32_t m = static_cast<int32_t>(pe.size());
    write_exact(&m, sizeof m);
    write_exact(pe.data(), pe.size() * sizeof(int32_t));
    write_exact(val.data(), val.size() * sizeof(int64_t));
    write_exact(&cycles, sizeof cycles);
    fflush(stdout);
  }
  return 0;
}
