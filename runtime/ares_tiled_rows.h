/* Tiled execution of row-wise ops: every row of the output is computed from the same row
 * of the input alone (LayerNorm, RMSNorm, Softmax, and any op of that form). The tensor is
 * viewed as slabs [outer][n][inner] (a row: the n elements of one slab at one inner
 * position, stride inner); a tile is `tile` consecutive slabs, moved L2 -> L1 -> L2 by one
 * contiguous DMA each way, double-buffered, and its rows (tile x inner) are split evenly
 * over the cores. plan-tiles sizes the tile with ares_rows_tile_l1_bytes, the layout the
 * executor uses. */
#ifndef ARES_TILED_ROWS_H
#define ARES_TILED_ROWS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  int64_t outer;           /* slabs */
  int32_t n, inner;        /* a slab is n x inner elements */
  int32_t in_esz, out_esz; /* element sizes in bytes */
  int32_t tile;            /* slabs per tile */
  /* a constant block the row function reads (a softmax mask), copied to L1 once before the
   * first tile; side_bytes 0: none */
  int64_t side_bytes;
  const void *side;
} ares_rows_shape;

/* One tile as a row function sees it. */
typedef struct {
  const void *x; /* input slabs in L1 */
  void *y;       /* output slabs in L1 */
  int64_t slab0; /* index of the tile's first slab in the tensor (e.g. a position) */
  int32_t slabs;
  const ares_rows_shape *s;
  const void *p; /* the op's parameters, as passed to ares_rows_tiled */
  const void *side; /* the shape's side block in L1, or NULL */
} ares_rows_tile;

/* Computes rows [r0, r1) of the tile; row r is slab r / inner, position r % inner. */
typedef void (*ares_rows_fn)(const ares_rows_tile *t, int64_t r0, int64_t r1);

size_t ares_rows_tile_l1_bytes(const ares_rows_shape *s, int32_t tile);
void ares_rows_tiled(const void *x, void *y, const ares_rows_shape *s, ares_rows_fn fn, const void *p);

/* Row functions of the kernels in ares_kernels.h. */
void ares_norm_rows(const ares_rows_tile *t, int64_t r0, int64_t r1);    /* p: const ares_norm * (inner 1) */
void ares_softmax_rows(const ares_rows_tile *t, int64_t r0, int64_t r1); /* p: const ares_softmax * */

#endif
