/* Fully connected layer: y[r][j] from x[r][:] and weight row w[j][:]. Loops run feature
 * outer, row inner, so each weight row's sum (for the zero-point fold) is computed once. */
#include "ares_rq_internal.h"
#include "../ares_simd.h"

void ares_linear_s8(const int8_t *x, const int8_t *w, const int32_t *bias, void *y,
                    int32_t rows, int32_t k, int32_t n, int32_t x_zp, const ares_rq *rq) {
  for (int32_t j = 0; j < n; j++) {
    const int8_t *wr = w + (int64_t)j * k;
    ares_acc wsum = 0;
    if (x_zp != 0)
      for (int32_t i = 0; i < k; i++) wsum += (ares_acc)(int32_t)wr[i];
    const ares_acc base = (ares_acc)(bias ? bias[j] : 0) - (ares_acc)x_zp * wsum;
    for (int32_t r = 0; r < rows; r++) {
      const int8_t *xr = x + (int64_t)r * k;
      ares_acc acc = base;
      /* in chunks whose partial dot product cannot overflow int32 (2^14 per term) */
      for (int32_t i = 0; i < k; i += 65536) acc += (ares_acc)ares_dot_s8(wr + i, xr + i, k - i < 65536 ? k - i : 65536);
      ares_rq_store(rq, y, (int64_t)r * n + j, ares_acc_i32(acc), j);
    }
  }
}
