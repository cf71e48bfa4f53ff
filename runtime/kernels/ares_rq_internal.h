/* Requantization helpers shared by the kernels (internal to runtime/kernels). */
#ifndef ARES_RQ_INTERNAL_H
#define ARES_RQ_INTERNAL_H

#include "../ares_kernels.h"

/* clamp(zp + RHE(p, s), qmin, qmax). zp is added in int64 so no int32 overflow. */
static inline int8_t ares_rq_s8(int64_t p, int s, int32_t zp, int32_t qmin, int32_t qmax) {
  return ares_sat((int64_t)zp + ares_rhe(p, s), qmin, qmax);
}

/* Store one accumulator of channel c (rq->n == 1: per-tensor) at y[i], int8, float or int32. */
static inline void ares_rq_store(const ares_rq *rq, void *y, int64_t i, int32_t acc, int32_t c) {
  if (rq->n == 1) c = 0;
  if (rq->out_i32) {
    ((int32_t *)y)[i] = acc;
  } else if (rq->out_float) {
    float p = (float)acc * rq->fscale[c]; /* float32 multiply, then float32 add */
    ((float *)y)[i] = p + rq->fbias[c];
  } else {
    int64_t p = (int64_t)acc * rq->mult[c] + (rq->add ? rq->add[c] : 0);
    ((int8_t *)y)[i] = ares_rq_s8(p, rq->shift[c], rq->zp, rq->qmin, rq->qmax);
  }
}

/* Table of the single-input rescale y = clamp(zp + RHE((x - zp_in) * mult, s), qmin, qmax)
 * for all 256 int8 inputs: worth it once a tensor has a few hundred elements. */
static inline void ares_rq_lut(int8_t lut[256], int32_t zp_in, int32_t mult, int s, int32_t zp,
                               int32_t qmin, int32_t qmax) {
  for (int v = -128; v < 128; v++)
    lut[v + 128] = ares_rq_s8(((int64_t)v - zp_in) * mult, s, zp, qmin, qmax);
}

/* Accumulate in uint32: wraps modulo 2^32 instead of overflowing, so partial sums (e.g.
 * sum w*x before the zero-point correction) may leave the int32 range without undefined
 * behaviour; the final value is exact whenever the true accumulator fits int32. */
typedef uint32_t ares_acc;
static inline int32_t ares_acc_i32(ares_acc a) {
  /* two's-complement reinterpretation without implementation-defined conversion */
  return a <= (uint32_t)INT32_MAX ? (int32_t)a : (int32_t)(a - 2147483648u) - 2147483647 - 1;
}

#endif
