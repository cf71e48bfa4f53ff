/* 2-D convolution, int8 NCHW, grouped/depthwise, stride, dilation, asymmetric padding.
 *
 * Windows fully inside the input (the common case) run without bounds checks and with the
 * input zero point folded out: sum w*(x - zp) = sum w*x - zp * sum w, sum w computed once
 * per output channel. Border windows clip their tap ranges once per pixel and subtract
 * the zero point per tap. */
#include "ares_rq_internal.h"
#include "../ares_simd.h"

/* Taps k in [0, kn) with 0 <= i0 + k*d < n form the range [*lo, *hi) (possibly empty). */
static inline void conv_tap_range(int32_t i0, int32_t d, int32_t kn, int32_t n, int32_t *lo,
                                  int32_t *hi) {
  int32_t l = i0 < 0 ? (-i0 + d - 1) / d : 0;
  int32_t h = i0 >= n ? 0 : (n - i0 + d - 1) / d;
  *lo = l;
  *hi = h < kn ? h : kn;
}

void ares_conv2d_s8(const int8_t *x, const int8_t *w, const int32_t *bias, void *y,
                    const ares_conv_shape *s, const ares_rq *rq) {
  const int32_t cin_g = s->cin / s->group, cout_g = s->cout / s->group;
  const int32_t kh = s->kh, kw = s->kw, dh = s->dh, dw = s->dw, H = s->h, W = s->w;
  const int32_t zp = s->x_zp;
  const int64_t hw = (int64_t)H * W, ksz = (int64_t)cin_g * kh * kw;

  for (int32_t n = 0; n < s->n; n++)
    for (int32_t co = 0; co < s->cout; co++) {
      const int32_t g = co / cout_g;
      const int8_t *xg = x + ((int64_t)n * s->cin + (int64_t)g * cin_g) * hw;
      const int8_t *wc = w + co * ksz;
      ares_acc wsum = 0;
      for (int64_t k = 0; k < ksz; k++) wsum += (ares_acc)(int32_t)wc[k];
      const ares_acc b = (ares_acc)(bias ? bias[co] : 0);
      const ares_acc zcorr = (ares_acc)zp * wsum; /* modular: exact once combined */
      const int64_t ybase = ((int64_t)n * s->cout + co) * s->oh * s->ow;

      for (int32_t oy = 0; oy < s->oh; oy++) {
        const int32_t iy0 = oy * s->sh - s->pad_t;
        int32_t ky_lo, ky_hi;
        conv_tap_range(iy0, dh, kh, H, &ky_lo, &ky_hi);
        for (int32_t ox = 0; ox < s->ow; ox++) {
          const int32_t ix0 = ox * s->sw - s->pad_l;
          int32_t kx_lo, kx_hi;
          conv_tap_range(ix0, dw, kw, W, &kx_lo, &kx_hi);
          ares_acc acc = b;
          if (ky_lo == 0 && ky_hi == kh && kx_lo == 0 && kx_hi == kw) {
            /* interior: no checks, zero point folded */
            const int8_t *xc = xg + (int64_t)iy0 * W + ix0;
            const int8_t *wk = wc;
            for (int32_t ci = 0; ci < cin_g; ci++, xc += hw)
              for (int32_t ky = 0; ky < kh; ky++, wk += kw) {
                const int8_t *xr = xc + (int64_t)ky * dh * W;
                int32_t dot = 0; /* |dot| <= kw * 2^14: no overflow for any sane kw */
                if (dw == 1) {
                  dot = ares_dot_s8(wk, xr, kw); /* contiguous taps: SIMD where the target has it */
                } else {
                  for (int32_t kx = 0; kx < kw; kx++) dot += wk[kx] * xr[kx * dw];
                }
                acc += (ares_acc)dot;
              }
            acc -= zcorr;
          } else {
            for (int32_t ci = 0; ci < cin_g; ci++) {
              const int8_t *xc = xg + ci * hw;
              const int8_t *wk = wc + (int64_t)ci * kh * kw;
              for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
                const int8_t *xr = xc + (int64_t)(iy0 + ky * dh) * W; /* row in range */
                const int8_t *wr = wk + ky * kw;
                for (int32_t kx = kx_lo; kx < kx_hi; kx++)
                  acc += (ares_acc)(wr[kx] * (xr[ix0 + kx * dw] - zp));
              }
            }
          }
          ares_rq_store(rq, y, ybase + (int64_t)oy * s->ow + ox, ares_acc_i32(acc), co);
        }
      }
    }
}
