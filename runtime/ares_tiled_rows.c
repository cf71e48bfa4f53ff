/* Row-wise tiled executor (ares_tiled_rows.h): the pipeline of ares_tiled.c over tiles of
 * whole slabs. Tile i's load is issued while tile i-1 is computed; a buffer is reused only
 * after its previous store has completed. */
#include "ares_tiled_rows.h"

#include "ares_hal.h"
#include "ares_kernels.h"
#include "ares_tile_geom.h"

typedef struct {
  ares_rows_tile t;
  ares_rows_fn fn;
} rows_job;

static void rows_core(void *arg, int core) {
  const rows_job *j = arg;
  int nc = ares_hal_ncores();
  int64_t rows = (int64_t)j->t.slabs * j->t.s->inner;
  int64_t a = rows * core / nc, b = rows * (core + 1) / nc;
  if (b > a) j->fn(&j->t, a, b);
}

void ares_rows_tiled(const void *x, void *y, const ares_rows_shape *s, ares_rows_fn fn, const void *p) {
  size_t slab_in = (size_t)s->n * (size_t)s->inner * (size_t)s->in_esz;
  size_t slab_out = (size_t)s->n * (size_t)s->inner * (size_t)s->out_esz;
  size_t in_sz = ALIGN8(slab_in * (size_t)s->tile), out_sz = ALIGN8(slab_out * (size_t)s->tile);
  int8_t *l1 = ares_hal_l1();
  int8_t *in_b[2] = {l1, l1 + in_sz}, *out_b[2] = {l1 + 2 * in_sz, l1 + 2 * in_sz + out_sz};
  int8_t *side = s->side_bytes ? l1 + 2 * (in_sz + out_sz) : NULL;
  int64_t ntiles = (s->outer + s->tile - 1) / s->tile;
  ares_dma din[2] = {{0}}, dout[2] = {{0}};
  rows_job job[2];
  if (side) {
    ares_dma dside = {0};
    ares_hal_dma_1d(&dside, side, s->side, (size_t)s->side_bytes);
    ares_hal_dma_wait(&dside);
  }
  for (int64_t i = 0; i <= ntiles; i++) {
    for (int phase = 0; phase < 2; phase++) {
      int64_t q = phase == 0 ? i : i - 1;
      if (q < 0 || q >= ntiles) continue;
      int k = (int)(q & 1);
      int64_t slab0 = q * s->tile;
      int32_t slabs = (int32_t)(s->outer - slab0 < s->tile ? s->outer - slab0 : s->tile);
      if (phase == 0) {
        ares_hal_dma_1d(&din[k], in_b[k], (const int8_t *)x + slab0 * (int64_t)slab_in, slab_in * (size_t)slabs);
        job[k] = (rows_job){{in_b[k], out_b[k], slab0, slabs, s, p, side}, fn};
      } else {
        ares_hal_dma_wait(&din[k]);
        ares_hal_dma_wait(&dout[k]);
        ares_hal_fork(rows_core, &job[k]);
        ares_hal_dma_1d(&dout[k], (int8_t *)y + slab0 * (int64_t)slab_out, out_b[k], slab_out * (size_t)slabs);
      }
    }
  }
  ares_hal_dma_wait(&dout[0]);
  ares_hal_dma_wait(&dout[1]);
}

void ares_norm_rows(const ares_rows_tile *t, int64_t r0, int64_t r1) {
  int64_t n = t->s->n;
  ares_norm_s8((const int8_t *)t->x + r0 * n, (int8_t *)t->y + r0 * n, t->slab0 + r0, (int32_t)(r1 - r0), t->p);
}

void ares_softmax_rows(const ares_rows_tile *t, int64_t r0, int64_t r1) {
  ares_softmax_s8(t->x, t->y, r0, r1, t->slab0 * t->s->inner, t->side, t->p);
}
