/* Rotary position encoding on int8 rows (see ares_kernels.h, ares_rope_s8). */
#include "ares_rq_internal.h"

/* One element: its own term and its partner's, one rounding. */
static inline int8_t rope_one(int32_t a, int32_t b, int32_t mc, int32_t ms, const ares_rope *p) {
  return ares_rq_s8((int64_t)a * mc + (int64_t)b * ms, p->shift, p->zp, p->qmin, p->qmax);
}

void ares_rope_s8(const int8_t *x, int8_t *y, int64_t row0, int64_t rows, const ares_rope *p) {
  const int32_t d = p->d, h = d / 2, zp = p->zp_in;
  for (int64_t r = 0; r < rows; r++) {
    const int64_t pos = ((row0 + r) / p->inner) % p->npos;
    const int32_t *mc = p->mc + pos * d, *ms = p->ms + pos * d;
    const int8_t *xr = x + r * d;
    int8_t *yr = y + r * d;
    if (p->layout == ARES_ROPE_LAYOUT_HALF) {
      for (int32_t k = 0; k < h; k++) {
        int32_t a = xr[k] - zp, b = xr[k + h] - zp;
        yr[k] = rope_one(a, b, mc[k], ms[k], p);
        yr[k + h] = rope_one(b, a, mc[k + h], ms[k + h], p);
      }
    } else {
      for (int32_t k = 0; k < d; k += 2) {
        int32_t a = xr[k] - zp, b = xr[k + 1] - zp;
        yr[k] = rope_one(a, b, mc[k], ms[k], p);
        yr[k + 1] = rope_one(b, a, mc[k + 1], ms[k + 1], p);
      }
    }
  }
}
