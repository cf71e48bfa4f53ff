/* Max and average pooling, int8 NCHW, with stride, dilation and padding. */
#include "ares_rq_internal.h"

/* Taps k in [0, kn) with 0 <= i0 + k*d < n form [*lo, *hi) (possibly empty). */
static inline void pool_tap_range(int32_t i0, int32_t d, int32_t kn, int32_t n, int32_t *lo,
                                  int32_t *hi) {
  int32_t l = i0 < 0 ? (-i0 + d - 1) / d : 0;
  int32_t h = i0 >= n ? 0 : (n - i0 + d - 1) / d;
  *lo = l;
  *hi = h < kn ? h : kn;
}

void ares_maxpool_s8(const int8_t *x, int8_t *y, const ares_pool_shape *s) {
  const int64_t hw = (int64_t)s->h * s->w;
  for (int64_t nc = 0; nc < (int64_t)s->n * s->c; nc++) {
    const int8_t *xc = x + nc * hw;
    int8_t *yc = y + nc * s->oh * s->ow;
    for (int32_t oy = 0; oy < s->oh; oy++) {
      const int32_t iy0 = oy * s->sh - s->pad_t;
      int32_t ky_lo, ky_hi;
      pool_tap_range(iy0, s->dh, s->kh, s->h, &ky_lo, &ky_hi);
      for (int32_t ox = 0; ox < s->ow; ox++) {
        const int32_t ix0 = ox * s->sw - s->pad_l;
        int32_t kx_lo, kx_hi;
        pool_tap_range(ix0, s->dw, s->kw, s->w, &kx_lo, &kx_hi);
        int32_t m = INT8_MIN; /* a window with no tap in the input yields -128 */
        for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
          const int8_t *xr = xc + (int64_t)(iy0 + ky * s->dh) * s->w;
          for (int32_t kx = kx_lo; kx < kx_hi; kx++) {
            int32_t v = xr[ix0 + kx * s->dw];
            if (v > m) m = v;
          }
        }
        yc[(int64_t)oy * s->ow + ox] = (int8_t)m;
      }
    }
  }
}

void ares_avgpool_s8(const int8_t *x, int8_t *y, const ares_pool_shape *s, const ares_rq *rq) {
  const int64_t hw = (int64_t)s->h * s->w;
  const int32_t zp = s->x_zp, full = s->kh * s->kw;
  for (int64_t nc = 0; nc < (int64_t)s->n * s->c; nc++) {
    const int8_t *xc = x + nc * hw;
    int8_t *yc = y + nc * s->oh * s->ow;
    for (int32_t oy = 0; oy < s->oh; oy++) {
      const int32_t iy0 = oy * s->sh - s->pad_t;
      int32_t ky_lo, ky_hi;
      pool_tap_range(iy0, s->dh, s->kh, s->h, &ky_lo, &ky_hi);
      for (int32_t ox = 0; ox < s->ow; ox++) {
        const int32_t ix0 = ox * s->sw - s->pad_l;
        int32_t kx_lo, kx_hi;
        pool_tap_range(ix0, s->dw, s->kw, s->w, &kx_lo, &kx_hi);
        int32_t acc = 0, cnt = 0;
        for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
          const int8_t *xr = xc + (int64_t)(iy0 + ky * s->dh) * s->w;
          for (int32_t kx = kx_lo; kx < kx_hi; kx++) acc += xr[ix0 + kx * s->dw];
          cnt += kx_hi > kx_lo ? kx_hi - kx_lo : 0;
        }
        acc -= cnt * zp; /* sum (x - zp) over the in-bounds taps */
        if (s->count_include_pad) cnt = full;
        int8_t out;
        if (cnt == 0) {
          out = ares_sat(rq->zp, rq->qmin, rq->qmax); /* empty window: average of nothing = 0 */
        } else {
          const int32_t c = rq->n == 1 ? 0 : cnt - 1;
          out = ares_rq_s8((int64_t)acc * rq->mult[c], rq->shift[c], rq->zp, rq->qmin, rq->qmax);
        }
        yc[(int64_t)oy * s->ow + ox] = out;
      }
    }
  }
}
