/* Compile-time parameters of qlayernorm / qrmsnorm / qsoftmax (see norm_params.h and
 * docs/SEMANTICS.md for the integer algorithms and where each bound comes from). All in
 * double from the model's float32 values; exp and exp2 (libm) only fill the tables. */
#include "norm_params.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"

#define TWO62 4611686018427387904.0 /* 2^62 */

static int bitlen_u64(uint64_t v) {
  int b = 0;
  while (v) {
    b++;
    v >>= 1;
  }
  return b;
}

int ares_norm_params_make(ares_graph *g, const ares_node *at, ares_norm_params *p, int center, int64_t outer, int64_t n,
                          int64_t nsets, const ares_quant *xq, double eps, const double *gamma, const double *beta,
                          const ares_quant *yq) {
  if (n < 1 || n > (1 << 20)) return ares_fail(at, "unsupported: rows of %lld elements (1 .. 2^20)", (long long)n);
  if (nsets < 1 || nsets * n > (1 << 24) || outer % nsets)
    return ares_fail(at, "unsupported: %lld parameter sets for %lld rows", (long long)nsets, (long long)outer);
  if (xq->nscale != 1 || yq->nscale != 1) return ares_fail(at, "unsupported: input or output not quantized per tensor");
  if (!(eps >= 0) || !isfinite(eps)) return ares_fail(at, "epsilon %g is not a finite non-negative number", eps);
  double sx = xq->scale[0], sy = yq->scale[0];
  p->outer = outer;
  p->n = (int32_t)n;
  p->nsets = (int32_t)nsets;
  p->x_zp = xq->zp[0];
  p->zp = yq->zp[0];
  p->qmin = yq->qmin;
  p->qmax = yq->qmax;
  /* The largest N*S2 - S1^2 = N^2 * variance (Popoviciu: variance <= range^2 / 4), or N*S2
   * = N^2 * mean square for RMSNorm, over the input's integer range. */
  int64_t range = (int64_t)xq->qmax - xq->qmin;
  int64_t maxabs = llabs((int64_t)xq->qmin - xq->zp[0]);
  if (llabs((int64_t)xq->qmax - xq->zp[0]) > maxabs) maxabs = llabs((int64_t)xq->qmax - xq->zp[0]);
  int64_t qmax_v = center ? (n * n * range * range + 3) / 4 : n * n * maxabs * maxabs;
  double e = eps * (double)n * (double)n / (sx * sx); /* eps in units of (N * s_x)^-2 */
  /* fractional bits of V: the most (even, so that sqrt(V) has e2/2 of them) that keep
   * V < 2^62 */
  p->e2 = -1;
  for (int b = 60; b >= 2; b -= 2)
    if (ldexp((double)qmax_v + e + 2.0, b) < TWO62) {
      p->e2 = b;
      break;
    }
  if (p->e2 < 0)
    return ares_fail(at, "unsupported: the variance of %lld elements with epsilon %g at scale %g does not fit 62 bits",
                     (long long)n, eps, sx);
  p->eps_fx = (int64_t)ares_round_half_even(ldexp(e, p->e2));
  int h = p->e2 / 2;
  /* t_shift: the most bits such that |u * M + b_add| < 2^62 for every row: |u * M| is at
   * most |gamma / s_y| * sqrt(N) * 2^t (a normalized value cannot exceed sqrt(N)), doubled
   * for the roundings, plus N * 2^9 for M's own rounding */
  double gmax = 0, bmax = 0;
  int64_t np = nsets * n;
  for (int64_t i = 0; i < np; i++) {
    double gi = fabs(gamma[i] / sy), bi = beta ? fabs(beta[i] / sy) : 0;
    if (!isfinite(gi) || !isfinite(bi)) return ares_fail(at, "gamma or beta at position %lld is not finite", (long long)i);
    gmax = gi > gmax ? gi : gmax;
    bmax = bi > bmax ? bi : bmax;
  }
  p->t_shift = 0;
  for (int t = 62; t >= 1; t--)
    if (ldexp(gmax * 2.0 * (sqrt((double)n) + 1.0) + bmax + 1.0, t) + (double)n * 512.0 < TWO62) {
      p->t_shift = t;
      break;
    }
  if (p->t_shift < 1)
    return ares_fail(at, "unsupported: gamma / s_y = %g or beta / s_y = %g is too large for the 64-bit arithmetic", gmax, bmax);
  p->g_mult = ares_alloc(g, sizeof(int32_t) * (size_t)np);
  p->g_shift = ares_alloc(g, sizeof(int8_t) * (size_t)np);
  p->b_add = ares_alloc(g, sizeof(int64_t) * (size_t)np);
  for (int64_t i = 0; i < np; i++) {
    int8_t gs;
    if (ares_quant_multiplier(gamma[i] / sy, &p->g_mult[i], &gs) < 0)
      return ares_fail(at, "unsupported: gamma / s_y = %g at position %lld is too large", gamma[i] / sy, (long long)i);
    p->g_shift[i] = (int8_t)(gs + 29 - p->t_shift - h);
    p->b_add[i] = beta ? (int64_t)ares_round_half_even(ldexp(beta[i] / sy, p->t_shift)) : 0;
  }
  return 0;
}

