/* Reference QLAYERNORM, QRMSNORM and QSOFTMAX (docs/SEMANTICS.md). Runtime twins:
 * runtime/kernels/ares_norm.c (ares_norm_s8) and ares_softmax.c (ares_softmax_s8); the
 * square root here is a binary search, the kernels' a digit-by-digit recurrence. */
#include "ref_internal.h"

#include <stdlib.h>

#define TWO62 ((int64_t)1 << 62)

static int bitlen(int64_t v) {
  int b = 0;
  while (v > 0) {
    b++;
    v /= 2;
  }
  return b;
}

/* floor(sqrt(v)) for 0 <= v < 2^62: the largest s < 2^31 with s * s <= v. */
static int64_t isqrt(int64_t v) {
  int64_t lo = 0, hi = (int64_t)1 << 31; /* lo * lo <= v < hi * hi */
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (mid * mid <= v) lo = mid;
    else hi = mid;
  }
  return lo;
}

/* p / 2^k for any k: times 2^-k when k <= 0 (no overflow: checked by the caller's
 * bounds), RHE for 1 <= k <= 62, 0 beyond (|p| < 2^62 rounds to 0). */
static int64_t shr(int64_t p, int k) {
  if (k <= 0) return p * ((int64_t)1 << -k);
  if (k > 62) return 0;
  return ares_ref_rhe(p, k);
}

static int64_t mag(int64_t v) { return v < 0 ? -v : v; }

static int check_row_op(const ares_graph *g, const ares_node *n, void **values, ares_dtype in_dt, int64_t outer,
                        int64_t count, const void **x, int8_t **y) {
  const ares_tensor *tx, *ty;
  if (ares_ref_arity(n, 1, 1)) return -1;
  if (!(*x = ares_ref_in(g, n, values, 0, in_dt, &tx))) return -1;
  if (!(*y = ares_ref_out(g, n, values, 0, ARES_DT_I8, &ty))) return -1;
  if (ares_tensor_numel(tx) != ares_tensor_numel(ty)) return ares_fail(n, "input and output differ in size");
  if (outer < 0 || count < 0 || outer * count != ares_tensor_numel(ty))
    return ares_fail(n, "rows (%lld x %lld) do not cover the %lld elements", (long long)outer, (long long)count,
                     (long long)ares_tensor_numel(ty));
  return 0;
}

static int norm(const ares_graph *g, const ares_node *n, void **values, int center) {
  const ares_norm_params *p = &n->p.norm;
  const void *xv;
  int8_t *y;
  if (p->n < 1 || p->n > (1 << 20)) return ares_fail(n, "row length %d outside 1..2^20", p->n);
  if (check_row_op(g, n, values, ARES_DT_I8, p->outer, p->n, &xv, &y)) return -1;
  const int8_t *x = xv;
  if (ares_ref_check_zp(n, p->x_zp, "input zero point") || ares_ref_check_shift(n, p->t_shift, "t_shift") ||
      ares_ref_check_range8(n, p->qmin, p->qmax))
    return -1;
  if (p->e2 < 0 || p->e2 > 60 || p->e2 % 2 || p->eps_fx < 0 || !p->g_mult || !p->g_shift || !p->b_add || p->nsets < 1 ||
      p->outer % p->nsets)
    return ares_fail(n, "invalid normalization parameters");
  int64_t N = p->n;
  for (int64_t r = 0; r < p->outer; r++) {
    const int8_t *xr = x + r * N;
    int8_t *yr = y + r * N;
    int64_t set = r % p->nsets * N; /* this row's parameters */
    int64_t s1 = 0, s2 = 0;
    for (int64_t i = 0; i < N; i++) {
      int64_t d = (int64_t)xr[i] - p->x_zp;
      s1 += d;
      s2 += d * d;
    }
    if (!center) s1 = 0;
    int64_t q = N * s2 - s1 * s1;
    int64_t s = 0, rinv = 0;
    int b = 0;
    if (q > 0) {
      if (q > (TWO62 - 1 - p->eps_fx) >> p->e2) return ares_fail(n, "row %lld: variance overflows 62 bits", (long long)r);
      s = isqrt(q * ((int64_t)1 << p->e2) + p->eps_fx);
      b = bitlen(s);
      /* round(2^(b+29) / s), halves up */
      rinv = (((int64_t)1 << (b + 30)) + s) / (2 * s);
    }
    for (int64_t i = 0; i < N; i++) {
      int64_t acc = p->b_add[set + i];
      if (q > 0) {
        int k = p->g_shift[set + i] + b;
        int64_t prod = (int64_t)p->g_mult[set + i] * rinv;
        if (k < 0 && mag(prod) > (TWO62 >> -k)) return ares_fail(n, "row %lld: multiplier overflows", (long long)r);
        int64_t m = shr(prod, k);
        int64_t u = N * ((int64_t)xr[i] - p->x_zp) - s1;
        if (u != 0 && (mag(m) > TWO62 / mag(u) || mag(u * m) > TWO62 - mag(acc)))
          return ares_fail(n, "row %lld: product overflows 62 bits (range proof broken)", (long long)r);
        acc += u * m;
      }
      yr[i] = (int8_t)ares_ref_clamp(p->zp + ares_ref_rhe(acc, p->t_shift), p->qmin, p->qmax);
    }
  }
  return 0;
}

