/* Tile geometry shared by the tiled executors (ares_tiled.c) and the L1 footprint
 * functions the compiler's tiler calls (ares_tile_plan.c). */
#ifndef ARES_TILE_GEOM_H
#define ARES_TILE_GEOM_H

#include <stddef.h>
#include <stdint.h>

#include "ares_kernels.h"

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

static inline int32_t imin(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t imax(int32_t a, int32_t b) { return a > b ? a : b; }

/* Input rows a tile of output rows [oy0, oy0 + th) reads: [*lo, *hi) clipped to the input,
 * and the padding rows above it (*pad). */
static inline void tile_rows(int32_t oy0, int32_t th, int32_t sh, int32_t dh, int32_t kh, int32_t pad_t, int32_t h, int32_t *lo,
                      int32_t *hi, int32_t *pad) {
  int32_t a = oy0 * sh - pad_t, b = (oy0 + th - 1) * sh - pad_t + (kh - 1) * dh + 1;
  *lo = imax(a, 0);
  *hi = imin(b, h);
  if (*hi < *lo) *hi = *lo;
  *pad = *lo - a;
}

static inline int32_t max_in_rows(int32_t th, int32_t sh, int32_t dh, int32_t kh, int32_t h) {
  return imin((th - 1) * sh + (kh - 1) * dh + 1, h);
}

/* Input channels read by output channels [co0, co0 + tc) of a grouped conv. */
static inline void tile_in_channels(const ares_conv_shape *s, int32_t co0, int32_t tc, int32_t *ci0, int32_t *cin_t) {
  if (s->group == 1) {
    *ci0 = 0;
    *cin_t = s->cin;
  } else {
    int32_t cout_g = s->cout / s->group, cin_g = s->cin / s->group;
    *ci0 = co0 / cout_g * cin_g;
    *cin_t = (tc + cout_g - 1) / cout_g * cin_g;
  }
}

/* Selective scan tiles (tc channels x tl tokens, N states): byte sizes of the L1 buffers
 * besides the 2048 B of tables - the state h and each of the two decay-exponent buffers,
 * each skip-multiplier buffer, each x / dt / y chunk, each B / C chunk. */
static inline void scan_sizes(int32_t n, int32_t tl, int32_t tc, size_t *state, size_t *md, size_t *io, size_t *bc) {
  *state = ALIGN8((size_t)tc * (size_t)n * 4);
  *md = ALIGN8((size_t)tc * 8);
  *io = ALIGN8((size_t)tl * (size_t)tc);
  *bc = ALIGN8((size_t)tl * (size_t)n);
}

#endif
