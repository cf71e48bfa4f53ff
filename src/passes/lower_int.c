/* lower-int: float compute between quantization points becomes integer ops.
 *
 * After sink-dequant every compute op reads DQ(t) for integer tensors t and quantized
 * constants for its weights. A compute op whose result (optionally through Relu) feeds a
 * QuantizeLinear becomes one integer op writing that Q's integer tensor, with the
 * requantization multipliers computed here (docs/SEMANTICS.md). A Conv/Gemm/MatMul whose
 * result is a graph output stays float at its output only (dequantized accumulator).
 * QuantizeLinear on a graph input becomes QUANTIZE; DequantizeLinear feeding a graph
 * output becomes DEQUANTIZE. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/diag.h"
#include "onnx_attrs.h"
#include "passes.h"

/* The integer tensor behind a float input: the operand of the DQ that produced it. */
static ares_tensor *int_input(ares_graph *g, ares_node *n, int k) {
  if (k >= n->nin || n->in[k] < 0) {
    ares_fail(n, "input %d is missing", k);
    return NULL;
  }
  ares_tensor *c = g->tensors[n->in[k]];
  if (c->data && c->q.nscale == 1 && c->dtype == ARES_DT_I8) return c; /* a quantized constant (a learned embedding) */
  ares_node *dq = ares_producer(g, n->in[k]);
  if (!dq || dq->op != ARES_OP_DEQUANTIZELINEAR) {
    ares_fail(n, "unsupported: input '%s' is not quantized (float op outside a quantized region: put a "
                 "quantizer, e.g. QuantIdentity, before this layer)", g->tensors[n->in[k]]->name);
    return NULL;
  }
  return g->tensors[dq->in[0]];
}

/* Where the result of compute node n goes: through an optional Relu into a Q (returns the
 * Q's integer tensor), or to a graph output (returns NULL with *float_out set). */
typedef struct {
  ares_tensor *t;   /* integer output, or NULL when the output stays float */
  int relu;
  int out_id;       /* the tensor the new node writes */
  ares_node *kill[3];
  int nkill;
  int bias_id;      /* MatMul: a constant added after it */
  double prescale;  /* the Q's "ares_prescale" (sink-dequant): the result is multiplied by it first */
} sink_info;

double ares_prescale(const ares_node *q) {
  const ares_attr *a = ares_attr_find(q, "ares_prescale");
  return a && a->type == ARES_ATTR_FLOATS && a->n == 2 ? (double)a->floats[0] / a->floats[1] : 1.0;
}

static int find_sink(ares_graph *g, ares_node *n, int allow_float, int allow_bias, sink_info *s) {
  memset(s, 0, sizeof *s);
  s->bias_id = -1;
  s->prescale = 1.0;
  int cur = n->out[0];
  ares_node *add = allow_bias ? ares_sole_consumer(g, cur, ARES_OP_ADD) : NULL;
  if (add) {
    int other = add->in[0] == cur ? add->in[1] : add->in[0];
    if (ares_tensor_is_const(g, other)) {
      s->bias_id = other;
      s->kill[s->nkill++] = add;
      cur = add->out[0];
    }
  }
  ares_node *relu = ares_sole_consumer(g, cur, ARES_OP_RELU);
  if (relu) {
    s->relu = 1;
    s->kill[s->nkill++] = relu;
    cur = relu->out[0];
  }
  ares_node *c[2];
  int nc = ares_consumers(g, cur, c, 2);
  if (nc == 1 && c[0]->op == ARES_OP_QUANTIZELINEAR && !ares_is_graph_output(g, cur)) {
    s->t = g->tensors[c[0]->out[0]];
    /* an int32 result (ConvInteger, MatMulInteger) is the accumulator itself */
    if (s->t->dtype == ARES_DT_I32 && (!allow_float || s->relu))
      return ares_fail(n, "unsupported: int32 output of this op (only Conv, Gemm and MatMul give int32 results, without Relu)");
    s->kill[s->nkill++] = c[0];
    s->out_id = s->t->id;
    s->prescale = ares_prescale(c[0]);
    return 0;
  }
  if (allow_float && nc == 0 && ares_is_graph_output(g, cur) && !s->relu) {
    s->out_id = cur;
    return 0;
  }
  if (nc == 0 && ares_is_graph_output(g, cur))
    return ares_fail(n, "unsupported: float output of this op (add an output quantizer)");
  return ares_fail(n, "unsupported: the result is used as a float tensor by %s '%s' (quantize it: every "
                      "compute layer's output needs a quantizer)", nc ? c[0]->op_type : "?", nc ? c[0]->name : "?");
}

static void finish(ares_node *n, sink_info *s) {
  n->dead = 1;
  for (int i = 0; i < s->nkill; i++) s->kill[i]->dead = 1;
}

