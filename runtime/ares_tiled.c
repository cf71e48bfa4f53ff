/* Tiled executors: L2 <-> L1 by double-buffered DMA, compute split over the cores.
 *
 * Every executor runs the same pipeline over its tiles i = 0 .. n-1:
 *     load(0)
 *     for i: wait load(i); issue load(i+1) into the other buffer;
 *            wait store(i-2) (same output buffer); compute(i) on all cores; issue store(i)
 *     wait the last stores
 * so the transfer of the next tile overlaps the computation of this one. */
#include "ares_tiled.h"

#include <string.h>

#include "ares_hal.h"
#include "ares_tile_geom.h"

/* The rq of channels [c0, ...): per-channel arrays offset, per-tensor ones shared. */
static ares_rq rq_slice(const ares_rq *rq, int32_t c0) {
  ares_rq r = *rq;
  if (rq->n > 1) {
    if (r.mult) r.mult += c0;
    if (r.shift) r.shift += c0;
    if (r.add) r.add += c0;
    if (r.fscale) r.fscale += c0;
    if (r.fbias) r.fbias += c0;
  }
  return r;
}

/* ---- conv ---------------------------------------------------------------------------- */
typedef struct {
  const ares_conv_shape *s;
  const ares_rq *rq;
  const int32_t *bias;
  size_t esz;
  /* the tile being computed */
  const int8_t *x, *w;
  int8_t *y;
  int32_t co0, tc, cin_t, rows, pad, oh;
} conv_job;

/* Output channels [c0, c1) x rows [r0, r1) of the tile in L1. */
static void conv_part(const conv_job *j, int32_t c0, int32_t c1, int32_t r0, int32_t r1) {
  const ares_conv_shape *s = j->s;
  int32_t cout_g = s->cout / s->group, cin_g = s->cin / s->group, wpc = cin_g * s->kh * s->kw;
  /* rows [r0, r1) read the tile's input from row r0 * sh - pad on: expressed as a (possibly
   * negative) top padding over the whole tile, since the kernel needs whole channel planes */
  int32_t pad = j->pad - r0 * s->sh;
  int whole_rows = r0 == 0 && r1 == j->oh;
  /* whole rows: one call for the channel range (group aligned); otherwise per channel */
  int32_t step = whole_rows ? c1 - c0 : 1;
  for (int32_t c = c0; c < c1; c += step) {
    int32_t cn = imin(step, c1 - c);
    int32_t xc0 = s->group == 1 ? 0 : (j->co0 + c) / cout_g * cin_g - (j->co0 / cout_g * cin_g);
    int32_t xcn = s->group == 1 ? j->cin_t : (cn + cout_g - 1) / cout_g * cin_g;
    ares_conv_shape t = *s;
    t.n = 1;
    t.cin = xcn;
    t.h = j->rows;
    t.cout = cn;
    t.oh = r1 - r0;
    t.pad_t = pad;
    t.group = s->group == 1 ? 1 : xcn / cin_g;
    ares_rq r = rq_slice(j->rq, j->co0 + c);
    ares_conv2d_s8(j->x + (int64_t)xc0 * j->rows * s->w, j->w + (int64_t)c * wpc, j->bias ? j->bias + j->co0 + c : 0,
                   j->y + ((int64_t)c * j->oh + r0) * s->ow * (int64_t)j->esz, &t, &r);
  }
}

/* Core `core`'s share of a tile of tc channels x oh rows: whole units of `unit` channels
 * (a conv group) when there are at least as many units as cores, else a band of rows.
 * Returns 0 when the core has nothing to do. */
static int share(int32_t tc, int32_t unit, int32_t oh, int core, int32_t *c0, int32_t *c1, int32_t *r0, int32_t *r1) {
  int nc = ares_hal_ncores();
  int32_t units = (tc + unit - 1) / unit;
  if (units >= nc) {
    *c0 = units * core / nc * unit;
    *c1 = imin(units * (core + 1) / nc * unit, tc);
    *r0 = 0;
    *r1 = oh;
  } else {
    *c0 = 0;
    *c1 = tc;
    *r0 = oh * core / nc;
    *r1 = oh * (core + 1) / nc;
  }
  return *c1 > *c0 && *r1 > *r0;
}

