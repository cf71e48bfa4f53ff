/* Reference QADD, QMUL and QREQUANT. Runtime twin: runtime/kernels/ares_eltwise.c
 * (ares_add_s8, ares_mul_s8, ares_requant_s8). */
#include "ref_internal.h"

/* y = clamp(zp + RHE(sum over the nin inputs of (x_i - zp_in[i]) * mult[i], shift), qmin, qmax),
 * all in int64. */
/* qmul (product): y = clamp(zp + RHE((x_0 - zp_in[0]) * (x_1 - zp_in[1]) * mult[0], shift)). */
static int eltwise(const ares_graph *g, const ares_node *n, void **values, int nin, int product) {
  const ares_eltwise_params *p = &n->p.elt;
  const ares_tensor *tx[2], *ty;
  const int8_t *x[2];
  if (ares_ref_arity(n, nin, 1)) return -1;
  if (p->n != nin) return ares_fail(n, "params for %d input(s), op takes %d", p->n, nin);
  for (int i = 0; i < nin; i++)
    if (!(x[i] = ares_ref_in(g, n, values, i, ARES_DT_I8, &tx[i]))) return -1;
  int8_t *y = ares_ref_out(g, n, values, 0, ARES_DT_I8, &ty);
  if (!y) return -1;
  for (int i = 0; i < nin; i++) {
    int same = tx[i]->rank == ty->rank;
    for (int d = 0; same && d < ty->rank; d++) same = tx[i]->dims[d] == ty->dims[d];
    if (!same) return ares_fail(n, "input %d ('%s') and output differ in shape (no broadcasting)", i, tx[i]->name);
    if (ares_ref_check_zp(n, p->zp_in[i], "input zero point")) return -1;
  }
  if (ares_ref_check_shift(n, p->shift, "shift") || ares_ref_check_range8(n, p->qmin, p->qmax)) return -1;

  int64_t count = ares_tensor_numel(ty);
  for (int64_t e = 0; e < count; e++) {
    int64_t sum = 0;
    if (product)
      sum = ((int64_t)x[0][e] - p->zp_in[0]) * ((int64_t)x[1][e] - p->zp_in[1]) * (int64_t)p->mult[0];
    else
      for (int i = 0; i < nin; i++) sum += ((int64_t)x[i][e] - p->zp_in[i]) * (int64_t)p->mult[i];
    y[e] = (int8_t)ares_ref_clamp((int64_t)p->zp + ares_ref_rhe(sum, p->shift), p->qmin, p->qmax);
  }
  return 0;
}

int ares_ref_qadd(const ares_graph *g, const ares_node *n, void **values) { return eltwise(g, n, values, 2, 0); }

int ares_ref_qmul(const ares_graph *g, const ares_node *n, void **values) { return eltwise(g, n, values, 2, 1); }

int ares_ref_qrequant(const ares_graph *g, const ares_node *n, void **values) { return eltwise(g, n, values, 1, 0); }