int ares_ref_qlayernorm(const ares_graph *g, const ares_node *n, void **values) { return norm(g, n, values, 1); }

int ares_ref_qrmsnorm(const ares_graph *g, const ares_node *n, void **values) { return norm(g, n, values, 0); }

/* exp(-(d * c_mult / 2^c_shift) * ln 2) in Q30 through the two 256-entry tables. */
static int64_t exp2_q30(const ares_softmax_params *p, int64_t d) {
  if (d > p->dmax) d = p->dmax;
  int64_t t = d * p->c_mult;
  int64_t f = p->c_shift > 16 ? ares_ref_rhe(t, p->c_shift - 16) : t; /* Q16 exponent */
  int64_t whole = f / 65536, a = f / 256 % 256, bb = f % 256;
  if (whole > 32) return 0;
  return ares_ref_rhe((int64_t)p->hi[a] * p->lo[bb], (int)(30 + whole));
}

int ares_ref_qsoftmax(const ares_graph *g, const ares_node *n, void **values) {
  const ares_softmax_params *p = &n->p.softmax;
  const void *xv;
  int8_t *y;
  if (p->n < 1 || p->n > (1 << 24) || p->inner < 1) return ares_fail(n, "row length %d or inner size %d invalid", p->n, p->inner);
  if (check_row_op(g, n, values, p->in_i32 ? ARES_DT_I32 : ARES_DT_I8, p->outer * p->inner, p->n, &xv, &y)) return -1;
  if (ares_ref_check_shift(n, p->out_shift, "out_shift") || ares_ref_check_shift(n, p->y_shift, "y_shift") ||
      ares_ref_check_range8(n, p->qmin, p->qmax))
    return -1;
  if (p->in_i32 ? (!p->hi || !p->lo || p->c_shift < 16 || p->c_shift > 62 || p->c_mult < 0 || p->dmax < 0 ||
                   (p->c_mult && p->dmax > (TWO62 - 1) / p->c_mult))
                : !p->tab)
    return ares_fail(n, "invalid softmax parameters");
  const int8_t *mask = NULL;
  if (p->mask_rows < 0 || (p->mask_rows && (p->inner != 1 || p->outer % p->mask_rows || p->causal_off < 0)))
    return ares_fail(n, "invalid softmax mask parameters");
  if (p->mask_rows && !p->causal) {
    const ares_tensor *tm;
    if (n->nin != 2 || !(mask = ares_ref_in(g, n, values, 1, ARES_DT_I8, &tm))) return ares_fail(n, "the mask input is missing");
    if (ares_tensor_numel(tm) != (int64_t)p->mask_rows * p->n)
      return ares_fail(n, "the mask holds %lld elements, not %d rows of %d", (long long)ares_tensor_numel(tm), p->mask_rows, p->n);
  }
  int64_t N = p->n, inner = p->inner;
  int64_t *e = malloc(sizeof(int64_t) * (size_t)N);
  if (!e) return ares_fail(n, "out of memory");
  for (int64_t o = 0; o < p->outer; o++) {
    for (int64_t in = 0; in < inner; in++) {
      int64_t base = o * N * inner + in;
      int64_t m = INT64_MIN, mrow = p->mask_rows ? o % p->mask_rows : 0;
      for (int64_t j = 0; j < N; j++) {
        /* a masked element is left out of the maximum and the sum: its exp is exactly 0 */
        e[j] = !p->mask_rows || (p->causal ? j - mrow <= p->causal_off : mask[mrow * N + j] != 0);
        int64_t v = p->in_i32 ? ((const int32_t *)xv)[base + j * inner] : ((const int8_t *)xv)[base + j * inner];
        if (e[j] && v > m) m = v;
      }
      if (m == INT64_MIN) {
        free(e);
        return ares_fail(n, "row %lld is fully masked", (long long)o);
      }
      int64_t sum = 0;
      for (int64_t j = 0; j < N; j++) {
        int64_t v = p->in_i32 ? ((const int32_t *)xv)[base + j * inner] : ((const int8_t *)xv)[base + j * inner];
        if (e[j]) e[j] = p->in_i32 ? exp2_q30(p, m - v) : p->tab[m - v];
        sum += e[j];
      }
      if (sum < ((int64_t)1 << 30)) {
        free(e);
        return ares_fail(n, "exp table does not start at 2^30");
      }
      int k = bitlen(sum) - 31;
      int64_t sn = k > 0 ? ares_ref_rhe(sum, k) : sum;
      int64_t rinv = (TWO62 + sn) / (2 * sn); /* round(2^61 / sn), halves up */
      int64_t kk = shr(rinv * p->y_mult, 61 + k + p->y_shift - p->out_shift);
      for (int64_t j = 0; j < N; j++) {
        if (e[j] != 0 && kk > TWO62 / e[j]) {
          free(e);
          return ares_fail(n, "product overflows 62 bits");
        }
        y[base + j * inner] = (int8_t)ares_ref_clamp(p->zp + ares_ref_rhe(e[j] * kk, p->out_shift), p->qmin, p->qmax);
      }
    }
  }
  free(e);
  return 0;
}
