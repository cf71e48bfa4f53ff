/* Reference QLINEAR. Runtime twin: runtime/kernels/ares_linear.c (ares_linear_s8). */
#include "ref_internal.h"

/* x [..., K] int8 viewed as rows x K (rows = product of the leading dims), w [N, K] int8:
 *   acc[r][j] = bias[j] + sum_k w[j][k] * (x[r][k] - x_zp), requantized for channel j. */
int ares_ref_qlinear(const ares_graph *g, const ares_node *n, void **values) {
  const ares_linear_params *p = &n->p.linear;
  const ares_tensor *tx, *tw, *ty;
  const int8_t *x, *w;
  void *y;
  if (ares_ref_in2_s8(g, n, values, &x, &tx, &w, &tw, &y, &ty)) return -1;

  if (tx->rank < 1 || tw->rank != 2 || ty->rank != tx->rank)
    return ares_fail(n, "ranks: input %d, weight %d, output %d (expected [..., K], [N, K], [..., N])", tx->rank,
                     tw->rank, ty->rank);
  int64_t k = tx->dims[tx->rank - 1], nout = tw->dims[0];
  if (tw->dims[1] != k || ty->dims[ty->rank - 1] != nout)
    return ares_fail(n, "weight [%lld, %lld] does not map K = %lld to N = %lld", (long long)tw->dims[0],
                     (long long)tw->dims[1], (long long)k, (long long)ty->dims[ty->rank - 1]);
  for (int d = 0; d + 1 < tx->rank; d++)
    if (tx->dims[d] != ty->dims[d]) return ares_fail(n, "leading dim %d: %lld in, %lld out", d, (long long)tx->dims[d], (long long)ty->dims[d]);
  if (ares_ref_check_zp(n, p->x_zp, "x_zp")) return -1;
  if (ares_ref_check_rq(n, &p->rq, nout, ty->dtype)) return -1;

  int64_t rows = k ? ares_tensor_numel(tx) / k : ares_tensor_numel(ty) / (nout ? nout : 1);
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < nout; j++) {
      int64_t acc = p->bias ? p->bias[j] : 0;
      for (int64_t i = 0; i < k; i++) acc += (int64_t)w[j * k + i] * ((int64_t)x[r * k + i] - p->x_zp);
      if (ares_ref_check_acc(n, acc)) return -1;
      ares_ref_requant(&p->rq, j, acc, y, r * nout + j);
    }
  return 0;
}
