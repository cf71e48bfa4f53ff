/* Unit tests of the integer row ops qlayernorm, qrmsnorm and qsoftmax:
 *  1. the algorithm (compile-time parameters from src/ir/norm_params.c + the reference
 *     interpreter) against a long double evaluation of the float op on the same integer
 *     inputs, over randomized shapes, ranges and scales: every output either equals the
 *     correctly rounded ideal value, or differs by 1 where the ideal value lies within the
 *     error bound docs/SEMANTICS.md states of a rounding boundary;
 *  2. the runtime kernels (runtime/kernels/ares_norm.c, ares_softmax.c) and the row-wise
 *     tiled executor (runtime/ares_tiled_rows.c, host HAL, random tiles and core counts)
 *     against the reference: bit-exact. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ares_hal.h"
#include "ares_kernels.h"
#include "ares_tiled_rows.h"
#include "check.h"
#include "ir/ir.h"
#include "ir/norm_params.h"
#include "ref/ref.h"

static double rndu(double lo, double hi) { return lo + (hi - lo) * (double)(rnd64() >> 11) / 9007199254740992.0; }

/* Agreement statistics of one op family against the ideal values. */
typedef struct {
  long total, identical, near_tie, bad;
} stats;

/* y against the ideal real-valued output v (in output LSB, zero point added), clamped to
 * qmin..qmax: equal to round-half-even(v), or off by one with v within eps of a rounding
 * boundary. */
static void judge(stats *st, int y, long double v, double eps, int qmin, int qmax, const char *what) {
  long double r = nearbyintl(v); /* default mode: ties to even */
  int want = r < qmin ? qmin : r > qmax ? qmax : (int)r;
  st->total++;
  if (y == want) {
    st->identical++;
    return;
  }
  long double dist = fabsl(fabsl(v - floorl(v)) - 0.5L); /* to the nearest half-integer */
  int ok = abs(y - want) == 1 && (double)dist <= eps;
  /* a clamp boundary: v just outside the range rounds into it */
  if (!ok && abs(y - want) == 1 && (y == qmin || y == qmax) && (double)dist <= eps) ok = 1;
  if (ok) {
    st->near_tie++;
  } else {
    st->bad++;
    if (st->bad <= 5) fprintf(stderr, "%s: y = %d, ideal %.9Lf (bound %g)\n", what, y, v, eps);
  }
}

static ares_tensor *tensor(ares_graph *g, const char *name, ares_dtype dt, int64_t a, int64_t b, int64_t c) {
  return ares_tensor_new_shaped(g, name, dt, 3, (int64_t[]){a, b, c});
}

/* A random integer range: int8, narrow int8, 4-bit signed or unsigned (stored as int8). */
static void rnd_range(int32_t *qmin, int32_t *qmax) {
  switch (rnd(0, 3)) {
  case 0: *qmin = -128, *qmax = 127; break;
  case 1: *qmin = -127, *qmax = 127; break;
  case 2: *qmin = -8, *qmax = 7; break;
  default: *qmin = 0, *qmax = 15; break;
  }
}

static void rnd_row(int8_t *x, int64_t n, int32_t qmin, int32_t qmax) {
  int kind = (int)rnd(0, 9);
  int32_t base = (int32_t)rnd(qmin, qmax);
  for (int64_t i = 0; i < n; i++) {
    if (kind == 0) x[i] = (int8_t)base; /* constant row */
    else if (kind == 1) x[i] = (int8_t)(i == n / 2 && base < qmax ? base + 1 : base); /* one step apart */
    else if (kind == 2) x[i] = (int8_t)rnd(base, base + 2 > qmax ? qmax : base + 2); /* tiny spread */
    else x[i] = (int8_t)rnd(qmin, qmax);
  }
}