static void conv_core(void *arg, int core) {
  const conv_job *j = arg;
  int32_t c0, c1, r0, r1;
  if (share(j->tc, j->s->group == 1 ? 1 : j->s->cout / j->s->group, j->oh, core, &c0, &c1, &r0, &r1))
    conv_part(j, c0, c1, r0, r1);
}

void ares_conv2d_tiled(const int8_t *x, const int8_t *w, const int32_t *bias, void *y, const ares_conv_shape *s,
                       const ares_rq *rq, const ares_tile2 *t) {
  size_t esz = rq->out_float || rq->out_i32 ? 4 : 1;
  int32_t cin_g = s->cin / s->group, wpc = cin_g * s->kh * s->kw;
  int32_t ci0, cin_max;
  tile_in_channels(s, 0, t->tc, &ci0, &cin_max);
  size_t in_sz = ALIGN8((size_t)cin_max * (size_t)max_in_rows(t->th, s->sh, s->dh, s->kh, s->h) * (size_t)s->w);
  size_t w_sz = ALIGN8((size_t)t->tc * (size_t)wpc), out_sz = ALIGN8((size_t)t->tc * (size_t)t->th * (size_t)s->ow * esz);
  int8_t *l1 = ares_hal_l1();
  int8_t *in_b[2] = {l1, l1 + in_sz}, *w_b[2] = {l1 + 2 * in_sz, l1 + 2 * in_sz + w_sz};
  int8_t *out_b[2] = {l1 + 2 * (in_sz + w_sz), l1 + 2 * (in_sz + w_sz) + out_sz};
  int32_t nct = (s->cout + t->tc - 1) / t->tc, nrt = (s->oh + t->th - 1) / t->th;
  int64_t ntiles = (int64_t)nct * s->n * nrt;
  ares_dma din[2] = {{0}}, dw[2] = {{0}}, dout[2] = {{0}};
  conv_job job[2];

  /* tile i -> (channel tile, image, row tile), channel tiles outermost: weights load once */
  for (int64_t i = 0; i <= ntiles; i++) {
    for (int phase = 0; phase < 2; phase++) {
      /* phase 0: issue the loads of tile i; phase 1: compute and store tile i - 1 */
      int64_t k = phase == 0 ? i : i - 1;
      if (k < 0 || k >= ntiles) continue;
      int b = (int)(k & 1);
      int32_t ct = (int32_t)(k / ((int64_t)s->n * nrt)), img = (int32_t)(k / nrt % s->n), rt = (int32_t)(k % nrt);
      int32_t co0 = ct * t->tc, tc = imin(t->tc, s->cout - co0), oy0 = rt * t->th, th = imin(t->th, s->oh - oy0);
      if (phase == 0) {
        int32_t lo, hi, pad, cin_t;
        tile_rows(oy0, th, s->sh, s->dh, s->kh, s->pad_t, s->h, &lo, &hi, &pad);
        tile_in_channels(s, co0, tc, &ci0, &cin_t);
        const int8_t *src = x + (((int64_t)img * s->cin + ci0) * s->h + lo) * s->w;
        ares_hal_dma_2d(&din[b], in_b[b], src, (size_t)(hi - lo) * s->w, (size_t)cin_t, (size_t)(hi - lo) * s->w,
                        (size_t)s->h * s->w);
        /* weights change only with the channel tile (a new tile's first row tile) */
        if (img == 0 && rt == 0) ares_hal_dma_1d(&dw[ct & 1], w_b[ct & 1], w + (int64_t)co0 * wpc, (size_t)tc * wpc);
        job[b] = (conv_job){s, rq, bias, esz, in_b[b], w_b[ct & 1], out_b[b], co0, tc, cin_t, hi - lo, pad, th};
      } else {
        ares_hal_dma_wait(&din[b]);
        ares_hal_dma_wait(&dw[ct & 1]);
        ares_hal_dma_wait(&dout[b]); /* the store that last used this output buffer */
        ares_hal_fork(conv_core, &job[b]);
        int8_t *dst = (int8_t *)y + (((int64_t)img * s->cout + co0) * s->oh + oy0) * s->ow * (int64_t)esz;
        ares_hal_dma_2d(&dout[b], dst, out_b[b], (size_t)th * s->ow * esz, (size_t)tc, (size_t)s->oh * s->ow * esz,
                        (size_t)th * s->ow * esz);
      }
    }
  }
  ares_hal_dma_wait(&dout[0]);
  ares_hal_dma_wait(&dout[1]);
}

