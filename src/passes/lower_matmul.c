/* lower-matmul: the product of two quantized activations (attention's q.k^T and attn.v)
 * becomes one integer op, qmatmul.
 *
 * After sink-dequant both operands of such a MatMul are DQ(t) of int8 tensors. The exact
 * accumulator sum_k (a - zp_a)(b - zp_b) has scale s_a * s_b; a Mul or Div by a scalar
 * constant right after the MatMul (the 1/sqrt(d) of attention) scales it, exactly, in
 * double. Where the result goes decides the output:
 *   - (through an optional Relu) into one QuantizeLinear: requantized to its int8 tensor;
 *   - straight to a graph output: float, (float)acc * fscale;
 *   - anything else (a float Softmax, as in Brevitas' QuantMultiheadAttention): an int32
 *     tensor holding the accumulator, quantized with scale s_a * s_b * factor (rounded once
 *     to float32), zero point 0 and the range proof's +-bound as its range, and a
 *     DequantizeLinear of it in place of the float result, for lower-norm / lower-lut to
 *     take (SEMANTICS "qmatmul").
 * The left operand may also be a quantized constant (learned queries attending over a
 * sequence). A MatMul with a constant right operand is a linear layer: left to lower-int. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/diag.h"
#include "passes.h"

/* The int8 tensor behind DQ output tid (or tid itself, a quantized constant), or NULL. */
static ares_tensor *dq_int(ares_graph *g, int tid) {
  ares_tensor *c = g->tensors[tid];
  if (c->data) return c->dtype == ARES_DT_I8 && c->q.nscale == 1 ? c : NULL;
  ares_node *dq = ares_producer(g, tid);
  if (!dq || dq->op != ARES_OP_DEQUANTIZELINEAR || dq->nin < 1) return NULL;
  ares_tensor *t = g->tensors[dq->in[0]];
  return t->dtype == ARES_DT_I8 && t->q.nscale == 1 ? t : NULL;
}

/* Scalar float constant tid: its value in *v. */
static int scalar_const(ares_graph *g, int tid, double *v) {
  if (tid < 0 || !ares_tensor_is_const(g, tid)) return 0;
  ares_tensor *t = g->tensors[tid];
  if (t->dtype != ARES_DT_F32 || ares_tensor_numel(t) != 1 || t->q.nscale) return 0;
  *v = ares_tensor_get_f(t, 0);
  return 1;
}

/* If node c multiplies or divides tensor cur by a scalar constant without broadcasting it
 * to a larger rank, the factor it applies. */
static int scalar_factor(ares_graph *g, ares_node *c, int cur, double *f) {
  if ((c->op != ARES_OP_DIV && c->op != ARES_OP_MUL) || c->nin != 2) return 0;
  if (c->op == ARES_OP_DIV && c->in[0] != cur) return 0; /* c / x is not a scaling */
  int other = c->in[0] == cur ? c->in[1] : c->in[0];
  double v;
  if (!scalar_const(g, other, &v) || g->tensors[other]->rank > g->tensors[cur]->rank) return 0;
  *f = c->op == ARES_OP_MUL ? v : 1.0 / v;
  return 1;
}

