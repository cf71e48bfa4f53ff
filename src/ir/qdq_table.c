/* Quantize thresholds and dequantize tables (qdq_table.h), from the float32 definition of
 * the two ops (the arithmetic the runtime kernels used per element before). */
#include "qdq_table.h"

#include <math.h>
#include <string.h>

int32_t ares_f32_key(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  /* negative: flip the magnitude bits, so a larger magnitude orders lower */
  return (int32_t)(u ^ ((uint32_t)((int32_t)u >> 31) >> 1));
}

static float key_f32(int32_t k) {
  uint32_t u = (uint32_t)k ^ ((uint32_t)(k >> 31) >> 1);
  float v;
  memcpy(&v, &u, sizeof v);
  return v;
}

static int32_t quantize_one(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  volatile float q = x / scale; /* rounded to float32 here, whatever the evaluation method */
  float r = rintf(q);
  /* saturating before the conversion; r is never NaN for the keys searched */
  double v = (double)r + zp;
  return v < qmin ? qmin : v > qmax ? qmax : (int32_t)v;
}

void ares_quantize_thresholds(float scale, int32_t zp, int32_t qmin, int32_t qmax, int32_t below[256]) {
  const int32_t kmin = ares_f32_key(-INFINITY), kmax = ares_f32_key(INFINITY);
  below[0] = kmin - 1;
  for (int j = 1; j < 256; j++) {
    int32_t want = qmin + j;
    if (want > qmax) {
      below[j] = INT32_MAX - 1;
      continue;
    }
    /* smallest key in [kmin, kmax] reaching want; quantize(+inf) = qmax >= want */
    int64_t lo = kmin, hi = kmax;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if (quantize_one(key_f32((int32_t)mid), scale, zp, qmin, qmax) >= want) hi = mid;
      else lo = mid + 1;
    }
    below[j] = (int32_t)lo - 1;
  }
}

void ares_dequantize_table(float scale, int32_t zp, float table[256]) {
  for (int q = -128; q < 128; q++) {
    volatile float v = (float)(q - zp) * scale;
    table[q + 128] = v;
  }
}
