/* Tiled, multi-core selective scan. A tile is tc channels x tl tokens. Channel tiles are
 * independent; within one, the chunks of tokens run in scan order (the last chunk first for
 * a reverse scan) while the state h [tc][N] stays in L1 from chunk to chunk. The cores split
 * the tile's channels; the chunk of token i+1 arrives by DMA while chunk i is computed. */
#include <string.h>

#include "ares_hal.h"
#include "ares_tile_geom.h"
#include "ares_tile_pipe.h"
#include "ares_tiled.h"

typedef struct {
  const int8_t *x, *dt, *b, *c, *z;
  int8_t *y;
  int32_t *h;
  const int32_t *a, *tab, *gt;
  const int64_t *md;
  int32_t steps, tc, n;
  const ares_scan *p;
} scan_job;

static void scan_core(void *arg, int core) {
  const scan_job *j = arg;
  int nc = ares_hal_ncores();
  int32_t c0 = j->tc * core / nc, c1 = j->tc * (core + 1) / nc;
  if (c1 > c0)
    ares_scan_s8(j->x + c0, j->dt + c0, j->b, j->c, j->z ? j->z + c0 : 0, j->y + c0, j->h + (int64_t)c0 * j->n,
                 j->a + (int64_t)c0 * j->n, j->md + c0, j->tab, j->gt, j->steps, c1 - c0, j->tc, j->n, j->p);
}

/* The DMA descriptors of the two buffer sets. */
typedef struct {
  ares_dma x[2], dt[2], b[2], c[2], z[2], a[2], md[2], out[2];
} scan_dma;

typedef struct {
  const int8_t *x, *dt, *b, *c, *z;
  int8_t *y;
  const int32_t *a;
  const int64_t *md;
  int32_t batch, len, d, n, nlt;
  const ares_scan *p;
  const ares_tile2 *t;
  int32_t *tab_l, *gt_l, *h;
  int32_t *a_b[2];
  int64_t *md_b[2];
  int8_t *x_b[2], *d_b[2], *y_b[2], *b_b[2], *c_b[2], *z_b[2];
  ares_dma *dtab, *dgt; /* the tables' */
  scan_dma *dm;
  scan_job *job; /* [2] */
} scan_run;

