/* 2-D convolution, int8 NCHW, grouped/depthwise, stride, dilation, asymmetric padding.
 *
 * Each output row splits into the pixels whose window lies inside the input horizontally
 * (the interior columns) and the border columns left and right of them.
 *  - Interior columns run register-blocked: NB output channels x NP adjacent pixels per
 *    inner loop (4x2, 2x4 or 1x4; a row's tail in blocks of half the width), so each
 *    loaded weight serves NP pixels and each loaded activation NB channels, without
 *    bounds checks, and with the input zero point folded out: sum w*(x - zp) = sum w*x -
 *    zp * sum w, the sum of w over the window's rows inside the input computed once per
 *    channel (and once per clipped row). Rows clipped at the top or bottom just run over
 *    fewer kernel rows. The common shapes (3x3 stride 1 and 2, 1x1 stride 1) are separate
 *    instances with constant kw and strides, so the compiler unrolls the tap loop and
 *    loads each activation shared by neighbouring taps once.
 *  - Border columns clip their tap ranges per pixel and subtract the zero point per tap,
 *    NB channels at a time.
 * The last tail block of a row may overlap the previous block (it is recomputed and
 * stored again, identically) instead of running single pixels.
 * The epilogue requantizes with per-channel parameters prepared once (ares_rqc). */
#include "ares_rq_internal.h"
#include "../ares_simd.h"

#define CONV_INLINE static inline __attribute__((always_inline))