/* Output range of an integer op: the Q's range, narrowed by a fused Relu. */
static void out_range(sink_info *s, int32_t *zp, int32_t *lo, int32_t *hi) {
  *zp = s->t->q.zp[0];
  *lo = s->t->q.qmin;
  *hi = s->t->q.qmax;
  if (s->relu && *lo < *zp) *lo = *zp;
  if (s->relu) s->t->q.qmin = *lo;
}

static int check_weight(ares_graph *g, ares_node *n, int k, ares_tensor **w) {
  if (k >= n->nin || n->in[k] < 0 || !ares_tensor_is_const(g, n->in[k]))
    return ares_fail(n, "unsupported: weight input %d is not a constant", k);
  *w = g->tensors[n->in[k]];
  if ((*w)->q.nscale == 0 || (*w)->dtype != ARES_DT_I8)
    return ares_fail(n, "unsupported: weight '%s' is not quantized to at most 8 bits", (*w)->name);
  if (ares_tensor_numel(*w) == 0) return ares_fail(n, "weight '%s' is empty", (*w)->name);
  for (int i = 0; i < (*w)->q.nscale; i++)
    if ((*w)->q.zp[i] != 0) return ares_fail(n, "unsupported: weight zero point %d (symmetric weights only)", (*w)->q.zp[i]);
  return 0;
}

/* Real-valued bias per output channel, from a float or a quantized constant. */
static int read_bias(ares_graph *g, ares_node *n, int bias_id, int64_t cout, double *bias) {
  for (int64_t c = 0; c < cout; c++) bias[c] = 0;
  if (bias_id < 0) return 0;
  ares_tensor *b = g->tensors[bias_id];
  if (!ares_tensor_is_const(g, bias_id)) return ares_fail(n, "unsupported: bias '%s' is not a constant", b->name);
  if (ares_tensor_numel(b) != cout) return ares_fail(n, "bias has %lld elements, %lld expected", (long long)ares_tensor_numel(b), (long long)cout);
  for (int64_t c = 0; c < cout; c++) {
    if (b->q.nscale) {
      int i = b->q.nscale > 1 ? (int)c : 0;
      bias[c] = (double)(ares_tensor_get_i(b, c) - b->q.zp[i]) * b->q.scale[i];
    } else {
      bias[c] = ares_tensor_get_f(b, c);
    }
  }
  return 0;
}

/* Bias and requantization for a layer with accumulator scale acc_scale[c] and real bias
 * bias[c]. The bias is split: its part in whole accumulator units starts the int32
 * accumulator (exact for Brevitas' Int32Bias), and the remainder goes into `add`, at
 * 2^-shift of an output LSB, so a float bias is not rounded to accumulator units. Range
 * proof: the accumulator bound sum_k |w[c][k]| * max|x - x_zp| + |bias| must fit int32, and
 * |acc * mult| + |add| must stay below 2^62. */
