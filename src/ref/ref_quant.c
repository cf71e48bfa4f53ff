/* Reference QUANTIZE and DEQUANTIZE. Runtime twin: runtime/kernels/ares_quant.c
 * (ares_quantize_f32_s8, ares_dequantize_s8_f32). */
#include "ref_internal.h"

#include <math.h>

/* Round half to even of a float32, written out instead of calling rintf: work on |v|,
 * where floor and the fraction |v| - floor(|v|) are exact, then restore the sign. From
 * 2^23 on every float32 is an integer already. */
static float round_half_even_f32(float v) {
  float a = fabsf(v);
  if (!(a < 8388608.0f)) return v;
  float f = floorf(a);
  float frac = a - f;
  if (frac > 0.5f || (frac == 0.5f && fmodf(f, 2.0f) != 0.0f)) f += 1.0f;
  return v < 0 ? -f : f;
}

/* y = clamp(round_half_even(x / scale) + zp, qmin, qmax); the division in float32; NaN
 * counts as 0 (so it becomes zp). */
int ares_ref_quantize(const ares_graph *g, const ares_node *n, void **values) {
  const ares_qdq_params *p = &n->p.qdq;
  const ares_tensor *tx, *ty;
  if (ares_ref_arity(n, 1, 1)) return -1;
  const float *x = ares_ref_in(g, n, values, 0, ARES_DT_F32, &tx);
  int8_t *y = x ? ares_ref_out(g, n, values, 0, ARES_DT_I8, &ty) : NULL;
  if (!y) return -1;
  if (ares_ref_check_numel(n, tx, ty)) return -1;
  if (!(p->scale > 0.0f) || isinf(p->scale)) return ares_fail(n, "scale %g is not a positive finite number", p->scale);
  if (ares_ref_check_range8(n, p->qmin, p->qmax)) return -1;
  int64_t count = ares_tensor_numel(tx);
  if (p->n > 1 && (!p->scales || !p->zps || p->inner < 1)) return ares_fail(n, "per-axis quantization without its parameters");
  for (int64_t i = 0; i < count; i++) {
    int64_t c = p->n > 1 ? (i / p->inner) % p->n : 0;
    float scale = p->n > 1 ? p->scales[c] : p->scale;
    int32_t zp = p->n > 1 ? p->zps[c] : p->zp;
    if (!(scale > 0.0f) || isinf(scale)) return ares_fail(n, "scale %g is not a positive finite number", scale);
    float q = x[i] / scale;
    float r = isnan(q) ? 0.0f : round_half_even_f32(q);
    /* r may be huge or infinite: add zp and clamp in double, where that is exact enough. */
    double v = (double)r + (double)zp;
    if (v < p->qmin) v = p->qmin;
    if (v > p->qmax) v = p->qmax;
    y[i] = (int8_t)(int32_t)v;
  }
  return 0;
}

/* y = (float)(q - zp) * scale, one float32 multiply. */
int ares_ref_dequantize(const ares_graph *g, const ares_node *n, void **values) {
  const ares_qdq_params *p = &n->p.qdq;
  const ares_tensor *tx, *ty;
  if (ares_ref_arity(n, 1, 1)) return -1;
  const int8_t *x = ares_ref_in(g, n, values, 0, ARES_DT_I8, &tx);
  float *y = x ? ares_ref_out(g, n, values, 0, ARES_DT_F32, &ty) : NULL;
  if (!y) return -1;
  if (ares_ref_check_numel(n, tx, ty)) return -1;
  if (ares_ref_check_zp(n, p->zp, "zero point")) return -1;
  int64_t count = ares_tensor_numel(tx);
  if (p->n > 1 && (!p->scales || !p->zps || p->inner < 1)) return ares_fail(n, "per-axis dequantization without its parameters");
  for (int64_t i = 0; i < count; i++) {
    int64_t c = p->n > 1 ? (i / p->inner) % p->n : 0;
    y[i] = p->n > 1 ? (float)((int32_t)x[i] - p->zps[c]) * p->scales[c] : (float)((int32_t)x[i] - p->zp) * p->scale;
  }
  return 0;
}
