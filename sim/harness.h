// Shared by the Verilator harnesses: the pipe to Java and a clocked model whose FST trace is
// compiled in but opened only when asked (--trace FILE), because tracing costs ~8x in speed.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include <unistd.h>

#include "Vtop.h"
#include "verilated.h"
#include "verilated_fst_c.h"

// The harness lives only as long as the Java side: end of input (its stdin closes) ends the run,
// a write to a closed pipe ends it by SIGPIPE (left at its default), and a long simulation checks
// now and then that its parent is still there, since a JVM killed with SIGKILL runs no shutdown
// hook and a batch can last minutes.
static bool read_exact(void* buf, size_t bytes) { return fread(buf, 1, bytes, stdin) == bytes; }

static void write_exact(const void* buf, size_t bytes) {
  if (fwrite(buf, 1, bytes, stdout) != bytes) {
    fprintf(stderr, "harness: cannot write to stdout\n");
    exit(3);
  }
}

static const pid_t parent_at_start = getppid();

/** Call every few thousand cycles: exits once the process that started the harness is gone. */
static void exit_if_orphaned(uint64_t cycle) {
  if ((cycle & 0xffff) == 0 && getppid() != parent_at_start) {
    fprintf(stderr, "harness: the Java side is gone; stopping\n");
    exit(4);
  }
}

struct Bench {
  std::unique_ptr<VerilatedContext> ctx;
  std::unique_ptr<Vtop> top;
  std::unique_ptr<VerilatedFstC> fst;
  uint64_t time = 0;

  Bench(int argc, char** argv) : ctx(std::make_unique<VerilatedContext>()) {
    const char* trace_path = nullptr;
    for (int i = 1; i < argc; i++) {
      if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc) trace_path = argv[++i];
    }
    if (trace_path) ctx->traceEverOn(true);
    top = std::make_unique<Vtop>(ctx.get());
    if (trace_path) {
      fst = std::make_unique<VerilatedFstC>();
      top->trace(fst.get(), 99);
      fst->open(trace_path);
    }
  }

  // Models on the design's ports that act every cycle (the weight memory of a fetch build):
  // drive() sets their outputs before the low half settles, sample() takes the handshakes after.
  std::function<void()> drive, sample;

  /** Drives the clock to {@code level} and settles the model. */
  void half(int level) {
    if (level == 0 && drive) drive();
    top->clock = level;
    top->eval();
    if (level == 0 && sample) sample();
    if (fst) fst->dump(time);
    time++;
  }

  void tick() {
    half(0);
    half(1);
  }

  ~Bench() {
    if (fst) fst->close();
    top->final();
  }
};

