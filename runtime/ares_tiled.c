/* Tiled executors: L2 <-> L1 by double-buffered DMA, compute split over the cores, all
 * through the pipeline of ares_tile_pipe.h. */
#include "ares_tiled.h"

#include <string.h>

#include "ares_hal.h"
#include "ares_tile_geom.h"
#include "ares_tile_pipe.h"

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

/* ---- conv and pooling: tiles of tc channel planes x th output rows ------------------- */
/* One tile in L1 as a conv or a pool computes it. */
typedef struct {
  const int8_t *x, *w; /* cin_t input planes of `rows` rows (and the weights of tc channels) */
  int8_t *y;           /* tc output planes of oh rows */
  int32_t co0, tc, cin_t, rows, pad, oh;
} plane_tile;

/* Computes output channels [c0, c1) x rows [r0, r1) of tile t; op: the layer. */
typedef void (*plane_fn)(const plane_tile *t, const void *op, int32_t c0, int32_t c1, int32_t r0, int32_t r1);

typedef struct {
  plane_tile t;
  const void *op;
  plane_fn fn;
  int32_t unit; /* channels the cores never split (a conv group's outputs) */
} plane_job;

/* Core `core`'s share of a tile of tc channels x oh rows: whole units of `unit` channels
 * when there are at least as many units as cores, else a band of rows. Returns 0 when
 * the core has nothing to do. */
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

static void plane_core(void *arg, int core) {
  const plane_job *j = arg;
  int32_t c0, c1, r0, r1;
  if (share(j->t.tc, j->unit, j->t.oh, core, &c0, &c1, &r0, &r1)) j->fn(&j->t, j->op, c0, c1, r0, r1);
}

typedef struct {
  const int8_t *x, *w; /* w NULL: no weights (pools) */
  int8_t *y;
  const ares_conv_shape *s; /* the geometry; a pool is a depthwise conv without weights */
  size_t wpc, esz;          /* weight bytes per output channel, output element size */
  const ares_tile2 *t;
  int32_t nrt;
  const void *op;
  plane_fn fn;
  int8_t *in_b[2], *w_b[2], *out_b[2];
  ares_dma *din, *dw, *dout; /* [2] each */
  plane_job *job;            /* [2] */
} plane_run;

/* Tile k -> (channel tile, image, row tile), channel tiles outermost: weights load once. */
static void plane_step(void *ctx, int64_t k, int load) {
  plane_run *p = ctx;
  const ares_conv_shape *s = p->s;
  const ares_tile2 *t = p->t;
  ares_dma *din = p->din, *dw = p->dw, *dout = p->dout;
  int b = (int)(k & 1);
  int32_t nrt = p->nrt;
  int32_t ct = (int32_t)(k / ((int64_t)s->n * nrt)), img = (int32_t)(k / nrt % s->n), rt = (int32_t)(k % nrt);
  int32_t co0 = ct * t->tc, tc = imin(t->tc, s->cout - co0), oy0 = rt * t->th, th = imin(t->th, s->oh - oy0);
  if (load) {
    int32_t lo, hi, pad, ci0, cin_t;
    tile_rows(oy0, th, s->sh, s->dh, s->kh, s->pad_t, s->h, &lo, &hi, &pad);
    tile_in_channels(s, co0, tc, &ci0, &cin_t);
    const int8_t *src = p->x + (((int64_t)img * s->cin + ci0) * s->h + lo) * s->w;
    ares_hal_dma_2d(&din[b], p->in_b[b], src, (size_t)(hi - lo) * s->w, (size_t)cin_t, (size_t)(hi - lo) * s->w,
                    (size_t)s->h * s->w);
    /* weights change only with the channel tile (a new tile's first row tile) */
    if (p->w && img == 0 && rt == 0)
      ares_hal_dma_1d(&dw[ct & 1], p->w_b[ct & 1], p->w + (int64_t)co0 * p->wpc, (size_t)tc * p->wpc);
    int32_t unit = s->group == 1 ? 1 : s->cout / s->group;
    p->job[b] = (plane_job){{p->in_b[b], p->w_b[ct & 1], p->out_b[b], co0, tc, cin_t, hi - lo, pad, th}, p->op, p->fn, unit};
  } else {
    ares_hal_dma_wait(&din[b]);
    if (p->w) ares_hal_dma_wait(&dw[ct & 1]);
    ares_hal_dma_wait(&dout[b]); /* the store that last used this output buffer */
    ares_hal_fork(plane_core, &p->job[b]);
    size_t esz = p->esz;
    int8_t *dst = p->y + (((int64_t)img * s->cout + co0) * s->oh + oy0) * s->ow * (int64_t)esz;
    ares_hal_dma_2d(&dout[b], dst, p->out_b[b], (size_t)th * s->ow * esz, (size_t)tc, (size_t)s->oh * s->ow * esz,
                    (size_t)th * s->ow * esz);
  }
}

