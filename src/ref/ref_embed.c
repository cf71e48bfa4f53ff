/* Reference QEMBED (token embedding). Runtime twin: runtime/kernels/ares_embed.c
 * (ares_embed_s8). */
#include <string.h>

#include "ref_internal.h"

/* y[t][k] = table[ids[t]][k] for 0 <= ids[t] < vocab; a row of p->oob otherwise. */
int ares_ref_qembed(const ares_graph *g, const ares_node *n, void **values) {
  const ares_tensor *tw, *ti, *ty;
  if (ares_ref_arity(n, 2, 1)) return -1;
  const int8_t *w = ares_ref_in(g, n, values, 0, ARES_DT_I8, &tw);
  if (!w) return -1;
  const int64_t *ids = ares_ref_in(g, n, values, 1, ARES_DT_I64, &ti);
  if (!ids) return -1;
  int8_t *y = ares_ref_out(g, n, values, 0, ARES_DT_I8, &ty);
  if (!y) return -1;
  if (tw->rank != 2) return ares_fail(n, "table '%s' has rank %d, expected 2", tw->name, tw->rank);
  int64_t vocab = tw->dims[0], d = tw->dims[1], count = ares_tensor_numel(ti);
  if (ares_tensor_numel(ty) != count * d)
    return ares_fail(n, "output has %lld elements, %lld indices x %lld expected", (long long)ares_tensor_numel(ty),
                     (long long)count, (long long)d);
  if (n->p.embed.oob < -128 || n->p.embed.oob > 127) return ares_fail(n, "out-of-range row value %d is not int8", n->p.embed.oob);
  for (int64_t t = 0; t < count; t++)
    for (int64_t k = 0; k < d; k++)
      y[t * d + k] = ids[t] >= 0 && ids[t] < vocab ? w[ids[t] * d + k] : (int8_t)n->p.embed.oob;
  return 0;
}
