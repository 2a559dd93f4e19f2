// Thin Verilator harness for the bare PE array (see README, "Co-simulation").
// Java decides what to send and what to expect; this program only clocks the model.
//
// Protocol on stdin/stdout, little-endian, repeated per batch:
//   in:  int32 n (n <= 0 ends the run), then n cycles of STIM_WORDS int32 each
//        (laid out as ports.h's set_inputs expects)
//   out: int32 m, m x int32 PE index (row * COLS + col), m x int64 value,
//        int64 cycles simulated so far
// Every output a PE presents (outValid high after a rising edge) is reported, in cycle order.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "Vtop.h"
#include "verilated.h"
#include "verilated_fst_c.h"
#include "ports.h"

static bool read_exact(void* buf, size_t bytes) {
  return fread(buf, 1, bytes, stdin) == bytes;
}

static void write_exact(const void* buf, size_t bytes) {
  if (fwrite(buf, 1, bytes, stdout) != bytes) {
    fprintf(stderr, "harness: cannot write to stdout\n");
    exit(3);
  }
}

int main(int argc, char** argv) {
  const char* trace_path = nullptr;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc) trace_path = argv[++i];
  }
  auto ctx = std::make_unique<VerilatedContext>();
  if (trace_path) ctx->traceEverOn(true);
  auto top = std::make_unique<Vtop>(ctx.get());
  std::unique_ptr<VerilatedFstC> fst;
  if (trace_path) {
    fst = std::make_unique<VerilatedFstC>();
    top->trace(fst.get(), 99);
    fst->open(trace_path);
  }

  uint64_t time = 0;
  uint64_t cycles = 0;
  auto tick = [&]() {
    top->clock = 0;
    top->eval();
    if (fst) fst->dump(time);
    time++;
    top->clock = 1;
    top->eval();
    if (fst) fst->dump(time);
    time++;
  };

  std::vector<int32_t> idle(STIM_WORDS, 0);
  set_inputs(top.get(), idle.data());
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
      set_inputs(top.get(), &stim[static_cast<size_t>(c) * STIM_WORDS]);
      tick();
      cycles++;
      collect_outputs(top.get(), pe, val);
    }
    int32_t m = static_cast<int32_t>(pe.size());
    write_exact(&m, sizeof m);
    write_exact(pe.data(), pe.size() * sizeof(int32_t));
    write_exact(val.data(), val.size() * sizeof(int64_t));
    write_exact(&cycles, sizeof cycles);
    fflush(stdout);
  }
  if (fst) fst->close();
  top->final();
  return 0;
}
