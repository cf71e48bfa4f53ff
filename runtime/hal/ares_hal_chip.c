/* What the backends of the real chips (ares_hal_pmsis.c, ares_hal_pulp.c) share: the core
 * count and the L1 their vendor's allocator returned, the shape of a cluster-DMA transfer,
 * and the HAL calls that do nothing on a chip (DMA regions, profiling). No vendor API is
 * called here; each backend keeps its own SDK calls. */
#include <stdarg.h>
#include <stdio.h>

#include "ares_hal.h"
#include "ares_hal_internal.h"

ares_hal_chip_state ares_hal_chip;

int ares_hal_chip_init(int ncores, size_t l1_bytes, void *l1) {
  ares_hal_chip.ncores = ncores;
  ares_hal_chip.l1_bytes = l1_bytes;
  ares_hal_chip.l1 = l1;
  return l1 ? 0 : -1;
}

int ares_hal_ncores(void) { return ares_hal_chip.ncores; }
int8_t *ares_hal_l1(void) { return ares_hal_chip.l1; }

/* Only the emulating backends bound-check DMA: there is nothing to record. */
void ares_hal_register(const void *base, size_t bytes, const char *what) {
  (void)base;
  (void)bytes;
  (void)what;
}

void ares_hal_unregister_all(void) {}

static int in_l1(const void *p) {
  return (const int8_t *)p >= ares_hal_chip.l1 && (const int8_t *)p < ares_hal_chip.l1 + ares_hal_chip.l1_bytes;
}

/* The cluster DMA moves rows of `row_bytes` between a contiguous L1 buffer and an L2 region
 * with a row stride; the executors only issue transfers of that shape. */
ares_hal_xfer ares_hal_chip_xfer(void *dst, const void *src, size_t row_bytes, size_t dst_stride, size_t src_stride) {
  int to_l1 = in_l1(dst);
  size_t loc_stride = to_l1 ? dst_stride : src_stride;
  if (loc_stride != row_bytes) ares_hal_panic("DMA with a strided L1 side");
  return (ares_hal_xfer){to_l1, (int8_t *)(to_l1 ? dst : src), (int8_t *)(to_l1 ? src : dst),
                         to_l1 ? src_stride : dst_stride};
}

void ares_hal_dma_1d(ares_dma *d, void *dst, const void *src, size_t bytes) {
  ares_hal_dma_2d(d, dst, src, bytes, 1, bytes, bytes);
}

/* No instruction counters on the chips: cycles are the SDK's business. */
int ares_hal_profile(int on) { return on ? -1 : 0; }
int64_t ares_hal_critical_path(void) { return -1; }

void ares_hal_panic(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("ares hal: ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  ares_hal_chip_exit(3);
}
