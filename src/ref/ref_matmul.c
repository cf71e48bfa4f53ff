/* Reference QMATMUL. Runtime twin: runtime/kernels/ares_matmul.c (ares_matmul_s8), driven
 * by runtime/ares_tiled_matmul.c. */
#include "ref_internal.h"

/* a [..., M, K] and b [..., K, N] int8, batch dims broadcast numpy-style to y's:
 *   acc[..][m][n] = sum_k (a[..][m][k] - a_zp) * (b[..][k][n] - b_zp)
 * y int8 / float: requantized by rq; y int32: the accumulator, which must lie in y's
 * quantized range (the compiler's range proof). */
int ares_ref_qmatmul(const ares_graph *g, const ares_node *n, void **values) {
  const ares_matmul_params *p = &n->p.matmul;
  const ares_tensor *ta, *tb, *ty;
  const int8_t *a, *b;
  void *y;
  if (ares_ref_in2_s8(g, n, values, &a, &ta, &b, &tb, &y, &ty)) return -1;
  int ra = ta->rank, rb = tb->rank, ry = ty->rank;
  if (ra < 2 || rb < 2 || ry != (ra > rb ? ra : rb))
    return ares_fail(n, "ranks: a %d, b %d, output %d (expected [..., M, K], [..., K, N], the larger rank)", ra, rb, ry);
  int64_t m = ta->dims[ra - 2], k = ta->dims[ra - 1], nn = tb->dims[rb - 1];
  if (tb->dims[rb - 2] != k || ty->dims[ry - 2] != m || ty->dims[ry - 1] != nn)
    return ares_fail(n, "[%lld, %lld] x [%lld, %lld] does not give the output's [%lld, %lld]", (long long)m, (long long)k,
                     (long long)tb->dims[rb - 2], (long long)nn, (long long)ty->dims[ry - 2], (long long)ty->dims[ry - 1]);
  /* batch dims, right-aligned: each operand's dim is the output's or 1 */
  int nb = ry - 2;
  int64_t bd[ARES_MAX_DIMS], da[ARES_MAX_DIMS], db[ARES_MAX_DIMS], nbatch = 1;
  for (int i = 0; i < nb; i++) {
    int ia = i - (ry - ra), ib = i - (ry - rb);
    bd[i] = ty->dims[i];
    da[i] = ia >= 0 ? ta->dims[ia] : 1;
    db[i] = ib >= 0 ? tb->dims[ib] : 1;
    if ((da[i] != bd[i] && da[i] != 1) || (db[i] != bd[i] && db[i] != 1))
      return ares_fail(n, "batch dim %d: a %lld and b %lld do not broadcast to %lld", i, (long long)da[i], (long long)db[i],
                       (long long)bd[i]);
    nbatch *= bd[i];
  }
  if (ares_ref_check_zp(n, p->a_zp, "a_zp") || ares_ref_check_zp(n, p->b_zp, "b_zp")) return -1;
  int i32 = ty->dtype == ARES_DT_I32;
  if (i32 && ty->q.nscale != 1) return ares_fail(n, "int32 output without a quantized range");
  if (!i32 && ares_ref_check_rq(n, &p->rq, 1, ty->dtype)) return -1;
  int64_t idx[ARES_MAX_DIMS] = {0};
  for (int64_t bi = 0; bi < nbatch; bi++) {
    /* the operands' batch matrices for output batch bi */
    int64_t ia = 0, ib = 0;
    for (int i = 0; i < nb; i++) {
      ia = ia * da[i] + (da[i] == 1 ? 0 : idx[i]);
      ib = ib * db[i] + (db[i] == 1 ? 0 : idx[i]);
    }
    const int8_t *am = a + ia * m * k, *bm = b + ib * k * nn;
    for (int64_t r = 0; r < m; r++)
      for (int64_t c = 0; c < nn; c++) {
        int64_t acc = 0;
        for (int64_t j = 0; j < k; j++) acc += ((int64_t)am[r * k + j] - p->a_zp) * ((int64_t)bm[j * nn + c] - p->b_zp);
        if (ares_ref_check_acc(n, acc)) return -1;
        int64_t o = (bi * m + r) * nn + c;
        if (i32) {
          if (acc < ty->q.qmin || acc > ty->q.qmax)
            return ares_fail(n, "accumulator %lld outside the proven range %d..%d", (long long)acc, ty->q.qmin, ty->q.qmax);
          ((int32_t *)y)[o] = (int32_t)acc;
        } else {
          ares_ref_requant(&p->rq, 0, acc, y, o);
        }
      }
    for (int i = nb - 1; i >= 0; i--) {
      if (++idx[i] < bd[i]) break;
      idx[i] = 0;
    }
  }
  return 0;
}
