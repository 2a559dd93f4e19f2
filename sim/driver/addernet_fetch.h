/*
 * The driver's addition for an accelerator generated with --weights fetch (docs/accelerator.md,
 * "Weights fetched from memory"): include it after addernet.h. The accelerator reads every
 * layer's weights from the folder's weights.bin, which the caller places in memory at a base
 * address that is a multiple of ADDERNET_WEIGHT_ALIGN; the base is kept across runs and soft
 * resets, and each addernet_run then fetches from it.
 */
#ifndef ADDERNET_FETCH_H
#define ADDERNET_FETCH_H

#include "addernet.h"

/*
 * Writes WEIGHT_BASE_LO and WEIGHT_BASE_HI. ADDERNET_E_ARGUMENT for a base that is not a
 * multiple of ADDERNET_WEIGHT_ALIGN (the accelerator would refuse the next START with
 * ERROR 11); ADDERNET_E_SLVERR if a write is not accepted.
 */
static inline int addernet_set_weight_base(struct addernet_dev *dev, uint64_t base) {
  int r;
  if (dev == 0 || (base % ADDERNET_WEIGHT_ALIGN) != 0) return ADDERNET_E_ARGUMENT;
  r = addernet_write(dev, ADDERNET_REG_WEIGHT_BASE_LO, (uint32_t)(base & 0xffffffffu));
  if (r != ADDERNET_OK) return r;
  return addernet_write(dev, ADDERNET_REG_WEIGHT_BASE_HI, (uint32_t)(base >> 32));
}

/* addernet_error_name, with the fetch build's codes 9, 10 and 11 named as well. */
static inline const char *addernet_fetch_error_name(uint32_t code) {
  switch (code) {
    case ADDERNET_ERROR_FETCH_RESPONSE: return "weight fetch answered SLVERR or DECERR";
    case ADDERNET_ERROR_FETCH_TIMEOUT: return "weight fetch timed out";
    case ADDERNET_ERROR_UNALIGNED_BASE: return "start with an unaligned weight base";
    default: return addernet_error_name(code);
  }
}

#endif /* ADDERNET_FETCH_H */
