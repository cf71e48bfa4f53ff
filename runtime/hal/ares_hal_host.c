/* Host backend of the HAL: the validation platform.
 *
 * Cores are pthreads (a pool: worker 0 is the calling thread). L1 is a separate
 * allocation of exactly the target's size. DMA is strict: both ends are bounds-checked
 * against L1 and the registered regions, the destination is filled with a poison pattern
 * when the transfer is issued, and the copy itself happens only at ares_hal_dma_wait - so
 * a kernel that reads a buffer before waiting for it computes garbage and fails
 * validation, instead of passing by luck. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ares_hal.h"

#define POISON 0xA5
#define MAX_CORES 64
#define MAX_REGIONS 4096

static struct {
  int ncores;
  int8_t *l1;
  size_t l1_bytes;
  struct {
    const int8_t *base;
    size_t bytes;
    const char *what;
  } reg[MAX_REGIONS];
  int nreg;
  pthread_t threads[MAX_CORES];
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  unsigned long generation; /* bumped per fork */
  int running;              /* workers still busy in this fork */
  int quit;
  void (*fn)(void *, int);
  void *arg;
} hal;

void ares_hal_panic(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "ares hal: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(3);
}

static void *worker(void *p) {
  int core = (int)(intptr_t)p;
  unsigned long seen = 0;
  pthread_mutex_lock(&hal.mu);
  for (;;) {
    while (hal.generation == seen && !hal.quit) pthread_cond_wait(&hal.go, &hal.mu);
    if (hal.quit) break;
    seen = hal.generation;
    void (*fn)(void *, int) = hal.fn;
    void *arg = hal.arg;
    pthread_mutex_unlock(&hal.mu);
    fn(arg, core);
    pthread_mutex_lock(&hal.mu);
    if (--hal.running == 0) pthread_cond_signal(&hal.done);
  }
  pthread_mutex_unlock(&hal.mu);
  return NULL;
}

int ares_hal_init(int ncores, size_t l1_bytes) {
  if (ncores < 1 || ncores > MAX_CORES) return -1;
  memset(&hal, 0, sizeof hal);
  hal.ncores = ncores;
  hal.l1_bytes = l1_bytes;
  hal.l1 = aligned_alloc(8, (l1_bytes + 7) / 8 * 8);
  if (!hal.l1) return -1;
  memset(hal.l1, POISON, l1_bytes);
  pthread_mutex_init(&hal.mu, NULL);
  pthread_cond_init(&hal.go, NULL);
  pthread_cond_init(&hal.done, NULL);
  for (int c = 1; c < ncores; c++)
    if (pthread_create(&hal.threads[c], NULL, worker, (void *)(intptr_t)c) != 0) return -1;
  return 0;
}

void ares_hal_deinit(void) {
  pthread_mutex_lock(&hal.mu);
  hal.quit = 1;
  pthread_cond_broadcast(&hal.go);
  pthread_mutex_unlock(&hal.mu);
  for (int c = 1; c < hal.ncores; c++) pthread_join(hal.threads[c], NULL);
  pthread_mutex_destroy(&hal.mu);
  pthread_cond_destroy(&hal.go);
  pthread_cond_destroy(&hal.done);
  free(hal.l1);
  hal.l1 = NULL;
}

int ares_hal_ncores(void) { return hal.ncores; }
int8_t *ares_hal_l1(void) { return hal.l1; }

void ares_hal_fork(void (*fn)(void *arg, int core), void *arg) {
  pthread_mutex_lock(&hal.mu);
  hal.fn = fn;
  hal.arg = arg;
  hal.running = hal.ncores - 1;
  hal.generation++;
  pthread_cond_broadcast(&hal.go);
  pthread_mutex_unlock(&hal.mu);
  fn(arg, 0);
  pthread_mutex_lock(&hal.mu);
  while (hal.running > 0) pthread_cond_wait(&hal.done, &hal.mu);
  pthread_mutex_unlock(&hal.mu);
}

void ares_hal_register(const void *base, size_t bytes, const char *what) {
  if (hal.nreg == MAX_REGIONS) ares_hal_panic("too many DMA regions");
  hal.reg[hal.nreg].base = base;
  hal.reg[hal.nreg].bytes = bytes;
  hal.reg[hal.nreg].what = what;
  hal.nreg++;
}

void ares_hal_unregister_all(void) { hal.nreg = 0; }

/* [p, p + span) inside L1 (1), inside a registered region (2), or neither (0). */
static int where(const int8_t *p, size_t span) {
  if (p >= hal.l1 && span <= hal.l1_bytes && (size_t)(p - hal.l1) <= hal.l1_bytes - span) return 1;
  for (int i = 0; i < hal.nreg; i++)
    if (p >= hal.reg[i].base && span <= hal.reg[i].bytes && (size_t)(p - hal.reg[i].base) <= hal.reg[i].bytes - span)
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
  *d = (ares_dma){(int8_t *)dst, (const int8_t *)src, row_bytes, rows, dst_stride, src_stride, 1};
  for (size_t r = 0; r < rows; r++) memset(d->dst + r * dst_stride, POISON, row_bytes);
}

void ares_hal_dma_1d(ares_dma *d, void *dst, const void *src, size_t bytes) {
  ares_hal_dma_2d(d, dst, src, bytes, 1, bytes, bytes);
}

void ares_hal_dma_wait(ares_dma *d) {
  if (!d->pending) return;
  for (size_t r = 0; r < d->rows; r++) memcpy(d->dst + r * d->dst_stride, d->src + r * d->src_stride, d->row_bytes);
  d->pending = 0;
}