/* The kernel-side structs from the IR parameters (what the emitter writes). */
static ares_norm kernel_norm(const ares_norm_params *p, int center) {
  return (ares_norm){p->n, p->nsets, center, p->x_zp, p->e2, p->eps_fx, p->g_mult, p->g_shift, p->b_add, p->t_shift, p->zp, p->qmin, p->qmax};
}
static ares_softmax kernel_softmax(const ares_softmax_params *p) {
  return (ares_softmax){p->n, p->inner, p->in_i32, p->tab, p->hi, p->lo, p->c_mult, p->dmax, p->c_shift, p->y_mult, p->y_shift,
                        p->out_shift, p->zp, p->qmin, p->qmax, p->mask_rows, p->causal, p->causal_off};
}

/* The tiled executor on random tile sizes and core counts must give the reference's bytes. */
static void check_tiled(const void *x, const int8_t *want, ares_rows_shape s, ares_rows_fn fn, const void *p,
                        const char *what) {
  size_t nin = (size_t)(s.outer * s.n * s.inner * s.in_esz), nout = (size_t)(s.outer * s.n * s.inner);
  int8_t *y = malloc(nout + 1);
  for (int rep = 0; rep < 2; rep++) {
    s.tile = (int32_t)rnd(1, s.outer);
    int cores = (int)rnd(1, 8);
    size_t l1 = ares_rows_tile_l1_bytes(&s, s.tile);
    CHECK_EQ(ares_hal_init(cores, l1), 0);
    ares_hal_register(x, nin, "x");
    ares_hal_register(y, nout, "y");
    if (s.side_bytes) ares_hal_register(s.side, (size_t)s.side_bytes, "side");
    memset(y, 0x5a, nout);
    ares_rows_tiled(x, y, &s, fn, p);
    char buf[160];
    snprintf(buf, sizeof buf, "%s tiled: tile %d, %d cores", what, s.tile, cores);
    CHECK_MEM(y, want, nout, buf);
    ares_hal_unregister_all();
    ares_hal_deinit();
  }
  free(y);
}

/* ---- LayerNorm / RMSNorm ------------------------------------------------------------------ */

