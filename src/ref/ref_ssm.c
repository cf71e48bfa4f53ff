/* Reference QSCAN, the selective scan (docs/SEMANTICS.md, qscan). Runtime twin:
 * runtime/kernels/ares_scan.c (ares_scan_s8). Plain int64 arithmetic, one state element at a
 * time, in the order the formula reads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_internal.h"

static int64_t max_dev(const ares_tensor *t, int64_t zp) {
  int64_t lo = llabs(t->q.nscale ? t->q.qmin - zp : -128 - zp), hi = llabs(t->q.nscale ? t->q.qmax - zp : 127 - zp);
  return lo > hi ? lo : hi;
}

/* exp(-dd * a / 2^24 * ln 2) in Q30 from the two tables: 2^-k for the integer part of the
 * exponent, the tables for its top 16 fractional bits. */
static int64_t decay(int64_t dd, int64_t a, const int32_t *tab) {
  int64_t v = dd * a;
  int64_t k = v / ((int64_t)1 << 24), fr = v / 256 % 65536; /* v >= 0 */
  if (k >= 31) return 0;
  int64_t e30 = ares_ref_rhe((int64_t)tab[fr / 256] * tab[256 + fr % 256], 30);
  return k == 0 ? e30 : ares_ref_rhe(e30, (int)k);
}

