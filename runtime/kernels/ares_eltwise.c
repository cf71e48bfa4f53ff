/* Elementwise integer ops: residual add and product of two int8 tensors, single-tensor
 * requant. Reference twins: src/ref/ref_eltwise.c. */
#include "ares_rq_internal.h"

void ares_add_s8(const int8_t *a, const int8_t *b, int8_t *y, int64_t n, const ares_elt *p) {
  const int64_t ma = p->mult[0], mb = p->mult[1];
  /* (a - za)*ma + (b - zb)*mb = a*ma + b*mb - (za*ma + zb*mb) */
  const int64_t off = -((int64_t)p->zp_in[0] * ma + (int64_t)p->zp_in[1] * mb);
  const int s = p->shift;
  const int32_t zp = p->zp, lo = p->qmin, hi = p->qmax;
  for (int64_t i = 0; i < n; i++)
    y[i] = ares_rq_s8(a[i] * ma + b[i] * mb + off, s, zp, lo, hi);
}

void ares_requant_s8(const int8_t *x, int8_t *y, int64_t n, const ares_elt *p) {
  if (n >= 512) {
    int8_t lut[256];
    ares_rq_lut(lut, p->zp_in[0], p->mult[0], p->shift, p->zp, p->qmin, p->qmax);
    for (int64_t i = 0; i < n; i++) y[i] = lut[x[i] + 128];
    return;
  }
  for (int64_t i = 0; i < n; i++)
    y[i] = ares_rq_s8(((int64_t)x[i] - p->zp_in[0]) * p->mult[0], p->shift, p->zp, p->qmin,
                      p->qmax);
}

void ares_mul_s8(const int8_t *a, const int8_t *b, int8_t *y, int64_t n, const ares_elt *p) {
  /* |(a - za) * (b - zb)| <= 2^16 and |mult| < 2^31: the product fits int64 */
  const int32_t za = p->zp_in[0], zb = p->zp_in[1];
  const int64_t m = p->mult[0];
  for (int64_t i = 0; i < n; i++)
    y[i] = ares_rq_s8((int64_t)((a[i] - za) * (b[i] - zb)) * m, p->shift, p->zp, p->qmin, p->qmax);
}
