/*
 * Bare-metal driver of an addernet accelerator generated with AXI4-Lite control
 * (docs/accelerator.md, "Registers" and "The C driver"). It needs only <stdint.h> and
 * <stddef.h>: the caller supplies register access and the three streams as callbacks, so the
 * same code runs over memory-mapped registers with DMA, a PCIe or JTAG bridge, or a simulator
 * (the co-simulation compiles this very file into its Verilator harness).
 *
 * addernet_regs.h, generated into the same folder, holds the register map and the constants of
 * the one design this folder describes. The file is valid C99 and C++.
 */
#ifndef ADDERNET_H
#define ADDERNET_H

#include <stddef.h>
#include <stdint.h>

#include "addernet_regs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the driver's functions return: 0, or one of these; addernet_result_name() names it. */
enum addernet_result {
  ADDERNET_OK = 0,
  ADDERNET_E_TIMEOUT = -1,  /* a bounded wait on STATUS ran out (poll_limit reads) */
  ADDERNET_E_SLVERR = -2,   /* a register access was answered with SLVERR (or a bus error) */
  ADDERNET_E_IDENT = -3,    /* the identification registers are not this header's design */
  ADDERNET_E_REFUSED = -4,  /* the accelerator set ERROR; dev->last_error holds the code */
  ADDERNET_E_ARGUMENT = -5, /* an image count of 0 or beyond the batch, or a null pointer */
  ADDERNET_E_STREAM = -6,   /* a stream callback reported a failure */
  ADDERNET_E_CRC = -7       /* after a load, WEIGHTS_CRC is not the CRC of the beats sent */
};

/*
 * How the driver reaches the hardware. read32/write32 access one 32-bit register at a byte
 * offset from the accelerator's base and return the AXI response (0 OKAY, 2 SLVERR; any other
 * non-zero value is treated as SLVERR). The stream callbacks move exactly n items and return 0,
 * or non-zero if they could not (their own time-out); send_weights sets tlast on its last beat.
 * Unused callbacks may be null (send_weights in a ROM build).
 */
struct addernet_io {
  void *ctx;
  int (*read32)(void *ctx, uint32_t offset, uint32_t *value);
  int (*write32)(void *ctx, uint32_t offset, uint32_t value);
  int (*send_pixels)(void *ctx, const uint8_t *pixels, size_t n);
  int (*send_weights)(void *ctx, const uint16_t *beats, size_t n);
  int (*receive_logits)(void *ctx, int32_t *logits, size_t n);
  /* STATUS reads a wait may take before it gives up with ADDERNET_E_TIMEOUT (0: 1,000,000). */
  uint32_t poll_limit;
};

struct addernet_dev {
  struct addernet_io io;
  uint32_t last_error;  /* the ERROR code behind the last ADDERNET_E_REFUSED */
  uint32_t last_cycles; /* CYCLES after the last completed run */
};

/* Keeps io and checks the identification registers against this header (ADDERNET_E_IDENT). */
int addernet_init(struct addernet_dev *dev, const struct addernet_io *io);
/* IDENT, SHAPE, WIDTHS, BATCH, IN_SIZE, CLASSES and NETWORK_ID against this header's values. */
int addernet_check_ident(struct addernet_dev *dev);
/* Soft reset: the engine restarts (streamed weights become invalid); settings are kept. */
int addernet_soft_reset(struct addernet_dev *dev);
/*
 * A weight load (builds with a weight stream): n beats of the stream the folder's
 * tb/weights.hex holds for its own network; checks ERROR and that WEIGHTS_CRC is the CRC-32 of
 * the beats sent.
 */
int addernet_load_weights(struct addernet_dev *dev, const uint16_t *beats, size_t n);
/*
 * One run of `images` images (1..ADDERNET_REG_BATCH): sets IMAGES, starts, sends
 * images x ADDERNET_IN_SIZE pixels, receives images x ADDERNET_CLASSES logits into `logits`,
 * waits for DONE and keeps CYCLES in dev->last_cycles. DONE is left set.
 */
int addernet_run(struct addernet_dev *dev, const uint8_t *pixels, uint32_t images, int32_t *logits);

/* Register access with the response checked: ADDERNET_OK or ADDERNET_E_SLVERR. */
int addernet_read(struct addernet_dev *dev, uint32_t offset, uint32_t *value);
int addernet_write(struct addernet_dev *dev, uint32_t offset, uint32_t value);
/* Reads STATUS until (STATUS & mask) == want, at most poll_limit times. */
int addernet_wait(struct addernet_dev *dev, uint32_t mask, uint32_t want);

/* CRC-32 (zlib's) of beats taken as ADDERNET_WEIGHT_BEAT_BYTES little-endian bytes each. */
uint32_t addernet_crc32(const uint16_t *beats, size_t n);
/* "ADDERNET_E_TIMEOUT" and so on; "unknown" for anything else. */
const char *addernet_result_name(int result);
/* The name of an ERROR register code: "none", "weights short", ... */
const char *addernet_error_name(uint32_t code);

#ifdef __cplusplus
}
#endif

#endif /* ADDERNET_H */