/* L1: two input, two weight (wpc > 0) and two output buffers (ares_conv_tile_l1_bytes). */
static void planes_tiled(const int8_t *x, const int8_t *w, void *y, const ares_conv_shape *s, size_t wpc, size_t esz,
                         const ares_tile2 *t, plane_fn fn, const void *op) {
  int32_t ci0, cin_max;
  tile_in_channels(s, 0, t->tc, &ci0, &cin_max);
  size_t in_sz = ALIGN8((size_t)cin_max * (size_t)max_in_rows(t->th, s->sh, s->dh, s->kh, s->h) * (size_t)s->w);
  size_t w_sz = ALIGN8((size_t)t->tc * wpc), out_sz = ALIGN8((size_t)t->tc * (size_t)t->th * (size_t)s->ow * esz);
  int8_t *l1 = ares_hal_l1();
  ares_dma din[2] = {{0}}, dw[2], dout[2] = {{0}};
  if (w) memset(dw, 0, sizeof dw); /* a pool's weight descriptors stay unused */
  plane_job job[2];
  int32_t nct = (s->cout + t->tc - 1) / t->tc, nrt = (s->oh + t->th - 1) / t->th;
  plane_run p = {x, w, y, s, wpc, esz, t, nrt, op, fn,
                 {l1, l1 + in_sz}, {l1 + 2 * in_sz, l1 + 2 * in_sz + w_sz},
                 {l1 + 2 * (in_sz + w_sz), l1 + 2 * (in_sz + w_sz) + out_sz}, din, dw, dout, job};
  ares_tile_pipeline((int64_t)nct * s->n * nrt, plane_step, &p, dout);
}

typedef struct {
  const ares_conv_shape *s;
  const ares_rq *rq;
  const int32_t *bias;
  size_t esz;
} conv_op;

/* Rows [r0, r1) read the tile's input from row r0 * sh - pad on: expressed as a (possibly
 * negative) top padding over the whole tile, since the kernels need whole channel planes. */
static void conv_part(const plane_tile *j, const void *op, int32_t c0, int32_t c1, int32_t r0, int32_t r1) {
  const conv_op *o = op;
  const ares_conv_shape *s = o->s;
  int32_t cout_g = s->cout / s->group, cin_g = s->cin / s->group, wpc = cin_g * s->kh * s->kw;
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
    ares_rq r = rq_slice(o->rq, j->co0 + c);
    ares_conv2d_s8(j->x + (int64_t)xc0 * j->rows * s->w, j->w + (int64_t)c * wpc, o->bias ? o->bias + j->co0 + c : 0,
                   j->y + ((int64_t)c * j->oh + r0) * s->ow * (int64_t)o->esz, &t, &r);
  }
}

void ares_conv2d_tiled(const int8_t *x, const int8_t *w, const int32_t *bias, void *y, const ares_conv_shape *s,
                       const ares_rq *rq, const ares_tile2 *t) {
  conv_op o = {s, rq, bias, rq->out_float || rq->out_i32 ? 4 : 1};
  planes_tiled(x, w, y, s, (size_t)(s->cin / s->group * s->kh * s->kw), o.esz, t, conv_part, &o);
}

typedef struct {
  const ares_pool_shape *s;
  const ares_rq *rq; /* NULL: max pool */
} pool_op;

static void pool_part(const plane_tile *j, const void *op, int32_t c0, int32_t c1, int32_t r0, int32_t r1) {
  const pool_op *o = op;
  const ares_pool_shape *s = o->s;
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
    if (o->rq) ares_avgpool_s8(xs, ys_, &p, o->rq);
    else ares_maxpool_s8(xs, ys_, &p);
  }
}

