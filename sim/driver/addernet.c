/* The bare-metal driver; see addernet.h and docs/accelerator.md, "The C driver". */
#include "addernet.h"

int addernet_read(struct addernet_dev *dev, uint32_t offset, uint32_t *value) {
  return dev->io.read32(dev->io.ctx, offset, value) == 0 ? ADDERNET_OK : ADDERNET_E_SLVERR;
}

int addernet_write(struct addernet_dev *dev, uint32_t offset, uint32_t value) {
  return dev->io.write32(dev->io.ctx, offset, value) == 0 ? ADDERNET_OK : ADDERNET_E_SLVERR;
}

int addernet_wait(struct addernet_dev *dev, uint32_t mask, uint32_t want) {
  uint32_t limit = dev->io.poll_limit != 0 ? dev->io.poll_limit : 1000000u;
  uint32_t i;
  for (i = 0; i < limit; i++) {
    uint32_t status = 0;
    int r = addernet_read(dev, ADDERNET_REG_STATUS, &status);
    if (r != ADDERNET_OK) return r;
    if ((status & mask) == want) return ADDERNET_OK;
  }
  return ADDERNET_E_TIMEOUT;
}

/* ERROR after a command: non-zero means the command was refused and changed nothing. */
static int check_error(struct addernet_dev *dev) {
  uint32_t code = 0;
  int r = addernet_read(dev, ADDERNET_REG_ERROR, &code);
  if (r != ADDERNET_OK) return r;
  if (code != 0) {
    dev->last_error = code;
    return ADDERNET_E_REFUSED;
  }
  return ADDERNET_OK;
}

/* Clears ERROR and a sticky DONE, so that what follows is this command's. */
static int clear_status(struct addernet_dev *dev) {
  int r = addernet_write(dev, ADDERNET_REG_ERROR, 0);
  if (r != ADDERNET_OK) return r;
  return addernet_write(dev, ADDERNET_REG_STATUS, ADDERNET_STATUS_DONE);
}

int addernet_check_ident(struct addernet_dev *dev) {
  static const uint32_t offsets[7] = {ADDERNET_REG_IDENT, ADDERNET_REG_SHAPE, ADDERNET_REG_WIDTHS,
                                      ADDERNET_REG_BATCH, ADDERNET_REG_IN_SIZE, ADDERNET_REG_CLASSES,
                                      ADDERNET_REG_NETWORK_ID};
  static const uint32_t expected[7] = {ADDERNET_IDENT_VALUE, ADDERNET_SHAPE_VALUE,
                                       ADDERNET_WIDTHS_VALUE, ADDERNET_BATCH,
                                       ADDERNET_IN_SIZE, ADDERNET_CLASSES,
                                       ADDERNET_NETWORK_ID_VALUE};
  int i;
  for (i = 0; i < 7; i++) {
    uint32_t v = 0;
    int r = addernet_read(dev, offsets[i], &v);
    if (r != ADDERNET_OK) return r;
    if (v != expected[i]) return ADDERNET_E_IDENT;
  }
  return ADDERNET_OK;
}

int addernet_init(struct addernet_dev *dev, const struct addernet_io *io) {
  if (dev == 0 || io == 0 || io->read32 == 0 || io->write32 == 0) return ADDERNET_E_ARGUMENT;
  dev->io = *io;
  dev->last_error = 0;
  dev->last_cycles = 0;
  return addernet_check_ident(dev);
}

int addernet_soft_reset(struct addernet_dev *dev) {
  return addernet_write(dev, ADDERNET_REG_CONTROL, ADDERNET_CONTROL_SOFT_RESET);
}

uint32_t addernet_crc32(const uint16_t *beats, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  size_t b;
  for (b = 0; b < n; b++) {
    unsigned i;
    for (i = 0; i < 8u * ADDERNET_WEIGHT_BEAT_BYTES; i++) {
      uint32_t bit = (crc ^ ((uint32_t)beats[b] >> i)) & 1u;
      crc = (crc >> 1) ^ (bit ? 0xEDB88320u : 0u);
    }
  }
  return crc ^ 0xFFFFFFFFu;
}

