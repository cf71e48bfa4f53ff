/* rv32 backend of the HAL: qemu-system-riscv32 -machine virt, harts as the cluster's cores.
 *
 * rv32_start.S parks harts 1..n-1 until main has started; each then waits here for forks.
 * A fork publishes (fn, arg) under a new generation number; every hart runs its share and
 * counts itself done; hart 0 (the orchestrator) runs share 0 and waits for the others.
 * DMA is the strict one of ares_hal_dma.c. L1 is a static buffer of the largest size a
 * plan may ask for, of which ares_hal_init hands out exactly l1_bytes.
 *
 * Profiling (one hart, -icount): a fork runs the n shares one after another on hart 0 and
 * reads the instruction counter around each; the critical path adds the serial
 * instructions and, per fork, the largest share, leaving out the DMA's own copying. */
#include <stdint.h>
#include <string.h>

#include "ares_hal.h"
#include "ares_hal_internal.h"

#ifndef ARES_RV32_MAX_L1
#define ARES_RV32_MAX_L1 (512 * 1024)
#endif
#define MAX_HARTS 8

static int8_t l1_mem[ARES_RV32_MAX_L1] __attribute__((aligned(8)));

static struct {
  int ncores;
  volatile uint32_t generation;
  volatile uint32_t done;
  volatile uint32_t checked_in;
  void (*volatile fn)(void *, int);
  void *volatile arg;
  int profiling;
  int64_t serial, parallel, mark, copy_start;
} hal;

/* Set by main's start-up: parked harts may enter ares_rv32_worker. */
volatile uint32_t ares_rv32_go;

static inline int64_t instret(void) {
  uint32_t lo, hi, hi2;
  do {
    __asm__ volatile(".insn i 0x73, 2, %0, x0, -894" : "=r"(hi));  /* csrr instreth (0xC82) */
    __asm__ volatile(".insn i 0x73, 2, %0, x0, -1022" : "=r"(lo));  /* csrr instret (0xC02) */
    __asm__ volatile(".insn i 0x73, 2, %0, x0, -894" : "=r"(hi2));
  } while (hi != hi2);
  return (int64_t)(((uint64_t)hi << 32) | lo);
}

void ares_rv32_worker(uint32_t hart);
void ares_rv32_worker(uint32_t hart) {
  uint32_t seen = 0;
  __atomic_fetch_add(&hal.checked_in, 1, __ATOMIC_RELEASE);
  for (;;) {
    while (hal.generation == seen) {
    }
    seen = hal.generation;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if ((int)hart < hal.ncores) hal.fn(hal.arg, (int)hart);
    __atomic_fetch_add(&hal.done, 1, __ATOMIC_RELEASE);
  }
}

int ares_hal_init(int ncores, size_t l1_bytes) {
  if (ncores < 1 || ncores > MAX_HARTS || l1_bytes > sizeof l1_mem) return -1;
  hal.ncores = ncores;
  ares_hal_dma_setup(l1_mem, l1_bytes);
  __atomic_store_n(&ares_rv32_go, 1, __ATOMIC_RELEASE);
  /* every core's hart must be there (qemu -smp >= ncores); don't hang if one is missing.
   * A profiling run uses one hart and runs the shares itself. */
  for (uint32_t spin = 0; !hal.profiling && __atomic_load_n(&hal.checked_in, __ATOMIC_ACQUIRE) < (uint32_t)(ncores - 1); spin++)
    if (spin > 100000000u) ares_hal_panic("only %u of %d harts started (run qemu with -smp %d)", hal.checked_in + 1, ncores, ncores);
  return 0;
}

void ares_hal_deinit(void) {}
int ares_hal_ncores(void) { return hal.ncores; }
int8_t *ares_hal_l1(void) { return l1_mem; }

void ares_hal_fork(void (*fn)(void *arg, int core), void *arg) {
  if (hal.profiling) {
    hal.serial += instret() - hal.mark;
    int64_t longest = 0;
    for (int c = 0; c < hal.ncores; c++) {
      int64_t t0 = instret();
      fn(arg, c);
      int64_t t = instret() - t0;
      if (t > longest) longest = t;
    }
    hal.parallel += longest;
    hal.mark = instret();
    return;
  }
  hal.fn = fn;
  hal.arg = arg;
  __atomic_store_n(&hal.done, 0, __ATOMIC_RELAXED);
  __atomic_fetch_add(&hal.generation, 1, __ATOMIC_RELEASE);
  fn(arg, 0);
  /* every checked-in hart counts itself done, those beyond ncores with nothing to do */
  while (__atomic_load_n(&hal.done, __ATOMIC_ACQUIRE) < hal.checked_in) {
  }
}

int ares_hal_profile(int on) {
  hal.profiling = on;
  hal.serial = hal.parallel = 0;
  hal.mark = instret();
  return 0;
}

int64_t ares_hal_critical_path(void) {
  if (!hal.profiling) return -1;
  return hal.serial + hal.parallel + (instret() - hal.mark);
}

void ares_hal_copy_begin(void) {
  if (hal.profiling) hal.copy_start = instret();
}

void ares_hal_copy_end(void) {
  if (hal.profiling) hal.mark += instret() - hal.copy_start; /* the DMA engine's time, not a core's */
}
