/* Tiled, multi-core selective scan. A tile is tc channels x tl tokens. Channel tiles are
 * independent; within one, the chunks of tokens run in scan order (the last chunk first for
 * a reverse scan) while the state h [tc][N] stays in L1 from chunk to chunk. The cores split
 * the tile's channels; the chunk of token i+1 arrives by DMA while chunk i is computed. */
#include <string.h>

#include "ares_hal.h"
#include "ares_tile_geom.h"
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

void ares_scan_tiled(const int8_t *x, const int8_t *dt, const int8_t *b, const int8_t *c, const int8_t *z, int8_t *y,
                     const int32_t *a, const int64_t *md, const int32_t *tab, const int32_t *gt, int32_t batch, int32_t len,
                     int32_t d, int32_t n, const ares_scan *p, const ares_tile2 *t) {
  int32_t tl = t->th, tc = t->tc;
  size_t state, mds, io, bc;
  scan_sizes(n, tl, tc, &state, &mds, &io, &bc);
  int8_t *l1 = ares_hal_l1();
  int32_t *tab_l = (int32_t *)l1, *gt_l, *h = (int32_t *)(l1 + 2048);
  int32_t *a_b[2] = {(int32_t *)(l1 + 2048 + state), (int32_t *)(l1 + 2048 + 2 * state)};
  int8_t *base = l1 + 2048 + 3 * state;
  int64_t *md_b[2] = {(int64_t *)base, (int64_t *)(base + mds)};
  base += 2 * mds;
  int8_t *x_b[2], *d_b[2], *y_b[2], *b_b[2], *c_b[2], *z_b[2];
  for (int i = 0; i < 2; i++, base += 3 * io + 2 * bc) {
    x_b[i] = base;
    d_b[i] = base + io;
    y_b[i] = base + 2 * io;
    b_b[i] = base + 3 * io;
    c_b[i] = base + 3 * io + bc;
  }
  /* gated: the SiLU table, then two z chunks, after the rest (ares_scan_tile_l1_bytes) */
  gt_l = (int32_t *)base;
  z_b[0] = base + 1024;
  z_b[1] = base + 1024 + io;
  int32_t nct = (d + tc - 1) / tc, nlt = (len + tl - 1) / tl;
  int64_t ntiles = (int64_t)nct * batch * nlt;
  ares_dma dtab = {0}, dgt = {0}, dx[2] = {{0}}, ddt[2] = {{0}}, db[2] = {{0}}, dcm[2] = {{0}}, dz[2] = {{0}}, da[2] = {{0}},
           dmd[2] = {{0}}, dout[2] = {{0}};
  scan_job job[2];
  ares_hal_dma_1d(&dtab, tab_l, tab, 2048);
  if (gt) ares_hal_dma_1d(&dgt, gt_l, gt, 1024);
  for (int64_t i = 0; i <= ntiles; i++) {
    for (int phase = 0; phase < 2; phase++) {
      /* phase 0: issue the loads of tile i; phase 1: compute and store tile i - 1 */
      int64_t k = phase == 0 ? i : i - 1;
      if (k < 0 || k >= ntiles) continue;
      int bf = (int)(k & 1);
      int32_t ct = (int32_t)(k / ((int64_t)batch * nlt)), bi = (int32_t)(k / nlt % batch), q = (int32_t)(k % nlt);
      int32_t lt = p->direction ? nlt - 1 - q : q; /* the chunk in time */
      int32_t c0 = ct * tc, tcc = imin(tc, d - c0), t0 = lt * tl, steps = imin(tl, len - t0);
      int64_t row = (int64_t)bi * len + t0;
      if (phase == 0) {
        ares_hal_dma_2d(&dx[bf], x_b[bf], x + row * d + c0, (size_t)tcc, (size_t)steps, (size_t)tcc, (size_t)d);
        ares_hal_dma_2d(&ddt[bf], d_b[bf], dt + row * d + c0, (size_t)tcc, (size_t)steps, (size_t)tcc, (size_t)d);
        ares_hal_dma_1d(&db[bf], b_b[bf], b + row * n, (size_t)steps * n);
        ares_hal_dma_1d(&dcm[bf], c_b[bf], c + row * n, (size_t)steps * n);
        if (z) ares_hal_dma_2d(&dz[bf], z_b[bf], z + row * d + c0, (size_t)tcc, (size_t)steps, (size_t)tcc, (size_t)d);
        /* decay exponents and skip multipliers change only with the channel tile */
        if (bi == 0 && q == 0) {
          ares_hal_dma_1d(&da[ct & 1], a_b[ct & 1], a + (int64_t)c0 * n, (size_t)tcc * n * 4);
          ares_hal_dma_1d(&dmd[ct & 1], md_b[ct & 1], md + c0, (size_t)tcc * 8);
        }
        job[bf] = (scan_job){x_b[bf], d_b[bf], b_b[bf], c_b[bf], z ? z_b[bf] : 0, y_b[bf], h, a_b[ct & 1], tab_l, gt ? gt_l : 0,
                             md_b[ct & 1], steps, tcc, n, p};
      } else {
        ares_hal_dma_wait(&dtab);
        ares_hal_dma_wait(&dgt);
        ares_hal_dma_wait(&dz[bf]);
        ares_hal_dma_wait(&dx[bf]);
        ares_hal_dma_wait(&ddt[bf]);
        ares_hal_dma_wait(&db[bf]);
        ares_hal_dma_wait(&dcm[bf]);
        ares_hal_dma_wait(&da[ct & 1]);
        ares_hal_dma_wait(&dmd[ct & 1]);
        ares_hal_dma_wait(&dout[bf]); /* the store that last used this output buffer */
        if (q == 0) memset(h, 0, (size_t)tcc * n * 4); /* a new sequence starts from h = 0 */
        ares_hal_fork(scan_core, &job[bf]);
        ares_hal_dma_2d(&dout[bf], y + row * d + c0, y_b[bf], (size_t)tcc, (size_t)steps, (size_t)d, (size_t)tcc);
      }
    }
  }
  ares_hal_dma_wait(&dout[0]);
  ares_hal_dma_wait(&dout[1]);
}