static int lower_one(ares_graph *g, ares_node *n) {
  ares_tensor *a = dq_int(g, n->in[0]), *b = dq_int(g, n->in[1]);
  ares_tensor *y = g->tensors[n->out[0]];
  if (a->rank < 2 || b->rank < 2)
    return ares_fail(n, "unsupported: MatMul of activations of rank %d and %d (both need rank >= 2)", a->rank, b->rank);
  int64_t k = a->dims[a->rank - 1];
  /* the range proof: every term is at most max|a - zp_a| * max|b - zp_b| */
  int64_t ma = llabs((int64_t)a->q.qmin - a->q.zp[0]), mb = llabs((int64_t)b->q.qmin - b->q.zp[0]);
  if (llabs((int64_t)a->q.qmax - a->q.zp[0]) > ma) ma = llabs((int64_t)a->q.qmax - a->q.zp[0]);
  if (llabs((int64_t)b->q.qmax - b->q.zp[0]) > mb) mb = llabs((int64_t)b->q.qmax - b->q.zp[0]);
  int64_t bound = k * ma * mb;
  if (bound > INT32_MAX)
    return ares_fail(n, "unsupported: the accumulator can reach %lld, beyond int32 (K = %lld; range proof failed)",
                     (long long)bound, (long long)k);
  /* the chain after the MatMul: scalar scalings, then an optional Relu and a Q */
  ares_node *kill[8], *c[2];
  int nkill = 0, cur = n->out[0], relu = 0;
  double f = 1.0, fs;
  while (nkill < 6 && !ares_is_graph_output(g, cur) && ares_consumers(g, cur, c, 2) == 1 && scalar_factor(g, c[0], cur, &fs)) {
    f *= fs;
    kill[nkill++] = c[0];
    cur = c[0]->out[0];
  }
  if (!(f > 0) || !isfinite(f))
    return ares_fail(n, "unsupported: the product is scaled by %g (only positive finite scalings)", f);
  double acc_scale = (double)a->q.scale[0] * b->q.scale[0] * f;
  int nq = ares_is_graph_output(g, cur) ? 0 : ares_consumers(g, cur, c, 2), to_q = 0;
  int base_kill = nkill;
  if (nq == 1 && c[0]->op == ARES_OP_RELU) {
    ares_node *r = c[0];
    if (!ares_is_graph_output(g, r->out[0]) && ares_consumers(g, r->out[0], c, 2) == 1 && c[0]->op == ARES_OP_QUANTIZELINEAR) {
      relu = 1;
      kill[nkill++] = r;
      to_q = 1;
    }
  } else if (nq == 1 && c[0]->op == ARES_OP_QUANTIZELINEAR) {
    to_q = 1;
  }
  ares_node *in = ares_node_new(g, ARES_OP_QMATMUL, n->name, 2, 1);
  in->in[0] = a->id;
  in->in[1] = b->id;
  ares_matmul_params *p = &in->p.matmul;
  p->a_zp = a->q.zp[0];
  p->b_zp = b->q.zp[0];
  in->acc_bound = bound;
  in->macs = ares_tensor_numel(y) * k;
  ares_requant *rq = &p->rq;
  rq->n = 1;
  if (to_q) {
    ares_node *q = c[0];
    ares_tensor *t = g->tensors[q->out[0]];
    kill[nkill++] = q;
    acc_scale *= ares_prescale(q);
    rq->mult = ares_alloc(g, sizeof(int32_t));
    rq->shift = ares_alloc(g, sizeof(int8_t));
    rq->zp = t->q.zp[0];
    rq->qmin = t->q.qmin;
    rq->qmax = t->q.qmax;
    if (relu && rq->qmin < rq->zp) rq->qmin = t->q.qmin = rq->zp;
    if (ares_quant_multiplier(acc_scale / t->q.scale[0], &rq->mult[0], &rq->shift[0]) < 0)
      return ares_fail(n, "unsupported: requantization factor %g is too large (is the output quantizer calibrated?)",
                       acc_scale / t->q.scale[0]);
    in->out[0] = t->id;
    n->dead = 1;
    for (int i = 0; i < nkill; i++) kill[i]->dead = 1;
    return 0;
  }
  if (ares_is_graph_output(g, cur) && nq == 0) {
    rq->out_float = 1;
    rq->fscale = ares_alloc(g, sizeof(float));
    rq->fbias = ares_alloc(g, sizeof(float));
    rq->fscale[0] = (float)acc_scale;
    in->out[0] = cur;
    n->dead = 1;
    for (int i = 0; i < base_kill; i++) kill[i]->dead = 1;
    return 0;
  }
  /* used as a float: the int32 accumulator and its DQ, which replaces the float result */
  float s32 = (float)acc_scale;
  if (!(s32 > 0) || !isfinite(s32)) return ares_fail(n, "unsupported: accumulator scale %g is not a float32", acc_scale);
  ares_tensor *t = ares_tensor_new_shaped(g, y->name, ARES_DT_I32, y->rank, y->dims);
  int32_t zp0 = 0;
  ares_quant_set(g, t, 1, 0, &s32, &zp0, (int32_t)-bound, (int32_t)bound);
  in->out[0] = t->id;
  ares_node *last = nkill ? kill[nkill - 1] : n;
  for (int i = 0; i + 1 < nkill; i++) kill[i]->dead = 1;
  if (last != n) n->dead = 1;
  ares_node_become_dequant(g, last, t->id);
  return 0;
}

int ares_pass_lower_matmul(ares_graph *g) {
  int rc = 0, nn = g->nnodes;
  for (int i = 0; i < nn; i++) {
    ares_node *n = g->nodes[i];
    if (n->dead || n->op != ARES_OP_MATMUL || n->nin != 2 || n->in[0] < 0 || n->in[1] < 0) continue;
    if (ares_tensor_is_const(g, n->in[1])) continue; /* a linear layer: lower-int's */
    if (!dq_int(g, n->in[0]) || !dq_int(g, n->in[1])) {
      int k = dq_int(g, n->in[0]) ? 1 : 0;
      rc = ares_fail(n, "unsupported: input '%s' is not a quantized activation or per-tensor quantized constant (a "
                        "product of two activations needs a quantizer, e.g. QuantIdentity, on both)",
                     g->tensors[n->in[k]]->name);
      continue;
    }
    int n0 = g->nnodes;
    if (lower_one(g, n) < 0) {
      rc = -1;
      for (int k = n0; k < g->nnodes; k++) g->nodes[k]->dead = 1;
    }
    ares_graph_relink(g);
  }
  return rc;
}
