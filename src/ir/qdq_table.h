/* Per-tensor QuantizeLinear and DequantizeLinear as tables the compiler computes, so the
 * runtime needs no soft-float arithmetic per element (runtime/kernels/ares_quant.c:
 * ares_quantize_f32_s8_thr, and ares_lut_s8_f32 for dequantize). */
#ifndef ARES_QDQ_TABLE_H
#define ARES_QDQ_TABLE_H

#include <stdint.h>

/* The order of float32 bit patterns as a signed integer (the key ares_quantize_f32_s8_thr
 * computes from each input):
 * -inf < ... < -0 < +0 < ... < +inf, NaNs beyond the infinities. */
int32_t ares_f32_key(float v);

/* below[j] (1 <= j <= 255): the largest key k with quantize(k) < qmin + j, where
 * quantize(x) = clamp(rint(fl32(x / scale)) + zp, qmin, qmax) is monotone in x (so it
 * reaches qmin + j exactly from key below[j] + 1 on); INT32_MAX - 1 for qmin + j > qmax;
 * below[0] = the key of -inf minus 1. scale > 0 and finite. */
void ares_quantize_thresholds(float scale, int32_t zp, int32_t qmin, int32_t qmax, int32_t below[256]);

/* table[q + 128] = (float)(q - zp) * scale for every int8 q. */
void ares_dequantize_table(float scale, int32_t zp, float table[256]);

#endif