void ares_pool_tiled(const int8_t *x, int8_t *y, const ares_pool_shape *s, const ares_rq *rq, const ares_tile2 *t) {
  /* one input channel per output channel: a depthwise conv's geometry */
  ares_conv_shape g = {s->n, s->c, s->h, s->w, s->c, s->oh, s->ow, s->kh, s->kw, s->sh, s->sw, s->dh, s->dw,
                       s->pad_t, s->pad_l, s->c, s->x_zp};
  pool_op o = {s, rq};
  planes_tiled(x, NULL, y, &g, 0, 1, t, pool_part, &o);
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
  if (b <= a) return;
  ares_rq r = rq_slice(j->rq, j->n0 + a);
  /* all rows at once: the kernel reuses each weight for two rows, y rows are tn apart */
  ares_linear_s8_ld(j->x, j->w + (int64_t)a * j->k, j->bias ? j->bias + j->n0 + a : 0, j->y + (int64_t)a * (int64_t)j->esz,
                    j->tr, j->k, b - a, j->tn, j->x_zp, &r);
}

typedef struct {
  const int8_t *x, *w;
  const int32_t *bias;
  void *y;
  int32_t rows, k, n, nrt, x_zp;
  const ares_rq *rq;
  const ares_tile2 *t;
  size_t esz;
  int8_t *x_b[2], *w_b[2], *o_b[2];
  ares_dma *dx, *dw, *dout; /* [2] each */
  linear_job *job;          /* [2] */
} linear_run;

/* Tile q -> (feature tile, row tile), feature tiles outermost: weights load once. */
static void linear_step(void *ctx, int64_t q, int load) {
  linear_run *p = ctx;
  int b = (int)(q & 1);
  int32_t tn = p->t->tc, tr = p->t->th, k = p->k, n = p->n;
  int32_t nt = (int32_t)(q / p->nrt), rt = (int32_t)(q % p->nrt);
  int32_t n0 = nt * tn, tnn = imin(tn, n - n0), r0 = rt * tr, trr = imin(tr, p->rows - r0);
  if (load) {
    ares_hal_dma_1d(&p->dx[b], p->x_b[b], p->x + (int64_t)r0 * k, (size_t)trr * k);
    if (rt == 0) ares_hal_dma_1d(&p->dw[nt & 1], p->w_b[nt & 1], p->w + (int64_t)n0 * k, (size_t)tnn * k);
    p->job[b] = (linear_job){p->x_b[b], p->w_b[nt & 1], p->bias, p->o_b[b], trr, tnn, k, n0, p->x_zp, p->rq, p->esz};
  } else {
    ares_hal_dma_wait(&p->dx[b]);
    ares_hal_dma_wait(&p->dw[nt & 1]);
    ares_hal_dma_wait(&p->dout[b]);
    ares_hal_fork(linear_core, &p->job[b]);
    size_t esz = p->esz;
    ares_hal_dma_2d(&p->dout[b], (int8_t *)p->y + ((int64_t)r0 * n + n0) * (int64_t)esz, p->o_b[b], (size_t)tnn * esz,
                    (size_t)trr, (size_t)n * esz, (size_t)tnn * esz);
  }
}

void ares_linear_tiled(const int8_t *x, const int8_t *w, const int32_t *bias, void *y, int32_t rows, int32_t k,
                       int32_t n, int32_t x_zp, const ares_rq *rq, const ares_tile2 *t) {
  size_t esz = rq->out_float || rq->out_i32 ? 4 : 1;
  int32_t tr = t->th, tn = t->tc;
  size_t x_sz = ALIGN8((size_t)tr * k), w_sz = ALIGN8((size_t)tn * k), o_sz = ALIGN8((size_t)tr * tn * esz);
  int8_t *l1 = ares_hal_l1();
  ares_dma dx[2] = {{0}}, dw[2] = {{0}}, dout[2] = {{0}};
  linear_job job[2];
  int32_t nnt = (n + tn - 1) / tn, nrt = (rows + tr - 1) / tr;
  linear_run p = {x, w, bias, y, rows, k, n, nrt, x_zp, rq, t, esz,
                  {l1, l1 + x_sz}, {l1 + 2 * x_sz, l1 + 2 * x_sz + w_sz},
                  {l1 + 2 * (x_sz + w_sz), l1 + 2 * (x_sz + w_sz) + o_sz}, dx, dw, dout, job};
  ares_tile_pipeline((int64_t)nnt * nrt, linear_step, &p, dout);
}

