/* ARES hardware abstraction: what generated code and the tiled executors need from a
 * cluster MCU, and nothing more. One backend per platform:
 *   runtime/hal/ares_hal_host.c  pthreads as cores; L1 as a separate arena of exactly the
 *                                target's size; every DMA bounds-checked; DMA deferred to
 *                                its wait with the destination poisoned at issue.
 *   runtime/hal/ares_hal_rv32.c  harts of qemu-system-riscv32 as cores (start-up code parks
 *                                harts 1..n-1); the same strict DMA; instruction counts.
 *   runtime/hal/ares_hal_pmsis.c GAP9 through PMSIS (team fork, cluster DMA, L1 malloc).
 *   runtime/hal/ares_hal_pulp.c  Siracusa through the PULP runtime (barriers, mchan DMA).
 *
 * Model: one orchestrator (the caller of ares_net_run) drives DMA and forks work onto the
 * cluster's worker cores; a fork returns when every core has finished. */
#ifndef ARES_HAL_H
#define ARES_HAL_H

#include <stddef.h>
#include <stdint.h>

/* Starts the cluster with ncores workers and an L1 of l1_bytes; returns 0 or -1. */
int ares_hal_init(int ncores, size_t l1_bytes);
void ares_hal_deinit(void);
int ares_hal_ncores(void);

/* Runs fn(arg, core) on cores 0..ncores-1 and returns when all have returned. */
void ares_hal_fork(void (*fn)(void *arg, int core), void *arg);

/* Base of L1 (l1_bytes, 8-byte aligned). */
int8_t *ares_hal_l1(void);

/* Memory that DMA may read or write besides L1 (L2 buffers, weights, the network's inputs
 * and outputs). The host backend refuses a transfer touching anything else. */
void ares_hal_register(const void *base, size_t bytes, const char *what);
void ares_hal_unregister_all(void);

/* Asynchronous 2-D copy: rows of row_bytes, row i from src + i * src_stride to
 * dst + i * dst_stride. One side must lie in L1. The data is defined at dst only after
 * ares_hal_dma_wait(d). */
typedef struct {
  int8_t *dst;
  const int8_t *src;
  size_t row_bytes, rows, dst_stride, src_stride;
  int pending;
  uint32_t hw[8]; /* the backend's own descriptor (PMSIS command, mchan id) */
} ares_dma;
void ares_hal_dma_2d(ares_dma *d, void *dst, const void *src, size_t row_bytes, size_t rows,
                     size_t dst_stride, size_t src_stride);
void ares_hal_dma_1d(ares_dma *d, void *dst, const void *src, size_t bytes);
void ares_hal_dma_wait(ares_dma *d);

/* Instruction counting (rv32): with profiling on, a fork runs the cores' shares one after
 * another on the calling hart and counts each; the critical path is the serial
 * (orchestrator) instructions plus, per fork, the largest share - DMA copies excluded, as
 * the cluster DMA runs beside the cores. Backends without counters return -1. */
int ares_hal_profile(int on);
int64_t ares_hal_critical_path(void);

/* Reports a fatal HAL misuse (out-of-bounds DMA, ...) and stops the program. */
void ares_hal_panic(const char *fmt, ...);

#endif
