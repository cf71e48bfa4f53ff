/* Reference QCONCAT. Runtime twin: runtime/kernels/ares_concat.c (ares_concat_s8). */
#include "ref_internal.h"

/* Inputs 0..nin-1 laid end to end along `axis`. Input i is copied unchanged when
 * mult[i] == 0, else y = clamp(zp + RHE((x - zp_in[i]) * mult[i], shift[i]), qmin, qmax). */
int ares_ref_qconcat(const ares_graph *g, const ares_node *n, void **values) {
  const ares_concat_params *p = &n->p.concat;
  const ares_tensor *ty;
  if (n->nin < 1) return ares_fail(n, "no inputs");
  if (ares_ref_arity(n, n->nin, 1)) return -1;
  int8_t *y = ares_ref_out(g, n, values, 0, ARES_DT_I8, &ty);
  if (!y) return -1;
  int axis = p->axis;
  if (axis < 0 || axis >= ty->rank) return ares_fail(n, "axis %d outside 0..%d", axis, ty->rank - 1);
  if (p->n != n->nin) return ares_fail(n, "params for %d inputs, node has %d", p->n, n->nin);
  if (!p->mult) return ares_fail(n, "no per-input multipliers");

  /* Shapes: every dim but the axis equal to the output's, axis extents summing up. */
  int64_t along = 0;
  for (int i = 0; i < n->nin; i++) {
    const ares_tensor *tx;
    if (!ares_ref_in(g, n, values, i, ARES_DT_I8, &tx)) return -1;
    if (tx->rank != ty->rank) return ares_fail(n, "input %d has rank %d, output %d", i, tx->rank, ty->rank);
    for (int d = 0; d < ty->rank; d++)
      if (d != axis && tx->dims[d] != ty->dims[d])
        return ares_fail(n, "input %d: dim %d is %lld, output's %lld", i, d, (long long)tx->dims[d], (long long)ty->dims[d]);
    along += tx->dims[axis];
    if (p->mult[i] != 0) {
      if (!p->zp_in || !p->shift) return ares_fail(n, "input %d rescaled without zp_in/shift", i);
      if (ares_ref_check_shift(n, p->shift[i], "shift") || ares_ref_check_zp(n, p->zp_in[i], "input zero point") ||
          ares_ref_check_range8(n, p->qmin, p->qmax))
        return -1;
    }
  }
  if (along != ty->dims[axis])
    return ares_fail(n, "inputs add up to %lld along axis %d, output has %lld", (long long)along, axis, (long long)ty->dims[axis]);

  /* View every tensor as [outer][inner]: outer = dims before the axis, inner = the rest. */
  int64_t outer = 1, inner_y = 1;
  for (int d = 0; d < axis; d++) outer *= ty->dims[d];
  for (int d = axis; d < ty->rank; d++) inner_y *= ty->dims[d];
  int64_t offset = 0; /* where input i starts inside an output row */
  for (int i = 0; i < n->nin; i++) {
    const ares_tensor *tx;
    const int8_t *x = ares_ref_in(g, n, values, i, ARES_DT_I8, &tx);
    int64_t inner = 1;
    for (int d = axis; d < tx->rank; d++) inner *= tx->dims[d];
    for (int64_t o = 0; o < outer; o++)
      for (int64_t e = 0; e < inner; e++) {
        int64_t v = x[o * inner + e];
        if (p->mult[i] != 0)
          v = ares_ref_clamp((int64_t)p->zp + ares_ref_rhe((v - p->zp_in[i]) * (int64_t)p->mult[i], p->shift[i]),
                             p->qmin, p->qmax);
        y[o * inner_y + offset + e] = (int8_t)v;
      }
    offset += inner;
  }
  return 0;
}