// xorshift32 for the harnesses' random stalls: the pattern depends only on the seed Java sends.
inline uint32_t rng_state = 1;
inline uint32_t next_rand() {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

// The rest of a weight image command (int32 -4, bytes, base low, base high, latency in `hdr`):
// int32 error_beat (-1 none, -2 never answer), then the bytes. Returns false on a short read.
struct WeightImage {
  std::vector<uint8_t> bytes;
  uint64_t base = 0;
  uint64_t latency = 0;
  int32_t error_beat = -1;
};
static inline bool read_weight_image(const int32_t* hdr, WeightImage& w) {
  if (!read_exact(&w.error_beat, sizeof w.error_beat) || hdr[1] < 0) return false;
  w.bytes.resize(static_cast<size_t>(hdr[1]));
  if (!read_exact(w.bytes.data(), w.bytes.size())) return false;
  w.base = static_cast<uint32_t>(hdr[2]) | (static_cast<uint64_t>(static_cast<uint32_t>(hdr[3])) << 32);
  w.latency = static_cast<uint64_t>(hdr[4]);
  return true;
}

// The memory on a fetch build's AXI4 read port (docs/accelerator.md, "Weights fetched from
// memory"): `bytes` at `base`, each burst's first beat `latency` cycles after its address
// handshake, then one beat per cycle, in order; `stall` percent of cycles withhold arready and
// rvalid. Beat number `error_beat` (counted from the image's load) answers SLVERR; a read outside
// the image answers DECERR; `silent` never answers (a timeout). A template, so that harnesses of
// builds without the port compile without its signals.
inline uint32_t next_rand();
template <class T>
struct AxiMemory {
  std::vector<uint8_t> bytes;
  uint64_t base = 0;
  uint64_t latency = 20;
  int32_t stall = 0;
  int64_t error_beat = -1;
  bool silent = false;
  uint64_t beats = 0;
  uint64_t now = 0;
  struct Burst {
    uint64_t addr;
    uint32_t left;
    uint64_t ready_at;
  };
  std::deque<Burst> queue;
  bool arready = false, rvalid = false;

  /** Holds `w` from now on, beats counted afresh. */
  void load(const WeightImage& w) {
    bytes = w.bytes;
    base = w.base;
    latency = w.latency;
    error_beat = w.error_beat >= 0 ? w.error_beat : -1;
    silent = w.error_beat == -2;
    beats = 0;
  }

  bool stalled() { return stall != 0 && static_cast<int32_t>(next_rand() % 100) < stall; }

  void drive(T* t) {
    arready = queue.size() < 16 && !stalled();
    rvalid = !silent && !queue.empty() && queue.front().ready_at <= now && !stalled();
    uint64_t data = 0;
    uint32_t resp = 0;
    if (rvalid) {
      const uint64_t a = queue.front().addr;
      if (a < base || a - base + 8 > bytes.size()) {
        resp = 3;
      } else {
        for (int i = 0; i < 8; i++) data |= static_cast<uint64_t>(bytes[a - base + i]) << (8 * i);
      }
      if (static_cast<int64_t>(beats) == error_beat) resp = 2;
    }
    t->m_axi_weights_arready = arready;
    t->m_axi_weights_rvalid = rvalid;
    t->m_axi_weights_rdata = data;
    t->m_axi_weights_rresp = resp;
    t->m_axi_weights_rlast = rvalid && queue.front().left == 1;
  }

  void sample(T* t) {
    if (rvalid && t->m_axi_weights_rready) {
      beats++;
      Burst& b = queue.front();
      b.addr += 8;
      if (--b.left == 0) queue.pop_front();
    }
    if (arready && t->m_axi_weights_arvalid) {
      const uint64_t a = t->m_axi_weights_araddr;
      const uint64_t n = static_cast<uint64_t>(t->m_axi_weights_arlen) + 1u;
      if (t->m_axi_weights_arsize != 3 || t->m_axi_weights_arburst != 1 || (a & 7) != 0 ||
          (a >> 12) != ((a + 8 * n - 1) >> 12)) {
        fprintf(stderr, "harness: AXI4 burst at 0x%llx of %llu beats (size %u, burst %u) breaks the"
                " port's rules (8-byte INCR beats, no 4 KiB boundary crossed)\n",
                static_cast<unsigned long long>(a), static_cast<unsigned long long>(n),
                static_cast<unsigned>(t->m_axi_weights_arsize), static_cast<unsigned>(t->m_axi_weights_arburst));
        exit(7);
      }
      queue.push_back({static_cast<uint64_t>(t->m_axi_weights_araddr),
                       static_cast<uint32_t>(t->m_axi_weights_arlen) + 1u, now + latency});
    }
    now++;
  }
};

// One batch's reply, as AccelSimulator reads it (the protocol comment in accel_harness.cpp):
// logits, tlast indices, the accelerator's cycle counter, simulated cycles, trace records of four
// int32 each, the status word.
static inline void write_batch_reply(const std::vector<int32_t>& logits,
                                     const std::vector<int32_t>& lasts, uint32_t acc_cycles,
                                     uint64_t sim_cycles, const std::vector<int32_t>& trace,
                                     int32_t status) {
  int32_t m = static_cast<int32_t>(logits.size());
  write_exact(&m, sizeof m);
  write_exact(logits.data(), logits.size() * sizeof(int32_t));
  int32_t nl = static_cast<int32_t>(lasts.size());
  write_exact(&nl, sizeof nl);
  write_exact(lasts.data(), lasts.size() * sizeof(int32_t));
  write_exact(&acc_cycles, sizeof acc_cycles);
  write_exact(&sim_cycles, sizeof sim_cycles);
  int32_t t = static_cast<int32_t>(trace.size() / 4);
  write_exact(&t, sizeof t);
  write_exact(trace.data(), trace.size() * sizeof(int32_t));
  write_exact(&status, sizeof status);
  fflush(stdout);
}
