/* Quantization arithmetic shared by the passes: multipliers, rounding, parameters. */
#include <math.h>
#include <string.h>

#include "ir.h"

double ares_round_half_even(double x) {
  double f = floor(x);
  double d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return fmod(f, 2.0) == 0 ? f : f + 1;
}

int ares_quant_multiplier(double r, int32_t *mult, int8_t *shift) {
  if (r == 0 || fabs(r) < ldexp(1.0, -40)) {
    /* |acc| < 2^31, so |acc * r| < 2^-9: the accumulator's contribution rounds away. */
    *mult = 0;
    *shift = 1;
    return 0;
  }
  int e;
  double m = frexp(fabs(r), &e); /* |r| = m * 2^e, m in [0.5, 1) */
  int64_t q = (int64_t)ares_round_half_even(m * 2147483648.0); /* m * 2^31 */
  if (q == ((int64_t)1 << 31)) {
    q >>= 1;
    e++;
  }
  int s = 31 - e;
  while (s > 62) { /* keep the shift in range, losing low multiplier bits */
    q = (int64_t)ares_round_half_even((double)q / 2);
    s--;
  }
  if (s < 1) return -1;
  *mult = (int32_t)(r < 0 ? -q : q);
  *shift = (int8_t)s;
  return 0;
}

void ares_quant_set(ares_graph *g, ares_tensor *t, int n, int axis, const float *scale,
                    const int32_t *zp, int32_t qmin, int32_t qmax) {
  t->q.nscale = n;
  t->q.axis = axis;
  t->q.scale = ares_alloc(g, sizeof(float) * (size_t)n);
  t->q.zp = ares_alloc(g, sizeof(int32_t) * (size_t)n);
  memcpy(t->q.scale, scale, sizeof(float) * (size_t)n);
  if (zp) memcpy(t->q.zp, zp, sizeof(int32_t) * (size_t)n);
  t->q.qmin = qmin;
  t->q.qmax = qmax;
  t->q.bits = ares_quant_bits(qmin, qmax);
}

int ares_quant_equal(const ares_quant *a, const ares_quant *b) {
  if (a->nscale != b->nscale || a->qmin != b->qmin || a->qmax != b->qmax) return 0;
  if (a->nscale > 1 && a->axis != b->axis) return 0;
  for (int i = 0; i < a->nscale; i++)
    if (a->scale[i] != b->scale[i] || a->zp[i] != b->zp[i]) return 0;
  return 1;
}

int ares_quant_bits(int32_t qmin, int32_t qmax) {
  int64_t span = (int64_t)qmax - qmin;
  int b = 0;
  while (b < 32 && ((int64_t)1 << b) <= span) b++;
  return b;
}

int ares_acc_headroom_bits(int64_t bound) {
  if (bound < 0 || bound > INT32_MAX) return -1;
  int len = 0;
  while (len < 63 && (bound >> len) != 0) len++;
  return 31 - len;
}
