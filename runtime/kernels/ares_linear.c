/* Fully connected layer: y[r][j] from x[r][:] and weight row w[j][:].
 *
 * Features run in blocks of NB = 4 (then 2, 1) rows of w, and rows of x in pairs (then one),
 * so each loaded weight serves two rows and each loaded activation NB features; each
 * feature block's requantization parameters are prepared once (ares_rqc). The portable
 * loop subtracts the input zero point from the activation (once for the NB features); the
 * 4-lane SIMD loop multiplies the raw int8 values and folds the zero point out instead:
 * sum w*(x - zp) = sum w*x - zp * sum w. */
#include "ares_rq_internal.h"
#include "../ares_simd.h"

#define LIN_INLINE static inline __attribute__((always_inline))

/* acc[r][b] = sum_i w_b[i] * (x_r[i] - zp) for the NB weight rows w_b = w + b*k and the NR
 * input rows x_r = x + r*k, modulo 2^32 (exact once the true accumulator fits int32). */
LIN_INLINE void linear_block(const int8_t *x, const int8_t *w, int32_t k, int32_t zp, ares_acc acc[2][4], const int NR,
                             const int NB) {
  int32_t i = 0;
#pragma GCC unroll 2
  for (int r = 0; r < NR; r++)
#pragma GCC unroll 4
    for (int b = 0; b < NB; b++) acc[r][b] = 0;
#if ARES_SIMD_4LANE
  ares_acc ws[4] = {0, 0, 0, 0};
  for (; i + 4 <= k; i += 4) {
    uint32_t x4[2];
#pragma GCC unroll 2
    for (int r = 0; r < NR; r++) x4[r] = ares_load4(x + r * k + i);
#pragma GCC unroll 4
    for (int b = 0; b < NB; b++) {
      const uint32_t w4 = ares_load4(w + b * k + i);
      int32_t s = 0; /* 4 lanes each: no int32 overflow */
      ARES_SDOTP4(s, 0x01010101u, w4);
      ws[b] += (ares_acc)s;
#pragma GCC unroll 2
      for (int r = 0; r < NR; r++) {
        int32_t a = 0;
        ARES_SDOTP4(a, x4[r], w4);
        acc[r][b] += (ares_acc)a;
      }
    }
  }
#pragma GCC unroll 2
  for (int r = 0; r < NR; r++)
#pragma GCC unroll 4
    for (int b = 0; b < NB; b++) acc[r][b] -= (ares_acc)zp * ws[b];
#endif
#define LIN_TAP(i)                                                                              \
  do {                                                                                          \
    int32_t xv[2];                                                                              \
    _Pragma("GCC unroll 2") for (int r = 0; r < NR; r++) xv[r] = x[r * k + (i)] - zp;           \
    _Pragma("GCC unroll 4") for (int b = 0; b < NB; b++) {                                      \
      const int32_t wv = w[b * k + (i)];                                                        \
      _Pragma("GCC unroll 2") for (int r = 0; r < NR; r++) acc[r][b] += (ares_acc)(wv * xv[r]); \
    }                                                                                           \
  } while (0)
  /* one row: four taps per iteration, so the NB row addresses are formed once per four */
  if (NR == 1)
    for (; i + 4 <= k; i += 4) {
      LIN_TAP(i);
      LIN_TAP(i + 1);
      LIN_TAP(i + 2);
      LIN_TAP(i + 3);
    }
  for (; i < k; i++) LIN_TAP(i);
#undef LIN_TAP
}

/* y[r * ldy + j + b] = requantized b0[b] + acc[r][b] for r < nr, b < nb: one copy of the
 * epilogue for all block shapes (code size), called once per block. */
static __attribute__((noinline)) void linear_store(const ares_rqc *rc, void *y, int64_t i, int32_t ldy, const ares_acc *b0,
                                                   ares_acc acc[2][4], int32_t nr, int32_t nb) {
  for (int32_t r = 0; r < nr; r++, i += ldy)
    for (int32_t b = 0; b < nb; b++) ares_rqc_store(&rc[b], y, i + b, ares_acc_i32(b0[b] + acc[r][b]));
}

LIN_INLINE void linear_features(const int8_t *x, const int8_t *w, const int32_t *bias, void *y, int32_t rows, int32_t k,
                                int32_t ldy, int32_t j, int32_t x_zp, const ares_rq *rq, const int NB) {
  ares_rqc rc[4];
  ares_acc b0[4], acc[2][4];
  for (int b = 0; b < NB; b++) {
    rc[b] = ares_rqc_make(rq, j + b);
    b0[b] = (ares_acc)(bias ? bias[j + b] : 0);
  }
  const int8_t *wj = w + (int64_t)j * k;
  int32_t r = 0;
  for (; r + 2 <= rows; r += 2) {
    linear_block(x + (int64_t)r * k, wj, k, x_zp, acc, 2, NB);
    linear_store(rc, y, (int64_t)r * ldy + j, ldy, b0, acc, 2, NB);
  }
  if (r < rows) {
    linear_block(x + (int64_t)r * k, wj, k, x_zp, acc, 1, NB);
    linear_store(rc, y, (int64_t)r * ldy + j, ldy, b0, acc, 1, NB);
  }
}

void ares_linear_s8_ld(const int8_t *x, const int8_t *w, const int32_t *bias, void *y, int32_t rows, int32_t k,
                       int32_t n, int32_t ldy, int32_t x_zp, const ares_rq *rq) {
  int32_t j = 0;
  for (; j + 4 <= n; j += 4) linear_features(x, w, bias, y, rows, k, ldy, j, x_zp, rq, 4);
  if (j + 2 <= n) {
    linear_features(x, w, bias, y, rows, k, ldy, j, x_zp, rq, 2);
    j += 2;
  }
  if (j < n) linear_features(x, w, bias, y, rows, k, ldy, j, x_zp, rq, 1);
}

void ares_linear_s8(const int8_t *x, const int8_t *w, const int32_t *bias, void *y,
                    int32_t rows, int32_t k, int32_t n, int32_t x_zp, const ares_rq *rq) {
  ares_linear_s8_ld(x, w, bias, y, rows, k, n, n, x_zp, rq);
}
