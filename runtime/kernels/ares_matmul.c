/* Product of two int8 matrices (both activations, each with its zero point). The loop runs
 * k-outer over a block of up to MM_BLOCK output columns held as int32 partial sums, so each
 * a value is loaded once per block and b is read row by row. No partial sum can leave
 * int32: every one is bounded by the sum of the terms' magnitudes, which the compiler's
 * range proof bounds by 2^31 - 1. */
#include "ares_rq_internal.h"

#define MM_BLOCK 32

void ares_matmul_s8(const int8_t *a, const int8_t *b, void *y, int32_t m, int32_t k, int32_t n, int32_t lda,
                    int32_t ldb, int32_t ldy, int32_t a_zp, int32_t b_zp, int32_t out_i32, const ares_rq *rq) {
  int32_t acc[MM_BLOCK];
  for (int32_t r = 0; r < m; r++) {
    const int8_t *ar = a + (int64_t)r * lda;
    for (int32_t c0 = 0; c0 < n; c0 += MM_BLOCK) {
      int32_t cn = n - c0 < MM_BLOCK ? n - c0 : MM_BLOCK;
      for (int32_t c = 0; c < cn; c++) acc[c] = 0;
      for (int32_t j = 0; j < k; j++) {
        int32_t av = (int32_t)ar[j] - a_zp;
        const int8_t *br = b + (int64_t)j * ldb + c0;
        for (int32_t c = 0; c < cn; c++) acc[c] += av * ((int32_t)br[c] - b_zp);
      }
      int64_t o = (int64_t)r * ldy + c0;
      if (out_i32)
        for (int32_t c = 0; c < cn; c++) ((int32_t *)y)[o + c] = acc[c];
      else
        for (int32_t c = 0; c < cn; c++) ares_rq_store(rq, y, o + c, acc[c], 0);
    }
  }
}
