/* Softmax rows (ares_kernels.h, docs/SEMANTICS.md qsoftmax): max, exp by table, integer
 * sum, one fixed-point reciprocal per row. Three passes over the row, no scratch. */
#include "ares_rq_internal.h"

/* Q30 value of 2^-(d * c) for the int32 path. */
static int64_t exp_i32(const ares_softmax *p, int64_t d) {
  int64_t t = (d < p->dmax ? d : p->dmax) * p->c_mult;
  uint64_t f = (uint64_t)(p->c_shift == 16 ? t : ares_rhe(t, p->c_shift - 16)); /* Q16 */
  uint64_t whole = f >> 16;
  if (whole > 32) return 0;
  return ares_rhe((int64_t)p->hi[(f >> 8) & 255] * p->lo[f & 255], 30 + (int)whole);
}

static int64_t elem(const void *x, int in_i32, int64_t i) {
  return in_i32 ? (int64_t)((const int32_t *)x)[i] : (int64_t)((const int8_t *)x)[i];
}

void ares_softmax_s8(const void *x, int8_t *y, int64_t r0, int64_t r1, const ares_softmax *p) {
  const int64_t n = p->n, st = p->inner;
  for (int64_t r = r0; r < r1; r++) {
    int64_t base = r / st * n * st + r % st;
    int64_t mx = elem(x, p->in_i32, base);
    for (int64_t j = 1; j < n; j++) {
      int64_t v = elem(x, p->in_i32, base + j * st);
      mx = v > mx ? v : mx;
    }
    int64_t sum = 0;
    for (int64_t j = 0; j < n; j++) {
      int64_t d = mx - elem(x, p->in_i32, base + j * st);
      sum += p->in_i32 ? exp_i32(p, d) : p->tab[d];
    }
    int k = 0;
    while ((sum >> (31 + k)) != 0) k++; /* sum < 2^(31+k) */
    int64_t sn = k ? ares_rhe(sum, k) : sum;
    int64_t rinv = (int64_t)(((uint64_t)1 << 62) + (uint64_t)sn) / (2 * sn);
    int64_t kp = rinv * p->y_mult, kk;
    int sh = 61 + k + p->y_shift - p->out_shift;
    if (sh <= 0) kk = kp * ((int64_t)1 << -sh);
    else if (sh <= 62) kk = ares_rhe(kp, sh);
    else kk = 0;
    for (int64_t j = 0; j < n; j++) {
      int64_t d = mx - elem(x, p->in_i32, base + j * st);
      int64_t e = p->in_i32 ? exp_i32(p, d) : p->tab[d];
      y[base + j * st] = ares_rq_s8(e * kk, p->out_shift, p->zp, p->qmin, p->qmax);
    }
  }
}
