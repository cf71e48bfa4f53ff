/* Reference QROPE (rotary position encoding). Runtime twin: runtime/kernels/ares_rope.c
 * (ares_rope_s8). */
#include "ref_internal.h"

/* x and y viewed as [outer][npos][inner][d]; for element i of a row at position pos, with
 * partner j (half: i + d/2 or i - d/2; interleaved: i + 1 for even i, i - 1 for odd i):
 *   y_i = clamp(zp + RHE((x_i - zp_in) * mc[pos][i] + (x_j - zp_in) * ms[pos][i], shift))
 * in int64; mc and ms are inputs 1 and 2 (int32 [npos][d]). */
int ares_ref_qrope(const ares_graph *g, const ares_node *n, void **values) {
  const ares_rope_params *p = &n->p.rope;
  const ares_tensor *tx, *ty, *tc, *ts;
  if (ares_ref_arity(n, 3, 1)) return -1;
  const int8_t *x = ares_ref_in(g, n, values, 0, ARES_DT_I8, &tx);
  if (!x) return -1;
  const int32_t *mc = ares_ref_in(g, n, values, 1, ARES_DT_I32, &tc);
  if (!mc) return -1;
  const int32_t *ms = ares_ref_in(g, n, values, 2, ARES_DT_I32, &ts);
  if (!ms) return -1;
  int8_t *y = ares_ref_out(g, n, values, 0, ARES_DT_I8, &ty);
  if (!y) return -1;
  if (p->layout != ARES_ROPE_HALF && p->layout != ARES_ROPE_INTERLEAVED) return ares_fail(n, "unknown layout %d", p->layout);
  if (p->d < 2 || p->d % 2 || p->outer < 1 || p->npos < 1 || p->inner < 1)
    return ares_fail(n, "invalid parameters (d = %lld)", (long long)p->d);
  if (ares_tensor_numel(tc) != p->npos * p->d || ares_tensor_numel(ts) != p->npos * p->d)
    return ares_fail(n, "cos/sin multipliers do not have %lld x %lld entries", (long long)p->npos, (long long)p->d);
  int64_t count = ares_tensor_numel(ty);
  if (ares_tensor_numel(tx) != count || p->outer * p->npos * p->inner * p->d != count)
    return ares_fail(n, "%lld x %lld x %lld x %lld does not match %lld elements", (long long)p->outer, (long long)p->npos,
                     (long long)p->inner, (long long)p->d, (long long)count);
  if (ares_ref_check_zp(n, p->zp_in, "input zero point") || ares_ref_check_shift(n, p->shift, "shift") ||
      ares_ref_check_range8(n, p->qmin, p->qmax))
    return -1;
  int64_t half = p->d / 2;
  for (int64_t e = 0; e < count; e++) {
    int64_t i = e % p->d, row = e / p->d, pos = row / p->inner % p->npos, j;
    if (p->layout == ARES_ROPE_HALF) j = i < half ? i + half : i - half;
    else j = i % 2 == 0 ? i + 1 : i - 1;
    int64_t xi = (int64_t)x[e] - p->zp_in, xj = (int64_t)x[row * p->d + j] - p->zp_in;
    int64_t acc = xi * mc[pos * p->d + i] + xj * ms[pos * p->d + i];
    y[e] = (int8_t)ares_ref_clamp((int64_t)p->zp + ares_ref_rhe(acc, p->shift), p->qmin, p->qmax);
  }
  return 0;
}