static int make_requant(ares_graph *g, ares_node *n, const ares_tensor *x, const ares_tensor *w, int64_t cout,
                        const double *acc_scale, const double *bias, sink_info *s, int32_t **bias_int,
                        ares_requant *rq) {
  rq->n = (int)cout;
  int64_t per = ares_tensor_numel(w) / cout;
  int64_t xmax = llabs((int64_t)x->q.qmin - x->q.zp[0]);
  if (llabs((int64_t)x->q.qmax - x->q.zp[0]) > xmax) xmax = llabs((int64_t)x->q.qmax - x->q.zp[0]);
  if (!s->t) {
    rq->out_float = 1;
    rq->fscale = ares_alloc(g, sizeof(float) * (size_t)cout);
    rq->fbias = ares_alloc(g, sizeof(float) * (size_t)cout);
  } else if (s->t->dtype == ARES_DT_I32) {
    rq->out_i32 = 1;
    *bias_int = ares_alloc(g, sizeof(int32_t) * (size_t)cout);
  } else {
    rq->mult = ares_alloc(g, sizeof(int32_t) * (size_t)cout);
    rq->shift = ares_alloc(g, sizeof(int8_t) * (size_t)cout);
    rq->add = ares_alloc(g, sizeof(int64_t) * (size_t)cout);
    *bias_int = ares_alloc(g, sizeof(int32_t) * (size_t)cout);
    out_range(s, &rq->zp, &rq->qmin, &rq->qmax);
  }
  int any_add = 0;
  n->acc_bound = 0;
  for (int64_t c = 0; c < cout; c++) {
    int64_t bound = 0;
    for (int64_t k = 0; k < per; k++) bound += llabs((int64_t)((const int8_t *)w->data)[c * per + k]) * xmax;
    if (bound > n->acc_bound) n->acc_bound = bound;
    if (bound > INT32_MAX)
      return ares_fail(n, "unsupported: the accumulator of channel %lld can reach %lld, beyond int32 (range proof failed)",
                       (long long)c, (long long)bound);
    if (!isfinite(acc_scale[c]) || acc_scale[c] == 0 || !isfinite(bias[c]))
      return ares_fail(n, "channel %lld: scale %g or bias %g is not finite", (long long)c, acc_scale[c], bias[c]);
    if (rq->out_float) {
      rq->fscale[c] = (float)acc_scale[c];
      rq->fbias[c] = (float)bias[c];
      continue;
    }
    if (rq->out_i32) {
      /* y = acc: the output's scale must be the accumulator's and the bias whole units */
      double b = ares_round_half_even(bias[c] / acc_scale[c]);
      if (acc_scale[c] != s->t->q.scale[0] || s->t->q.zp[0] != 0 || b * acc_scale[c] != bias[c])
        return ares_fail(n, "unsupported: int32 output with scale %g and zero point %d for an accumulator of scale %g%s",
                         s->t->q.scale[0], s->t->q.zp[0], acc_scale[c], b * acc_scale[c] != bias[c] ? " and a fractional bias" : "");
      if (fabs(b) + (double)bound > INT32_MAX)
        return ares_fail(n, "unsupported: channel %lld with its bias can reach beyond int32 (range proof failed)", (long long)c);
      (*bias_int)[c] = (int32_t)b;
      if ((int64_t)fabs(b) + bound > n->acc_bound) n->acc_bound = (int64_t)fabs(b) + bound;
      continue;
    }
    double r = acc_scale[c] / s->t->q.scale[0];
    if (ares_quant_multiplier(r, &rq->mult[c], &rq->shift[c]) < 0)
      return ares_fail(n, "unsupported: requantization factor %g is too large (is the output quantizer calibrated? "
                          "its scale %g is far finer than the input's)", r, s->t->q.scale[0]);
    double b = ares_round_half_even(bias[c] / acc_scale[c]);
    /* A bias too large for the accumulator (an input scale far below the bias, as behind
     * a quantizer that saw only zeros in calibration) goes whole into `add`. */
    if (fabs(b) + (double)bound > INT32_MAX) b = 0;
    (*bias_int)[c] = (int32_t)b;
    if ((int64_t)fabs(b) + bound > n->acc_bound) n->acc_bound = (int64_t)fabs(b) + bound;
    double rest = (bias[c] - b * acc_scale[c]) / s->t->q.scale[0], add, total;
    for (;;) {
      add = ares_round_half_even(ldexp(rest, rq->shift[c]));
      total = ((double)bound + fabs(b)) * fabs((double)rq->mult[c]) + fabs(add);
      if (total < ldexp(1.0, 62) || rq->shift[c] <= 1) break;
      /* trade multiplier bits for room: with a bias this large the accumulator's
       * contribution is tiny, and so is what those bits would have carried */
      rq->shift[c]--;
      rq->mult[c] = (int32_t)ares_round_half_even(rq->mult[c] / 2.0);
    }
    if (!(total < ldexp(1.0, 62)))
      return ares_fail(n, "unsupported: channel %lld does not fit the 64-bit requantization (range proof failed)", (long long)c);
    rq->add[c] = (int64_t)add;
    any_add |= rq->add[c] != 0;
  }
  if (!any_add) rq->add = NULL; /* an exact integer bias needs no remainder */
  return 0;
}

static const float *internal_floats(ares_node *n, const char *name) {
  const ares_attr *a = ares_attr_find(n, name);
  return a && a->type == ARES_ATTR_FLOATS ? a->floats : NULL;
}

static ares_node *new_int_node(ares_graph *g, ares_op op, ares_node *src, int nin, const sink_info *s) {
  ares_node *in = ares_node_new(g, op, src->name, nin, 1);
  in->out[0] = s->out_id;
  return in;
}

static int lower_conv(ares_graph *g, ares_node *n) {
  ares_tensor *x = int_input(g, n, 0), *w;
  if (!x || check_weight(g, n, 1, &w) < 0) return -1;
  if (w->q.nscale > 1 && w->q.axis != 0) return ares_fail(n, "unsupported: weight quantized along axis %d", w->q.axis);
  sink_info s;
  if (find_sink(g, n, 1, 0, &s) < 0) return -1;
  ares_spatial sp;
  if (ares_spatial_read(n, x, w, &sp) < 0) return -1;
  ares_tensor *y = g->tensors[n->out[0]];
  int64_t cout = w->dims[0];
  const float *bn_a = internal_floats(n, "ares_bn_scale"), *bn_b = internal_floats(n, "ares_bn_bias");
  double *acc_scale = calloc((size_t)cout, sizeof(double)), *bias = calloc((size_t)cout, sizeof(double));
  if (!acc_scale || !bias) exit(2);
  int rc = read_bias(g, n, n->nin > 2 ? n->in[2] : -1, cout, bias);
  for (int64_t c = 0; c < cout && rc == 0; c++) {
    acc_scale[c] = (double)x->q.scale[0] * w->q.scale[w->q.nscale > 1 ? c : 0];
    if (bn_a) {
      acc_scale[c] *= bn_a[c];
      bias[c] = bn_b[c];
    }
    acc_scale[c] *= s.prescale;
    bias[c] *= s.prescale;
  }
  ares_node *in = new_int_node(g, ARES_OP_QCONV, n, 2, &s);
  in->in[0] = x->id;
  in->in[1] = w->id;
  ares_conv_params *p = &in->p.conv;
  if (rc == 0) rc = make_requant(g, n, x, w, cout, acc_scale, bias, &s, &p->bias, &p->rq);
  free(acc_scale);
  free(bias);
  if (rc < 0) return -1;
  in->acc_bound = n->acc_bound;
  ares_spatial_window(&sp, &p->win);
  p->group = (int)ares_attr_int(n, "group", 1);
  p->x_zp = x->q.zp[0];
  in->macs = ares_tensor_numel(y) * w->dims[1] * p->kh * p->kw;
  finish(n, &s);
  return 0;
}

