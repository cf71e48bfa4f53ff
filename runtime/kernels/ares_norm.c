/* LayerNorm / RMSNorm rows (ares_kernels.h, docs/SEMANTICS.md qlayernorm). Integer only:
 * the result does not depend on how rows are split over tiles or cores. */
#include "ares_rq_internal.h"

/* floor(sqrt(v)), v < 2^62: the digit-by-digit (base 4) recurrence. */
static uint32_t isqrt64(uint64_t v) {
  uint64_t root = 0, bit = (uint64_t)1 << 62;
  while (bit > v) bit >>= 2;
  while (bit) {
    if (v >= root + bit) {
      v -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
    bit >>= 2;
  }
  return (uint32_t)root;
}

static int nbits(uint32_t v) {
  int b = 0;
  for (; v; v >>= 1) b++;
  return b;
}

void ares_norm_s8(const int8_t *x, int8_t *y, int64_t row0, int32_t rows, const ares_norm *p) {
  const int64_t n = p->n;
  for (int32_t r = 0; r < rows; r++, x += n, y += n) {
    const int64_t k0 = (row0 + r) % p->nsets * n;
    const int32_t *gm = p->g_mult + k0;
    const int8_t *gs = p->g_shift + k0;
    const int64_t *ba = p->b_add + k0;
    int64_t s1 = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) {
      int32_t d = (int32_t)x[i] - p->x_zp;
      s1 += d;
      s2 += (int64_t)(d * d);
    }
    if (!p->center) s1 = 0;
    int64_t q = n * s2 - s1 * s1;
    if (q == 0) { /* a constant row: only beta remains */
      for (int64_t i = 0; i < n; i++) y[i] = ares_rq_s8(ba[i], p->t_shift, p->zp, p->qmin, p->qmax);
      continue;
    }
    uint32_t s = isqrt64(((uint64_t)q << p->e2) + (uint64_t)p->eps_fx);
    int b = nbits(s);
    int64_t rinv = (int64_t)((((uint64_t)1 << (b + 30)) + s) / (2 * (uint64_t)s));
    for (int64_t i = 0; i < n; i++) {
      int64_t prod = rinv * gm[i], m;
      int k = gs[i] + b;
      if (k <= 0) m = prod * ((int64_t)1 << -k);
      else if (k <= 62) m = ares_rhe(prod, k);
      else m = 0;
      int64_t u = n * ((int32_t)x[i] - p->x_zp) - s1;
      y[i] = ares_rq_s8(u * m + ba[i], p->t_shift, p->zp, p->qmin, p->qmax);
    }
  }
}
