/* Selective scan kernel: the state of each channel lives in h across calls, so a sequence
 * can be fed in chunks (the tiled executor does).
 *
 * The recurrence of docs/SEMANTICS.md (§4 qscan) in 32-bit pieces wherever the operands
 * allow it (rv32 has no 64-bit arithmetic): the decay exponent dd * a is compared with its
 * limit 31 * 2^24 through one division per token and channel, then fits 32 bits; RHE by 30
 * of the Q30 products works on their two halves; the input term of f < 0 is a 32-bit RHE
 * and the clamp to +-hmax compares distances in uint32.
 *
 * Channel-major: the decays E[n] of a channel depend only on its dd, and a quantized,
 * softplus-activated delta takes few distinct values per channel, so the decays of the
 * last few dd are kept (ARES_SCAN_ECACHE words: min(8, 64 / N) sets, none for N > 64) and
 * reused. */
#include "ares_rq_internal.h"

enum { ARES_SCAN_ECACHE = 64, ARES_SCAN_ESETS = 8 }; /* 256 bytes of stack for the decays */

/* 2^(-v / 2^24) in Q30 for 0 <= v < 31 * 2^24: the integer part of the exponent is a
 * shift, its top 16 fractional bits index the two tables (T_hi: 2^(-i/256), T_lo:
 * 2^(-j/65536)). */
static inline int32_t scan_decay(uint32_t v, const int32_t *tab) {
  const int k = (int)(v >> 24);
  const int32_t e = ares_rhe30_i32((int64_t)tab[(v >> 16) & 0xFFu] * tab[256 + ((v >> 8) & 0xFFu)]); /* <= 2^30 */
  return k ? ares_rhe_i32(e, k) : e;
}

typedef struct {
  int32_t hmax, zp_b, zp_c;
  int up, down;  /* the input term: * 2^up (f >= 0) or RHE by down (f < 0) */
  uint32_t lim;  /* |pr| above lim: |pr| * 2^up saturates to 2^32 - 1 */
} scan_k;

/* One state: h' = clamp(RHE(h * E, 30) + term(pr), -hmax, hmax) with |h| <= hmax. */
static inline int32_t scan_state(const scan_k *k, int32_t h, int32_t e, int32_t pr) {
  const int32_t he = ares_rhe30_i32((int64_t)h * e); /* |he| <= |h| <= hmax */
  /* the input term's sign and magnitude; only whether he + term leaves +-hmax matters
   * beyond 2^32 - 2 (the largest distance from he to a bound) */
  const int32_t term = k->down ? ares_rhe_i32(pr, k->down) : pr;
  uint32_t mag = term < 0 ? 0u - (uint32_t)term : (uint32_t)term;
  if (!k->down) mag = mag > k->lim ? 0xFFFFFFFFu : mag << k->up;
  if (term >= 0) return mag > (uint32_t)k->hmax - (uint32_t)he ? k->hmax : ares_u32_i32((uint32_t)he + mag);
  return mag > (uint32_t)k->hmax + (uint32_t)he ? -k->hmax : ares_u32_i32((uint32_t)he - mag);
}

void ares_scan_s8(const int8_t *x, const int8_t *dt, const int8_t *b, const int8_t *c, const int8_t *z, int8_t *y,
                  int32_t *h, const int32_t *a, const int64_t *m_d, const int32_t *tab, const int32_t *gt, int32_t steps,
                  int32_t ch, int32_t stride, int32_t n, const ares_scan *p) {
  /* |pr| < 2^24, so RHE(pr, s) = 0 for every s >= 25: s = 25 stands for them */
  const int up = p->f >= 0 ? p->f : 0;
  const scan_k k = {p->hmax, p->zp_b, p->zp_c, up, p->f >= 0 ? 0 : p->f < -25 ? 25 : -p->f, 0xFFFFFFFFu >> up};
  const int32_t nsets = n > ARES_SCAN_ECACHE ? 0 : ARES_SCAN_ECACHE / n > ARES_SCAN_ESETS ? ARES_SCAN_ESETS : ARES_SCAN_ECACHE / n;
  int32_t ecache[ARES_SCAN_ECACHE];
  for (int32_t d = 0; d < ch; d++) {
    int32_t *hd = h + (int64_t)d * n;
    const int32_t *ad = a + (int64_t)d * n;
    int32_t tag[ARES_SCAN_ESETS] = {0}; /* the dd whose decays set j holds (0: none) */
    int32_t next = 0;                   /* the set a new dd replaces (round robin) */
    for (int32_t i = 0; i < steps; i++) {
      const int32_t t = p->direction ? steps - 1 - i : i;
      const int64_t at = (int64_t)t * stride + d;
      const int8_t *br = b + (int64_t)t * n, *cr = c + (int64_t)t * n;
      const int32_t dx = x[at] - p->zp_x, dd = dt[at] - p->zp_d;
      int64_t acc = 0;
      if (dd <= 0) {
        /* dd = 0: E = 1 exactly and no input, the state is kept as is (|h| <= hmax) */
        for (int32_t s = 0; s < n; s++) acc += (int64_t)(cr[s] - k.zp_c) * hd[s];
      } else {
        const int32_t ddx = dd * dx; /* |dd * dx| <= 255 * 255, |pr| < 2^24 below */
        int32_t j = 0;
        while (j < nsets && tag[j] != dd) j++;
        if (j < nsets) {
          const int32_t *e = ecache + j * n;
          for (int32_t s = 0; s < n; s++) {
            const int32_t hv = scan_state(&k, hd[s], e[s], ddx * (br[s] - k.zp_b));
            hd[s] = hv;
            acc += (int64_t)(cr[s] - k.zp_c) * hv;
          }
        } else {
          /* dd * a >= 31 * 2^24 (E = 0) exactly when a >= amax */
          const uint32_t amax = (31u * 16777216u + (uint32_t)dd - 1u) / (uint32_t)dd;
          int32_t *keep = nsets ? ecache + next * n : 0;
          for (int32_t s = 0; s < n; s++) {
            const int32_t e = (uint32_t)ad[s] < amax ? scan_decay((uint32_t)dd * (uint32_t)ad[s], tab) : 0;
            if (keep) keep[s] = e;
            const int32_t hv = scan_state(&k, hd[s], e, ddx * (br[s] - k.zp_b));
            hd[s] = hv;
            acc += (int64_t)(cr[s] - k.zp_c) * hv;
          }
          if (nsets) {
            tag[next] = dd;
            next = next + 1 == nsets ? 0 : next + 1;
          }
        }
      }
      const int64_t pre = acc * p->m_y + (int64_t)dx * m_d[d];
      if (gt) /* y * SiLU(z), rounded twice (docs/SEMANTICS.md) */
        y[at] = ares_rq_s8(ares_rhe(pre, p->gate_pre) * gt[z[at] + 128], p->gate_shift, p->zp, p->qmin, p->qmax);
      else
        y[at] = ares_rq_s8(pre, p->shift, p->zp, p->qmin, p->qmax);
    }
  }
}