static void norm_case(int center, stats *st) {
  static const int64_t lens[] = {1, 2, 3, 5, 16, 32, 33, 100, 384, 768, 1024, 4096};
  int64_t n = lens[rnd(0, (int64_t)(sizeof lens / sizeof *lens) - 1)], outer = rnd(1, 6);
  if (n >= 1024) outer = rnd(1, 2);
  /* GroupNorm / InstanceNorm: rows cycle through nsets parameter sets */
  int64_t nsets = rnd(0, 2) ? 1 : rnd(1, 4);
  if (nsets > 1) outer = nsets * rnd(1, 3);
  ares_graph *g = ares_graph_new();
  ares_tensor *tx = tensor(g, "x", ARES_DT_I8, 1, outer, n), *ty = tensor(g, "y", ARES_DT_I8, 1, outer, n);
  int32_t qmin, qmax, yqmin, yqmax;
  rnd_range(&qmin, &qmax);
  rnd_range(&yqmin, &yqmax);
  float sx = (float)pow(10, rndu(-3.5, 0.5));
  int32_t zp = (int32_t)rnd(qmin, qmax);
  ares_quant_set(g, tx, 1, 0, &sx, &zp, qmin, qmax);
  static const double epss[] = {0, 1e-12, 1e-6, 1e-5, 1e-3, 0.1};
  double eps = epss[rnd(0, 5)];
  double *gm = malloc(sizeof(double) * (size_t)(n * nsets)), *bt = malloc(sizeof(double) * (size_t)(n * nsets)), gmax = 0,
         bmax = 0;
  for (int64_t i = 0; i < n * nsets; i++) {
    gm[i] = rnd(0, 19) == 0 ? 0.0 : (float)rndu(-2, 2); /* float32 values, as the model holds them */
    bt[i] = (float)rndu(-1, 1);
    gmax = fmax(gmax, fabs(gm[i]));
    bmax = fmax(bmax, fabs(bt[i]));
  }
  /* outputs spanning about the output range (sometimes saturating) */
  float sy = (float)((gmax * 2.5 + bmax + 1e-3) / (yqmax - yqmin) * 2 * rndu(0.3, 2.0));
  int32_t yzp = (int32_t)rnd(yqmin, yqmax);
  ares_quant_set(g, ty, 1, 0, &sy, &yzp, yqmin, yqmax);
  ares_node *nd = ares_node_new(g, center ? ARES_OP_QLAYERNORM : ARES_OP_QRMSNORM, "norm", 1, 1);
  nd->in[0] = tx->id;
  nd->out[0] = ty->id;
  ares_graph_add_input(g, tx->id);
  ares_graph_add_output(g, ty->id);
  CHECK_EQ(ares_norm_params_make(g, nd, &nd->p.norm, center, outer, n, nsets, &tx->q, eps, gm, bt, &ty->q), 0);
  int8_t *x = malloc((size_t)(outer * n));
  for (int64_t r = 0; r < outer; r++) rnd_row(x + r * n, n, qmin, qmax);
  void **values = calloc((size_t)g->ntensors, sizeof(void *));
  values[tx->id] = x;
  CHECK_EQ(ares_ref_run(g, values), 0);
  const int8_t *y = values[ty->id];
  char what[160];
  snprintf(what, sizeof what, "%s n=%lld outer=%lld sets=%lld sx=%g sy=%g eps=%g x %d..%d zp %d",
           center ? "layernorm" : "rmsnorm", (long long)n, (long long)outer, (long long)nsets, sx, sy, eps, qmin, qmax, zp);
  const ares_norm_params *p = &nd->p.norm;
  int h = p->e2 / 2;
  for (int64_t r = 0; r < outer && y; r++) {
    const int8_t *xr = x + r * n;
    long double s1 = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) {
      long double d = (long double)xr[i] - zp;
      s1 += d;
      s2 += d * d;
    }
    long double mean = center ? s1 / n : 0, var = s2 / n - mean * mean; /* in input units */
    long double q = n * s2 - (center ? s1 * s1 : 0);
    const double *gr = gm + r % nsets * n, *br = bt + r % nsets * n;
    for (int64_t i = 0; i < n; i++) {
      long double xh = q == 0 ? 0 : ((long double)xr[i] - zp - mean) * sx / sqrtl(var * sx * sx + eps);
      long double v = (gr[i] * xh + br[i]) / sy + yzp;
      /* the bound of SEMANTICS.md: |G x^| (2^-h / sqrt(N-1) + 2^-29) + (N range + 1) 2^-(t+1) */
      double g_term = fabs((double)(gr[i] * xh / sy));
      double eps_b = q == 0 ? 1e-9
                            : g_term * (ldexp(1.0, -h) / sqrt((double)(n > 1 ? n - 1 : 1)) * 1.01 + ldexp(1.0, -29)) +
                                  ((double)n * 256 + 1) * ldexp(1.0, -(p->t_shift + 1));
      judge(st, y[r * n + i], v, eps_b, yqmin, yqmax, what);
    }
  }
  /* kernel and tiled executor */
  ares_norm kp = kernel_norm(p, center);
  int8_t *yk = malloc((size_t)(outer * n));
  ares_norm_s8(x, yk, 0, (int32_t)outer, &kp);
  CHECK_MEM(yk, y, outer * n, what);
  check_tiled(x, y, (ares_rows_shape){outer, (int32_t)n, 1, 1, 1, 1, 0, 0}, ares_norm_rows, &kp, what);
  free(yk);
  ares_ref_free(g, values);
  free(values);
  free(x);
  free(gm);
  free(bt);
  ares_graph_free(g);
}

/* ---- Softmax ------------------------------------------------------------------------------ */

