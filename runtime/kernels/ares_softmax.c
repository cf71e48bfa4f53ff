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

/* E in Q30 of a distance d >= 0 from the row maximum. */
static int64_t exp_q30(const ares_softmax *p, int64_t d) { return p->in_i32 ? exp_i32(p, d) : p->tab[d]; }

/* K = round(2^61 / sum) * y_mult / 2^(61 + k + y_shift - out_shift), the row's factor. */
static int64_t row_scale(int64_t sum, const ares_softmax *p) {
  int k = 0;
  while ((sum >> (31 + k)) != 0) k++; /* sum < 2^(31+k) */
  int64_t sn = k ? ares_rhe(sum, k) : sum;
  int64_t rinv = (int64_t)(((uint64_t)1 << 62) + (uint64_t)sn) / (2 * sn);
  int64_t kp = rinv * p->y_mult;
  int sh = 61 + k + p->y_shift - p->out_shift;
  if (sh <= 0) return kp * ((int64_t)1 << -sh);
  if (sh <= 62) return ares_rhe(kp, sh);
  return 0;
}

static int64_t elem(const void *x, int in_i32, int64_t i) {
  return in_i32 ? (int64_t)((const int32_t *)x)[i] : (int64_t)((const int8_t *)x)[i];
}

/* The kept elements of a masked row are [0, lim) where keep is NULL (causal), else those
 * with keep[j] != 0. */
static int kept(const uint8_t *keep, int64_t lim, int64_t j) { return keep ? keep[j] != 0 : j < lim; }

void ares_softmax_s8(const void *x, int8_t *y, int64_t r0, int64_t r1, int64_t row0, const uint8_t *mask,
                     const ares_softmax *p) {
  const int64_t n = p->n, st = p->inner;
  for (int64_t r = r0; r < r1; r++) {
    int64_t base = r / st * n * st + r % st;
    if (p->mask_rows) {
      /* inner is 1: row r is one slab */
      int64_t i = (row0 + r) % p->mask_rows, lim = i + p->causal_off + 1;
      const uint8_t *keep = p->causal ? 0 : mask + i * n;
      if (lim > n) lim = n;
      int64_t mx = INT64_MIN;
      for (int64_t j = 0; j < n; j++) {
        int64_t v = elem(x, p->in_i32, base + j);
        if (kept(keep, lim, j) && v > mx) mx = v;
      }
      int64_t sum = 0;
      for (int64_t j = 0; j < n; j++)
        if (kept(keep, lim, j)) sum += exp_q30(p, mx - elem(x, p->in_i32, base + j));
      int64_t kk = row_scale(sum, p);
      for (int64_t j = 0; j < n; j++) {
        int64_t e = kept(keep, lim, j) ? exp_q30(p, mx - elem(x, p->in_i32, base + j)) : 0;
        y[base + j] = ares_rq_s8(e * kk, p->out_shift, p->zp, p->qmin, p->qmax);
      }
      continue;
    }
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
    int64_t kk = row_scale(sum, p);
    for (int64_t j = 0; j < n; j++) {
      int64_t d = mx - elem(x, p->in_i32, base + j * st);
      int64_t e = p->in_i32 ? exp_i32(p, d) : p->tab[d];
      y[base + j * st] = ares_rq_s8(e * kk, p->out_shift, p->zp, p->qmin, p->qmax);
    }
  }
}
