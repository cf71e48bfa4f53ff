/* uint8 <-> int8 storage at a graph input or output. ARES keeps uint8 tensors as int8
 * values 128 lower (docs/SEMANTICS.md §2); in two's complement that is flipping the top
 * bit, in either direction. */
#include "../ares_kernels.h"

void ares_cast_u8_s8(const void *x, void *y, int64_t n) {
  const uint8_t *a = x;
  uint8_t *b = y;
  for (int64_t i = 0; i < n; i++) b[i] = (uint8_t)(a[i] ^ 0x80u);
}