/* A [N, K] copy of a [K, N] weight (MatMul, Gemm transB = 0), channel axis moved to 0. */
static ares_tensor *transpose_weight(ares_graph *g, ares_tensor *w) {
  int64_t k = w->dims[0], n = w->dims[1];
  ares_tensor *t = ares_tensor_new_const(g, w->name, ARES_DT_I8, 2, (int64_t[]){n, k});
  for (int64_t i = 0; i < k; i++)
    for (int64_t j = 0; j < n; j++) ((int8_t *)t->data)[j * k + i] = ((int8_t *)w->data)[i * n + j];
  t->q = w->q;
  t->q.axis = 0;
  return t;
}

static int lower_linear(ares_graph *g, ares_node *n) {
  ares_tensor *x = int_input(g, n, 0), *w;
  if (!x || check_weight(g, n, 1, &w) < 0) return -1;
  if (w->rank != 2) return ares_fail(n, "unsupported: weight of rank %d", w->rank);
  int trans = n->op == ARES_OP_GEMM && ares_attr_int(n, "transB", 0);
  if (n->op == ARES_OP_GEMM && (ares_attr_float(n, "alpha", 1.0f) != 1.0f || ares_attr_float(n, "beta", 1.0f) != 1.0f))
    return ares_fail(n, "unsupported: Gemm with alpha or beta other than 1");
  int chan_axis = trans ? 0 : 1;
  if (w->q.nscale > 1 && w->q.axis != chan_axis)
    return ares_fail(n, "unsupported: weight quantized along its input dimension");
  if (!trans) w = transpose_weight(g, w);
  sink_info s;
  if (find_sink(g, n, 1, n->op == ARES_OP_MATMUL, &s) < 0) return -1;
  int bias_id = n->op == ARES_OP_GEMM && n->nin > 2 ? n->in[2] : s.bias_id;
  int64_t cout = w->dims[0], k = w->dims[1];
  double *acc_scale = calloc((size_t)cout, sizeof(double)), *bias = calloc((size_t)cout, sizeof(double));
  if (!acc_scale || !bias) exit(2);
  int rc = read_bias(g, n, bias_id, cout, bias);
  for (int64_t c = 0; c < cout; c++) {
    acc_scale[c] = (double)x->q.scale[0] * w->q.scale[w->q.nscale > 1 ? c : 0] * s.prescale;
    bias[c] *= s.prescale;
  }
  ares_node *in = new_int_node(g, ARES_OP_QLINEAR, n, 2, &s);
  in->in[0] = x->id;
  in->in[1] = w->id;
  if (rc == 0) rc = make_requant(g, n, x, w, cout, acc_scale, bias, &s, &in->p.linear.bias, &in->p.linear.rq);
  free(acc_scale);
  free(bias);
  if (rc < 0) return -1;
  in->acc_bound = n->acc_bound;
  in->p.linear.x_zp = x->q.zp[0];
  in->macs = ares_tensor_numel(x) / k * cout * k;
  finish(n, &s);
  return 0;
}

/* Multipliers sharing one shift for a sum of rescaled terms (Add). */
static int shared_multipliers(ares_node *n, const double *r, int cnt, int32_t *mult, int *shift) {
  double mx = 0;
  for (int i = 0; i < cnt; i++) mx = fabs(r[i]) > mx ? fabs(r[i]) : mx;
  int e;
  frexp(mx, &e);
  int s = 30 - e; /* largest multiplier below 2^30 */
  if (s > 62) s = 62;
  if (s < 1) return ares_fail(n, "unsupported: rescale factor %g is too large", mx);
  for (int i = 0; i < cnt; i++) mult[i] = (int32_t)ares_round_half_even(ldexp(r[i], s));
  *shift = s;
  return 0;
}

/* The common part of Add and Mul: two quantized activations of one shape into one
 * quantizer, as a two-input elementwise node `op` with the input zero points set. */
