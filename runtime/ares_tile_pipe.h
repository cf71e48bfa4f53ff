/* The pipeline every tiled executor runs, and the 1-D chunk executor built on it.
 *
 * Over tiles k = 0 .. n-1, two sets of L1 buffers alternating (set k & 1):
 *     load(0)
 *     for k: issue load(k+1) into the other set;
 *            wait load(k) and store(k-2) (same output buffer); compute(k) on all cores;
 *            issue store(k)
 *     wait the last two stores
 * so the transfer of the next tile overlaps the computation of this one. An executor
 * supplies one step function: step(ctx, k, 1) issues tile k's loads, step(ctx, k, 0) does
 * the rest of tile k; dout are its two output descriptors. */
#ifndef ARES_TILE_PIPE_H
#define ARES_TILE_PIPE_H

#include <stddef.h>
#include <stdint.h>

#include "ares_hal.h"

static inline void ares_tile_pipeline(int64_t ntiles, void (*step)(void *ctx, int64_t k, int load), void *ctx,
                                      ares_dma dout[2]) {
  for (int64_t i = 0; i <= ntiles; i++) {
    if (i < ntiles) step(ctx, i, 1);
    if (i > 0) step(ctx, i - 1, 0);
  }
  ares_hal_dma_wait(&dout[0]);
  ares_hal_dma_wait(&dout[1]);
}

/* One chunk of a 1-D executor as its compute function sees it (all in L1). */
typedef struct {
  const int8_t *a, *b; /* the inputs; b NULL for one input */
  void *y;             /* the output */
  int64_t n;           /* elements in the chunk */
  const void *table;   /* the L1 copy of the op's table, or NULL */
  const void *p;       /* the op's parameters */
} ares_chunk;

/* Computes elements [e0, e1) of chunk c (a core's share). */
typedef void (*ares_chunk_fn)(const ares_chunk *c, int64_t e0, int64_t e1);

/* y = fn(a[, b]) over n int8 elements in chunks of `chunk`, out_esz bytes per output
 * element; a table of table_bytes (NULL: none) is copied into L1 first. L1 layout: the
 * table, two a, two b (when b != NULL) and two y buffers (ares_elt_tile_l1_bytes,
 * ares_lut_tile_l1_bytes). */
void ares_chunks_tiled(const int8_t *a, const int8_t *b, void *y, int64_t n, size_t out_esz, const void *table,
                       size_t table_bytes, ares_chunk_fn fn, const void *p, int64_t chunk);

#endif
