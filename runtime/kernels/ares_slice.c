/* Strided slice and constant-index gather of int8 data (head splitting, time reversal,
 * token selection). Output written sequentially; the input offset of each output row is
 * kept by an odometer over the outer dims. */
#include "ares_rq_internal.h"

#define SLICE_MAX_RANK 16

void ares_slice_s8(const int8_t *x, int8_t *y, int32_t rank, const int64_t *in_dims, const int64_t *start,
                   const int64_t *step, const int64_t *count) {
  if (rank <= 0) {
    y[0] = x[0];
    return;
  }
  if (rank > SLICE_MAX_RANK) return;
  int64_t str[SLICE_MAX_RANK], idx[SLICE_MAX_RANK];
  int64_t s = 1, base = 0, rows = 1;
  for (int32_t d = rank - 1; d >= 0; d--) {
    if (count[d] <= 0) return;
    str[d] = s * step[d]; /* input offset per output step in dim d */
    base += start[d] * s;
    s *= in_dims[d];
  }
  for (int32_t d = 0; d < rank - 1; d++) {
    idx[d] = 0;
    rows *= count[d];
  }
  const int32_t L = rank - 1;
  const int64_t len = count[L], st = str[L];
  int64_t off = base;
  for (int64_t r = 0; r < rows; r++, y += len) {
    const int8_t *xr = x + off;
    if (st == 1)
      for (int64_t k = 0; k < len; k++) y[k] = xr[k];
    else
      for (int64_t k = 0; k < len; k++) y[k] = xr[k * st];
    for (int32_t d = L - 1; d >= 0; d--) {
      off += str[d];
      if (++idx[d] < count[d]) break;
      off -= str[d] * count[d];
      idx[d] = 0;
    }
  }
}

void ares_gather_s8(const int8_t *x, int8_t *y, int64_t outer, int64_t dim, int64_t inner, const int64_t *idx,
                    int64_t nidx) {
  for (int64_t o = 0; o < outer; o++, x += dim * inner)
    for (int64_t i = 0; i < nidx; i++, y += inner) {
      const int8_t *src = x + idx[i] * inner;
      for (int64_t r = 0; r < inner; r++) y[r] = src[r];
    }
}