static ares_node *lower_binary(ares_graph *g, ares_node *n, ares_op op, const char *what, sink_info *s,
                               ares_tensor **pa, ares_tensor **pb) {
  ares_tensor *a = int_input(g, n, 0), *b = a ? int_input(g, n, 1) : NULL;
  if (!a || !b) return NULL;
  if (a->rank != b->rank || memcmp(a->dims, b->dims, sizeof(int64_t) * (size_t)a->rank)) {
    ares_fail(n, "unsupported: %s with broadcasting (both operands must have one shape)", what);
    return NULL;
  }
  if (find_sink(g, n, 0, 0, s) < 0) return NULL;
  if (s->prescale != 1.0) {
    ares_fail(n, "internal: a prescaled quantizer after an %s", what);
    return NULL;
  }
  ares_node *in = new_int_node(g, op, n, 2, s);
  in->in[0] = a->id;
  in->in[1] = b->id;
  in->p.elt.n = 2;
  in->p.elt.zp_in[0] = a->q.zp[0];
  in->p.elt.zp_in[1] = b->q.zp[0];
  *pa = a;
  *pb = b;
  return in;
}

static int lower_add(ares_graph *g, ares_node *n) {
  sink_info s;
  ares_tensor *a, *b;
  ares_node *in = lower_binary(g, n, ARES_OP_QADD, "Add", &s, &a, &b);
  if (!in) return -1;
  ares_eltwise_params *e = &in->p.elt;
  double r[2] = {(double)a->q.scale[0] / s.t->q.scale[0], (double)b->q.scale[0] / s.t->q.scale[0]};
  if (shared_multipliers(n, r, 2, e->mult, &e->shift) < 0) return -1;
  out_range(&s, &e->zp, &e->qmin, &e->qmax);
  finish(n, &s);
  return 0;
}

/* Mul of two quantized activations (a gate, SwiGLU): the product of the two integers,
 * rescaled by s_a * s_b / s_y. A Mul by a scalar constant or of a tensor by itself is a
 * table (lower-lut) and never gets here. */
static int lower_mul(ares_graph *g, ares_node *n) {
  for (int k = 0; k < 2 && k < n->nin; k++)
    if (n->in[k] >= 0 && ares_tensor_is_const(g, n->in[k]))
      return ares_fail(n, "unsupported: Mul by a constant tensor whose elements differ (only a scalar, folded into a "
                          "table, or a product of two quantized activations)");
  sink_info s;
  ares_tensor *a, *b;
  ares_node *in = lower_binary(g, n, ARES_OP_QMUL, "Mul", &s, &a, &b);
  if (!in) return -1;
  if (a->q.nscale != 1 || b->q.nscale != 1) return ares_fail(n, "unsupported: Mul of per-channel quantized tensors");
  ares_eltwise_params *e = &in->p.elt;
  int8_t shift;
  double r = (double)a->q.scale[0] * b->q.scale[0] / s.t->q.scale[0];
  if (ares_quant_multiplier(r, &e->mult[0], &shift) < 0)
    return ares_fail(n, "unsupported: rescale factor %g is too large (is the output quantizer calibrated?)", r);
  e->shift = shift;
  /* |(a - za) * (b - zb)| <= 2^16: the int64 product with a 31-bit multiplier cannot overflow */
  int64_t ma = llabs((int64_t)a->q.qmin - e->zp_in[0]), mb = llabs((int64_t)b->q.qmin - e->zp_in[1]);
  if (llabs((int64_t)a->q.qmax - e->zp_in[0]) > ma) ma = llabs((int64_t)a->q.qmax - e->zp_in[0]);
  if (llabs((int64_t)b->q.qmax - e->zp_in[1]) > mb) mb = llabs((int64_t)b->q.qmax - e->zp_in[1]);
  in->acc_bound = ma * mb;
  out_range(&s, &e->zp, &e->qmin, &e->qmax);
  finish(n, &s);
  return 0;
}