/* ---- pooling ------------------------------------------------------------------------- */
typedef struct {
  const ares_pool_shape *s;
  const ares_rq *rq;
  const int8_t *x;
  int8_t *y;
  int32_t tc, rows, pad, oh;
} pool_job;

static void pool_part(const pool_job *j, int32_t c0, int32_t c1, int32_t r0, int32_t r1) {
  const ares_pool_shape *s = j->s;
  int32_t pad = j->pad - r0 * s->sh; /* as in conv_part: whole planes, shifted rows */
  int whole_rows = r0 == 0 && r1 == j->oh;
  int32_t step = whole_rows ? c1 - c0 : 1;
  for (int32_t c = c0; c < c1; c += step) {
    ares_pool_shape p = *s;
    p.n = 1;
    p.c = imin(step, c1 - c);
    p.h = j->rows;
    p.oh = r1 - r0;
    p.pad_t = pad;
    const int8_t *xs = j->x + (int64_t)c * j->rows * s->w;
    int8_t *ys_ = j->y + ((int64_t)c * j->oh + r0) * s->ow;
    if (j->rq) ares_avgpool_s8(xs, ys_, &p, j->rq);
    else ares_maxpool_s8(xs, ys_, &p);
  }
}

static void pool_core(void *arg, int core) {
  const pool_job *j = arg;
  int32_t c0, c1, r0, r1;
  if (share(j->tc, 1, j->oh, core, &c0, &c1, &r0, &r1)) pool_part(j, c0, c1, r0, r1);
}

void ares_pool_tiled(const int8_t *x, int8_t *y, const ares_pool_shape *s, const ares_rq *rq, const ares_tile2 *t) {
  size_t in_sz = ALIGN8((size_t)t->tc * (size_t)max_in_rows(t->th, s->sh, s->dh, s->kh, s->h) * (size_t)s->w);
  size_t out_sz = ALIGN8((size_t)t->tc * (size_t)t->th * (size_t)s->ow);
  int8_t *l1 = ares_hal_l1();
  int8_t *in_b[2] = {l1, l1 + in_sz}, *out_b[2] = {l1 + 2 * in_sz, l1 + 2 * in_sz + out_sz};
  int32_t nct = (s->c + t->tc - 1) / t->tc, nrt = (s->oh + t->th - 1) / t->th;
  int64_t ntiles = (int64_t)nct * s->n * nrt;
  ares_dma din[2] = {{0}}, dout[2] = {{0}};
  pool_job job[2];
  for (int64_t i = 0; i <= ntiles; i++) {
    for (int phase = 0; phase < 2; phase++) {
      int64_t k = phase == 0 ? i : i - 1;
      if (k < 0 || k >= ntiles) continue;
      int b = (int)(k & 1);
      int32_t ct = (int32_t)(k / ((int64_t)s->n * nrt)), img = (int32_t)(k / nrt % s->n), rt = (int32_t)(k % nrt);
      int32_t c0 = ct * t->tc, tc = imin(t->tc, s->c - c0), oy0 = rt * t->th, th = imin(t->th, s->oh - oy0);
      if (phase == 0) {
        int32_t lo, hi, pad;
        tile_rows(oy0, th, s->sh, s->dh, s->kh, s->pad_t, s->h, &lo, &hi, &pad);
        const int8_t *src = x + (((int64_t)img * s->c + c0) * s->h + lo) * s->w;
        ares_hal_dma_2d(&din[b], in_b[b], src, (size_t)(hi - lo) * s->w, (size_t)tc, (size_t)(hi - lo) * s->w,
                        (size_t)s->h * s->w);
        job[b] = (pool_job){s, rq, in_b[b], out_b[b], tc, hi - lo, pad, th};
      } else {
        ares_hal_dma_wait(&din[b]);
        ares_hal_dma_wait(&dout[b]);
        ares_hal_fork(pool_core, &job[b]);
        int8_t *dst = y + (((int64_t)img * s->c + c0) * s->oh + oy0) * s->ow;
        ares_hal_dma_2d(&dout[b], dst, out_b[b], (size_t)th * s->ow, (size_t)tc, (size_t)s->oh * s->ow, (size_t)th * s->ow);
      }
    }
  }
  ares_hal_dma_wait(&dout[0]);
  ares_hal_dma_wait(&dout[1]);
}

