/* Siracusa backend of the HAL: the public PULP runtime (pulp.h). Runs on the cluster; the
 * orchestrator is core 0, forks run the share of every core between two barriers, DMA is
 * mchan (plp_dma_memcpy / plp_dma_memcpy_2d, 16-bit sizes: longer transfers are split),
 * L1 comes from pi_l1_malloc. Builds with an upstream riscv64-unknown-elf-gcc for plain
 * rv32imc against the PULP runtime; compiled only where that runtime is installed. The
 * state, the transfer shape, panic and the no-op calls are in ares_hal_chip.c. */
#include <pulp.h>
#include <stdlib.h>

#include "ares_hal.h"
#include "ares_hal_internal.h"

#define MAX_CHUNK 65535u

/* The work of the current fork, read by the workers after the barrier. */
static struct {
  void (*volatile fn)(void *, int);
  void *volatile arg;
  volatile int quit;
} hal;

int ares_hal_init(int ncores, size_t l1_bytes) {
  if (ncores > get_core_num()) return -1;
  return ares_hal_chip_init(ncores, l1_bytes, pi_l1_malloc(0, (int)l1_bytes));
}

void ares_hal_deinit(void) {
  if (ares_hal_chip.l1) pi_l1_free(0, ares_hal_chip.l1, (int)ares_hal_chip.l1_bytes);
  ares_hal_chip.l1 = NULL;
}

/* Workers (cores 1..n-1) wait at the barrier for work, run their share, meet again. */
void ares_hal_worker_loop(void);
void ares_hal_worker_loop(void) {
  for (;;) {
    synch_barrier();
    if (hal.quit) return;
    if (hal_core_id() < ares_hal_chip.ncores) hal.fn(hal.arg, hal_core_id());
    synch_barrier();
  }
}

void ares_hal_fork(void (*fn)(void *arg, int core), void *arg) {
  hal.fn = fn;
  hal.arg = arg;
  synch_barrier();
  fn(arg, 0);
  synch_barrier();
}

void ares_hal_release_workers(void);
void ares_hal_release_workers(void) {
  hal.quit = 1;
  synch_barrier();
}

/* mchan takes 16-bit sizes: each row (or the whole contiguous block) is sent in chunks;
 * the descriptor keeps the last id, and mchan completes transfers in order. */
void ares_hal_dma_2d(ares_dma *d, void *dst, const void *src, size_t row_bytes, size_t rows, size_t dst_stride,
                     size_t src_stride) {
  ares_hal_xfer x = ares_hal_chip_xfer(dst, src, row_bytes, dst_stride, src_stride);
  int to_l1 = x.to_l1;
  size_t ext_stride = x.ext_stride;
  const int8_t *ext = x.ext;
  int8_t *loc = x.loc;
  int id = -1;
  if (rows <= 1 || ext_stride == row_bytes) {
    size_t total = row_bytes * rows;
    for (size_t off = 0; off < total; off += MAX_CHUNK) {
      size_t n = total - off < MAX_CHUNK ? total - off : MAX_CHUNK;
      id = plp_dma_memcpy((unsigned int)(uintptr_t)(ext + off), (unsigned int)(uintptr_t)(loc + off), (unsigned short)n, to_l1);
    }
  } else if (row_bytes * rows <= MAX_CHUNK) {
    id = plp_dma_memcpy_2d((unsigned int)(uintptr_t)ext, (unsigned int)(uintptr_t)loc, (unsigned short)(row_bytes * rows),
                           (unsigned short)ext_stride, (unsigned short)row_bytes, to_l1);
  } else {
    for (size_t r = 0; r < rows; r++)
      for (size_t off = 0; off < row_bytes; off += MAX_CHUNK) {
        size_t n = row_bytes - off < MAX_CHUNK ? row_bytes - off : MAX_CHUNK;
        id = plp_dma_memcpy((unsigned int)(uintptr_t)(ext + r * ext_stride + off),
                            (unsigned int)(uintptr_t)(loc + r * row_bytes + off), (unsigned short)n, to_l1);
      }
  }
  d->hw[0] = (uint32_t)id;
  d->pending = 1;
}

void ares_hal_dma_wait(ares_dma *d) {
  if (!d->pending) return;
  plp_dma_wait((unsigned int)d->hw[0]);
  d->pending = 0;
}

void ares_hal_chip_exit(int status) { exit(status); }
