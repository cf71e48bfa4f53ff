/* Tiled rotary position encoding: the cos/sin multiplier tables come into L1 once; then
 * tiles of whole rows stream L2 -> L1 -> L2 through two input and two output buffers (the
 * pipeline of ares_tiled.c), each tile's rows split over the cores. */
#include "ares_hal.h"
#include "ares_tile_geom.h"
#include "ares_tiled.h"

typedef struct {
  const int8_t *x;
  int8_t *y;
  int64_t row0, rows;
  const ares_rope *p;
} rope_job;

static void rope_core(void *arg, int core) {
  const rope_job *j = arg;
  int nc = ares_hal_ncores();
  int64_t a = j->rows * core / nc, e = j->rows * (core + 1) / nc;
  if (e <= a) return;
  ares_rope_s8(j->x + a * j->p->d, j->y + a * j->p->d, j->row0 + a, e - a, j->p);
}

void ares_rope_tiled(const int8_t *x, int8_t *y, int64_t rows, const ares_rope *p, int64_t tile_rows) {
  size_t tb = (size_t)p->npos * (size_t)p->d * sizeof(int32_t), tab = ALIGN8(tb), c = ALIGN8((size_t)tile_rows * p->d);
  int8_t *l1 = ares_hal_l1();
  ares_dma dm[2] = {{0}};
  ares_hal_dma_1d(&dm[0], l1, p->mc, tb);
  ares_hal_dma_1d(&dm[1], l1 + tab, p->ms, tb);
  ares_rope lp = *p;
  lp.mc = (const int32_t *)(void *)l1;
  lp.ms = (const int32_t *)(void *)(l1 + tab);
  int8_t *x_b[2] = {l1 + 2 * tab, l1 + 2 * tab + c}, *y_b[2] = {l1 + 2 * tab + 2 * c, l1 + 2 * tab + 3 * c};
  int64_t ntiles = (rows + tile_rows - 1) / tile_rows;
  ares_dma dx[2] = {{0}}, dout[2] = {{0}};
  rope_job job[2];
  ares_hal_dma_wait(&dm[0]);
  ares_hal_dma_wait(&dm[1]);
  for (int64_t i = 0; i <= ntiles; i++) {
    for (int phase = 0; phase < 2; phase++) {
      int64_t q = phase == 0 ? i : i - 1;
      if (q < 0 || q >= ntiles) continue;
      int k = (int)(q & 1);
      int64_t r0 = q * tile_rows, nr = rows - r0 < tile_rows ? rows - r0 : tile_rows;
      size_t bytes = (size_t)nr * (size_t)p->d;
      if (phase == 0) {
        ares_hal_dma_1d(&dx[k], x_b[k], x + r0 * p->d, bytes);
        job[k] = (rope_job){x_b[k], y_b[k], r0, nr, &lp};
      } else {
        ares_hal_dma_wait(&dx[k]);
        ares_hal_dma_wait(&dout[k]);
        ares_hal_fork(rope_core, &job[k]);
        ares_hal_dma_1d(&dout[k], y + r0 * p->d, y_b[k], bytes);
      }
    }
  }
  ares_hal_dma_wait(&dout[0]);
  ares_hal_dma_wait(&dout[1]);
}