/* ---- linear -------------------------------------------------------------------------- */
typedef struct {
  const int8_t *x, *w;
  const int32_t *bias;
  int8_t *y;
  int32_t tr, tn, k, n0, x_zp;
  const ares_rq *rq;
  size_t esz;
} linear_job;

static void linear_core(void *arg, int core) {
  const linear_job *j = arg;
  int nc = ares_hal_ncores();
  /* split the tile's output features; each core writes its own columns */
  int32_t a = j->tn * core / nc, b = j->tn * (core + 1) / nc;
  if (j->tr == 1 && b > a) {
    ares_rq r = rq_slice(j->rq, j->n0 + a);
    ares_linear_s8(j->x, j->w + (int64_t)a * j->k, j->bias ? j->bias + j->n0 + a : 0, j->y + (int64_t)a * (int64_t)j->esz, 1,
                   j->k, b - a, j->x_zp, &r);
    return;
  }
  for (int32_t f = a; f < b; f++) {
    ares_rq r = rq_slice(j->rq, j->n0 + f);
    for (int32_t row = 0; row < j->tr; row++)
      ares_linear_s8(j->x + (int64_t)row * j->k, j->w + (int64_t)f * j->k, j->bias ? j->bias + j->n0 + f : 0,
                     j->y + ((int64_t)row * j->tn + f) * (int64_t)j->esz, 1, j->k, 1, j->x_zp, &r);
  }
}

void ares_linear_tiled(const int8_t *x, const int8_t *w, const int32_t *bias, void *y, int32_t rows, int32_t k,
                       int32_t n, int32_t x_zp, const ares_rq *rq, const ares_tile2 *t) {
  size_t esz = rq->out_float || rq->out_i32 ? 4 : 1;
  int32_t tr = t->th, tn = t->tc;
  size_t x_sz = ALIGN8((size_t)tr * k), w_sz = ALIGN8((size_t)tn * k), o_sz = ALIGN8((size_t)tr * tn * esz);
  int8_t *l1 = ares_hal_l1();
  int8_t *x_b[2] = {l1, l1 + x_sz}, *w_b[2] = {l1 + 2 * x_sz, l1 + 2 * x_sz + w_sz};
  int8_t *o_b[2] = {l1 + 2 * (x_sz + w_sz), l1 + 2 * (x_sz + w_sz) + o_sz};
  int32_t nnt = (n + tn - 1) / tn, nrt = (rows + tr - 1) / tr;
  int64_t ntiles = (int64_t)nnt * nrt;
  ares_dma dx[2] = {{0}}, dw[2] = {{0}}, dout[2] = {{0}};
  linear_job job[2];
  for (int64_t i = 0; i <= ntiles; i++) {
    for (int phase = 0; phase < 2; phase++) {
      int64_t q = phase == 0 ? i : i - 1;
      if (q < 0 || q >= ntiles) continue;
      int b = (int)(q & 1);
      int32_t nt = (int32_t)(q / nrt), rt = (int32_t)(q % nrt);
      int32_t n0 = nt * tn, tnn = imin(tn, n - n0), r0 = rt * tr, trr = imin(tr, rows - r0);
      if (phase == 0) {
        ares_hal_dma_1d(&dx[b], x_b[b], x + (int64_t)r0 * k, (size_t)trr * k);
        if (rt == 0) ares_hal_dma_1d(&dw[nt & 1], w_b[nt & 1], w + (int64_t)n0 * k, (size_t)tnn * k);
        job[b] = (linear_job){x_b[b], w_b[nt & 1], bias, o_b[b], trr, tnn, k, n0, x_zp, rq, esz};
      } else {
        ares_hal_dma_wait(&dx[b]);
        ares_hal_dma_wait(&dw[nt & 1]);
        ares_hal_dma_wait(&dout[b]);
        ares_hal_fork(linear_core, &job[b]);
        ares_hal_dma_2d(&dout[b], (int8_t *)y + ((int64_t)r0 * n + n0) * (int64_t)esz, o_b[b], (size_t)tnn * esz,
                        (size_t)trr, (size_t)n * esz, (size_t)tnn * esz);
      }
    }
  }
  ares_hal_dma_wait(&dout[0]);
  ares_hal_dma_wait(&dout[1]);
}

