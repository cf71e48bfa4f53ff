/* N-D transpose of int8 data: output dim i is input dim perm[i]. The output is written
 * sequentially; the innermost output dimension walks the input with a fixed stride. */
#include "ares_rq_internal.h"

#define TRANSPOSE_MAX_RANK 16

void ares_transpose_s8(const int8_t *x, int8_t *y, int32_t rank, const int64_t *in_dims,
                       const int32_t *perm) {
  if (rank <= 0) {
    y[0] = x[0];
    return;
  }
  if (rank > TRANSPOSE_MAX_RANK) return;
  int64_t istr[TRANSPOSE_MAX_RANK], od[TRANSPOSE_MAX_RANK], ostr[TRANSPOSE_MAX_RANK];
  int64_t idx[TRANSPOSE_MAX_RANK];
  for (int32_t d = rank - 1; d >= 0; d--)
    istr[d] = d == rank - 1 ? 1 : istr[d + 1] * in_dims[d + 1];
  int64_t rows = 1;
  for (int32_t i = 0; i < rank; i++) {
    od[i] = in_dims[perm[i]];
    ostr[i] = istr[perm[i]]; /* input stride of output dim i */
    idx[i] = 0;
    if (od[i] <= 0) return;
    if (i < rank - 1) rows *= od[i];
  }
  const int32_t L = rank - 1;
  const int64_t len = od[L], st = ostr[L];
  int64_t ioff = 0;
  for (int64_t r = 0; r < rows; r++, y += len) {
    const int8_t *xr = x + ioff;
    if (st == 1)
      for (int64_t k = 0; k < len; k++) y[k] = xr[k];
    else
      for (int64_t k = 0; k < len; k++) y[k] = xr[k * st];
    for (int32_t d = L - 1; d >= 0; d--) { /* odometer, input offset kept incrementally */
      ioff += ostr[d];
      if (++idx[d] < od[d]) break;
      ioff -= ostr[d] * od[d];
      idx[d] = 0;
    }
  }
}