/* Tile k -> (channel tile, sequence, chunk), channel tiles outermost. */
static void scan_step(void *ctx, int64_t k, int load) {
  scan_run *r = ctx;
  scan_dma *dm = r->dm;
  int32_t tl = r->t->th, tc = r->t->tc, batch = r->batch, nlt = r->nlt, len = r->len, d = r->d, n = r->n;
  int bf = (int)(k & 1);
  int32_t ct = (int32_t)(k / ((int64_t)batch * nlt)), bi = (int32_t)(k / nlt % batch), q = (int32_t)(k % nlt);
  int32_t lt = r->p->direction ? nlt - 1 - q : q; /* the chunk in time */
  int32_t c0 = ct * tc, tcc = imin(tc, d - c0), t0 = lt * tl, steps = imin(tl, len - t0);
  int64_t row = (int64_t)bi * len + t0;
  if (load) {
    ares_hal_dma_2d(&dm->x[bf], r->x_b[bf], r->x + row * d + c0, (size_t)tcc, (size_t)steps, (size_t)tcc, (size_t)d);
    ares_hal_dma_2d(&dm->dt[bf], r->d_b[bf], r->dt + row * d + c0, (size_t)tcc, (size_t)steps, (size_t)tcc, (size_t)d);
    ares_hal_dma_1d(&dm->b[bf], r->b_b[bf], r->b + row * n, (size_t)steps * n);
    ares_hal_dma_1d(&dm->c[bf], r->c_b[bf], r->c + row * n, (size_t)steps * n);
    if (r->z)
      ares_hal_dma_2d(&dm->z[bf], r->z_b[bf], r->z + row * d + c0, (size_t)tcc, (size_t)steps, (size_t)tcc, (size_t)d);
    /* decay exponents and skip multipliers change only with the channel tile */
    if (bi == 0 && q == 0) {
      ares_hal_dma_1d(&dm->a[ct & 1], r->a_b[ct & 1], r->a + (int64_t)c0 * n, (size_t)tcc * n * 4);
      ares_hal_dma_1d(&dm->md[ct & 1], r->md_b[ct & 1], r->md + c0, (size_t)tcc * 8);
    }
    r->job[bf] = (scan_job){r->x_b[bf], r->d_b[bf], r->b_b[bf], r->c_b[bf], r->z ? r->z_b[bf] : 0, r->y_b[bf], r->h,
                            r->a_b[ct & 1], r->tab_l, r->gt_l, r->md_b[ct & 1], steps, tcc, n, r->p};
  } else {
    ares_hal_dma_wait(r->dtab);
    ares_hal_dma_wait(r->dgt);
    ares_hal_dma_wait(&dm->z[bf]);
    ares_hal_dma_wait(&dm->x[bf]);
    ares_hal_dma_wait(&dm->dt[bf]);
    ares_hal_dma_wait(&dm->b[bf]);
    ares_hal_dma_wait(&dm->c[bf]);
    ares_hal_dma_wait(&dm->a[ct & 1]);
    ares_hal_dma_wait(&dm->md[ct & 1]);
    ares_hal_dma_wait(&dm->out[bf]); /* the store that last used this output buffer */
    if (q == 0) memset(r->h, 0, (size_t)tcc * n * 4); /* a new sequence starts from h = 0 */
    ares_hal_fork(scan_core, &r->job[bf]);
    ares_hal_dma_2d(&dm->out[bf], r->y + row * d + c0, r->y_b[bf], (size_t)tcc, (size_t)steps, (size_t)d, (size_t)tcc);
  }
}

void ares_scan_tiled(const int8_t *x, const int8_t *dt, const int8_t *b, const int8_t *c, const int8_t *z, int8_t *y,
                     const int32_t *a, const int64_t *md, const int32_t *tab, const int32_t *gt, int32_t batch, int32_t len,
                     int32_t d, int32_t n, const ares_scan *p, const ares_tile2 *t) {
  int32_t tl = t->th, tc = t->tc;
  size_t state, mds, io, bc;
  scan_sizes(n, tl, tc, &state, &mds, &io, &bc);
  int8_t *l1 = ares_hal_l1();
  ares_dma dtab = {0}, dgt = {0};
  scan_dma dm;
  memset(&dm, 0, sizeof dm);
  scan_job job[2];
  /* L1: tables, h, two a, two m_d, two sets of x dt y B C; gated: the SiLU table and two z
   * chunks after the rest (ares_scan_tile_l1_bytes) */
  int8_t *base = l1 + 2048 + 3 * state, *set0 = base + 2 * mds, *set1 = set0 + 3 * io + 2 * bc;
  int8_t *gated = set1 + 3 * io + 2 * bc;
  scan_run r = {x, dt, b, c, z, y, a, md, batch, len, d, n, (len + tl - 1) / tl, p, t,
                (int32_t *)l1, gt ? (int32_t *)gated : 0, (int32_t *)(l1 + 2048),
                {(int32_t *)(l1 + 2048 + state), (int32_t *)(l1 + 2048 + 2 * state)},
                {(int64_t *)base, (int64_t *)(base + mds)},
                {set0, set1}, {set0 + io, set1 + io}, {set0 + 2 * io, set1 + 2 * io}, {set0 + 3 * io, set1 + 3 * io},
                {set0 + 3 * io + bc, set1 + 3 * io + bc}, {gated + 1024, gated + 1024 + io}, &dtab, &dgt, &dm, job};
  ares_hal_dma_1d(&dtab, r.tab_l, tab, 2048);
  if (gt) ares_hal_dma_1d(&dgt, r.gt_l, gt, 1024);
  ares_tile_pipeline((int64_t)((d + tc - 1) / tc) * batch * r.nlt, scan_step, &r, dm.out);
}
