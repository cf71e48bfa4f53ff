/* Tiled, double-buffered, multi-core execution of the integer ops on a cluster: tiles move
 * L2 -> L1 by DMA while the cores compute the previous tile, results move back L1 -> L2.
 * The kernels of ares_kernels.h compute each tile (split across the cores); the tile sizes
 * come from the compiler's plan-tiles pass, which sizes them with the *_l1_bytes functions
 * below - the same ones the executors use to lay out L1, so the plan and the run agree. */
#ifndef ARES_TILED_H
#define ARES_TILED_H

#include <stddef.h>
#include <stdint.h>

#include "ares_kernels.h"

/* Conv and pooling: tiles of th output rows x tc output channels (full width). For grouped
 * convs and pools tc is a multiple of the channels per group. */
typedef struct {
  int32_t th, tc;
} ares_tile2;

/* L1 bytes used by a conv / pool tiling: two input, two weight (conv) and two output
 * buffers. w_per_channel = 0 for pools; out_esz = 1 (int8) or 4 (float output). */
size_t ares_conv_tile_l1_bytes(const ares_conv_shape *s, int32_t th, int32_t tc, size_t w_per_channel, size_t out_esz);
size_t ares_linear_tile_l1_bytes(int32_t k, int32_t tr, int32_t tn, size_t out_esz);
size_t ares_elt_tile_l1_bytes(int32_t nin, int64_t chunk);

void ares_conv2d_tiled(const int8_t *x, const int8_t *w, const int32_t *bias, void *y, const ares_conv_shape *s,
                       const ares_rq *rq, const ares_tile2 *t);
/* rq == NULL: max pool; otherwise average pool with per-count requantization. */
void ares_pool_tiled(const int8_t *x, int8_t *y, const ares_pool_shape *s, const ares_rq *rq, const ares_tile2 *t);
/* Tiles of tr rows x tn output features, the whole K per row. */
void ares_linear_tiled(const int8_t *x, const int8_t *w, const int32_t *bias, void *y, int32_t rows, int32_t k,
                       int32_t n, int32_t x_zp, const ares_rq *rq, const ares_tile2 *t);
/* Elementwise (add: b != NULL; requant: b == NULL) over chunks of `chunk` elements. */
void ares_eltwise_tiled(const int8_t *a, const int8_t *b, int8_t *y, int64_t n, const ares_elt *p, int64_t chunk);

/* Rotary position encoding (runtime/ares_tiled_rope.c): the mc/ms tables in L1 for the
 * whole layer, tiles of tile_rows rows of p->d elements. */
size_t ares_rope_tile_l1_bytes(int64_t npos, int32_t d, int64_t tile_rows);
void ares_rope_tiled(const int8_t *x, int8_t *y, int64_t rows, const ares_rope *p, int64_t tile_rows);
/* Selective scan (ares_tiled_scan.c): tiles of t->tc channels x t->th tokens; x, dt, y
 * [batch][len][d], b, c [batch][len][n]; a, md, tab as for ares_scan_s8; z (like x) and gt
 * NULL unless gated. */
size_t ares_scan_tile_l1_bytes(int32_t n, int32_t tl, int32_t tc, int gated);
void ares_scan_tiled(const int8_t *x, const int8_t *dt, const int8_t *b, const int8_t *c, const int8_t *z, int8_t *y,
                     const int32_t *a, const int64_t *md, const int32_t *tab, const int32_t *gt, int32_t batch, int32_t len,
                     int32_t d, int32_t n, const ares_scan *p, const ares_tile2 *t);
/* ---- ares_tiled_lut.c: table lookups, products, means ---- */
/* L1 bytes of a table lookup over chunks of `chunk` elements: the table (256 entries of
 * out_esz bytes), two input and two output buffers. */
size_t ares_lut_tile_l1_bytes(int64_t chunk, size_t out_esz);
/* y = table[x + 128] (ftable != NULL: float32 output) over chunks of `chunk` elements; the
 * table is copied into L1 first. */
void ares_lut_tiled(const int8_t *x, void *y, int64_t n, const int8_t *table, const float *ftable, int64_t chunk);

#endif
