// Verilator harness for an accelerator generated with AXI4-Lite control (the default). Every
// register access, weight load and run goes through the folder's own C driver (driver/addernet.c,
// compiled in below), so each co-simulation tests the driver as shipped. The driver's callbacks
// are implemented here: AXI4-Lite transactions and the three streams, with seeded random stalls.
//
// Protocol on stdin/stdout, little-endian: as accel_harness.cpp (weight load: int32 -1, ...;
// batch: int32 n, ...), with these differences:
//  - n pixels are n / in_size images: the run is started with that many in IMAGES (a short last
//    batch is sent as it is, not padded);
//  - reset_after > 0 stops the run once that many cycles have passed (between two register
//    transactions or stream beats) and soft-resets the accelerator through CONTROL;
//  - a weight load's fifth header word, bit 0 set: no beat carries tlast (a long stream's end);
//  - the status word: bit 0 STATUS.BUSY, bit 1 m_axis_tvalid, bit 2 s_axis_tready, bit 3 the
//    driver saw DONE, bits 4-7 the ERROR register.
// One more command, register level (int32 -3, int32 count, then count x 3 int32 (kind, a, b)),
// answered with count x (int32 result, uint32 value):
//   kind 0: read register a            -> AXI response, value
//   kind 1: write b to register a      -> AXI response, 0
//   kind 2: addernet_run of a images (zero pixels); b bit 0: the logit callback takes none
//           (so DONE never comes), b bit 1: poll_limit 50 -> driver result, last_error
//   kind 3: addernet_check_ident       -> driver result, 0
//   kind 4: addernet_soft_reset        -> driver result, 0
//   kind 5: the irq output             -> 0, irq
// A weight image (fetch builds): int32 -4, ... as accel_harness.cpp; the base is set through the
// driver (addernet_set_weight_base), whose result is the answer. In a fetch build the harness
// enables the error interrupt, and the stream callbacks give up once irq is high: a failed fetch
// ends the run without DONE, and nothing more will be taken or sent.
#include <vector>

#include "harness.h"
#include "ports.h"
#include "addernet.c"
#ifdef HAS_WEIGHT_FETCH
#include "addernet_fetch.h"
#endif