/* ---- elementwise --------------------------------------------------------------------- */
typedef struct {
  const int8_t *a, *b;
  int8_t *y;
  int64_t n;
  const ares_elt *p;
} elt_job;

static void elt_core(void *arg, int core) {
  const elt_job *j = arg;
  int nc = ares_hal_ncores();
  int64_t a = j->n * core / nc, e = j->n * (core + 1) / nc;
  if (e <= a) return;
  if (j->p->mul) ares_mul_s8(j->a + a, j->b + a, j->y + a, e - a, j->p);
  else if (j->b) ares_add_s8(j->a + a, j->b + a, j->y + a, e - a, j->p);
  else ares_requant_s8(j->a + a, j->y + a, e - a, j->p);
}

void ares_eltwise_tiled(const int8_t *a, const int8_t *b, int8_t *y, int64_t n, const ares_elt *p, int64_t chunk) {
  size_t c = ALIGN8((size_t)chunk);
  int8_t *l1 = ares_hal_l1();
  int8_t *a_b[2] = {l1, l1 + c}, *b_b[2] = {l1 + 2 * c, l1 + 3 * c};
  int8_t *y_b[2] = {b ? l1 + 4 * c : l1 + 2 * c, b ? l1 + 5 * c : l1 + 3 * c};
  int64_t ntiles = (n + chunk - 1) / chunk;
  ares_dma da[2] = {{0}}, db[2] = {{0}}, dout[2] = {{0}};
  elt_job job[2];
  for (int64_t i = 0; i <= ntiles; i++) {
    for (int phase = 0; phase < 2; phase++) {
      int64_t q = phase == 0 ? i : i - 1;
      if (q < 0 || q >= ntiles) continue;
      int k = (int)(q & 1);
      int64_t off = q * chunk, len = n - off < chunk ? n - off : chunk;
      if (phase == 0) {
        ares_hal_dma_1d(&da[k], a_b[k], a + off, (size_t)len);
        if (b) ares_hal_dma_1d(&db[k], b_b[k], b + off, (size_t)len);
        job[k] = (elt_job){a_b[k], b ? b_b[k] : 0, y_b[k], len, p};
      } else {
        ares_hal_dma_wait(&da[k]);
        ares_hal_dma_wait(&db[k]);
        ares_hal_dma_wait(&dout[k]);
        ares_hal_fork(elt_core, &job[k]);
        ares_hal_dma_1d(&dout[k], y + off, y_b[k], (size_t)len);
      }
    }
  }
  ares_hal_dma_wait(&dout[0]);
  ares_hal_dma_wait(&dout[1]);
}