static int lower_avgpool(ares_graph *g, ares_node *n) {
  ares_tensor *x = int_input(g, n, 0);
  if (!x) return -1;
  sink_info s;
  if (find_sink(g, n, 0, 0, &s) < 0) return -1;
  ares_node *in = new_int_node(g, ARES_OP_QAVGPOOL, n, 1, &s);
  in->in[0] = x->id;
  ares_pool_params *p = &in->p.pool;
  if (x->rank != 3 && x->rank != 4) return ares_fail(n, "unsupported: input of rank %d", x->rank);
  if (n->op == ARES_OP_GLOBALAVGPOOL) {
    p->kh = x->rank == 4 ? (int)x->dims[2] : 1;
    p->kw = (int)x->dims[x->rank - 1];
    p->sh = p->sw = p->dh = p->dw = 1;
  } else {
    ares_spatial sp;
    if (ares_spatial_read(n, x, NULL, &sp) < 0) return -1;
    ares_spatial_window(&sp, &p->win);
    p->count_include_pad = (int)ares_attr_int(n, "count_include_pad", 0);
  }
  if ((int64_t)p->kh * p->kw > 65536) return ares_fail(n, "unsupported: pooling window of %d elements", p->kh * p->kw);
  const float *trunc_scale = internal_floats(s.kill[s.nkill - 1], "ares_trunc_scale");
  if (trunc_scale && fabs((double)trunc_scale[0] * p->kh * p->kw / x->q.scale[0] - 1) > 1e-5)
    return ares_fail(n, "unsupported: the Trunc after this pool does not divide by the window size");
  if (trunc_scale && !p->count_include_pad && (p->pad_t || p->pad_l || p->pad_b || p->pad_r))
    return ares_fail(n, "unsupported: Trunc after a padded pool with count_include_pad=0 (border windows are smaller)");
  p->x_zp = x->q.zp[0];
  p->ncount = p->kh * p->kw;
  in->acc_bound = (int64_t)p->ncount * (x->q.qmax - (int64_t)x->q.qmin + 1); /* window sum of |x - zp| */
  ares_requant *rq = &p->rq;
  rq->n = p->ncount;
  rq->mult = ares_alloc(g, sizeof(int32_t) * (size_t)rq->n);
  rq->shift = ares_alloc(g, sizeof(int8_t) * (size_t)rq->n);
  out_range(&s, &rq->zp, &rq->qmin, &rq->qmax);
  for (int c = 1; c <= rq->n; c++) {
    if (trunc_scale) {
      /* Trunc divides the window sum by exactly 2^t: no rounding in the multiplier */
      int t = (int)lround(log2((double)s.t->q.scale[0] / trunc_scale[0]));
      if (t < 0 || t > 32) return ares_fail(n, "unsupported: Trunc by 2^%d", t);
      rq->mult[c - 1] = 1 << 30;
      rq->shift[c - 1] = (int8_t)(30 + t);
    } else if (ares_quant_multiplier((double)x->q.scale[0] / ((double)c * s.t->q.scale[0]), &rq->mult[c - 1],
                                     &rq->shift[c - 1]) < 0) {
      return ares_fail(n, "unsupported: requantization factor too large");
    }
  }
  in->macs = ares_tensor_numel(g->tensors[s.out_id]) * p->kh * p->kw;
  finish(n, &s);
  return 0;
}

/* An int8 tensor of the given shape and quantization, for the views of lower_reducemean. */
static ares_tensor *int8_view(ares_graph *g, const char *name, const int64_t *dims, int rank, const ares_quant *q) {
  ares_tensor *t = ares_tensor_new_shaped(g, name, ARES_DT_I8, rank, dims);
  t->q = *q;
  return t;
}

/* ReduceMean over contiguous axes of a quantized tensor (outside a norm chain: the mean over
 * tokens or time of a classifier head). The tensor viewed as [1, outer, k, inner] is an
 * average pool with a k x 1 window: the same int32 window sum and per-count requantization
 * as qavgpool (SEMANTICS), between two reshapes (byte copies). */
static int lower_reducemean(ares_graph *g, ares_node *n) {
  ares_tensor *x = int_input(g, n, 0);
  if (!x) return -1;
  if (x->q.nscale != 1) return ares_fail(n, "unsupported: mean of a per-channel quantized tensor");
  int64_t axes[ARES_MAX_DIMS];
  int na = ares_axes_read(g, n, axes);
  if (na < 0) return -1;
  char mark[ARES_MAX_DIMS] = {0};
  for (int i = 0; i < na; i++) mark[axes[i] < 0 ? axes[i] + x->rank : axes[i]] = 1; /* checked by infer-shapes */
  if (na == 0) {
    if (ares_attr_int(n, "noop_with_empty_axes", 0)) return ares_fail(n, "unsupported: ReduceMean with no axes (an identity)");
    for (int i = 0; i < x->rank; i++) mark[i] = 1;
  }
  int first = -1, last = -1;
  for (int i = 0; i < x->rank; i++)
    if (mark[i]) {
      if (first < 0) first = i;
      else if (last != i - 1) return ares_fail(n, "unsupported: ReduceMean over axes that are not adjacent");
      last = i;
    }
  int64_t outer = 1, k = 1, inner = 1;
  for (int i = 0; i < x->rank; i++) *(i < first ? &outer : i <= last ? &k : &inner) *= x->dims[i];
  if (k > 65536) return ares_fail(n, "unsupported: mean over %lld elements (at most 65536)", (long long)k);
  if (outer > INT32_MAX || inner > INT32_MAX) return ares_fail(n, "unsupported: tensor too large");
  sink_info s;
  if (find_sink(g, n, 0, 0, &s) < 0) return -1;
  ares_node *pool = new_int_node(g, ARES_OP_QAVGPOOL, n, 1, &s);
  ares_pool_params *p = &pool->p.pool;
  p->kh = (int)k;
  p->kw = p->sh = p->sw = p->dh = p->dw = 1;
  p->x_zp = x->q.zp[0];
  p->ncount = (int)k;
  ares_requant *rq = &p->rq;
  rq->n = p->ncount;
  rq->mult = ares_alloc(g, sizeof(int32_t) * (size_t)rq->n);
  rq->shift = ares_alloc(g, sizeof(int8_t) * (size_t)rq->n);
  out_range(&s, &rq->zp, &rq->qmin, &rq->qmax);
  for (int c = 1; c <= rq->n; c++)
    if (ares_quant_multiplier((double)x->q.scale[0] / ((double)c * s.t->q.scale[0]), &rq->mult[c - 1], &rq->shift[c - 1]) < 0)
      return ares_fail(n, "unsupported: requantization factor too large (is the output quantizer calibrated?)");
  pool->acc_bound = k * (x->q.qmax - (int64_t)x->q.qmin + 1);
  pool->macs = outer * k * inner;
  /* x -> [1, outer, k, inner] -> pool -> [1, outer, 1, inner] -> the Q's tensor */
  ares_tensor *xv = int8_view(g, x->name, (int64_t[]){1, outer, k, inner}, 4, &x->q);
  ares_tensor *yv = int8_view(g, s.t->name, (int64_t[]){1, outer, 1, inner}, 4, &s.t->q);
  ares_node *r1 = ares_node_new(g, ARES_OP_QRESHAPE, n->name, 1, 1), *r2 = ares_node_new(g, ARES_OP_QRESHAPE, n->name, 1, 1);
  r1->in[0] = x->id;
  r1->out[0] = xv->id;
  pool->in[0] = xv->id;
  pool->out[0] = yv->id;
  r2->in[0] = yv->id;
  r2->out[0] = s.out_id;
  finish(n, &s);
  return 0;
}