namespace {

struct Sim {
  Bench* bench = nullptr;
  Vtop* top = nullptr;
  uint64_t cycles = 0;    // since the current command began
  uint64_t abort_at = 0;  // reset_after; 0: never
  bool want_trace = false;
  int32_t stall = 0;
  bool skip_logits = false;
  bool no_tlast = false;  // a weight load's stream ends without tlast
  std::vector<int32_t> logits, lasts, trace;
};
Sim S;

#ifdef HAS_WEIGHT_FETCH
AxiMemory<Vtop> mem;
bool failed() { return S.top->irq; }
#else
bool failed() { return false; }
#endif

bool stalled() { return S.stall != 0 && static_cast<int32_t>(next_rand() % 100) < S.stall; }
bool aborted() { return S.abort_at != 0 && S.cycles >= S.abort_at; }

// The second half of a cycle: inputs are driven and outputs sampled after half(0).
void rise() {
  if (S.want_trace) collect_trace(S.top, S.trace);
  S.bench->half(1);
  S.cycles++;
  exit_if_orphaned(S.cycles);
}

const uint64_t kBusLimit = 100000;  // cycles a register access may wait for the slave

// Address and data are offered together, or (one time in four) the data a cycle later, since the
// slave must take them in either order.
int write32(void*, uint32_t offset, uint32_t value) {
  Vtop* t = S.top;
  bool aw = true, w = true;
  bool hold_w = (next_rand() & 3) == 0;
  uint64_t waited = 0;
  t->s_axi_awaddr = offset & 0xff;
  t->s_axi_wdata = value;
  t->s_axi_wstrb = 0xf;
  t->s_axi_bready = 0;
  for (; aw || w; waited++) {
    if (waited > kBusLimit) return 1;
    t->s_axi_awvalid = aw;
    t->s_axi_wvalid = w && !hold_w;
    S.bench->half(0);
    const bool aw_fire = aw && t->s_axi_awready;
    const bool w_fire = w && !hold_w && t->s_axi_wready;
    rise();
    if (aw_fire) aw = false;
    if (w_fire) w = false;
    hold_w = false;
  }
  t->s_axi_awvalid = 0;
  t->s_axi_wvalid = 0;
  t->s_axi_bready = 1;
  for (waited = 0;; waited++) {
    S.bench->half(0);
    bool b_fire = t->s_axi_bvalid;
    uint32_t resp = t->s_axi_bresp;
    rise();
    if (b_fire) {
      t->s_axi_bready = 0;
      return static_cast<int>(resp);
    }
    if (waited > kBusLimit) return 1;
  }
}

int read32(void*, uint32_t offset, uint32_t* value) {
  Vtop* t = S.top;
  t->s_axi_araddr = offset & 0xff;
  t->s_axi_arvalid = 1;
  t->s_axi_rready = 0;
  uint64_t waited = 0;
  for (;; waited++) {
    S.bench->half(0);
    bool fire = t->s_axi_arready;
    rise();
    if (fire) break;
    if (waited > kBusLimit) return 1;
  }
  t->s_axi_arvalid = 0;
  t->s_axi_rready = 1;
  for (waited = 0;; waited++) {
    S.bench->half(0);
    bool fire = t->s_axi_rvalid;
    uint32_t data = t->s_axi_rdata, resp = t->s_axi_rresp;
    rise();
    if (fire) {
      t->s_axi_rready = 0;
      *value = data;
      return static_cast<int>(resp);
    }
    if (waited > kBusLimit) return 1;
  }
}

int send_pixels(void*, const uint8_t* pixels, size_t n) {
  Vtop* t = S.top;
  size_t sent = 0;
  uint64_t idle = 0;
  while (sent < n) {
    if (aborted() || failed()) {
      t->s_axis_tvalid = 0;  // nothing stale may be offered to the next run
      return 1;
    }
    bool offer = !stalled();
    t->s_axis_tvalid = offer;
    t->s_axis_tdata = offer ? pixels[sent] : 0;
    t->m_axis_tready = 0;
    S.bench->half(0);
    bool fire = offer && t->s_axis_tready;
    rise();
    if (fire) {
      sent++;
      idle = 0;
    } else if (++idle > 10000000) {
      t->s_axis_tvalid = 0;
      return 1;
    }
  }
  t->s_axis_tvalid = 0;
  return 0;
}

int receive_logits(void*, int32_t* logits, size_t n) {
  if (S.skip_logits) return 0;
  Vtop* t = S.top;
  size_t got = 0;
  uint64_t idle = 0;
  while (got < n) {
    if (aborted() || failed()) {
      t->m_axis_tready = 0;
      return 1;
    }
    bool ready = !stalled();
    t->m_axis_tready = ready;
    S.bench->half(0);
    bool fire = ready && t->m_axis_tvalid;
    int32_t data = static_cast<int32_t>(t->m_axis_tdata);
    bool last = t->m_axis_tlast;
    rise();
    if (fire) {
      if (last) S.lasts.push_back(static_cast<int32_t>(S.logits.size()));
      S.logits.push_back(data);
      logits[got++] = data;
      idle = 0;
    } else if (++idle > 2000000000ull) {
      t->m_axis_tready = 0;
      return 1;
    }
  }
  t->m_axis_tready = 0;
  return 0;
}

#ifdef HAS_WEIGHT_STREAM
int send_weights(void*, const uint16_t* beats, size_t n) {
  Vtop* t = S.top;
  size_t sent = 0;
  uint64_t idle = 0;
  while (sent < n) {
    bool offer = !stalled();
    t->s_axis_weights_tvalid = offer;
    t->s_axis_weights_tdata = offer ? beats[sent] : 0;
    t->s_axis_weights_tlast = offer && sent + 1 == n && !S.no_tlast;
    S.bench->half(0);
    bool fire = offer && t->s_axis_weights_tready;
    rise();
    if (fire) {
      sent++;
      idle = 0;
    } else if (++idle > 100000) {
      break;  // tready never came
    }
  }
  t->s_axis_weights_tvalid = 0;
  t->s_axis_weights_tlast = 0;
  return sent == n ? 0 : 1;
}
#endif

uint32_t read_or_zero(addernet_dev* dev, uint32_t offset) {
  uint32_t v = 0;
  return addernet_read(dev, offset, &v) == ADDERNET_OK ? v : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Bench bench(argc, argv);
  S.bench = &bench;
  S.top = bench.top.get();
  Vtop* top = S.top;
  top->s_axi_awvalid = 0;
  top->s_axi_wvalid = 0;
  top->s_axi_bready = 0;
  top->s_axi_arvalid = 0;
  top->s_axi_rready = 0;
  top->s_axis_tvalid = 0;
  top->m_axis_tready = 0;
#ifdef HAS_WEIGHT_FETCH
  bench.drive = [&]() { mem.drive(top); };
  bench.sample = [&]() { mem.sample(top); };
#endif
  top->reset = 1;
  bench.tick();
  bench.tick();
  top->reset = 0;
  bench.tick();

  addernet_io io = {};
  io.read32 = read32;
  io.write32 = write32;
  io.send_pixels = send_pixels;
  io.receive_logits = receive_logits;
#ifdef HAS_WEIGHT_STREAM
  io.send_weights = send_weights;
#endif
  io.poll_limit = 1000;
  addernet_dev dev;
  if (addernet_init(&dev, &io) != ADDERNET_OK) {
    fprintf(stderr, "harness: the accelerator's identification registers are not its driver header's\n");
    return 5;
  }
#ifdef HAS_WEIGHT_FETCH
  if (addernet_write(&dev, ADDERNET_REG_IRQ_ENABLE, 2) != ADDERNET_OK) return 5;
#endif

  std::vector<uint8_t> pixels;
  std::vector<uint16_t> beats;
  std::vector<int32_t> out;
  for (;;) {
    int32_t hdr[5];
    if (!read_exact(hdr, sizeof(int32_t))) break;
    if (hdr[0] == -3) {
      int32_t count;
      if (!read_exact(&count, sizeof count) || count < 0) return 2;
      std::vector<int32_t> ops(3 * static_cast<size_t>(count));
      if (!read_exact(ops.data(), ops.size() * sizeof(int32_t))) return 2;
      S.cycles = 0;
      S.abort_at = 0;
      S.stall = 0;
#ifdef HAS_WEIGHT_FETCH
      mem.stall = 0;
#endif
      for (int32_t i = 0; i < count; i++) {
        int32_t kind = ops[3 * i], a = ops[3 * i + 1], b = ops[3 * i + 2];
        int32_t result = 0;
        uint32_t value = 0;
        if (kind == 0) {
          result = read32(nullptr, static_cast<uint32_t>(a), &value);
        } else if (kind == 1) {
          result = write32(nullptr, static_cast<uint32_t>(a), static_cast<uint32_t>(b));
        } else if (kind == 2) {
          std::vector<uint8_t> zeros(static_cast<size_t>(a > 0 ? a : 1) * ADDERNET_IN_SIZE);
          std::vector<int32_t> sink(static_cast<size_t>(a > 0 ? a : 1) * ADDERNET_CLASSES);
          S.skip_logits = (b & 1) != 0;
          dev.io.poll_limit = (b & 2) != 0 ? 50 : 1000;
          dev.last_error = 0;
          result = addernet_run(&dev, zeros.data(), static_cast<uint32_t>(a), sink.data());
          value = dev.last_error;
          S.skip_logits = false;
          dev.io.poll_limit = 1000;
          S.logits.clear();
          S.lasts.clear();
        } else if (kind == 3) {
          result = addernet_check_ident(&dev);
        } else if (kind == 4) {
          result = addernet_soft_reset(&dev);
        } else if (kind == 5) {
          top->clock = 0;
          top->eval();
          value = top->irq;
        } else {
          result = -100;
        }
        write_exact(&result, sizeof result);
        write_exact(&value, sizeof value);
      }
      fflush(stdout);
      continue;
    }
    if (hdr[0] <= 0 && hdr[0] != -1 && hdr[0] != -4) break;
    if (!read_exact(hdr + 1, 4 * sizeof(int32_t))) return 2;
    if (hdr[0] == -4) {
      WeightImage image;
      if (!read_weight_image(hdr, image)) return 2;
      int32_t result = -1;
#ifdef HAS_WEIGHT_FETCH
      mem.load(image);
      mem.stall = 0;
      S.cycles = 0;
      S.abort_at = 0;
      result = addernet_set_weight_base(&dev, mem.base);
#endif
      write_exact(&result, sizeof result);
      fflush(stdout);
      continue;
    }
    if (hdr[0] == -1) {
      beats.resize(hdr[1] > 0 ? hdr[1] : 0);
      if (!read_exact(beats.data(), beats.size() * sizeof(uint16_t))) return 2;
      int32_t error = -1;
      S.cycles = 0;
      S.abort_at = 0;
#ifdef HAS_WEIGHT_STREAM
      S.stall = hdr[2];
      rng_state = static_cast<uint32_t>(hdr[3]) | 1u;
      S.no_tlast = (hdr[4] & 1) != 0;
      int r = addernet_load_weights(&dev, beats.data(), beats.size());
      S.no_tlast = false;
      error = r == ADDERNET_OK ? 0 : r == ADDERNET_E_REFUSED ? static_cast<int32_t>(dev.last_error) : r - 1000;
#endif
      uint64_t cycles = S.cycles;
      write_exact(&error, sizeof error);
      write_exact(&cycles, sizeof cycles);
      fflush(stdout);
      continue;
    }
    const int32_t n = hdr[0];
    S.stall = hdr[1];
    rng_state = static_cast<uint32_t>(hdr[2]) | 1u;
    S.want_trace = hdr[3] != 0;
#ifdef HAS_WEIGHT_FETCH
    mem.stall = S.stall;
#endif
    S.abort_at = hdr[4] > 0 ? static_cast<uint64_t>(hdr[4]) : 0;
    S.cycles = 0;
    pixels.resize(n);
    if (!read_exact(pixels.data(), n)) {
      fprintf(stderr, "harness: stimulus ended inside a batch of %d pixels\n", n);
      return 2;
    }
    if (n % ADDERNET_IN_SIZE != 0) {
      fprintf(stderr, "harness: %d pixels are not whole images of %u\n", n, ADDERNET_IN_SIZE);
      return 2;
    }
    const uint32_t images = static_cast<uint32_t>(n) / ADDERNET_IN_SIZE;
    S.logits.clear();
    S.lasts.clear();
    S.trace.clear();
    out.resize(static_cast<size_t>(images) * ADDERNET_CLASSES);
    dev.last_error = 0;
    int r = addernet_run(&dev, pixels.data(), images, out.data());
    S.want_trace = false;
    bool completed = r == ADDERNET_OK;
    if (S.abort_at != 0 && !completed) {
      S.abort_at = 0;
      if (addernet_soft_reset(&dev) != ADDERNET_OK) {
        fprintf(stderr, "harness: the soft reset was not accepted\n");
        return 6;
      }
    } else if (!completed && r != ADDERNET_E_REFUSED) {
      fprintf(stderr, "harness: the driver's run failed: %s\n", addernet_result_name(r));
    }
    S.abort_at = 0;
    const uint32_t st = read_or_zero(&dev, ADDERNET_REG_STATUS);
    const uint32_t err = read_or_zero(&dev, ADDERNET_REG_ERROR);
    top->clock = 0;
    top->eval();
    int32_t status = ((st & ADDERNET_STATUS_BUSY) ? 1 : 0) | (top->m_axis_tvalid ? 2 : 0) |
                     (top->s_axis_tready ? 4 : 0) | (completed ? 8 : 0) |
                     static_cast<int32_t>((err & 0xf) << 4);
    write_batch_reply(S.logits, S.lasts, dev.last_cycles, S.cycles, S.trace, status);
  }
  return 0;
}