int ares_ref_qscan(const ares_graph *g, const ares_node *n, void **values) {
  const ares_scan_params *p = &n->p.scan;
  const ares_tensor *tx, *td, *tb, *tc, *ta, *tm, *tt, *ty;
  if (ares_ref_arity(n, 7, 1)) return -1;
  const int8_t *x = ares_ref_in(g, n, values, 0, ARES_DT_I8, &tx);
  const int8_t *dt = x ? ares_ref_in(g, n, values, 1, ARES_DT_I8, &td) : NULL;
  const int8_t *b = dt ? ares_ref_in(g, n, values, 2, ARES_DT_I8, &tb) : NULL;
  const int8_t *c = b ? ares_ref_in(g, n, values, 3, ARES_DT_I8, &tc) : NULL;
  const int32_t *a = c ? ares_ref_in(g, n, values, 4, ARES_DT_I32, &ta) : NULL;
  const int64_t *md = a ? ares_ref_in(g, n, values, 5, ARES_DT_I64, &tm) : NULL;
  const int32_t *tab = md ? ares_ref_in(g, n, values, 6, ARES_DT_I32, &tt) : NULL;
  int8_t *y = tab ? ares_ref_out(g, n, values, 0, ARES_DT_I8, &ty) : NULL;
  if (!y) return -1;
  const ares_tensor *tz = NULL, *tg = NULL;
  const int8_t *z = NULL;
  const int32_t *gate = NULL;
  if (p->gate) {
    if (ares_ref_arity(n, 9, 1)) return -1;
    if (!(z = ares_ref_in(g, n, values, 7, ARES_DT_I8, &tz)) || !(gate = ares_ref_in(g, n, values, 8, ARES_DT_I32, &tg))) return -1;
    if (tz->rank != 3 || memcmp(tz->dims, tx->dims, 3 * sizeof(int64_t)) || ares_tensor_numel(tg) != 256)
      return ares_fail(n, "gate: z must be shaped like x, the SiLU table have 256 entries");
    if (ares_ref_check_shift(n, p->gate_pre, "gate_pre") || ares_ref_check_shift(n, p->gate_shift, "gate_shift")) return -1;
  }

  if (tx->rank != 3 || tb->rank != 3 || td->rank != 3 || tc->rank != 3 || ty->rank != 3)
    return ares_fail(n, "x, delta, B, C and y must be rank 3");
  int64_t nb = tx->dims[0], len = tx->dims[1], nd = tx->dims[2], ns = tb->dims[2];
  for (int k = 0; k < 3; k++)
    if (td->dims[k] != tx->dims[k] || ty->dims[k] != tx->dims[k] || tc->dims[k] != tb->dims[k] || (k < 2 && tb->dims[k] != tx->dims[k]))
      return ares_fail(n, "shapes: x, delta, y [batch, L, D] and B, C [batch, L, N] disagree");
  if (ares_tensor_numel(ta) != nd * ns || ares_tensor_numel(tm) != nd || ares_tensor_numel(tt) != 512)
    return ares_fail(n, "constants: a needs D x N, m_d D, the tables 512 elements");
  if (p->direction != 0 && p->direction != 1) return ares_fail(n, "direction %d", p->direction);
  if (p->f > 30 || p->f < -62 || (p->f < 0 && ares_ref_check_shift(n, -p->f, "state shift"))) return ares_fail(n, "state format f = %d", p->f);
  if (p->hmax < 0) return ares_fail(n, "hmax %d", p->hmax);
  if (ares_ref_check_shift(n, p->shift, "shift") || ares_ref_check_range8(n, p->qmin, p->qmax)) return -1;
  if (ares_ref_check_zp(n, p->zp_x, "zp_x") || ares_ref_check_zp(n, p->zp_d, "zp_d") || ares_ref_check_zp(n, p->zp_b, "zp_b") ||
      ares_ref_check_zp(n, p->zp_c, "zp_c"))
    return -1;
  for (int i = 0; i < 512; i++)
    if (tab[i] < 0 || tab[i] > (1 << 30)) return ares_fail(n, "table entry %d = %d outside 0..2^30", i, tab[i]);
  double mdmax = 0;
  for (int64_t d = 0; d < nd; d++) {
    if (fabs((double)md[d]) > mdmax) mdmax = fabs((double)md[d]);
    for (int64_t s = 0; s < ns; s++)
      if (a[d * ns + s] < 0) return ares_fail(n, "decay exponent a[%lld][%lld] is negative", (long long)d, (long long)s);
  }
  /* no int64 overflow in the output sum: N * max|C - zp| * hmax * |m_y| + max|x - zp| * max|m_d| */
  if ((double)ns * (double)max_dev(tc, p->zp_c) * p->hmax * fabs((double)p->m_y) + (double)max_dev(tx, p->zp_x) * mdmax >= ldexp(1.0, 62))
    return ares_fail(n, "output multipliers can overflow 64 bits");

  int64_t *h = calloc((size_t)(nd * ns), sizeof(int64_t));
  if (!h) return ares_fail(n, "out of memory");
  for (int64_t bi = 0; bi < nb; bi++) {
    for (int64_t i = 0; i < nd * ns; i++) h[i] = 0;
    for (int64_t step = 0; step < len; step++) {
      int64_t t = p->direction ? len - 1 - step : step;
      const int8_t *xt = x + (bi * len + t) * nd, *dtt = dt + (bi * len + t) * nd;
      const int8_t *bt = b + (bi * len + t) * ns, *ct = c + (bi * len + t) * ns;
      for (int64_t d = 0; d < nd; d++) {
        int64_t dx = (int64_t)xt[d] - p->zp_x, dd = (int64_t)dtt[d] - p->zp_d;
        if (dd < 0) dd = 0;
        int64_t acc = 0;
        for (int64_t s = 0; s < ns; s++) {
          int64_t e = decay(dd, a[d * ns + s], tab);
          int64_t pr = dd * ((int64_t)bt[s] - p->zp_b) * dx;
          int64_t term = p->f >= 0 ? pr * ((int64_t)1 << p->f) : ares_ref_rhe(pr, -p->f);
          int64_t hv = ares_ref_rhe(h[d * ns + s] * e, 30) + term;
          h[d * ns + s] = ares_ref_clamp(hv, -(int64_t)p->hmax, p->hmax);
          acc += ((int64_t)ct[s] - p->zp_c) * h[d * ns + s];
        }
        int64_t pre = acc * p->m_y + dx * md[d], v;
        if (p->gate) {
          /* y * SiLU(z): the value rounded to gate_pre, times the table entry, rounded once more;
           * |u * G| < 2^62 by the compiler's choice of the table's precision, checked here */
          int64_t u = ares_ref_rhe(pre, p->gate_pre), gv = gate[z[(bi * len + t) * nd + d] + 128];
          if (u != 0 && llabs(gv) > (INT64_MAX / 2) / llabs(u)) return free(h), ares_fail(n, "gate product overflows 62 bits");
          v = (int64_t)p->zp + ares_ref_rhe(u * gv, p->gate_shift);
        } else {
          v = (int64_t)p->zp + ares_ref_rhe(pre, p->shift);
        }
        y[(bi * len + t) * nd + d] = (int8_t)ares_ref_clamp(v, p->qmin, p->qmax);
      }
    }
  }
  free(h);
  return 0;
}
