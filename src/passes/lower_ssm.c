/* lower-int, state-space part: an ares SelectiveScan between quantized inputs and an output
 * quantizer becomes one `qscan` with its compile-time parameters (docs/SEMANTICS.md,
 * qscan). Every choice here is mirrored, operation for operation, by scan_params in
 * python/ares/nn/mamba.py, so that the Brevitas model computes what the chip computes. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ir/diag.h"
#include "passes.h"

#define EXP_FRAC 24 /* fractional bits of the decay exponent dd * a[d][n] */
#define LOG2E 1.4426950408889634

/* The int8 tensor t of input k = DQ(t), quantized per tensor. */
static ares_tensor *scan_input(ares_graph *g, ares_node *n, int k, const char *what) {
  ares_node *dq = k < n->nin && n->in[k] >= 0 ? ares_producer(g, n->in[k]) : NULL;
  if (!dq || dq->op != ARES_OP_DEQUANTIZELINEAR) {
    ares_fail(n, "unsupported: input %s is not quantized (ares.nn.SelectiveScan quantizes all four)", what);
    return NULL;
  }
  ares_tensor *t = g->tensors[dq->in[0]];
  if (t->q.nscale != 1 || t->rank != 3) {
    ares_fail(n, "unsupported: input %s must be a per-tensor quantized [batch, L, features] tensor", what);
    return NULL;
  }
  return t;
}

static int64_t max_dev(const ares_tensor *t) {
  int64_t lo = llabs((int64_t)t->q.qmin - t->q.zp[0]), hi = llabs((int64_t)t->q.qmax - t->q.zp[0]);
  return lo > hi ? lo : hi;
}

static int64_t rhe_int(int64_t p, int s) { /* p / 2^s, ties to even; p >= 0 here */
  int64_t q = p >> s, r = p & (((int64_t)1 << s) - 1), half = (int64_t)1 << (s - 1);
  return q + (r > half || (r == half && (q & 1)));
}

/* The exp2 tables, one copy per graph: T_hi[i] = 2^(-i/256), T_lo[j] = 2^(-j/65536) in Q30. */
static ares_tensor *exp2_tables(ares_graph *g) {
  ares_tensor *t = ares_tensor_find(g, "ares_scan_exp2_q30");
  if (t && t->data) return t;
  t = ares_tensor_new_const(g, "ares_scan_exp2_q30", ARES_DT_I32, 1, (int64_t[]){512});
  for (int i = 0; i < 256; i++) {
    ((int32_t *)t->data)[i] = (int32_t)ares_round_half_even(ldexp(pow(2.0, -(double)i / 256.0), 30));
    ((int32_t *)t->data)[256 + i] = (int32_t)ares_round_half_even(ldexp(pow(2.0, -(double)i / 65536.0), 30));
  }
  return t;
}