static void softmax_case(int in_i32, stats *st) {
  static const int64_t lens[] = {1, 2, 3, 8, 16, 49, 64, 128, 197, 512, 1024};
  int64_t n = lens[rnd(0, (int64_t)(sizeof lens / sizeof *lens) - 1)], outer = rnd(1, 4), inner = rnd(0, 2) ? 1 : rnd(1, 5);
  /* a mask (last axis only): causal with an offset, or random, repeating every `period`
   * rows as a mask broadcast over batch and heads does */
  int masked = inner == 1 && rnd(0, 1), causal = (int)rnd(0, 1);
  int64_t period = 1;
  if (masked) {
    period = rnd(1, 6);
    outer = period * rnd(1, 3);
  }
  ares_graph *g = ares_graph_new();
  ares_tensor *tx = tensor(g, "x", in_i32 ? ARES_DT_I32 : ARES_DT_I8, outer, n, inner);
  ares_tensor *ty = tensor(g, "y", ARES_DT_I8, outer, n, inner);
  int32_t qmin, qmax, yqmin, yqmax, zp = 0;
  rnd_range(&qmin, &qmax);
  yqmin = 0, yqmax = 255;
  if (rnd(0, 1)) yqmin = -128, yqmax = 127; /* signed output; else uint8 (shifted below) */
  int64_t bound = 0;
  double s;
  if (in_i32) {
    bound = (int64_t)1 << rnd(6, 31);
    if (bound > INT32_MAX) bound = INT32_MAX;
    s = rndu(0.5, 40.0) / (double)bound; /* scores spanning 1 .. 80 nats */
    qmin = (int32_t)-bound, qmax = (int32_t)bound;
  } else {
    zp = (int32_t)rnd(qmin, qmax);
    s = pow(10, rndu(-3, 0.3));
  }
  float sx = (float)s;
  ares_quant_set(g, tx, 1, 0, &sx, &zp, qmin, qmax);
  double alpha = rnd(0, 1) ? 1.0 : (float)rndu(0.05, 2.0); /* a folded Mul */
  /* output scale: 1 / 2^8 (uint8 attention probabilities), or a calibrated max below 1 */
  float sy = rnd(0, 1) ? 1.0f / 256 : (float)(rndu(0.05, 1.0) / (yqmax - yqmin));
  int32_t yzp = yqmin == 0 ? -128 : 0; /* uint8 zero point 0, stored shifted */
  if (yqmin == 0) yqmin = -128, yqmax = 127;
  ares_quant_set(g, ty, 1, 0, &sy, &yzp, yqmin, yqmax);
  ares_node *nd = ares_node_new(g, ARES_OP_QSOFTMAX, "softmax", masked ? 2 : 1, 1);
  nd->in[0] = tx->id;
  nd->out[0] = ty->id;
  ares_graph_add_input(g, tx->id);
  ares_graph_add_output(g, ty->id);
  double sin_ = alpha * sx;
  CHECK_EQ(ares_softmax_params_make(g, nd, &nd->p.softmax, outer, n, inner, in_i32, sin_, &ty->q), 0);
  int64_t total = outer * n * inner;
  uint8_t *keep = calloc((size_t)total, 1);
  const int8_t *mask = NULL;
  int mask_tid = -1;
  for (int64_t i = 0; i < total; i++) keep[i] = 1;
  if (masked) {
    int64_t off = rnd(0, 2);
    for (int64_t r = 0; r < period; r++) {
      for (int64_t j = 0; j < n; j++) keep[r * n + j] = causal ? j <= r + off : rnd(0, 2) != 0;
      if (!causal) keep[r * n + rnd(0, n - 1)] = 1; /* no row fully masked */
    }
    for (int64_t i = period * n; i < total; i++) keep[i] = keep[i % (period * n)];
    CHECK_EQ(ares_softmax_mask_make(g, nd, &nd->p.softmax, keep, &mask_tid), 0);
    const ares_softmax_params *mp = &nd->p.softmax;
    if (causal) CHECK(mask_tid < 0 && (mp->mask_rows == 0 || (mp->causal && mp->causal_off == off)));
    else CHECK(mp->mask_rows == 0 || (!mp->causal && period % mp->mask_rows == 0));
    if (mask_tid >= 0) {
      nd->in[1] = mask_tid;
      mask = g->tensors[mask_tid]->data;
    } else {
      nd->nin = 1;
    }
  }
  void *x = malloc((size_t)total * (in_i32 ? 4 : 1));
  for (int64_t i = 0; i < total; i++) {
    int64_t v = rnd(qmin, qmax);
    if (in_i32 && rnd(0, 3) == 0) v = rnd(-bound / 64, bound / 64); /* clusters near the top */
    if (in_i32) ((int32_t *)x)[i] = (int32_t)v;
    else ((int8_t *)x)[i] = (int8_t)v;
  }
  void **values = calloc((size_t)g->ntensors, sizeof(void *));
  values[tx->id] = x;
  CHECK_EQ(ares_ref_run(g, values), 0);
  const int8_t *y = values[ty->id];
  const ares_softmax_params *p = &nd->p.softmax;
  char what[160];
  snprintf(what, sizeof what, "softmax %s n=%lld outer=%lld inner=%lld s=%g sy=%g mask %s", in_i32 ? "i32" : "i8",
           (long long)n, (long long)outer, (long long)inner, sin_, sy,
           !masked ? "none" : p->mask_rows == 0 ? "trivial" : p->causal ? "causal" : "stored");
  int lb = 0;
  for (uint64_t c = (uint64_t)ceil(1.0 / sy); c; c >>= 1) lb++;
  for (int64_t o = 0; o < outer && y; o++)
    for (int64_t in = 0; in < inner; in++) {
      int64_t base = o * n * inner + in;
      /* float softmax with -inf at the masked elements: they add exp(-inf) = 0 */
      const uint8_t *kr = keep + o * n; /* inner is 1 when masked */
      long double m = -1e30L, sum = 0;
      for (int64_t j = 0; j < n; j++) {
        long double v = in_i32 ? ((int32_t *)x)[base + j * inner] : ((int8_t *)x)[base + j * inner];
        m = v > m && (inner > 1 || kr[j]) ? v : m;
      }
      for (int64_t j = 0; j < n; j++)
        if (inner > 1 || kr[j])
          sum += expl(-(long double)sin_ * (m - (in_i32 ? ((int32_t *)x)[base + j * inner] : ((int8_t *)x)[base + j * inner])));
      for (int64_t j = 0; j < n; j++) {
        long double e = inner > 1 || kr[j]
                            ? expl(-(long double)sin_ * (m - (in_i32 ? ((int32_t *)x)[base + j * inner] : ((int8_t *)x)[base + j * inner])))
                            : 0;
        long double v = e / sum / sy + yzp;
        /* the bound of SEMANTICS.md: relative (N/2 + 1) / (2^30 sum) + 2^-28 (+ the int32
         * exponent error), absolute 2^(lb - 30) */
        double rel = ((double)n / 2 + 1) / (ldexp(1.0, 30) * (double)sum) + ldexp(1.0, -28);
        if (in_i32) rel += 2 * 0.6931471805599453 * (ldexp(1.0, -17) + 33.0 / (2.0 * (double)p->c_mult));
        judge(st, y[base + j * inner], v, (double)(e / sum / sy) * rel + ldexp(1.0, lb - 30), yqmin, yqmax, what);
      }
    }
  ares_softmax kp = kernel_softmax(p);
  int8_t *yk = malloc((size_t)total);
  ares_softmax_s8(x, yk, 0, outer * inner, 0, (const uint8_t *)mask, &kp);
  CHECK_MEM(yk, y, total, what);
  ares_rows_shape rs = {outer, (int32_t)n, (int32_t)inner, in_i32 ? 4 : 1, 1, 1, 0, mask};
  if (mask) rs.side_bytes = (int64_t)p->mask_rows * n;
  check_tiled(x, y, rs, ares_softmax_rows, &kp, what);
  free(yk);
  free(keep);
  ares_ref_free(g, values);
  free(values);
  free(x);
  ares_graph_free(g);
}

