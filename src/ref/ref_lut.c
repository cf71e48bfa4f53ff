/* Reference QLUT. Runtime twin: runtime/kernels/ares_lut.c (ares_lut_s8, ares_lut_s8_f32). */
#include "ref_internal.h"

/* y[i] = table[x[i] + 128] (int8 output) or ftable[x[i] + 128] (float32 output). */
int ares_ref_qlut(const ares_graph *g, const ares_node *n, void **values) {
  const ares_lut_params *p = &n->p.lut;
  const ares_tensor *tx, *ty;
  if (ares_ref_arity(n, 1, 1)) return -1;
  if (!p->table == !p->ftable) return ares_fail(n, "needs exactly one of an int8 and a float table");
  const int8_t *x = ares_ref_in(g, n, values, 0, ARES_DT_I8, &tx);
  void *y = x ? ares_ref_out(g, n, values, 0, p->table ? ARES_DT_I8 : ARES_DT_F32, &ty) : NULL;
  if (!y) return -1;
  if (ares_ref_check_numel(n, tx, ty)) return -1;
  int64_t count = ares_tensor_numel(tx);
  for (int64_t i = 0; i < count; i++) {
    int idx = (int)x[i] + 128;
    if (p->table) ((int8_t *)y)[i] = p->table[idx];
    else ((float *)y)[i] = p->ftable[idx];
  }
  return 0;
}