int ares_softmax_params_make(ares_graph *g, const ares_node *at, ares_softmax_params *p, int64_t outer, int64_t n,
                             int64_t inner, int in_i32, double s_in, const ares_quant *yq) {
  if (n < 1 || n > (1 << 24)) return ares_fail(at, "unsupported: softmax over %lld elements (1 .. 2^24)", (long long)n);
  if (inner < 1 || inner > INT32_MAX) return ares_fail(at, "unsupported: softmax inner size %lld", (long long)inner);
  if (!(s_in > 0) || !isfinite(s_in)) return ares_fail(at, "unsupported: softmax input scale %g (must be positive)", s_in);
  if (yq->nscale != 1) return ares_fail(at, "unsupported: output not quantized per tensor");
  double sy = yq->scale[0];
  p->outer = outer;
  p->n = (int32_t)n;
  p->inner = (int32_t)inner;
  p->in_i32 = in_i32;
  p->zp = yq->zp[0];
  p->qmin = yq->qmin;
  p->qmax = yq->qmax;
  int8_t ys;
  if (ares_quant_multiplier(1.0 / sy, &p->y_mult, &ys) < 0 || p->y_mult == 0)
    return ares_fail(at, "unsupported: output scale %g", sy);
  p->y_shift = ys;
  /* E * K <= 2^30 * 2^out_shift / (2^30 * s_y) (one element is the maximum, E = 2^30, and
   * the sum is at least 2^30): keep it below 2^61 */
  int lb = bitlen_u64((uint64_t)ceil(1.0 / sy));
  p->out_shift = 61 - lb;
  if (p->out_shift > 62) p->out_shift = 62;
  if (p->out_shift < 1) return ares_fail(at, "unsupported: output scale %g", sy);
  if (!in_i32) {
    p->tab = ares_alloc(g, sizeof(int32_t) * 256);
    for (int d = 0; d < 256; d++) p->tab[d] = (int32_t)ares_round_half_even(ldexp(exp(-s_in * d), 30));
    return 0;
  }
  /* base 2: exp(-s d) = 2^-(d c), c = s / ln 2. Beyond dmax the result is below 2^-33 and
   * the table product rounds to 0, so d is clamped there before it is multiplied. */
  double c = s_in / 0.693147180559945309417232121458176568;
  double dm = ceil(33.0 / c);
  p->dmax = dm > 1099511627776.0 ? (int64_t)1 << 40 : (int64_t)dm;
  p->c_shift = 0;
  for (int cs = 56; cs >= 16; cs--) {
    double m = ares_round_half_even(ldexp(c, cs));
    if (m < TWO62 / 4 && m * (double)p->dmax < TWO62) {
      p->c_shift = cs;
      p->c_mult = (int64_t)m;
      break;
    }
  }
  if (p->c_shift == 0) return ares_fail(at, "unsupported: softmax input scale %g is too large", s_in);
  p->hi = ares_alloc(g, sizeof(int32_t) * 256);
  p->lo = ares_alloc(g, sizeof(int32_t) * 256);
  for (int a = 0; a < 256; a++) {
    p->hi[a] = (int32_t)ares_round_half_even(ldexp(exp2(-a / 256.0), 30));
    p->lo[a] = (int32_t)ares_round_half_even(ldexp(exp2(-a / 65536.0), 30));
  }
  return 0;
}

int ares_softmax_mask_make(ares_graph *g, const ares_node *at, ares_softmax_params *p, const uint8_t *keep, int *mask_tid) {
  *mask_tid = -1;
  int64_t rows = p->outer, n = p->n;
  if (p->inner != 1) return ares_fail(at, "unsupported: a masked softmax over an axis other than the last");
  for (int64_t r = 0; r < rows; r++) {
    int64_t k = 0;
    for (int64_t j = 0; j < n; j++) k += keep[r * n + j] != 0;
    if (k == 0)
      return ares_fail(at, "unsupported: the attention mask masks every element of softmax row %lld (float softmax "
                           "gives NaN there)", (long long)r);
  }
  /* the shortest period of the rows (a mask broadcast over batch and heads repeats) */
  int64_t period = rows;
  for (int64_t d = 1; d < rows; d++) {
    if (rows % d) continue;
    int64_t i = d * n;
    while (i < rows * n && (keep[i] != 0) == (keep[i % (d * n)] != 0)) i++;
    if (i == rows * n) {
      period = d;
      break;
    }
  }
  if (period > INT32_MAX) return ares_fail(at, "unsupported: a mask of %lld distinct rows", (long long)period);
  int64_t kept = 0;
  for (int64_t i = 0; i < period * n; i++) kept += keep[i] != 0;
  if (kept == period * n) return 0; /* keeps everything: no mask */
  /* causal: row i keeps a prefix of i + off + 1 elements */
  int64_t off = -1;
  while (off + 1 < n && keep[off + 1]) off++;
  int causal = 1;
  for (int64_t i = 0; i < period && causal; i++)
    for (int64_t j = 0; j < n; j++)
      if ((keep[i * n + j] != 0) != (j <= i + off)) {
        causal = 0;
        break;
      }
  p->mask_rows = (int32_t)period;
  p->causal = causal;
  p->causal_off = causal ? (int32_t)off : 0;
  if (!causal) {
    char name[256];
    snprintf(name, sizeof name, "%s.mask", at && at->name ? at->name : "softmax");
    ares_tensor *t = ares_tensor_new_const(g, name, ARES_DT_I8, 2, (int64_t[]){period, n});
    for (int64_t i = 0; i < period * n; i++) ((int8_t *)t->data)[i] = keep[i] != 0;
    *mask_tid = t->id;
  }
  return 0;
}
