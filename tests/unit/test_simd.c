/* The SIMD macro layer's portable 4-lane step and dot product agree with plain C. */
#include <stdio.h>
#include <stdlib.h>

#include "ares_simd.h"
#include "check.h"

int main(void) {
  srand(7);
  for (int t = 0; t < 20000; t++) {
    int8_t a[4], b[4];
    int32_t want = 100, got = 100;
    for (int i = 0; i < 4; i++) {
      a[i] = (int8_t)(rand() % 256 - 128);
      b[i] = (int8_t)(rand() % 256 - 128);
      want += a[i] * b[i];
    }
    uint32_t a4 = ares_load4(a), b4 = ares_load4(b);
    ARES_SDOTP4(got, a4, b4);
    CHECK(got == want);
  }
  int8_t x[37], y[37];
  for (int n = 0; n <= 37; n++) {
    int32_t want = 0;
    for (int i = 0; i < n; i++) {
      x[i] = (int8_t)(i * 37 - 128);
      y[i] = (int8_t)(127 - i * 11);
      want += x[i] * y[i];
    }
    CHECK(ares_dot_s8(x, y, n) == want);
  }
  /* extremes: -128 * -128 in every lane */
  int8_t m[4] = {-128, -128, -128, -128};
  int32_t acc = 0;
  ARES_SDOTP4(acc, ares_load4(m), ares_load4(m));
  CHECK(acc == 4 * 16384);
  return check_report();
}