/* Hand-worked masked softmax of x = {0, 1, 2} at s = ln 2 (so exp = {1, 2, 4}), s_y = 1/256
 * (uint8 stored shifted by -128), one row:
 *   keep {1, 1, 0}: a prefix, so the causal flag (offset 1): {1, 2} / 3 * 256 = {85.33,
 *     170.67} -> {85, 171}, the masked element 0;
 *   keep {1, 0, 1}: stored: {1, 4} / 5 * 256 = {51.2, 204.8} -> {51, 205};
 *   keep {0, 0, 0}: refused (float softmax gives NaN). */
static void test_mask_hand(void) {
  static const uint8_t keeps[3][3] = {{1, 1, 0}, {1, 0, 1}, {0, 0, 0}};
  static const int want[2][3] = {{85, 171, 0}, {51, 0, 205}};
  for (int c = 0; c < 3; c++) {
    ares_graph *g = ares_graph_new();
    ares_tensor *tx = tensor(g, "x", ARES_DT_I8, 1, 1, 3), *ty = tensor(g, "y", ARES_DT_I8, 1, 1, 3);
    float sx = (float)log(2.0), s256 = 1.0f / 256;
    int32_t z = 0, yz = -128;
    ares_quant_set(g, tx, 1, 0, &sx, &z, -128, 127);
    ares_quant_set(g, ty, 1, 0, &s256, &yz, -128, 127);
    ares_node *nd = ares_node_new(g, ARES_OP_QSOFTMAX, "sm", 2, 1);
    nd->in[0] = tx->id;
    nd->out[0] = ty->id;
    ares_graph_add_input(g, tx->id);
    ares_graph_add_output(g, ty->id);
    CHECK_EQ(ares_softmax_params_make(g, nd, &nd->p.softmax, 1, 3, 1, 0, (double)sx, &ty->q), 0);
    int tid = -1;
    if (c == 2) {
      fprintf(stderr, "(the error below is expected)\n");
      CHECK_EQ(ares_softmax_mask_make(g, nd, &nd->p.softmax, keeps[c], &tid), -1);
      ares_graph_free(g);
      continue;
    }
    CHECK_EQ(ares_softmax_mask_make(g, nd, &nd->p.softmax, keeps[c], &tid), 0);
    CHECK_EQ(nd->p.softmax.mask_rows, 1);
    CHECK_EQ(nd->p.softmax.causal, c == 0);
    CHECK_EQ(tid >= 0, c == 1);
    if (tid >= 0) nd->in[1] = tid;
    else nd->nin = 1;
    int8_t xs[3] = {0, 1, 2};
    void *values[8] = {0};
    values[tx->id] = xs;
    CHECK_EQ(ares_ref_run(g, values), 0);
    const int8_t *y = values[ty->id];
    for (int j = 0; j < 3; j++) CHECK_EQ(y[j], want[c][j] - 128);
    ares_softmax kp = kernel_softmax(&nd->p.softmax);
    int8_t yk[3];
    ares_softmax_s8(xs, yk, 0, 1, 0, tid >= 0 ? g->tensors[tid]->data : NULL, &kp);
    CHECK_MEM(yk, y, 3, "hand-worked masked softmax kernel");
    ares_ref_free(g, values);
    ares_graph_free(g);
  }
}