int ares_lower_concat(ares_graph *g, ares_node *n) {
  ares_tensor *x0 = int_input(g, n, 0);
  if (!x0) return -1;
  int same = 1;
  for (int k = 1; k < n->nin; k++) {
    ares_tensor *xk = int_input(g, n, k);
    if (!xk) return -1;
    same &= ares_quant_equal(&xk->q, &x0->q);
  }
  int to_q = ares_sole_consumer(g, n->out[0], ARES_OP_QUANTIZELINEAR) != NULL;
  sink_info s;
  memset(&s, 0, sizeof s);
  if (to_q) {
    if (find_sink(g, n, 0, 0, &s) < 0) return -1;
  } else {
    /* The result is used as is. With one shared quantization it is quantized like its
     * inputs; otherwise (a plain torch.cat of differently scaled tensors) the inputs are
     * requantized to the largest scale, which every input's range fits in - exact for
     * that input, rounded for the others. */
    ares_tensor *big = x0;
    for (int k = 1; k < n->nin; k++) {
      ares_tensor *xk = int_input(g, n, k);
      if (xk->q.zp[0] != x0->q.zp[0] || xk->q.qmin != x0->q.qmin || xk->q.qmax != x0->q.qmax)
        return ares_fail(n, "unsupported: Concat of tensors with different zero points or ranges whose result is not "
                            "requantized (use one shared quantizer, or quantize the result)");
      if (xk->q.scale[0] > big->q.scale[0]) big = xk;
    }
    if (!same)
      ares_warn(n, "inputs have different scales and the result is not requantized: inputs are rescaled to the "
                   "largest scale (%g), which rounds the others; a shared quantizer (QuantCat) avoids this",
                big->q.scale[0]);
    ares_tensor *y = g->tensors[n->out[0]];
    ares_tensor *t = ares_tensor_new_shaped(g, y->name, ARES_DT_I8, y->rank, y->dims);
    t->q = big->q;
    s.t = t;
    s.out_id = t->id;
  }
  ares_node *in = new_int_node(g, ARES_OP_QCONCAT, n, n->nin, &s);
  ares_concat_params *p = &in->p.concat;
  int64_t axis = ares_attr_int(n, "axis", 0);
  if (axis < 0) axis += x0->rank;
  p->axis = (int)axis;
  p->n = n->nin;
  p->zp_in = ares_alloc(g, sizeof(int32_t) * (size_t)n->nin);
  p->mult = ares_alloc(g, sizeof(int32_t) * (size_t)n->nin);
  p->shift = ares_alloc(g, sizeof(int8_t) * (size_t)n->nin);
  out_range(&s, &p->zp, &p->qmin, &p->qmax);
  for (int k = 0; k < n->nin; k++) {
    ares_tensor *xk = int_input(g, n, k);
    in->in[k] = xk->id;
    p->zp_in[k] = xk->q.zp[0];
    if (xk->q.scale[0] == s.t->q.scale[0] && xk->q.zp[0] == p->zp && xk->q.qmin >= p->qmin && xk->q.qmax <= p->qmax) {
      p->mult[k] = 0; /* same quantization: a copy */
      p->shift[k] = 1;
    } else if (ares_quant_multiplier((double)xk->q.scale[0] / s.t->q.scale[0], &p->mult[k], &p->shift[k]) < 0) {
      return ares_fail(n, "unsupported: rescale factor too large");
    }
  }
  if (to_q) {
    finish(n, &s);
  } else {
    /* the float Concat becomes the DQ of the integer result */
    ares_node_become_dequant(g, n, s.t->id);
  }
  return 0;
}

