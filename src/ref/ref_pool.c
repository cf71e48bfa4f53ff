/* Reference QMAXPOOL and QAVGPOOL. Runtime twin: runtime/kernels/ares_pool.c
 * (ares_maxpool_s8, ares_avgpool_s8). */
#include "ref_internal.h"

/* Geometry shared by both pools; rank 3 [N][C][L] is H = 1 with the identity vertically. */
typedef struct {
  ares_ref_nchw xs, ys;
  int64_t kh, kw, sh, sw, dh, dw, pad_t, pad_l;
} pool_geom;

static int pool_setup(const ares_graph *g, const ares_node *n, void **values, pool_geom *pg,
                      const int8_t **x, int8_t **y) {
  const ares_pool_params *p = &n->p.pool;
  const ares_tensor *tx, *ty;
  if (ares_ref_io_s8(g, n, values, x, &tx, y, &ty)) return -1;
  if (ares_ref_get_nchw(n, tx, "input", &pg->xs) || ares_ref_get_nchw(n, ty, "output", &pg->ys)) return -1;
  if (tx->rank != ty->rank) return ares_fail(n, "output rank %d differs from input rank %d", ty->rank, tx->rank);
  if (pg->xs.n != pg->ys.n || pg->xs.c != pg->ys.c)
    return ares_fail(n, "input [%lld, %lld, ...] and output [%lld, %lld, ...] differ in batch or channels",
                     (long long)pg->xs.n, (long long)pg->xs.c, (long long)pg->ys.n, (long long)pg->ys.c);
  int is1d = tx->rank == 3;
  pg->kh = is1d ? 1 : p->kh, pg->sh = is1d ? 1 : p->sh, pg->dh = is1d ? 1 : p->dh;
  pg->pad_t = is1d ? 0 : p->pad_t;
  pg->kw = p->kw, pg->sw = p->sw, pg->dw = p->dw, pg->pad_l = p->pad_l;
  if (pg->kh < 1 || pg->kw < 1 || pg->sh < 1 || pg->sw < 1 || pg->dh < 1 || pg->dw < 1)
    return ares_fail(n, "kernel, stride and dilation must be >= 1");
  if (pg->pad_t < 0 || pg->pad_l < 0) return ares_fail(n, "negative padding");
  return 0;
}

/* Input element of window tap (ky, kx) for output (oy, ox), or -1 when outside the input. */
static int64_t tap(const pool_geom *pg, int64_t plane, int64_t oy, int64_t ox, int64_t ky, int64_t kx) {
  int64_t iy = oy * pg->sh - pg->pad_t + ky * pg->dh;
  int64_t ix = ox * pg->sw - pg->pad_l + kx * pg->dw;
  if (iy < 0 || iy >= pg->xs.h || ix < 0 || ix >= pg->xs.w) return -1;
  return (plane * pg->xs.h + iy) * pg->xs.w + ix;
}

/* Both pools: over each output's window, the taps inside the input give
 *   max:     y = their maximum (padding never wins);
 *   average: acc = sum of (x - x_zp), cnt = their number, or kh*kw with count_include_pad;
 *            y = clamp(zp + RHE(acc * mult[cnt-1], shift[cnt-1]), qmin, qmax). */
static int pool(const ares_graph *g, const ares_node *n, void **values, int avg) {
  const ares_pool_params *p = &n->p.pool;
  const ares_requant *rq = &p->rq;
  pool_geom pg;
  const int8_t *x;
  int8_t *y;
  if (pool_setup(g, n, values, &pg, &x, &y)) return -1;
  int64_t window = pg.kh * pg.kw;
  if (avg) {
    if (p->ncount != window || rq->n != window)
      return ares_fail(n, "ncount %d / rq.n %d, expected kh*kw = %lld", p->ncount, rq->n, (long long)window);
    if (ares_ref_check_rq(n, rq, window, ARES_DT_I8) || ares_ref_check_zp(n, p->x_zp, "x_zp")) return -1;
  }
  for (int64_t plane = 0; plane < pg.ys.n * pg.ys.c; plane++)
    for (int64_t oy = 0; oy < pg.ys.h; oy++)
      for (int64_t ox = 0; ox < pg.ys.w; ox++) {
        int64_t acc = 0, cnt = 0;
        int best = 0;
        for (int64_t ky = 0; ky < pg.kh; ky++)
          for (int64_t kx = 0; kx < pg.kw; kx++) {
            int64_t at = tap(&pg, plane, oy, ox, ky, kx);
            if (at < 0) continue;
            if (!cnt || x[at] > best) best = x[at];
            acc += (int64_t)x[at] - p->x_zp;
            cnt++;
          }
        if (cnt == 0) return ares_fail(n, "output (%lld, %lld): window entirely in the padding", (long long)oy, (long long)ox);
        int64_t v = best;
        if (avg) {
          if (p->count_include_pad) cnt = window;
          if (ares_ref_check_acc(n, acc)) return -1;
          v = ares_ref_clamp((int64_t)rq->zp + ares_ref_rhe(acc * (int64_t)rq->mult[cnt - 1], rq->shift[cnt - 1]), rq->qmin,
                             rq->qmax);
        }
        y[(plane * pg.ys.h + oy) * pg.ys.w + ox] = (int8_t)v;
      }
  return 0;
}

int ares_ref_qmaxpool(const ares_graph *g, const ares_node *n, void **values) { return pool(g, n, values, 0); }
int ares_ref_qavgpool(const ares_graph *g, const ares_node *n, void **values) { return pool(g, n, values, 1); }
