/* Table lookup: an elementwise int8 function the compiler tabulated (qlut). */
#include "../ares_kernels.h"

void ares_lut_s8(const int8_t *x, int8_t *y, int64_t n, const int8_t *table) {
  /* x + 128 as an unsigned byte: flipping the sign bit */
  for (int64_t i = 0; i < n; i++) y[i] = table[(uint8_t)x[i] ^ 0x80u];
}

void ares_lut_s8_f32(const int8_t *x, float *y, int64_t n, const float *table) {
  for (int64_t i = 0; i < n; i++) y[i] = table[(uint8_t)x[i] ^ 0x80u];
}
