/* Tiled, multi-core execution of qmatmul (ares_matmul_s8): per batch matrix, tiles of tm
 * rows x tn columns of the output; the tile's a rows and b columns move to L1 by
 * double-buffered DMA (see ares_tiled.h for the pipeline). */
#ifndef ARES_TILED_MATMUL_H
#define ARES_TILED_MATMUL_H

#include "ares_tiled.h"

#define ARES_MATMUL_MAX_BATCH_DIMS 4

/* y [bd..., m, n] = a [..., m, k] x b [..., k, n]. Batch matrix bi of the output (bi in
 * row-major order over bd) reads a's matrix sum_i idx_i * as[i] and b's sum_i idx_i * bs[i]
 * (stride 0: a broadcast dim). */
typedef struct {
  int32_t nb;
  int32_t bd[ARES_MATMUL_MAX_BATCH_DIMS];
  int32_t as[ARES_MATMUL_MAX_BATCH_DIMS], bs[ARES_MATMUL_MAX_BATCH_DIMS];
  int32_t m, k, n;
  int32_t a_zp, b_zp;
  int32_t out_i32; /* 1: y is the int32 accumulator; 0: requantized by rq */
} ares_matmul_shape;

/* L1 bytes of a tm x tn tiling: two a-row, two b-column and two output buffers. */
size_t ares_matmul_tile_l1_bytes(int32_t k, int32_t tm, int32_t tn, size_t out_esz);

/* t->th = tm rows, t->tc = tn columns. */
void ares_matmul_tiled(const int8_t *a, const int8_t *b, void *y, const ares_matmul_shape *s, const ares_rq *rq,
                       const ares_tile2 *t);

#endif
