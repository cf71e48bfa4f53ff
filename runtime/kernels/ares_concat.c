/* Concatenation with per-input rescale (or plain copy when mult == 0). */
#include <string.h>

#include "ares_rq_internal.h"

void ares_concat_s8(const int8_t *const *xs, int8_t *y, const ares_concat *p) {
  int64_t total = 0;
  for (int32_t i = 0; i < p->nin; i++) total += p->inner[i];
  int64_t off = 0; /* column of input i inside an output row */
  for (int32_t i = 0; i < p->nin; i++) {
    const int64_t inner = p->inner[i];
    const int8_t *x = xs[i];
    if (p->mult[i] == 0) {
      for (int64_t o = 0; o < p->outer; o++)
        memcpy(y + o * total + off, x + o * inner, (size_t)inner);
    } else if (p->outer * inner >= 512) {
      int8_t lut[256];
      ares_rq_lut(lut, p->zp_in[i], p->mult[i], p->shift[i], p->zp, p->qmin, p->qmax);
      for (int64_t o = 0; o < p->outer; o++) {
        const int8_t *xr = x + o * inner;
        int8_t *yr = y + o * total + off;
        for (int64_t k = 0; k < inner; k++) yr[k] = lut[xr[k] + 128];
      }
    } else {
      const int32_t zi = p->zp_in[i], m = p->mult[i];
      const int s = p->shift[i];
      for (int64_t o = 0; o < p->outer; o++) {
        const int8_t *xr = x + o * inner;
        int8_t *yr = y + o * total + off;
        for (int64_t k = 0; k < inner; k++)
          yr[k] = ares_rq_s8(((int64_t)xr[k] - zi) * m, s, p->zp, p->qmin, p->qmax);
      }
    }
    off += inner;
  }
}
