/* Tiled table lookup (qlut): the 1-D chunk executor of ares_tile_pipe.h with the 256-entry
 * table in L1, so every lookup hits L1. */
#include "ares_tiled.h"

#include "ares_tile_pipe.h"

static void lut_chunk(const ares_chunk *c, int64_t e0, int64_t e1) {
  ares_lut_s8(c->a + e0, (int8_t *)c->y + e0, e1 - e0, c->table);
}

static void lut_f32_chunk(const ares_chunk *c, int64_t e0, int64_t e1) {
  ares_lut_s8_f32(c->a + e0, (float *)c->y + e0, e1 - e0, c->table);
}

void ares_lut_tiled(const int8_t *x, void *y, int64_t n, const int8_t *table, const float *ftable, int64_t chunk) {
  if (ftable) ares_chunks_tiled(x, NULL, y, n, 4, ftable, 256 * sizeof(float), lut_f32_chunk, NULL, chunk);
  else ares_chunks_tiled(x, NULL, y, n, 1, table, 256, lut_chunk, NULL, chunk);
}
