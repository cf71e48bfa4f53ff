/* Tiled executors of the table lookup (qlut): the same double-buffered pipeline as
 * ares_tiled.c (load tile i+1 while the cores compute tile i, store asynchronously), with
 * the 256-entry table copied into L1 once so every lookup hits L1. */
#include "ares_tiled.h"

#include <string.h>

#include "ares_hal.h"
#include "ares_tile_geom.h"

typedef struct {
  const int8_t *x;
  void *y;
  int64_t n;
  const int8_t *table;
  const float *ftable;
} lut_job;

static void lut_core(void *arg, int core) {
  const lut_job *j = arg;
  int nc = ares_hal_ncores();
  int64_t a = j->n * core / nc, e = j->n * (core + 1) / nc;
  if (e <= a) return;
  if (j->ftable) ares_lut_s8_f32(j->x + a, (float *)j->y + a, e - a, j->ftable);
  else ares_lut_s8(j->x + a, (int8_t *)j->y + a, e - a, j->table);
}

void ares_lut_tiled(const int8_t *x, void *y, int64_t n, const int8_t *table, const float *ftable, int64_t chunk) {
  size_t esz = ftable ? 4 : 1, tsz = ALIGN8(256 * esz), c = ALIGN8((size_t)chunk), co = ALIGN8((size_t)chunk * esz);
  int8_t *l1 = ares_hal_l1();
  /* the table is a constant of the generated code, not registered for DMA: the
   * orchestrator copies it */
  memcpy(l1, ftable ? (const void *)ftable : (const void *)table, 256 * esz);
  int8_t *x_b[2] = {l1 + tsz, l1 + tsz + c}, *y_b[2] = {l1 + tsz + 2 * c, l1 + tsz + 2 * c + co};
  int64_t ntiles = (n + chunk - 1) / chunk;
  ares_dma dx[2] = {{0}}, dout[2] = {{0}};
  lut_job job[2];
  for (int64_t i = 0; i <= ntiles; i++) {
    for (int phase = 0; phase < 2; phase++) {
      int64_t q = phase == 0 ? i : i - 1;
      if (q < 0 || q >= ntiles) continue;
      int k = (int)(q & 1);
      int64_t off = q * chunk, len = n - off < chunk ? n - off : chunk;
      if (phase == 0) {
        ares_hal_dma_1d(&dx[k], x_b[k], x + off, (size_t)len);
        job[k] = (lut_job){x_b[k], y_b[k], len, ftable ? 0 : l1, ftable ? (const float *)(void *)l1 : 0};
      } else {
        ares_hal_dma_wait(&dx[k]);
        ares_hal_dma_wait(&dout[k]);
        ares_hal_fork(lut_core, &job[k]);
        ares_hal_dma_1d(&dout[k], (int8_t *)y + off * (int64_t)esz, y_b[k], (size_t)len * esz);
      }
    }
  }
  ares_hal_dma_wait(&dout[0]);
  ares_hal_dma_wait(&dout[1]);
}
