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