static void report(const char *name, const stats *st) {
  printf("%-10s %6ld outputs: %.4f %% identical to the rounded ideal value, %ld off by one at a rounding boundary "
         "(within the bound), %ld beyond the bound\n",
         name, st->total, 100.0 * (double)st->identical / (double)st->total, st->near_tie, st->bad);
  CHECK_EQ(st->bad, 0);
  CHECK(st->total > 10000);
}

/* Hand-worked: a 4-element LayerNorm with unit scales. */
static void test_hand(void) {
  /* x = {0, 1, 2, 3}, s_x = 1, eps = 0, gamma = 1, beta = 0, s_y = 1/64: mean 1.5, var 1.25,
   * x^ = {-1.5, -0.5, 0.5, 1.5} / sqrt(1.25) = {-1.3416, -0.4472, 0.4472, 1.3416}, times 64
   * = {-85.87, -28.62, 28.62, 85.87} -> {-86, -29, 29, 86} */
  ares_graph *g = ares_graph_new();
  ares_tensor *tx = tensor(g, "x", ARES_DT_I8, 1, 1, 4), *ty = tensor(g, "y", ARES_DT_I8, 1, 1, 4);
  float one = 1.0f, sy = 1.0f / 64;
  int32_t z = 0;
  ares_quant_set(g, tx, 1, 0, &one, &z, -128, 127);
  ares_quant_set(g, ty, 1, 0, &sy, &z, -128, 127);
  ares_node *nd = ares_node_new(g, ARES_OP_QLAYERNORM, "ln", 1, 1);
  nd->in[0] = tx->id;
  nd->out[0] = ty->id;
  ares_graph_add_input(g, tx->id);
  ares_graph_add_output(g, ty->id);
  double gm[4] = {1, 1, 1, 1}, bt[4] = {0, 0, 0, 0};
  CHECK_EQ(ares_norm_params_make(g, nd, &nd->p.norm, 1, 1, 4, 1, &tx->q, 0.0, gm, bt, &ty->q), 0);
  int8_t x[4] = {0, 1, 2, 3};
  void *values[8] = {0};
  values[tx->id] = x;
  CHECK_EQ(ares_ref_run(g, values), 0);
  const int8_t *y = values[ty->id];
  CHECK_EQ(y[0], -86);
  CHECK_EQ(y[1], -29);
  CHECK_EQ(y[2], 29);
  CHECK_EQ(y[3], 86);
  ares_ref_free(g, values);
  ares_graph_free(g);
  /* softmax of {0, ln 2, ln 4} (s = ln 2 per step, x = 0, 1, 2) = {1, 2, 4} / 7, at s_y =
   * 1/256: {36.57, 73.14, 146.29} -> {37, 73, 146} - 128 (uint8 stored shifted) */
  g = ares_graph_new();
  tx = tensor(g, "x", ARES_DT_I8, 1, 1, 3), ty = tensor(g, "y", ARES_DT_I8, 1, 1, 3);
  float sx = (float)log(2.0), s256 = 1.0f / 256;
  int32_t yz = -128;
  ares_quant_set(g, tx, 1, 0, &sx, &z, -128, 127);
  ares_quant_set(g, ty, 1, 0, &s256, &yz, -128, 127);
  nd = ares_node_new(g, ARES_OP_QSOFTMAX, "sm", 1, 1);
  nd->in[0] = tx->id;
  nd->out[0] = ty->id;
  ares_graph_add_input(g, tx->id);
  ares_graph_add_output(g, ty->id);
  CHECK_EQ(ares_softmax_params_make(g, nd, &nd->p.softmax, 1, 3, 1, 0, (double)sx, &ty->q), 0);
  int8_t xs[3] = {0, 1, 2};
  memset(values, 0, sizeof values);
  values[tx->id] = xs;
  CHECK_EQ(ares_ref_run(g, values), 0);
  y = values[ty->id];
  CHECK_EQ(y[0], 37 - 128);
  CHECK_EQ(y[1], 73 - 128);
  CHECK_EQ(y[2], 146 - 128);
  ares_ref_free(g, values);
  ares_graph_free(g);
}

int main(void) {
  test_hand();
  test_mask_hand();
  stats ln = {0, 0, 0, 0}, rms = ln, sm8 = ln, sm32 = ln;
  for (int i = 0; i < 300; i++) norm_case(1, &ln);
  for (int i = 0; i < 300; i++) norm_case(0, &rms);
  for (int i = 0; i < 300; i++) softmax_case(0, &sm8);
  for (int i = 0; i < 300; i++) softmax_case(1, &sm32);
  report("layernorm", &ln);
  report("rmsnorm", &rms);
  report("softmax8", &sm8);
  report("softmax32", &sm32);
  return check_report();
}
