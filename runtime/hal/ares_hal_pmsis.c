/* GAP9 backend of the HAL: PMSIS (GAP SDK). Runs on the cluster: the orchestrator is the
 * core executing the cluster task, forks go to pi_cl_team_fork over the worker cores, DMA
 * is the cluster DMA (L1 side contiguous, the L2 side strided), L1 comes from
 * pi_cl_l1_malloc. Compiled only with the GAP SDK (not available on the development
 * machine): the generated project's Makefile follows the SDK's pmsis_rules.mk layout. */
#include <pmsis.h>
#include <stdarg.h>
#include <stdio.h>

#include "ares_hal.h"

static struct {
  int ncores;
  int8_t *l1;
  size_t l1_bytes;
} hal;

int ares_hal_init(int ncores, size_t l1_bytes) {
  hal.ncores = ncores;
  hal.l1_bytes = l1_bytes;
  hal.l1 = pi_cl_l1_malloc(NULL, (uint32_t)l1_bytes);
  return hal.l1 ? 0 : -1;
}

void ares_hal_deinit(void) {
  if (hal.l1) pi_cl_l1_free(NULL, hal.l1, (uint32_t)hal.l1_bytes);
  hal.l1 = NULL;
}

int ares_hal_ncores(void) { return hal.ncores; }
int8_t *ares_hal_l1(void) { return hal.l1; }

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
  pi_cl_team_fork(hal.ncores, team_entry, &f);
}

void ares_hal_register(const void *base, size_t bytes, const char *what) {
  (void)base;
  (void)bytes;
  (void)what;
}

void ares_hal_unregister_all(void) {}

static int in_l1(const void *p) { return (const int8_t *)p >= hal.l1 && (const int8_t *)p < hal.l1 + hal.l1_bytes; }

/* The cluster DMA moves rows of `row_bytes` between a contiguous L1 buffer and an L2 region
 * with a row stride; the executors only issue transfers of that shape. */
void ares_hal_dma_2d(ares_dma *d, void *dst, const void *src, size_t row_bytes, size_t rows, size_t dst_stride,
                     size_t src_stride) {
  pi_cl_dma_cmd_t *cmd = (pi_cl_dma_cmd_t *)d->hw;
  int to_l1 = in_l1(dst);
  size_t ext_stride = to_l1 ? src_stride : dst_stride, loc_stride = to_l1 ? dst_stride : src_stride;
  if (loc_stride != row_bytes) ares_hal_panic("DMA with a strided L1 side");
  uint32_t ext = (uint32_t)(uintptr_t)(to_l1 ? src : dst), loc = (uint32_t)(uintptr_t)(to_l1 ? dst : src);
  pi_cl_dma_dir_e dir = to_l1 ? PI_CL_DMA_DIR_EXT2LOC : PI_CL_DMA_DIR_LOC2EXT;
  if (rows <= 1 || ext_stride == row_bytes)
    pi_cl_dma_cmd(ext, loc, (uint32_t)(row_bytes * rows), dir, cmd);
  else
    pi_cl_dma_cmd_2d(ext, loc, (uint32_t)(row_bytes * rows), (uint32_t)ext_stride, (uint32_t)row_bytes, dir, cmd);
  d->pending = 1;
}

void ares_hal_dma_1d(ares_dma *d, void *dst, const void *src, size_t bytes) {
  ares_hal_dma_2d(d, dst, src, bytes, 1, bytes, bytes);
}

void ares_hal_dma_wait(ares_dma *d) {
  if (!d->pending) return;
  pi_cl_dma_cmd_wait((pi_cl_dma_cmd_t *)d->hw);
  d->pending = 0;
}

int ares_hal_profile(int on) { return on ? -1 : 0; }
int64_t ares_hal_critical_path(void) { return -1; }

void ares_hal_panic(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("ares hal: ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  pmsis_exit(3);
}
