/* Tiled rotary position encoding: the cos/sin multiplier tables come into L1 once; then
 * tiles of whole rows stream L2 -> L1 -> L2 through two input and two output buffers (the
 * pipeline of ares_tile_pipe.h), each tile's rows split over the cores. */
#include "ares_hal.h"
#include "ares_tile_geom.h"
#include "ares_tile_pipe.h"
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

typedef struct {
  const int8_t *x;
  int8_t *y;
  int64_t rows, tile_rows;
  const ares_rope *lp; /* the tables in L1 */
  int8_t *x_b[2], *y_b[2];
  ares_dma *dx, *dout; /* [2] each */
  rope_job *job;       /* [2] */
} rope_run;

static void rope_step(void *ctx, int64_t q, int load) {
  rope_run *p = ctx;
  int k = (int)(q & 1);
  int32_t d = p->lp->d;
  int64_t r0 = q * p->tile_rows, nr = p->rows - r0 < p->tile_rows ? p->rows - r0 : p->tile_rows;
  size_t bytes = (size_t)nr * (size_t)d;
  if (load) {
    ares_hal_dma_1d(&p->dx[k], p->x_b[k], p->x + r0 * d, bytes);
    p->job[k] = (rope_job){p->x_b[k], p->y_b[k], r0, nr, p->lp};
  } else {
    ares_hal_dma_wait(&p->dx[k]);
    ares_hal_dma_wait(&p->dout[k]);
    ares_hal_fork(rope_core, &p->job[k]);
    ares_hal_dma_1d(&p->dout[k], p->y + r0 * d, p->y_b[k], bytes);
  }
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
  ares_dma dx[2] = {{0}}, dout[2] = {{0}};
  rope_job job[2];
  rope_run r = {x, y, rows, tile_rows, &lp, {l1 + 2 * tab, l1 + 2 * tab + c}, {l1 + 2 * tab + 2 * c, l1 + 2 * tab + 3 * c},
                dx, dout, job};
  ares_hal_dma_wait(&dm[0]);
  ares_hal_dma_wait(&dm[1]);
  ares_tile_pipeline((rows + tile_rows - 1) / tile_rows, rope_step, &r, dout);
}
