/* Selective scan kernel: the state of each channel lives in h across calls, so a sequence
 * can be fed in chunks (the tiled executor does). Token-major: each token's B and C rows
 * are read once for all channels. */
#include "ares_rq_internal.h"

/* 2^(-v / 2^24) in Q30 for v >= 0: the integer part of the exponent is a shift, its top 16
 * fractional bits index the two tables (T_hi: 2^(-i/256), T_lo: 2^(-j/65536)). */
static inline int64_t scan_decay(int64_t v, const int32_t *tab) {
  int32_t k = (int32_t)(v >> 24);
  if (k >= 31) return 0;
  uint32_t fr = (uint32_t)(v >> 8) & 0xFFFFu;
  int64_t e = ares_rhe((int64_t)tab[fr >> 8] * tab[256 + (fr & 0xFFu)], 30);
  return k ? ares_rhe(e, k) : e;
}

void ares_scan_s8(const int8_t *x, const int8_t *dt, const int8_t *b, const int8_t *c, const int8_t *z, int8_t *y,
                  int32_t *h, const int32_t *a, const int64_t *m_d, const int32_t *tab, const int32_t *gt, int32_t steps,
                  int32_t ch, int32_t stride, int32_t n, const ares_scan *p) {
  const int64_t hmax = p->hmax, scale = p->f >= 0 ? (int64_t)1 << p->f : 0;
  const int down = p->f < 0 ? -p->f : 0;
  for (int32_t i = 0; i < steps; i++) {
    int32_t t = p->direction ? steps - 1 - i : i;
    const int8_t *xr = x + (int64_t)t * stride, *dr = dt + (int64_t)t * stride;
    const int8_t *br = b + (int64_t)t * n, *cr = c + (int64_t)t * n;
    int8_t *yr = y + (int64_t)t * stride;
    for (int32_t d = 0; d < ch; d++) {
      int32_t dx = xr[d] - p->zp_x, dd = dr[d] - p->zp_d;
      if (dd < 0) dd = 0;
      int32_t *hd = h + (int64_t)d * n;
      const int32_t *ad = a + (int64_t)d * n;
      const int32_t ddx = dd * dx; /* |dd * dx| <= 255 * 255 */
      int64_t acc = 0;
      for (int32_t s = 0; s < n; s++) {
        int64_t pr = (int64_t)ddx * (br[s] - p->zp_b);
        int64_t v = down ? ares_rhe(pr, down) : pr * scale;
        /* dd = 0: E = 1 exactly, the state is kept as is */
        if (dd) v += ares_rhe((int64_t)hd[s] * scan_decay((int64_t)dd * ad[s], tab), 30);
        else v += hd[s];
        hd[s] = (int32_t)(v > hmax ? hmax : v < -hmax ? -hmax : v);
        acc += (int64_t)(cr[s] - p->zp_c) * hd[s];
      }
      int64_t pre = acc * p->m_y + (int64_t)dx * m_d[d];
      if (gt) /* y * SiLU(z), rounded twice (docs/SEMANTICS.md) */
        yr[d] = ares_rq_s8(ares_rhe(pre, p->gate_pre) * gt[z[(int64_t)t * stride + d] + 128], p->gate_shift, p->zp, p->qmin, p->qmax);
      else
        yr[d] = ares_rq_s8(pre, p->shift, p->zp, p->qmin, p->qmax);
    }
  }
}
