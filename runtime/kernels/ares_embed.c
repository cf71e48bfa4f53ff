/* Token embedding: row copies from a constant table (see ares_kernels.h, ares_embed_s8). */
#include <string.h>

#include "../ares_kernels.h"

void ares_embed_s8(const int8_t *table, const int64_t *ids, int8_t *y, int64_t n, int64_t vocab, int32_t d, int8_t oob) {
  for (int64_t t = 0; t < n; t++, y += d) {
    if (ids[t] < 0 || ids[t] >= vocab) memset(y, oob, (size_t)d);
    else memcpy(y, table + ids[t] * d, (size_t)d);
  }
}
