/* GAP9 backend of the HAL: PMSIS (GAP SDK). Runs on the cluster: the orchestrator is the
 * core executing the cluster task, forks go to pi_cl_team_fork over the worker cores, DMA
 * is the cluster DMA (L1 side contiguous, the L2 side strided), L1 comes from
 * pi_cl_l1_malloc. Compiled only with the GAP SDK (not available on the development
 * machine): the generated project's Makefile follows the SDK's pmsis_rules.mk layout. The
 * state, the transfer shape, panic and the no-op calls are in ares_hal_chip.c. */
#include <pmsis.h>

#include "ares_hal.h"
#include "ares_hal_internal.h"

int ares_hal_init(int ncores, size_t l1_bytes) {
  return ares_hal_chip_init(ncores, l1_bytes, pi_cl_l1_malloc(NULL, (uint32_t)l1_bytes));
}

void ares_hal_deinit(void) {
  if (ares_hal_chip.l1) pi_cl_l1_free(NULL, ares_hal_chip.l1, (uint32_t)ares_hal_chip.l1_bytes);
  ares_hal_chip.l1 = NULL;
}

typedef struct {
  void (*fn)(void *, int);
  void *arg;
} fork_args;

static void team_entry(void *p) {
  fork_args *f = p;
  f->fn(f->arg, (int)pi_core_id());
}

void ares_hal_fork(void (*fn)(void *arg, int core), void *arg) {
  fork_args f = {fn, arg};
  pi_cl_team_fork(ares_hal_chip.ncores, team_entry, &f);
}

void ares_hal_dma_2d(ares_dma *d, void *dst, const void *src, size_t row_bytes, size_t rows, size_t dst_stride,
                     size_t src_stride) {
  pi_cl_dma_cmd_t *cmd = (pi_cl_dma_cmd_t *)d->hw;
  ares_hal_xfer x = ares_hal_chip_xfer(dst, src, row_bytes, dst_stride, src_stride);
  int to_l1 = x.to_l1;
  size_t ext_stride = x.ext_stride;
  uint32_t ext = (uint32_t)(uintptr_t)x.ext, loc = (uint32_t)(uintptr_t)x.loc;
  pi_cl_dma_dir_e dir = to_l1 ? PI_CL_DMA_DIR_EXT2LOC : PI_CL_DMA_DIR_LOC2EXT;
  if (rows <= 1 || ext_stride == row_bytes)
    pi_cl_dma_cmd(ext, loc, (uint32_t)(row_bytes * rows), dir, cmd);
  else
    pi_cl_dma_cmd_2d(ext, loc, (uint32_t)(row_bytes * rows), (uint32_t)ext_stride, (uint32_t)row_bytes, dir, cmd);
  d->pending = 1;
}

void ares_hal_dma_wait(ares_dma *d) {
  if (!d->pending) return;
  pi_cl_dma_cmd_wait((pi_cl_dma_cmd_t *)d->hw);
  d->pending = 0;
}

void ares_hal_chip_exit(int status) { pmsis_exit(status); }
