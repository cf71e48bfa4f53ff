/* Constant padding / cropping of an N-D int8 tensor. Output rows (last dimension) are
 * produced one at a time: fill value outside, memcpy of the overlapping input span. */
#include <string.h>

#include "ares_rq_internal.h"

#define PAD_MAX_RANK 16

void ares_pad_s8(const int8_t *x, int8_t *y, int32_t rank, const int64_t *in_dims,
                 const int64_t *pad_begin, const int64_t *pad_end, int8_t value) {
  if (rank <= 0) { /* a scalar: nothing to pad */
    y[0] = x[0];
    return;
  }
  if (rank > PAD_MAX_RANK) return;
  int64_t od[PAD_MAX_RANK], istr[PAD_MAX_RANK], idx[PAD_MAX_RANK];
  int64_t rows = 1;
  for (int32_t d = rank - 1; d >= 0; d--) {
    od[d] = pad_begin[d] + in_dims[d] + pad_end[d];
    if (od[d] <= 0) return; /* empty output */
    istr[d] = d == rank - 1 ? 1 : istr[d + 1] * in_dims[d + 1];
    idx[d] = 0;
    if (d < rank - 1) rows *= od[d];
  }
  const int32_t L = rank - 1;
  const int64_t olen = od[L], ilen = in_dims[L], pb = pad_begin[L];
  /* output columns [c0, c1) come from input columns [c0 - pb, c1 - pb) */
  int64_t c0 = pb > 0 ? pb : 0, c1 = pb + ilen < olen ? pb + ilen : olen;
  if (c1 < c0) c1 = c0;
  for (int64_t r = 0; r < rows; r++, y += olen) {
    int inside = 1;
    int64_t ioff = 0;
    for (int32_t d = 0; d < L; d++) {
      int64_t i = idx[d] - pad_begin[d];
      if (i < 0 || i >= in_dims[d]) inside = 0;
      ioff += i * istr[d];
    }
    if (!inside || c1 == c0) {
      memset(y, (unsigned char)value, (size_t)olen);
    } else {
      memset(y, (unsigned char)value, (size_t)c0);
      memcpy(y + c0, x + ioff + (c0 - pb), (size_t)(c1 - c0));
      memset(y + c1, (unsigned char)value, (size_t)(olen - c1));
    }
    for (int32_t d = L - 1; d >= 0; d--) { /* odometer over the outer output dims */
      if (++idx[d] < od[d]) break;
      idx[d] = 0;
    }
  }
}