int addernet_load_weights(struct addernet_dev *dev, const uint16_t *beats, size_t n) {
  int r;
  uint32_t crc = 0;
  if (beats == 0 && n != 0) return ADDERNET_E_ARGUMENT;
  if ((r = clear_status(dev)) != ADDERNET_OK) return r;
  if ((r = addernet_write(dev, ADDERNET_REG_CONTROL, ADDERNET_CONTROL_LOAD_WEIGHTS)) != ADDERNET_OK) return r;
  if ((r = check_error(dev)) != ADDERNET_OK) return r;
  if (dev->io.send_weights == 0) return ADDERNET_E_ARGUMENT;
  if (dev->io.send_weights(dev->io.ctx, beats, n) != 0) return ADDERNET_E_STREAM;
  if ((r = addernet_wait(dev, ADDERNET_STATUS_LOADING, 0)) != ADDERNET_OK) return r;
  if ((r = check_error(dev)) != ADDERNET_OK) return r;
  if ((r = addernet_read(dev, ADDERNET_REG_WEIGHTS_CRC, &crc)) != ADDERNET_OK) return r;
  return crc == addernet_crc32(beats, n) ? ADDERNET_OK : ADDERNET_E_CRC;
}

int addernet_run(struct addernet_dev *dev, const uint8_t *pixels, uint32_t images, int32_t *logits) {
  int r;
  if (images == 0 || images > ADDERNET_BATCH || pixels == 0 || logits == 0 ||
      dev->io.send_pixels == 0 || dev->io.receive_logits == 0) {
    return ADDERNET_E_ARGUMENT;
  }
  if ((r = clear_status(dev)) != ADDERNET_OK) return r;
  if ((r = addernet_write(dev, ADDERNET_REG_IMAGES, images)) != ADDERNET_OK) return r;
  if ((r = addernet_write(dev, ADDERNET_REG_CONTROL, ADDERNET_CONTROL_START)) != ADDERNET_OK) return r;
  if ((r = check_error(dev)) != ADDERNET_OK) return r;
  if (dev->io.send_pixels(dev->io.ctx, pixels, (size_t)images * ADDERNET_IN_SIZE) != 0) {
    return ADDERNET_E_STREAM;
  }
  if (dev->io.receive_logits(dev->io.ctx, logits, (size_t)images * ADDERNET_CLASSES) != 0) {
    return ADDERNET_E_STREAM;
  }
  if ((r = addernet_wait(dev, ADDERNET_STATUS_DONE, ADDERNET_STATUS_DONE)) != ADDERNET_OK) return r;
  /* DONE stays set (and irq with it, if enabled) until the next run or the caller's write of 1. */
  return addernet_read(dev, ADDERNET_REG_CYCLES, &dev->last_cycles);
}

const char *addernet_result_name(int result) {
  switch (result) {
    case ADDERNET_OK: return "ADDERNET_OK";
    case ADDERNET_E_TIMEOUT: return "ADDERNET_E_TIMEOUT";
    case ADDERNET_E_SLVERR: return "ADDERNET_E_SLVERR";
    case ADDERNET_E_IDENT: return "ADDERNET_E_IDENT";
    case ADDERNET_E_REFUSED: return "ADDERNET_E_REFUSED";
    case ADDERNET_E_ARGUMENT: return "ADDERNET_E_ARGUMENT";
    case ADDERNET_E_STREAM: return "ADDERNET_E_STREAM";
    case ADDERNET_E_CRC: return "ADDERNET_E_CRC";
    default: return "unknown";
  }
}

const char *addernet_error_name(uint32_t code) {
  switch (code) {
    case ADDERNET_ERROR_NONE: return "none";
    case ADDERNET_ERROR_WEIGHTS_SHORT: return "weights short";
    case ADDERNET_ERROR_WEIGHTS_LONG: return "weights long";
    case ADDERNET_ERROR_NO_WEIGHTS: return "start without weights";
    case ADDERNET_ERROR_START_BUSY: return "start while busy";
    case ADDERNET_ERROR_LOAD_BUSY: return "weight load while busy";
    case ADDERNET_ERROR_BAD_IMAGES: return "image count 0 or beyond the batch";
    case ADDERNET_ERROR_NO_WEIGHT_PORT: return "weight load in a ROM build";
    case ADDERNET_ERROR_TWO_COMMANDS: return "start and weight load in one write";
    default: return "unknown";
  }
}
