/* Host backend of the HAL: the validation platform. Cores are pthreads (a pool: core 0 is
 * the calling thread); L1 is a separate allocation of exactly the target's size; DMA is
 * the strict one of ares_hal_dma.c. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ares_hal.h"
#include "ares_hal_internal.h"

#define MAX_CORES 64

static struct {
  int ncores;
  int8_t *l1;
  pthread_t threads[MAX_CORES];
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  unsigned long generation; /* bumped per fork */
  int running;              /* workers still busy in this fork */
  int quit;
  void (*fn)(void *, int);
  void *arg;
} hal;

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
  hal.l1 = aligned_alloc(8, (l1_bytes + 7) / 8 * 8);
  if (!hal.l1) return -1;
  ares_hal_dma_setup(hal.l1, l1_bytes);
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

int ares_hal_profile(int on) { return on ? -1 : 0; }
int64_t ares_hal_critical_path(void) { return -1; }

void ares_hal_copy_begin(void) {}
void ares_hal_copy_end(void) {}
