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

/* One output channel's requantization prepared once for many accumulators (the kernels'
 * epilogue): the same result as ares_rq_store, but the int8 case works on the product's
 * two 32-bit halves instead of generic 64-bit shifts. With p = acc * mult + add,
 *   RHE(p, s) = floor((p + 2^(s-1) - 1 + bit_s(p)) / 2^s)
 * (a remainder above half, or exactly half with floor(p / 2^s) odd, carries into bit s).
 * The fast paths need |hi(p)| < 2^30 (so nothing below overflows); other products take
 * ares_rq_s8. */
enum { ARES_RQC_S8 = 0, ARES_RQC_F32 = 1, ARES_RQC_I32 = 2 };
typedef struct {
  int32_t kind;
  int32_t mult;
  int64_t add;
  int32_t s, t;  /* shift; t = s - 32 when s > 32, else s */
  uint32_t c;    /* the word of 2^(s-1) - 1 that is added to: high (s > 32) or low */
  int32_t zp, qmin, qmax;
  float fscale, fbias;
} ares_rqc;

static inline ares_rqc ares_rqc_make(const ares_rq *rq, int32_t c) {
  ares_rqc r;
  if (rq->n == 1) c = 0;
  r.kind = rq->out_i32 ? ARES_RQC_I32 : rq->out_float ? ARES_RQC_F32 : ARES_RQC_S8;
  r.mult = 0, r.add = 0, r.s = r.t = 1, r.c = 0, r.fscale = r.fbias = 0.0f;
  r.zp = rq->zp, r.qmin = rq->qmin, r.qmax = rq->qmax;
  if (r.kind == ARES_RQC_F32) {
    r.fscale = rq->fscale[c];
    r.fbias = rq->fbias[c];
  } else if (r.kind == ARES_RQC_S8) {
    r.mult = rq->mult[c];
    r.add = rq->add ? rq->add[c] : 0;
    r.s = rq->shift[c];
    r.t = r.s > 32 ? r.s - 32 : r.s;
    r.c = r.s > 32 ? ((uint32_t)1 << (r.t - 1)) - 1u : r.s == 32 ? 0x7FFFFFFFu : ((uint32_t)1 << (r.s - 1)) - 1u;
  }
  return r;
}

/* the int32 with the bits of u (no implementation-defined conversion) */
static inline int32_t ares_u32_i32(uint32_t u) {
  return u <= (uint32_t)INT32_MAX ? (int32_t)u : (int32_t)(u - 2147483648u) - 2147483647 - 1;
}

/* RHE(v, s) of an int32 with |v| <= 2^30, 1 <= s <= 30, in 32-bit arithmetic:
 * floor((v + 2^(s-1) - 1 + bit_s(v)) / 2^s), where bit s of v (floor(v / 2^s) odd) carries
 * a remainder of exactly half. */
static inline int32_t ares_rhe_i32(int32_t v, int s) {
  return (v + (int32_t)((1u << (s - 1)) - 1u) + ((v >> s) & 1)) >> s; /* >>: arithmetic */
}

/* RHE(v, 30) of an int64 whose result fits int32, the same way on the two 32-bit halves
 * (the Q30 products of the scan). */
static inline int32_t ares_rhe30_i32(int64_t v) {
  const uint32_t lo = (uint32_t)v, hi = (uint32_t)((uint64_t)v >> 32);
  const uint32_t l2 = lo + (0x1FFFFFFFu + ((lo >> 30) & 1u)); /* 2^29 - 1 + bit 30 */
  return ares_u32_i32(((hi + (l2 < lo)) << 2) | (l2 >> 30));
}

static inline __attribute__((always_inline)) int8_t ares_rqc_s8(const ares_rqc *r, int32_t acc) {
  const int64_t p = (int64_t)acc * r->mult + r->add;
  const uint32_t lo = (uint32_t)p;
  const int32_t hi = (int32_t)(p >> 32);
  if ((uint32_t)hi + 0x40000000u >= 0x80000000u) return ares_rq_s8(p, r->s, r->zp, r->qmin, r->qmax);
  int32_t q;
  if (r->s > 32) {
    /* the low word only carries: lo + (2^32 - 1) + bit overflows unless both are 0 */
    const uint32_t bit = (uint32_t)(hi >> r->t) & 1u;
    q = (hi + (int32_t)r->c + (int32_t)((lo | bit) != 0)) >> r->t;
  } else {
    const uint32_t bit = r->s == 32 ? (uint32_t)hi & 1u : (lo >> r->s) & 1u;
    const uint32_t l2 = lo + r->c + bit;
    const int32_t h2 = hi + (int32_t)(l2 < lo);
    if (r->s == 32) {
      q = h2;
    } else {
      /* floor fits int32 iff h2 >> (s-1) is 0 or -1; beyond, the result saturates */
      if ((uint32_t)(h2 >> (r->s - 1)) + 1u > 1u) return (int8_t)(h2 < 0 ? r->qmin : r->qmax);
      q = ares_u32_i32(((uint32_t)h2 << (32 - r->s)) | (l2 >> r->s));
      q = q > 1024 ? 1024 : q < -1024 ? -1024 : q; /* saturates the same */
    }
  }
  /* |q| < 2^30 here: zp + q cannot overflow */
  const int32_t v = r->zp + q;
  return (int8_t)(v < r->qmin ? r->qmin : v > r->qmax ? r->qmax : v);
}

static inline __attribute__((always_inline)) void ares_rqc_store(const ares_rqc *r, void *y, int64_t i, int32_t acc) {
  if (r->kind == ARES_RQC_S8) ((int8_t *)y)[i] = ares_rqc_s8(r, acc);
  else if (r->kind == ARES_RQC_I32) ((int32_t *)y)[i] = acc;
  else ((float *)y)[i] = (float)acc * r->fscale + r->fbias; /* float32 multiply, then add */
}

#endif
