/* The strict DMA shared by the HAL backends that emulate a cluster (host, rv32).
 *
 * Both ends of every transfer are bounds-checked against L1 and the registered regions (L2
 * arena, weights, the network's inputs and outputs), and one end must be in L1. The
 * destination is filled with a poison pattern when the transfer is issued and the copy
 * itself happens only at ares_hal_dma_wait: a kernel that reads a buffer before waiting
 * for it computes garbage and fails validation instead of passing by luck, and a missing
 * wait leaves the descriptor pending, which the next use of it reports. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ares_hal.h"
#include "ares_hal_internal.h"

#define POISON 0xA5
#define MAX_REGIONS 4096

static struct {
  int8_t *l1;
  size_t l1_bytes;
  struct {
    const int8_t *base;
    size_t bytes;
  } reg[MAX_REGIONS];
  int nreg;
} dma;

void ares_hal_dma_setup(int8_t *l1, size_t l1_bytes) {
  dma.l1 = l1;
  dma.l1_bytes = l1_bytes;
  dma.nreg = 0;
  memset(l1, POISON, l1_bytes);
}

void ares_hal_panic(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "ares hal: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(3);
}

void ares_hal_register(const void *base, size_t bytes, const char *what) {
  if (dma.nreg == MAX_REGIONS) ares_hal_panic("too many DMA regions");
  dma.reg[dma.nreg].base = base;
  dma.reg[dma.nreg].bytes = bytes;
  (void)what;
  dma.nreg++;
}

void ares_hal_unregister_all(void) { dma.nreg = 0; }

/* [p, p + span) inside L1 (1), inside a registered region (2), or neither (0). */
static int where(const int8_t *p, size_t span) {
  if (p >= dma.l1 && span <= dma.l1_bytes && (size_t)(p - dma.l1) <= dma.l1_bytes - span) return 1;
  for (int i = 0; i < dma.nreg; i++)
    if (p >= dma.reg[i].base && span <= dma.reg[i].bytes && (size_t)(p - dma.reg[i].base) <= dma.reg[i].bytes - span)
      return 2;
  return 0;
}

void ares_hal_dma_2d(ares_dma *d, void *dst, const void *src, size_t row_bytes, size_t rows,
                     size_t dst_stride, size_t src_stride) {
  if (d->pending) ares_hal_panic("DMA descriptor reused before its wait");
  size_t dspan = rows ? (rows - 1) * dst_stride + row_bytes : 0;
  size_t sspan = rows ? (rows - 1) * src_stride + row_bytes : 0;
  int wd = where(dst, dspan), ws = where(src, sspan);
  if (!wd || !ws || (wd != 1 && ws != 1))
    ares_hal_panic("DMA out of bounds: %zu rows of %zu bytes, %p (stride %zu) -> %p (stride %zu)%s%s", rows, row_bytes,
                   src, src_stride, dst, dst_stride, !ws ? ", source outside L1/L2" : "",
                   !wd ? ", destination outside L1/L2" : (wd != 1 && ws != 1 ? ", neither end in L1" : ""));
  *d = (ares_dma){(int8_t *)dst, (const int8_t *)src, row_bytes, rows, dst_stride, src_stride, 1, {0}};
  ares_hal_copy_begin();
  for (size_t r = 0; r < rows; r++) memset(d->dst + r * dst_stride, POISON, row_bytes);
  ares_hal_copy_end();
}

void ares_hal_dma_1d(ares_dma *d, void *dst, const void *src, size_t bytes) {
  ares_hal_dma_2d(d, dst, src, bytes, 1, bytes, bytes);
}

void ares_hal_dma_wait(ares_dma *d) {
  if (!d->pending) return;
  ares_hal_copy_begin();
  for (size_t r = 0; r < d->rows; r++) memcpy(d->dst + r * d->dst_stride, d->src + r * d->src_stride, d->row_bytes);
  ares_hal_copy_end();
  d->pending = 0;
}
