/* Per-axis QuantizeLinear / DequantizeLinear at a graph edge: element i belongs to channel
 * (i / inner) % nch and uses that channel's scale and zero point, with the per-tensor
 * kernels' arithmetic (ares_quant.c) applied run by run. */
#include "../ares_kernels.h"

void ares_quantize_f32_s8_axis(const float *x, int8_t *y, int64_t n, int64_t inner, int32_t nch, const float *scale,
                               const int32_t *zp, int32_t qmin, int32_t qmax) {
  for (int64_t i = 0, c = 0; i < n; i += inner, c = (c + 1) % nch)
    ares_quantize_f32_s8(x + i, y + i, n - i < inner ? n - i : inner, scale[c], zp[c], qmin, qmax);
}

void ares_dequantize_s8_f32_axis(const int8_t *x, float *y, int64_t n, int64_t inner, int32_t nch, const float *scale,
                                 const int32_t *zp) {
  for (int64_t i = 0, c = 0; i < n; i += inner, c = (c + 1) % nch)
    ares_dequantize_s8_f32(x + i, y + i, n - i < inner ? n - i : inner, scale[c], zp[c]);
}