/* Per-axis quantization at a graph edge (canon-quant allows it only there). */
static void qdq_axis(ares_qdq_params *p, const ares_tensor *t) {
  if (t->q.nscale < 2) return;
  p->n = t->q.nscale;
  p->scales = t->q.scale;
  p->zps = t->q.zp;
  p->inner = 1;
  for (int d = t->q.axis + 1; d < t->rank; d++) p->inner *= t->dims[d];
}

static int lower_quantize(ares_graph *g, ares_node *n) {
  ares_tensor *x = g->tensors[n->in[0]], *t = g->tensors[n->out[0]];
  if (ares_prescale(n) != 1.0) return ares_fail(n, "internal: a prescaled quantizer at a graph input");
  if (!ares_is_graph_input(g, x->id)) {
    ares_node *p = ares_producer(g, x->id);
    return ares_fail(n, "unsupported: quantizes the float result of %s '%s', which ARES cannot compute in integers",
                     p ? p->op_type : "?", p ? p->name : "?");
  }
  if (x->dtype != ARES_DT_F32) return ares_fail(n, "unsupported: input of type %s", ares_dtype_name(x->dtype));
  if (t->dtype != ARES_DT_I8) return ares_fail(n, "unsupported: quantization of a graph input to %s", ares_dtype_name(t->dtype));
  ares_node *in = ares_node_new(g, ARES_OP_QUANTIZE, n->name, 1, 1);
  in->in[0] = x->id;
  in->out[0] = t->id;
  in->p.qdq.scale = t->q.scale[0];
  in->p.qdq.zp = t->q.zp[0];
  in->p.qdq.qmin = t->q.qmin;
  in->p.qdq.qmax = t->q.qmax;
  qdq_axis(&in->p.qdq, t);
  n->dead = 1;
  return 0;
}

static int lower_dequantize(ares_graph *g, ares_node *n) {
  ares_tensor *t = g->tensors[n->in[0]];
  if (t->q.nscale < 1) return ares_fail(n, "unsupported: dequantizes a tensor that is not quantized");
  ares_node *in = ares_node_new(g, ARES_OP_DEQUANTIZE, n->name, 1, 1);
  in->in[0] = t->id;
  in->out[0] = n->out[0];
  in->p.qdq.scale = t->q.scale[0];
  in->p.qdq.zp = t->q.zp[0];
  qdq_axis(&in->p.qdq, t);
  n->dead = 1;
  return 0;
}

int ares_pass_lower_int(ares_graph *g) {
  int *order;
  int cnt = ares_graph_topo(g, &order);
  if (cnt < 0) return ares_fail(NULL, "the graph has a cycle");
  /* A node that cannot be lowered is reported and the others are still tried, so one run
   * names every such node (ares check lists them all); whatever the failed attempt created
   * is dropped. */
  int rc = 0;
  for (int i = 0; i < cnt; i++) {
    ares_node *n = g->nodes[order[i]];
    if (n->dead) continue;
    int n0 = g->nnodes, r = 0;
    switch (n->op) {
    case ARES_OP_CONV: r = lower_conv(g, n); break;
    case ARES_OP_GEMM:
    case ARES_OP_MATMUL: r = lower_linear(g, n); break;
    case ARES_OP_ADD: r = lower_add(g, n); break;
    case ARES_OP_MUL: r = lower_mul(g, n); break;
    case ARES_OP_REDUCEMEAN: r = lower_reducemean(g, n); break;
    case ARES_OP_AVGPOOL:
    case ARES_OP_GLOBALAVGPOOL: r = lower_avgpool(g, n); break;
    case ARES_OP_CONCAT: r = ares_lower_concat(g, n); break;
    case ARES_OP_SELECTIVESCAN: r = ares_lower_scan(g, n); break;
    default: break;
    }
    if (r < 0) {
      rc = -1;
      for (int k = n0; k < g->nnodes; k++) g->nodes[k]->dead = 1;
    }
    ares_graph_relink(g);
  }
  free(order);
  /* the remaining Q / DQ at the graph's edges */
  for (int i = 0; i < g->nnodes && rc == 0; i++) {
    ares_node *n = g->nodes[i];
    if (n->dead) continue;
    if (n->op == ARES_OP_QUANTIZELINEAR) rc = lower_quantize(g, n);
    else if (n->op == ARES_OP_DEQUANTIZELINEAR && ares_is_graph_output(g, n->out[0])) rc = lower_dequantize(g, n);
  }
  ares_graph_relink(g);
  return rc;
}