/* ---- elementwise --------------------------------------------------------------------- */
static void add_chunk(const ares_chunk *c, int64_t e0, int64_t e1) {
  ares_add_s8(c->a + e0, c->b + e0, (int8_t *)c->y + e0, e1 - e0, c->p);
}

static void mul_chunk(const ares_chunk *c, int64_t e0, int64_t e1) {
  ares_mul_s8(c->a + e0, c->b + e0, (int8_t *)c->y + e0, e1 - e0, c->p);
}

static void requant_chunk(const ares_chunk *c, int64_t e0, int64_t e1) {
  ares_requant_s8(c->a + e0, (int8_t *)c->y + e0, e1 - e0, c->p);
}

void ares_eltwise_tiled(const int8_t *a, const int8_t *b, int8_t *y, int64_t n, const ares_elt *p, int64_t chunk) {
  ares_chunks_tiled(a, b, y, n, 1, NULL, 0, p->mul ? mul_chunk : b ? add_chunk : requant_chunk, p, chunk);
}

/* ---- 1-D chunks (ares_tile_pipe.h) --------------------------------------------------- */
typedef struct {
  ares_chunk c;
  ares_chunk_fn fn;
} chunk_job;

static void chunk_core(void *arg, int core) {
  const chunk_job *j = arg;
  int nc = ares_hal_ncores();
  int64_t a = j->c.n * core / nc, e = j->c.n * (core + 1) / nc;
  if (e > a) j->fn(&j->c, a, e);
}

typedef struct {
  const int8_t *a, *b;
  int8_t *y;
  int64_t n, chunk;
  size_t esz;
  const void *table, *p;
  ares_chunk_fn fn;
  int8_t *a_b[2], *b_b[2], *y_b[2];
  ares_dma *da, *db, *dout; /* [2] each */
  chunk_job *job;           /* [2] */
} chunk_run;

static void chunk_step(void *ctx, int64_t q, int load) {
  chunk_run *p = ctx;
  int k = (int)(q & 1);
  int64_t off = q * p->chunk, len = p->n - off < p->chunk ? p->n - off : p->chunk;
  if (load) {
    ares_hal_dma_1d(&p->da[k], p->a_b[k], p->a + off, (size_t)len);
    if (p->b) ares_hal_dma_1d(&p->db[k], p->b_b[k], p->b + off, (size_t)len);
    p->job[k] = (chunk_job){{p->a_b[k], p->b ? p->b_b[k] : 0, p->y_b[k], len, p->table, p->p}, p->fn};
  } else {
    ares_hal_dma_wait(&p->da[k]);
    if (p->b) ares_hal_dma_wait(&p->db[k]);
    ares_hal_dma_wait(&p->dout[k]);
    ares_hal_fork(chunk_core, &p->job[k]);
    ares_hal_dma_1d(&p->dout[k], p->y + off * (int64_t)p->esz, p->y_b[k], (size_t)len * p->esz);
  }
}

void ares_chunks_tiled(const int8_t *a, const int8_t *b, void *y, int64_t n, size_t out_esz, const void *table,
                       size_t table_bytes, ares_chunk_fn fn, const void *p, int64_t chunk) {
  size_t tsz = table ? ALIGN8(table_bytes) : 0, c = ALIGN8((size_t)chunk), co = ALIGN8((size_t)chunk * out_esz);
  int8_t *l1 = ares_hal_l1(), *in = l1 + tsz, *out = in + (b ? 4 : 2) * c;
  /* a table is a constant of the generated code, not registered for DMA: the orchestrator
   * copies it */
  if (table) memcpy(l1, table, table_bytes);
  ares_dma da[2] = {{0}}, db[2], dout[2] = {{0}};
  if (b) memset(db, 0, sizeof db); /* one input: b's descriptors stay unused */
  chunk_job job[2];
  chunk_run r = {a, b, y, n, chunk, out_esz, table ? l1 : 0, p, fn, {in, in + c}, {in + 2 * c, in + 3 * c}, {out, out + co},
                 da, db, dout, job};
  ares_tile_pipeline((n + chunk - 1) / chunk, chunk_step, &r, dout);
}