int ares_lower_scan(ares_graph *g, ares_node *n) {
  ares_tensor *x = scan_input(g, n, 0, "x"), *dt = x ? scan_input(g, n, 1, "delta") : NULL;
  ares_tensor *bm = dt ? scan_input(g, n, 2, "B") : NULL, *cm = bm ? scan_input(g, n, 3, "C") : NULL;
  if (!cm) return -1;
  int64_t batch = x->dims[0], len = x->dims[1], d_inner = x->dims[2], d_state = bm->dims[2];
  if (memcmp(dt->dims, x->dims, 3 * sizeof(int64_t)) || bm->dims[0] != batch || bm->dims[1] != len ||
      memcmp(cm->dims, bm->dims, 3 * sizeof(int64_t)))
    return ares_fail(n, "shapes: x and delta must be [batch, L, d_inner], B and C [batch, L, d_state]");
  if (len < 1 || d_inner < 1 || d_state < 1 || d_state > 65536)
    return ares_fail(n, "unsupported: L = %lld, d_inner = %lld, d_state = %lld", (long long)len, (long long)d_inner,
                     (long long)d_state);
  if (ares_attr_int(n, "d_state", d_state) != d_state)
    return ares_fail(n, "attribute d_state = %lld but B has %lld states", (long long)ares_attr_int(n, "d_state", 0),
                     (long long)d_state);
  int64_t direction = ares_attr_int(n, "direction", 0);
  if (direction != 0 && direction != 1) return ares_fail(n, "unsupported: direction %lld (0 or 1)", (long long)direction);
  const ares_tensor *alog = n->nin > 4 && n->in[4] >= 0 ? g->tensors[n->in[4]] : NULL;
  const ares_tensor *dsk = n->nin > 5 && n->in[5] >= 0 ? g->tensors[n->in[5]] : NULL;
  if (!alog || !ares_tensor_is_const(g, alog->id) || alog->q.nscale || ares_tensor_numel(alog) != d_inner * d_state)
    return ares_fail(n, "unsupported: A_log must be a float constant of %lld x %lld elements", (long long)d_inner,
                     (long long)d_state);
  if (dsk && (!ares_tensor_is_const(g, dsk->id) || dsk->q.nscale || ares_tensor_numel(dsk) != d_inner))
    return ares_fail(n, "unsupported: D must be a float constant of %lld elements", (long long)d_inner);

  ares_node *quant = ares_sole_consumer(g, n->out[0], ARES_OP_QUANTIZELINEAR);
  if (!quant) return ares_fail(n, "unsupported: the scan's result must go into one quantizer (ares.nn.SelectiveScan has one)");
  ares_tensor *y = g->tensors[quant->out[0]];
  if (y->q.nscale != 1) return ares_fail(n, "unsupported: output quantized per channel");

  /* state format: the finest f whose bound L * term_max still fits 31 bits */
  int64_t xmax = max_dev(x), bmax = max_dev(bm), cmax = max_dev(cm);
  int64_t dmax = (int64_t)dt->q.qmax - dt->q.zp[0] > 0 ? (int64_t)dt->q.qmax - dt->q.zp[0] : 0;
  int64_t pmax = dmax * bmax * xmax, tmax;
  int f = 30;
  for (;; f--) {
    tmax = f >= 0 ? pmax * ((int64_t)1 << f) : rhe_int(pmax, -f);
    if (tmax <= INT32_MAX / len) break;
  }
  int64_t hmax = len * tmax;

  ares_tensor *a = ares_tensor_new_const(g, "ares_scan_a", ARES_DT_I32, 2, (int64_t[]){d_inner, d_state});
  double s_x = x->q.scale[0], s_d = dt->q.scale[0], s_b = bm->q.scale[0], s_c = cm->q.scale[0], s_y = y->q.scale[0];
  for (int64_t i = 0; i < d_inner * d_state; i++) {
    double v = ares_tensor_get_f(alog, i);
    if (isnan(v)) return ares_fail(n, "A_log[%lld] is not a number", (long long)i);
    double e = v < 700 ? ldexp((s_d * exp(v)) * LOG2E, EXP_FRAC) : INFINITY;
    ((int32_t *)a->data)[i] = e >= INT32_MAX ? INT32_MAX : (int32_t)ares_round_half_even(e);
  }
  double r_y = ldexp(((s_x * s_d) * s_b) * s_c, -f) / s_y;
  ares_tensor *md = ares_tensor_new_const(g, "ares_scan_m_d", ARES_DT_I64, 1, &d_inner);
  double acc_bound = (double)(d_state * cmax * hmax), mdmax = 0;
  int shift;
  for (shift = 62; shift >= 1; shift--) {
    mdmax = 0;
    for (int64_t d = 0; d < d_inner; d++) {
      double r_d = dsk ? (ares_tensor_get_f(dsk, d) * s_x) / s_y : 0.0;
      if (!isfinite(r_d)) return ares_fail(n, "D[%lld] is not finite", (long long)d);
      double m = ares_round_half_even(ldexp(r_d, shift));
      /* a multiplier beyond int64 fails the bound below and the search goes on */
      ((int64_t *)md->data)[d] = fabs(m) < ldexp(1.0, 62) ? (int64_t)m : 0;
      if (fabs(m) > mdmax) mdmax = fabs(m);
    }
    if (acc_bound * fabs(ares_round_half_even(ldexp(r_y, shift))) + (double)xmax * mdmax < ldexp(1.0, 61)) break;
  }
  if (shift < 1) return ares_fail(n, "unsupported: the output rescale factor is too large (output scale %g)", s_y);
  int64_t m_y = (int64_t)ares_round_half_even(ldexp(r_y, shift));

  /* gate y * SiLU(z): the pre-gate value keeps 16 bits below the output LSB, the SiLU
   * table the most bits that keep the product inside 62 bits */
  ares_tensor *z = n->nin > 6 && n->in[6] >= 0 ? scan_input(g, n, 6, "z") : NULL, *gt = NULL;
  int gate_pre = 0, gate_shift = 0;
  if (n->nin > 6 && n->in[6] >= 0 && !z) return -1;
  if (z) {
    if (memcmp(z->dims, x->dims, 3 * sizeof(int64_t))) return ares_fail(n, "shapes: z must be shaped like x");
    int u = shift > 16 ? 16 : shift - 1;
    gate_pre = shift - u;
    double s_z = z->q.scale[0], gmax = 0, umax = (acc_bound * fabs((double)m_y) + (double)xmax * mdmax) / ldexp(1.0, gate_pre) + 1;
    gt = ares_tensor_new_const(g, "ares_scan_silu", ARES_DT_I32, 1, (int64_t[]){256});
    for (int v = -128; v < 128; v++) {
      double r = (v - z->q.zp[0]) * s_z, sl = r / (1.0 + exp(-r));
      if (v >= z->q.qmin && v <= z->q.qmax && fabs(sl) > gmax) gmax = fabs(sl);
    }
    int gf = 30;
    /* the product must stay below 2^61 and every table entry must fit int32 */
    while (gf > 0 && (umax * gmax * ldexp(1.0, gf) >= ldexp(1.0, 61) || gmax * ldexp(1.0, gf) >= ldexp(1.0, 31) - 1)) gf--;
    for (int v = -128; v < 128; v++) {
      double r = (v - z->q.zp[0]) * s_z, sl = r / (1.0 + exp(-r));
      ((int32_t *)gt->data)[v + 128] = v >= z->q.qmin && v <= z->q.qmax ? (int32_t)ares_round_half_even(ldexp(sl, gf)) : 0;
    }
    gate_shift = u + gf;
    if (gate_shift < 1) return ares_fail(n, "unsupported: no precision left for the gate (output scale %g)", s_y);
  }

  ares_node *q = ares_node_new(g, ARES_OP_QSCAN, n->name, z ? 9 : 7, 1);
  int ins[9] = {x->id, dt->id, bm->id, cm->id, a->id, md->id, exp2_tables(g)->id, z ? z->id : -1, gt ? gt->id : -1};
  memcpy(q->in, ins, sizeof(int) * (size_t)q->nin);
  q->out[0] = y->id;
  ares_scan_params *p = &q->p.scan;
  p->direction = (int)direction;
  p->zp_x = x->q.zp[0];
  p->zp_d = dt->q.zp[0];
  p->zp_b = bm->q.zp[0];
  p->zp_c = cm->q.zp[0];
  p->f = f;
  p->hmax = (int32_t)hmax;
  p->m_y = m_y;
  p->gate = z != NULL;
  p->gate_pre = gate_pre;
  p->gate_shift = gate_shift;
  p->shift = shift;
  p->zp = y->q.zp[0];
  p->qmin = y->q.qmin;
  p->qmax = y->q.qmax;
  q->macs = batch * len * d_inner * (2 * d_state + 1);
  q->acc_bound = (int64_t)acc_bound;
  n->dead = 1;
  quant->dead = 1;
  return 0;
}
