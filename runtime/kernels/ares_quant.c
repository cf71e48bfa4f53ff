/* QuantizeLinear / DequantizeLinear (the only kernels besides out_float that use float). */
#include <math.h>

#include "ares_rq_internal.h"

void ares_quantize_f32_s8(const float *x, int8_t *y, int64_t n, float scale, int32_t zp,
                          int32_t qmin, int32_t qmax) {
  for (int64_t i = 0; i < n; i++) {
    float v = x[i] / scale;
    v = rintf(v); /* ties to even in the default rounding mode */
    int64_t q;
    /* clamp in float before converting: NaN -> 0, out of range -> saturate */
    if (isnan(v)) q = 0;
    else if (v > 65536.0f) q = 65536;
    else if (v < -65536.0f) q = -65536;
    else q = (int64_t)v;
    y[i] = ares_sat(q + zp, qmin, qmax);
  }
}

void ares_dequantize_s8_f32(const int8_t *x, float *y, int64_t n, float scale, int32_t zp) {
  for (int64_t i = 0; i < n; i++) y[i] = (float)((int32_t)x[i] - zp) * scale;
}

void ares_quantize_f32_s8_thr(const float *x, int8_t *y, int64_t n, const int32_t *below, int32_t qmin, int32_t nan_q) {
  for (int64_t i = 0; i < n; i++) {
    union {
      float f;
      uint32_t u;
    } v = {x[i]};
    if ((v.u & 0x7fffffffu) > 0x7f800000u) {
      y[i] = (int8_t)nan_q;
      continue;
    }
    int32_t key = (int32_t)(v.u ^ ((uint32_t)((int32_t)v.u >> 31) >> 1));
    /* branchless binary search: p ends on the last entry below key (below[0] is one) */
    const int32_t *p = below;
    p += (p[128] < key) << 7;
    p += (p[64] < key) << 6;
    p += (p[32] < key) << 5;
    p += (p[16] < key) << 4;
    p += (p[8] < key) << 3;
    p += (p[4] < key) << 2;
    p += (p[2] < key) << 1;
    p += p[1] < key;
    y[i] = (int8_t)(qmin + (int32_t)(p - below));
  }
}
