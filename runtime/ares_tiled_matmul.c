/* Tiled qmatmul: tiles ordered (batch matrix, column tile, row tile), so a column tile of b
 * is loaded once and serves every row tile; a's rows are reloaded per column tile. Inside
 * a tile the cores split the rows, or the columns when the tile has fewer rows than cores. */
#include "ares_tiled_matmul.h"

#include "ares_hal.h"
#include "ares_tile_geom.h"
#include "ares_tile_pipe.h"

typedef struct {
  const int8_t *a, *b;
  int8_t *y;
  int32_t tm, tn, k;
  const ares_matmul_shape *s;
  const ares_rq *rq;
  size_t esz;
} mm_job;

static void mm_core(void *arg, int core) {
  const mm_job *j = arg;
  int nc = ares_hal_ncores();
  if (j->tm >= nc) {
    int32_t r0 = j->tm * core / nc, r1 = j->tm * (core + 1) / nc;
    if (r1 > r0)
      ares_matmul_s8(j->a + (int64_t)r0 * j->k, j->b, j->y + (int64_t)r0 * j->tn * (int64_t)j->esz, r1 - r0, j->k, j->tn,
                     j->k, j->tn, j->tn, j->s->a_zp, j->s->b_zp, j->s->out_i32, j->rq);
  } else {
    int32_t c0 = j->tn * core / nc, c1 = j->tn * (core + 1) / nc;
    if (c1 > c0)
      ares_matmul_s8(j->a, j->b + c0, j->y + (int64_t)c0 * (int64_t)j->esz, j->tm, j->k, c1 - c0, j->k, j->tn, j->tn,
                     j->s->a_zp, j->s->b_zp, j->s->out_i32, j->rq);
  }
}

/* The a and b matrices of output batch matrix bi. */
static void batch_operands(const ares_matmul_shape *s, int64_t bi, int64_t *ia, int64_t *ib) {
  *ia = *ib = 0;
  for (int32_t d = s->nb - 1; d >= 0; d--) {
    int64_t i = bi % s->bd[d];
    bi /= s->bd[d];
    *ia += i * s->as[d];
    *ib += i * s->bs[d];
  }
}

typedef struct {
  const int8_t *a, *b;
  void *y;
  const ares_matmul_shape *s;
  const ares_rq *rq;
  const ares_tile2 *t;
  int32_t nct, nrt;
  size_t esz;
  int8_t *a_b[2], *b_b[2], *o_b[2];
  ares_dma *da, *db, *dout; /* [2] each */
  mm_job *job;              /* [2] */
} mm_run;

/* Tile q -> (batch matrix, column tile, row tile). */
static void mm_step(void *ctx, int64_t q, int load) {
  mm_run *p = ctx;
  const ares_matmul_shape *s = p->s;
  int32_t tm = p->t->th, tn = p->t->tc, k = s->k, m = s->m, n = s->n, nct = p->nct, nrt = p->nrt;
  int bb = (int)(q & 1);
  int64_t bi = q / ((int64_t)nct * nrt), bt = q / nrt; /* bt: the (batch, column tile) pair */
  int32_t ct = (int32_t)(bt % nct), rt = (int32_t)(q % nrt);
  int32_t n0 = ct * tn, tnn = imin(tn, n - n0), r0 = rt * tm, tmm = imin(tm, m - r0);
  int wb = (int)(bt & 1);
  if (load) {
    int64_t ia, ib;
    batch_operands(s, bi, &ia, &ib);
    ares_hal_dma_1d(&p->da[bb], p->a_b[bb], p->a + (ia * m + r0) * k, (size_t)tmm * k);
    if (rt == 0)
      ares_hal_dma_2d(&p->db[wb], p->b_b[wb], p->b + ib * k * n + n0, (size_t)tnn, (size_t)k, (size_t)tnn, (size_t)n);
    p->job[bb] = (mm_job){p->a_b[bb], p->b_b[wb], p->o_b[bb], tmm, tnn, k, s, p->rq, p->esz};
  } else {
    ares_hal_dma_wait(&p->da[bb]);
    ares_hal_dma_wait(&p->db[wb]);
    ares_hal_dma_wait(&p->dout[bb]);
    ares_hal_fork(mm_core, &p->job[bb]);
    size_t esz = p->esz;
    ares_hal_dma_2d(&p->dout[bb], (int8_t *)p->y + ((bi * m + r0) * n + n0) * (int64_t)esz, p->o_b[bb], (size_t)tnn * esz,
                    (size_t)tmm, (size_t)n * esz, (size_t)tnn * esz);
  }
}

void ares_matmul_tiled(const int8_t *a, const int8_t *b, void *y, const ares_matmul_shape *s, const ares_rq *rq,
                       const ares_tile2 *t) {
  size_t esz = s->out_i32 || rq->out_float ? 4 : 1;
  int32_t tm = t->th, tn = t->tc, k = s->k, m = s->m, n = s->n;
  size_t a_sz = ALIGN8((size_t)tm * k), b_sz = ALIGN8((size_t)k * tn), o_sz = ALIGN8((size_t)tm * tn * esz);
  int8_t *l1 = ares_hal_l1();
  ares_dma da[2] = {{0}}, db[2] = {{0}}, dout[2] = {{0}};
  mm_job job[2];
  int32_t nct = (n + tn - 1) / tn, nrt = (m + tm - 1) / tm;
  mm_run p = {a, b, y, s, rq, t, nct, nrt, esz, {l1, l1 + a_sz}, {l1 + 2 * a_sz, l1 + 2 * a_sz + b_sz},
              {l1 + 2 * (a_sz + b_sz), l1 + 2 * (a_sz + b_sz) + o_sz}, da, db, dout, job};
  int64_t nbatch = 1;
  for (int32_t d = 0; d < s->nb; d++) nbatch *= s->bd[d];
  ares_tile_pipeline(m && n ? nbatch * nct * nrt : 0, mm_step, &p, dout);
}
