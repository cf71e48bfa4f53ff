/* Between the HAL backends and what they share: the strict DMA of the emulating backends
 * (ares_hal_dma.c: host, rv32) and the common part of the chip backends (ares_hal_chip.c:
 * PMSIS, PULP). */
#ifndef ARES_HAL_INTERNAL_H
#define ARES_HAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Called by a backend's init: L1's base and size, poisoned. */
void ares_hal_dma_setup(int8_t *l1, size_t l1_bytes);
/* The backend brackets the DMA's own copying (profiling excludes it). */
void ares_hal_copy_begin(void);
void ares_hal_copy_end(void);

/* ---- chip backends ---- */
typedef struct {
  int ncores;
  int8_t *l1;
  size_t l1_bytes;
} ares_hal_chip_state;
extern ares_hal_chip_state ares_hal_chip;

/* Records the cluster's cores and the L1 the vendor allocated (NULL: failed, returns -1). */
int ares_hal_chip_init(int ncores, size_t l1_bytes, void *l1);

/* A transfer as the cluster DMA sees it: the contiguous L1 side, the other side (L2) with
 * its row stride, and the direction. Panics on a strided L1 side. */
typedef struct {
  int to_l1;
  int8_t *loc, *ext;
  size_t ext_stride;
} ares_hal_xfer;
ares_hal_xfer ares_hal_chip_xfer(void *dst, const void *src, size_t row_bytes, size_t dst_stride, size_t src_stride);

/* The backend's way to stop the program after ares_hal_panic. */
void ares_hal_chip_exit(int status);

#endif