/* floor(a / b) for b > 0 and any sign of a */
static inline int32_t conv_floordiv(int32_t a, int32_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* Taps k in [0, kn) with 0 <= i0 + k*d < n form the range [*lo, *hi) (possibly empty). */
static inline void conv_tap_range(int32_t i0, int32_t d, int32_t kn, int32_t n, int32_t *lo,
                                  int32_t *hi) {
  int32_t l = i0 < 0 ? (-i0 + d - 1) / d : 0;
  int32_t h = i0 >= n ? 0 : (n - i0 + d - 1) / d;
  *lo = l;
  *hi = h < kn ? h : kn;
}

/* What the blocked loops need of one call (one group of one image). */
typedef struct {
  int32_t cin_g, kh, kw, sw, dw, hw, ksz; /* ksz: weights per output channel */
  int32_t rowstep;                        /* dh * W: from one kernel row to the next */
} conv_ctx;

/* one tap kx of all NB x NP products (the loops over b and p are fully unrolled) */
#define CONV_TAP(xr, wr, kx)                                                           \
  do {                                                                                 \
    int32_t xv[4];                                                                     \
    _Pragma("GCC unroll 4") for (int p = 0; p < NP; p++) xv[p] = (xr)[(kx) * dw + p * sw]; \
    _Pragma("GCC unroll 4") for (int b = 0; b < NB; b++) {                             \
      const int32_t wv = (wr)[b * ksz + (kx)];                                         \
      _Pragma("GCC unroll 4") for (int p = 0; p < NP; p++) acc[b][p] += (ares_acc)(wv * xv[p]); \
    }                                                                                  \
  } while (0)

/* acc[b][p] = sum over ci, ky in [ky0, ky1), kx of w_b[ci][ky][kx] * xp[p*sw + ci*hw +
 * (ky-ky0)*rowstep + kx*dw] for channel b's weights w_b = wp + b*ksz: xp is the window's
 * first tap inside the input. KH/KW/SW/DW = 0: runtime; with KH set, windows of all KH rows
 * run with the rows unrolled too (weights at constant offsets; used for 1x1, where it drops
 * the row loop: for 3x3 the unrolled rows spill registers on rv32). */
CONV_INLINE void conv_block(const conv_ctx *c, const int8_t *xp, const int8_t *wp, int32_t ky0, int32_t ky1,
                            ares_acc acc[4][4], const int NB, const int NP, const int KH, const int KW, const int SW,
                            const int DW) {
  const int32_t kw = KW ? KW : c->kw, sw = SW ? SW : c->sw, dw = DW ? DW : c->dw;
  const int32_t ksz = c->ksz, rows = ky1 - ky0, wskip = (c->kh - rows) * kw;
  const int32_t xskip = c->hw - rows * c->rowstep;
#pragma GCC unroll 4
  for (int b = 0; b < NB; b++)
#pragma GCC unroll 4
    for (int p = 0; p < NP; p++) acc[b][p] = 0;
  const int8_t *xr = xp, *wr = wp + ky0 * kw;
  if (KH && KW && rows == KH) {
    const int32_t rs = c->rowstep;
    for (int32_t ci = 0; ci < c->cin_g; ci++, xr += c->hw, wr += KH * KW)
#pragma GCC unroll 8
      for (int ky = 0; ky < KH; ky++)
#pragma GCC unroll 8
        for (int kx = 0; kx < KW; kx++) CONV_TAP(xr + ky * rs, wr + ky * KW, kx);
    return;
  }
  for (int32_t ci = 0; ci < c->cin_g; ci++, xr += xskip, wr += wskip)
    for (int32_t ky = 0; ky < rows; ky++, xr += c->rowstep, wr += kw) {
      int32_t kx = 0;
#if ARES_SIMD_4LANE
      /* contiguous taps: four at a time with the 4-lane dot product */
      if (!KW && dw == 1)
        for (; kx + 4 <= kw; kx += 4) {
          uint32_t x4[4], w4;
#pragma GCC unroll 4
          for (int p = 0; p < NP; p++) x4[p] = ares_load4(xr + kx + p * sw);
#pragma GCC unroll 4
          for (int b = 0; b < NB; b++) {
            w4 = ares_load4(wr + b * ksz + kx);
#pragma GCC unroll 4
            for (int p = 0; p < NP; p++) {
              int32_t a = (int32_t)acc[b][p];
              ARES_SDOTP4(a, x4[p], w4);
              acc[b][p] = (ares_acc)a;
            }
          }
        }
#endif
      if (KW) {
#pragma GCC unroll 8
        for (kx = 0; kx < KW; kx++) CONV_TAP(xr, wr, kx);
      } else {
        for (; kx < kw; kx++) CONV_TAP(xr, wr, kx);
      }
    }
}
#undef CONV_TAP

/* y[ybase + b*ystride + p] = requantized base[b] + acc[b][p] for b < nb, p < np: one copy
 * of the epilogue for all block shapes and variants (code size), called once per block. */
static __attribute__((noinline)) void conv_store(const ares_rqc *rc, void *y, int64_t ybase, int64_t ystride,
                                                 const ares_acc *base, ares_acc acc[4][4], int32_t nb, int32_t np) {
  for (int32_t b = 0; b < nb; b++, ybase += ystride) {
    const ares_rqc r = rc[b];
    for (int32_t p = 0; p < np; p++) ares_rqc_store(&r, y, ybase + p, ares_acc_i32(base[b] + acc[b][p]));
  }
}

/* Output channels [co, co+nb) of one output row: the interior columns [ox_lo, ox_hi) in
 * blocks; xrow is input row iy0 + ky0*dh, base[b] is the channel's bias minus zp times its weight sum over the rows used. */
CONV_INLINE void conv_row_blocks(const conv_ctx *c, const int8_t *xrow, const int8_t *wc, int32_t ky0, int32_t ky1,
                                 int32_t ox_lo, int32_t ox_hi, int32_t pad_l, const ares_acc *base, const ares_rqc *rc,
                                 void *y, int64_t ybase, int64_t ystride, const int NB, const int KH, const int KW,
                                 const int SW, const int DW) {
  const int NP = NB == 4 ? 2 : 4, NPS = NP / 2; /* the main block width and the tail's */
  const int32_t sw = SW ? SW : c->sw;
  ares_acc acc[4][4];
#define CONV_BLOCK_AT(ox, np)                                                           \
  do {                                                                                  \
    conv_block(c, xrow + (ox) * sw - pad_l, wc, ky0, ky1, acc, NB, np, KH, KW, SW, DW); \
    conv_store(rc, y, ybase + (ox), ystride, base, acc, NB, np);                        \
  } while (0)
  int32_t ox = ox_lo;
  for (; ox + NP <= ox_hi; ox += NP) CONV_BLOCK_AT(ox, NP);
  if (NPS > 1) {
    if (ox + NPS <= ox_hi) {
      CONV_BLOCK_AT(ox, NPS);
      ox += NPS;
    }
    /* a last narrow block overlapping the previous one (recomputed, stored identically) */
    if (ox < ox_hi && ox_hi - ox_lo >= NPS) {
      CONV_BLOCK_AT(ox_hi - NPS, NPS);
      ox = ox_hi;
    }
  }
  for (; ox < ox_hi; ox++) CONV_BLOCK_AT(ox, 1);
#undef CONV_BLOCK_AT
}

/* One instance per shape variant (constant kernel width and strides), NB = 4, 2 or 1. */
#define CONV_ROW_VARIANT(NAME, KH, KW, SW, DW)                                                                            \
  static void NAME(const conv_ctx *c, const int8_t *xrow, const int8_t *wc, int32_t ky0, int32_t ky1, int32_t ox_lo, \
                   int32_t ox_hi, int32_t pad_l, const ares_acc *base, const ares_rqc *rc, void *y, int64_t ybase,   \
                   int64_t ystride, int32_t nb) {                                                                     \
    if (nb == 4)                                                                                                      \
      conv_row_blocks(c, xrow, wc, ky0, ky1, ox_lo, ox_hi, pad_l, base, rc, y, ybase, ystride, 4, KH, KW, SW, DW);   \
    else if (nb == 2)                                                                                                 \
      conv_row_blocks(c, xrow, wc, ky0, ky1, ox_lo, ox_hi, pad_l, base, rc, y, ybase, ystride, 2, KH, KW, SW, DW);   \
    else                                                                                                              \
      conv_row_blocks(c, xrow, wc, ky0, ky1, ox_lo, ox_hi, pad_l, base, rc, y, ybase, ystride, 1, KH, KW, SW, DW);   \
  }
CONV_ROW_VARIANT(ares_conv2d_row_k3s1, 0, 3, 1, 1)
CONV_ROW_VARIANT(ares_conv2d_row_k3s2, 0, 3, 2, 1)
CONV_ROW_VARIANT(ares_conv2d_row_k1s1, 1, 1, 1, 1)
CONV_ROW_VARIANT(ares_conv2d_row_any, 0, 0, 0, 0)

typedef void (*conv_row_fn)(const conv_ctx *, const int8_t *, const int8_t *, int32_t, int32_t, int32_t, int32_t,
                            int32_t, const ares_acc *, const ares_rqc *, void *, int64_t, int64_t, int32_t);

/* One border pixel of channels [co, co+NB): taps clipped to the input, zero point
 * subtracted per tap (once for the NB channels). */
CONV_INLINE void conv_border_block(const conv_ctx *c, const int8_t *xg, const int8_t *wc, int32_t iy0, int32_t ky_lo,
                                   int32_t ky_hi, int32_t ix0, int32_t W, int32_t dh, int32_t zp, ares_acc acc[4][4],
                                   const int NB) {
  int32_t kx_lo, kx_hi;
  conv_tap_range(ix0, c->dw, c->kw, W, &kx_lo, &kx_hi);
  const int32_t ksz = c->ksz, dw = c->dw;
#pragma GCC unroll 4
  for (int b = 0; b < NB; b++) acc[b][0] = 0;
  for (int32_t ci = 0; ci < c->cin_g; ci++) {
    const int8_t *xc = xg + (int64_t)ci * c->hw + ix0;
    const int8_t *wk = wc + (int64_t)ci * c->kh * c->kw;
    for (int32_t ky = ky_lo; ky < ky_hi; ky++) {
      const int8_t *xr = xc + (int64_t)(iy0 + ky * dh) * W; /* row in range */
      const int8_t *wr = wk + ky * c->kw;
      for (int32_t kx = kx_lo; kx < kx_hi; kx++) {
        const int32_t xv = xr[kx * dw] - zp;
#pragma GCC unroll 4
        for (int b = 0; b < NB; b++) acc[b][0] += (ares_acc)(wr[b * ksz + kx] * xv);
      }
    }
  }
}

/* The border pixels of one output row (those outside [ox_lo, ox_hi), or all of them when
 * `all`) for channels [co, co+NB). */
CONV_INLINE void conv_border_row(const conv_ctx *c, const int8_t *xg, const int8_t *wc, int32_t iy0, int32_t ky_lo,
                                 int32_t ky_hi, int32_t ox_lo, int32_t ox_hi, int all, const ares_conv_shape *s,
                                 const ares_acc *bsum, const ares_rqc *rc, void *y, int64_t yrow, int64_t ystride,
                                 const int NB) {
  ares_acc acc[4][4];
  for (int32_t ox = 0; ox < s->ow; ox++) {
    if (ox == ox_lo && !all) ox = ox_hi; /* the interior is done */
    if (ox >= s->ow) break;
    conv_border_block(c, xg, wc, iy0, ky_lo, ky_hi, ox * s->sw - s->pad_l, s->w, s->dh, s->x_zp, acc, NB);
    conv_store(rc, y, yrow + ox, ystride, bsum, acc, NB, 1);
  }
}

/* sum of channel wc's weights over kernel rows [ky0, ky1) */
static ares_acc conv_wsum(const conv_ctx *c, const int8_t *wc, int32_t ky0, int32_t ky1) {
  ares_acc s = 0;
  for (int32_t ci = 0; ci < c->cin_g; ci++)
    for (int32_t ky = ky0; ky < ky1; ky++) {
      const int8_t *wr = wc + ((int64_t)ci * c->kh + ky) * c->kw;
      for (int32_t kx = 0; kx < c->kw; kx++) s += (ares_acc)(int32_t)wr[kx];
    }
  return s;
}

void ares_conv2d_s8(const int8_t *x, const int8_t *w, const int32_t *bias, void *y,
                    const ares_conv_shape *s, const ares_rq *rq) {
  const int32_t cin_g = s->cin / s->group, cout_g = s->cout / s->group;
  const int32_t kh = s->kh, kw = s->kw, dh = s->dh, dw = s->dw, H = s->h, W = s->w;
  const int32_t zp = s->x_zp;
  const int64_t hw = (int64_t)H * W, ohw = (int64_t)s->oh * s->ow;
  const conv_ctx c = {cin_g, kh, kw, s->sw, dw, (int32_t)hw, cin_g * kh * kw, dh * W};
  conv_row_fn row_fn = ares_conv2d_row_any;
  if (kw == 3 && dw == 1 && s->sw == 1) row_fn = ares_conv2d_row_k3s1;
  else if (kw == 3 && dw == 1 && s->sw == 2) row_fn = ares_conv2d_row_k3s2;
  else if (kw == 1 && kh == 1 && s->sw == 1) row_fn = ares_conv2d_row_k1s1;

  /* interior columns: ox*sw - pad_l >= 0 and ox*sw - pad_l + (kw-1)*dw <= W-1 */
  int32_t ox_lo = s->pad_l > 0 ? (s->pad_l + s->sw - 1) / s->sw : 0;
  int32_t ox_hi = conv_floordiv(W - 1 - (kw - 1) * dw + s->pad_l, s->sw) + 1;
  if (ox_hi > s->ow) ox_hi = s->ow;
  if (ox_lo > s->ow) ox_lo = s->ow;
  if (ox_hi < ox_lo) ox_hi = ox_lo;

  for (int32_t n = 0; n < s->n; n++)
    for (int32_t co = 0; co < s->cout;) {
      const int32_t g = co / cout_g, gend = (g + 1) * cout_g;
      const int32_t nb = gend - co >= 4 ? 4 : gend - co >= 2 ? 2 : 1;
      const int8_t *xg = x + ((int64_t)n * s->cin + (int64_t)g * cin_g) * hw;
      const int8_t *wc = w + (int64_t)co * c.ksz;
      const int64_t ybase = ((int64_t)n * s->cout + co) * ohw;
      ares_acc bsum[4], full[4], base[4];
      ares_rqc rc[4];
      for (int32_t b = 0; b < nb; b++) {
        bsum[b] = (ares_acc)(bias ? bias[co + b] : 0);
        full[b] = bsum[b] - (ares_acc)zp * conv_wsum(&c, wc + b * c.ksz, 0, kh); /* modular: exact once combined */
        rc[b] = ares_rqc_make(rq, co + b);
      }
      for (int32_t oy = 0; oy < s->oh; oy++) {
        const int32_t iy0 = oy * s->sh - s->pad_t;
        int32_t ky_lo, ky_hi;
        conv_tap_range(iy0, dh, kh, H, &ky_lo, &ky_hi);
        const int64_t yrow = ybase + (int64_t)oy * s->ow;
        const int interior = ky_lo < ky_hi && ox_lo < ox_hi;
        if (interior) {
          for (int32_t b = 0; b < nb; b++)
            base[b] = ky_lo == 0 && ky_hi == kh ? full[b]
                                                : bsum[b] - (ares_acc)zp * conv_wsum(&c, wc + b * c.ksz, ky_lo, ky_hi);
          row_fn(&c, xg + (int64_t)(iy0 + ky_lo * dh) * W, wc, ky_lo, ky_hi, ox_lo, ox_hi, s->pad_l, base, rc, y, yrow,
                 ohw, nb);
        }
        if (nb == 4)
          conv_border_row(&c, xg, wc, iy0, ky_lo, ky_hi, ox_lo, ox_hi, !interior, s, bsum, rc, y, yrow, ohw, 4);
        else if (nb == 2)
          conv_border_row(&c, xg, wc, iy0, ky_lo, ky_hi, ox_lo, ox_hi, !interior, s, bsum, rc, y, yrow, ohw, 2);
        else
          conv_border_row(&c, xg, wc, iy0, ky_lo, ky_hi, ox_lo, ox_hi, !interior, s, bsum, rc, y, yrow, ohw, 1);
      }
      co += nb;
    }
}
