/* sink-dequant: scale propagation. Brevitas exports quantization once and lets it flow
 * through Relu, MaxPool, Flatten, Reshape, Transpose, Pad ... without new Q/DQ nodes. This
 * pass moves every DequantizeLinear past such ops (they become integer ops on the
 * quantized tensor), moves QuantizeLinear above pure layout ops, and turns Q(DQ(t)) into
 * a rescale, and folds layout ops on quantized constants (weights). Afterwards every float
 * compute op reads DQ outputs or quantized constants directly. */
#include <math.h>
#include <string.h>

#include "ir/diag.h"
#include "onnx_attrs.h"
#include "passes.h"

static ares_node *dq_of(ares_graph *g, int tid) {
  ares_node *p = ares_producer(g, tid);
  return p && p->op == ARES_OP_DEQUANTIZELINEAR ? p : NULL;
}

static int is_layout(ares_op op) {
  return op == ARES_OP_FLATTEN || op == ARES_OP_RESHAPE || op == ARES_OP_SQUEEZE || op == ARES_OP_UNSQUEEZE ||
         op == ARES_OP_TRANSPOSE || op == ARES_OP_SLICE || op == ARES_OP_GATHER;
}

/* The int op of a pure layout op. */
static ares_op layout_int_op(ares_op op) {
  switch (op) {
  case ARES_OP_TRANSPOSE: return ARES_OP_QTRANSPOSE;
  case ARES_OP_SLICE: return ARES_OP_QSLICE;
  case ARES_OP_GATHER: return ARES_OP_QGATHER;
  default: return ARES_OP_QRESHAPE;
  }
}

/* New int8 tensor shaped like `shape`, quantized like `q`. */
static ares_tensor *new_int_tensor(ares_graph *g, const ares_tensor *shape, const ares_tensor *q, const char *name) {
  ares_tensor *t = ares_tensor_new_shaped(g, name, ARES_DT_I8, shape->rank, shape->dims);
  t->q = q->q;
  return t;
}

/* Sets an integer op's node params for layout/pool ops copied from the float node n. */
static int int_params(ares_graph *g, ares_node *n, ares_node *in, const ares_tensor *x, const ares_tensor *y) {
  switch (n->op) {
  case ARES_OP_TRANSPOSE: {
    int64_t perm[ARES_MAX_DIMS];
    int np = ares_attr_ints(n, "perm", perm, ARES_MAX_DIMS);
    for (int i = 0; i < x->rank; i++) in->p.transpose.perm[i] = (int)(np < 0 ? x->rank - 1 - i : perm[i]);
    return 0;
  }
  case ARES_OP_PAD: {
    int64_t pads[2 * ARES_MAX_DIMS];
    int np = ares_attr_ints(n, "pads", pads, 2 * ARES_MAX_DIMS);
    if (np < 0)
      for (int i = 0; i < 2 * x->rank; i++) pads[i] = ares_tensor_get_i(g->tensors[n->in[1]], i);
    memcpy(in->p.pad.pads, pads, sizeof(int64_t) * 2 * (size_t)x->rank);
    double v = 0;
    if (n->nin > 2 && n->in[2] >= 0) {
      if (!ares_tensor_is_const(g, n->in[2])) return ares_fail(n, "unsupported: pad value is not a constant");
      if (!ares_tensor_is_scalar_const(g, n->in[2])) return ares_fail(n, "pad value is not a scalar");
      v = ares_tensor_get_f(g->tensors[n->in[2]], 0);
    }
    double qv = v / x->q.scale[0] + x->q.zp[0];
    if (qv != floor(qv) || qv < x->q.qmin || qv > x->q.qmax)
      return ares_fail(n, "unsupported: pad value %g is not representable in the input's quantization", v);
    in->p.pad.value = (int32_t)qv;
    return 0;
  }
  case ARES_OP_SLICE: {
    int64_t dims[ARES_MAX_DIMS];
    return ares_slice_read(g, n, x, in->p.slice.start, in->p.slice.step, dims);
  }
  case ARES_OP_GATHER: {
    int64_t cnt = ares_gather_read(g, n, x, &in->p.gather.axis, &in->p.gather.idx);
    in->p.gather.nidx = cnt;
    return cnt < 0 ? -1 : 0;
  }
  case ARES_OP_MAXPOOL: {
    ares_spatial sp;
    if (ares_spatial_read(n, x, NULL, &sp) < 0) return -1;
    ares_pool_params *p = &in->p.pool;
    ares_spatial_window(&sp, &p->win);
    p->x_zp = x->q.zp[0];
    return 0;
  }
  default:
    return 0;
  }
  (void)y;
}

/* Narrows q's integer range to a float Clip's bounds, which must lie on q's grid (up to
 * float32 rounding) or outside its range: otherwise the clipped values would not be
 * representable. */
static int clip_range(ares_graph *g, ares_node *n, ares_quant *q) {
  for (int k = 1; k < 3; k++) {
    double b;
    if (k < n->nin && n->in[k] >= 0) {
      if (!ares_tensor_is_const(g, n->in[k])) return ares_fail(n, "unsupported: non-constant Clip bound");
      if (!ares_tensor_is_scalar_const(g, n->in[k])) return ares_fail(n, "Clip bound is not a scalar");
      b = ares_tensor_get_f(g->tensors[n->in[k]], 0);
    } else if (ares_attr_find(n, k == 1 ? "min" : "max")) {
      b = ares_attr_float(n, k == 1 ? "min" : "max", 0); /* opset < 11 */
    } else {
      continue;
    }
    double v = b / q->scale[0] + q->zp[0];
    if (v <= q->qmin - 1 || v >= q->qmax + 1) continue; /* outside the range: no effect */
    /* on the grid up to float32 rounding of the bound and the scale */
    if (fabs(v - ares_round_half_even(v)) > 1e-4)
      return ares_fail(n, "unsupported: Clip bound %g is not representable at scale %g (quantize after the Clip)", b,
                       q->scale[0]);
    v = ares_round_half_even(v);
    if (k == 1 && v > q->qmin) q->qmin = (int32_t)v;
    if (k == 2 && v < q->qmax) q->qmax = (int32_t)v;
  }
  return 0;
}

static int gather_const_indices(const ares_graph *g, const ares_node *n) {
  return n->nin > 1 && n->in[1] >= 0 && ares_tensor_is_const(g, n->in[1]);
}

/* A layout op on a quantized constant (a weight transposed before MatMul, say) becomes a
 * new quantized constant, its channel axis moved along. */
static int fold_const_layout(ares_graph *g, ares_node *n) {
  ares_tensor *x = g->tensors[n->in[0]], *y = g->tensors[n->out[0]];
  if (!x->data || x->q.nscale == 0) return 0;
  if (n->op == ARES_OP_GATHER && !gather_const_indices(g, n)) return 0; /* a lookup (embedding), not layout */
  ares_tensor *c = ares_tensor_new_const(g, y->name, x->dtype, y->rank, y->dims);
  size_t esz = ares_dtype_size(x->dtype);
  int64_t numel = ares_tensor_numel(x);
  c->q = x->q;
  if (n->op == ARES_OP_TRANSPOSE) {
    int perm[ARES_MAX_DIMS];
    int64_t p64[ARES_MAX_DIMS], idx[ARES_MAX_DIMS];
    int np = ares_attr_ints(n, "perm", p64, ARES_MAX_DIMS);
    for (int d = 0; d < x->rank; d++) perm[d] = (int)(np < 0 ? x->rank - 1 - d : p64[d]);
    for (int64_t i = 0; i < numel; i++) {
      int64_t o = 0;
      ares_unravel(x->dims, x->rank, i, idx);
      for (int d = 0; d < c->rank; d++) o = o * c->dims[d] + idx[perm[d]];
      memcpy((char *)c->data + o * (int64_t)esz, (char *)x->data + i * (int64_t)esz, esz);
    }
    for (int d = 0; d < c->rank; d++)
      if (perm[d] == x->q.axis) c->q.axis = d;
  } else if (n->op == ARES_OP_SLICE || n->op == ARES_OP_GATHER) {
    /* selected elements, through the same index maps as the integer ops */
    ares_node tmp = {0};
    if (int_params(g, n, &tmp, x, y) < 0) return -1;
    if (x->q.nscale > 1 && n->op == ARES_OP_GATHER && tmp.p.gather.axis == x->q.axis)
      return ares_fail(n, "unsupported: gathering along the channel axis of a per-channel quantized constant");
    if (x->q.nscale > 1 && n->op == ARES_OP_SLICE &&
        (tmp.p.slice.step[x->q.axis] != 1 || y->dims[x->q.axis] != x->dims[x->q.axis]))
      return ares_fail(n, "unsupported: slicing the channel axis of a per-channel quantized constant");
    int64_t oidx[ARES_MAX_DIMS], numel_y = ares_tensor_numel(y), xs[ARES_MAX_DIMS], st = 1;
    for (int d = x->rank - 1; d >= 0; d--) xs[d] = st, st *= x->dims[d];
    for (int64_t o = 0; o < numel_y; o++) {
      int64_t src = 0;
      ares_unravel(y->dims, y->rank, o, oidx);
      if (n->op == ARES_OP_SLICE) {
        for (int d = 0; d < x->rank; d++) src += (tmp.p.slice.start[d] + oidx[d] * tmp.p.slice.step[d]) * xs[d];
      } else {
        const ares_gather_params *gp = &tmp.p.gather;
        int ir = y->rank - x->rank + 1; /* rank of the indices */
        int64_t k = 0;
        for (int d = gp->axis; d < gp->axis + ir; d++) k = k * y->dims[d] + oidx[d];
        for (int d = 0; d < gp->axis; d++) src += oidx[d] * xs[d];
        src += gp->idx[k] * xs[gp->axis];
        for (int d = gp->axis + 1; d < x->rank; d++) src += oidx[d + ir - 1] * xs[d];
      }
      memcpy((char *)c->data + o * (int64_t)esz, (char *)x->data + src * (int64_t)esz, esz);
    }
    if (n->op == ARES_OP_GATHER && x->q.nscale > 1 && x->q.axis > tmp.p.gather.axis)
      c->q.axis = x->q.axis + (y->rank - x->rank);
  } else {
    if (x->q.nscale > 1) return ares_fail(n, "unsupported: reshaping a per-channel quantized constant");
    memcpy(c->data, x->data, (size_t)numel * esz);
  }
  n->dead = 1;
  ares_graph_replace_uses(g, y->id, c->id);
  return 1;
}

/* op(DQ(t)) -> DQ(op_int(t)) for ops that commute with dequantization. */
static int sink_through(ares_graph *g, ares_node *n) {
  ares_node *dq = dq_of(g, n->in[0]);
  if (!dq) return 0;
  if (n->op == ARES_OP_GATHER && !gather_const_indices(g, n)) return 0;
  ares_tensor *t = g->tensors[dq->in[0]], *y = g->tensors[n->out[0]];
  ares_op iop;
  switch (n->op) {
  case ARES_OP_RELU:
  case ARES_OP_CLIP: iop = ARES_OP_QREQUANT; break;
  case ARES_OP_MAXPOOL: iop = ARES_OP_QMAXPOOL; break;
  case ARES_OP_PAD: iop = ARES_OP_QPAD; break;
  default: iop = layout_int_op(n->op); break;
  }
  ares_tensor *ti = new_int_tensor(g, y, t, y->name);
  ares_node *in = ares_node_new(g, iop, n->name, 1, 1);
  in->in[0] = t->id;
  in->out[0] = ti->id;
  if (int_params(g, n, in, t, y) < 0) return -1;
  if (iop == ARES_OP_QREQUANT) {
    /* Relu / Clip on a quantized tensor: a clamp, scale unchanged */
    if (n->op == ARES_OP_RELU && ti->q.qmin < ti->q.zp[0]) ti->q.qmin = ti->q.zp[0];
    if (n->op == ARES_OP_CLIP && clip_range(g, n, &ti->q) < 0) return -1;
    ares_eltwise_params *e = &in->p.elt;
    e->n = 1;
    e->zp_in[0] = t->q.zp[0];
    e->mult[0] = 1 << 30;
    e->shift = 30;
    e->zp = ti->q.zp[0];
    e->qmin = ti->q.qmin;
    e->qmax = ti->q.qmax;
  }
  /* the float op becomes the DQ of the new integer tensor */
  ares_node_become_dequant(g, n, ti->id);
  ares_graph_relink(g);
  return 1;
}

/* Split(DQ(t)) -> one DQ(qslice(t)) per output. */
static int sink_split(ares_graph *g, ares_node *n) {
  ares_node *dq = dq_of(g, n->in[0]);
  if (!dq) return 0;
  ares_tensor *t = g->tensors[dq->in[0]];
  int axis;
  int64_t *sizes = ares_alloc(g, sizeof(int64_t) * (size_t)n->nout), off = 0;
  if (ares_split_read(g, n, t, &axis, sizes) < 0) return -1;
  for (int k = 0; k < n->nout; k++, off += sizes[k - 1]) {
    if (n->out[k] < 0) continue;
    ares_tensor *y = g->tensors[n->out[k]];
    ares_tensor *ti = new_int_tensor(g, y, t, y->name);
    ares_node *sl = ares_node_new(g, ARES_OP_QSLICE, n->name, 1, 1);
    sl->in[0] = t->id;
    sl->out[0] = ti->id;
    for (int d = 0; d < t->rank; d++) sl->p.slice.step[d] = 1;
    sl->p.slice.start[axis] = off;
    ares_node *d = ares_node_new(g, ARES_OP_DEQUANTIZELINEAR, n->name, 1, 1);
    d->in[0] = ti->id;
    d->out[0] = y->id;
  }
  n->dead = 1;
  ares_graph_relink(g);
  return 1;
}

/* The MatMul (with a constant quantized weight) and the optional constant bias Add whose
 * float result is tensor y; NULL when y is not such a linear layer's output. */
static ares_node *linear_of(ares_graph *g, int y, ares_node **add, int *bias) {
  ares_node *p = ares_producer(g, y);
  *add = NULL;
  *bias = -1;
  if (p && p->op == ARES_OP_ADD && p->nin == 2) {
    int k = ares_tensor_is_const(g, p->in[0]) ? 0 : ares_tensor_is_const(g, p->in[1]) ? 1 : -1;
    ares_node *m = k >= 0 ? ares_producer(g, p->in[1 - k]) : NULL;
    if (!m || m->op != ARES_OP_MATMUL || g->tensors[m->out[0]]->nconsumers != 1) return NULL;
    *add = p;
    *bias = p->in[k];
    p = m;
  }
  return p && p->op == ARES_OP_MATMUL && p->nin == 2 ? p : NULL;
}

/* The elements idx[0..cnt) of a constant along its last axis (rank 1 or 2; a per-channel
 * quantization along that axis is selected too). */
static ares_tensor *select_last(ares_graph *g, const ares_tensor *w, const int64_t *idx, int64_t cnt) {
  int64_t rows = w->rank == 2 ? w->dims[0] : 1, n = w->dims[w->rank - 1];
  size_t esz = ares_dtype_size(w->dtype);
  ares_tensor *c = ares_tensor_new_const(g, w->name, w->dtype, w->rank, w->rank == 2 ? (int64_t[]){rows, cnt} : &cnt);
  for (int64_t r = 0; r < rows; r++)
    for (int64_t j = 0; j < cnt; j++)
      memcpy((char *)c->data + (r * cnt + j) * (int64_t)esz, (char *)w->data + (r * n + idx[j]) * (int64_t)esz, esz);
  c->q = w->q;
  if (w->q.nscale > 1) {
    float *sc = ares_alloc(g, sizeof(float) * (size_t)cnt);
    int32_t *zp = ares_alloc(g, sizeof(int32_t) * (size_t)cnt);
    for (int64_t j = 0; j < cnt; j++) sc[j] = w->q.scale[idx[j]], zp[j] = w->q.zp[idx[j]];
    ares_quant_set(g, c, (int)cnt, w->q.axis, sc, zp, w->q.qmin, w->q.qmax);
  }
  return c;
}

static ares_tensor *new_float_tensor(ares_graph *g, const ares_tensor *like, int64_t last, const char *name) {
  ares_tensor *t = ares_tensor_new_shaped(g, name, ARES_DT_F32, like->rank, like->dims);
  t->dims[t->rank - 1] = last;
  return t;
}

/* Slice(MatMul(x, W) [+ b]) along the last axis only -> MatMul(x, W[:, sel]) [+ b[sel]]
 * (dry: only whether the Slice has that form):
 * a packed projection (Brevitas' QuantMultiheadAttention computes q, k and v with one
 * in_proj and slices its result) becomes one linear layer per slice, each with its own
 * output quantizer. Returns 1 when rewritten, 0 when the pattern does not apply (yet: the
 * weight may still be a Transpose waiting to be folded). */
static int split_linear(ares_graph *g, ares_node *n, int dry) {
  ares_node *add;
  int bias;
  ares_node *mm = linear_of(g, n->in[0], &add, &bias);
  if (!mm) return 0;
  ares_tensor *y = g->tensors[n->in[0]], *out = g->tensors[n->out[0]];
  int64_t start[ARES_MAX_DIMS], step[ARES_MAX_DIMS], dims[ARES_MAX_DIMS];
  if (y->rank < 1 || ares_slice_read(g, n, y, start, step, dims) < 0) return dry ? 0 : -1;
  int L = y->rank - 1;
  for (int d = 0; d < L; d++)
    if (start[d] != 0 || step[d] != 1 || dims[d] != y->dims[d]) return 0;
  if (dry) return 1;
  if (!ares_tensor_is_const(g, mm->in[1])) return 0;
  ares_tensor *w = g->tensors[mm->in[1]];
  if (w->rank != 2 || w->q.nscale == 0) return 0;
  int64_t cnt = dims[L], *idx = ares_alloc(g, sizeof(int64_t) * (size_t)(cnt ? cnt : 1));
  for (int64_t j = 0; j < cnt; j++) idx[j] = start[L] + j * step[L];
  ares_tensor *b = bias >= 0 ? g->tensors[bias] : NULL;
  if (b && (ares_tensor_numel(b) != w->dims[1] || b->dims[b->rank - 1] != w->dims[1] || b->rank > 2)) return 0;
  ares_node *m2 = ares_node_new(g, ARES_OP_MATMUL, n->name, 2, 1);
  m2->in[0] = mm->in[0];
  m2->in[1] = select_last(g, w, idx, cnt)->id;
  if (b) {
    ares_tensor *mid = new_float_tensor(g, out, cnt, out->name);
    m2->out[0] = mid->id;
    ares_node *a2 = ares_node_new(g, ARES_OP_ADD, n->name, 2, 1);
    int k = add->in[0] == bias ? 0 : 1;
    a2->in[k] = select_last(g, b, idx, cnt)->id;
    a2->in[1 - k] = mid->id;
    a2->out[0] = out->id;
  } else {
    m2->out[0] = out->id;
  }
  n->dead = 1;
  ares_graph_relink(g);
  /* the packed layer, once every slice has its own */
  if (add && g->tensors[add->out[0]]->nconsumers == 0 && !ares_is_graph_output(g, add->out[0])) add->dead = 1;
  ares_graph_relink(g);
  if (g->tensors[mm->out[0]]->nconsumers == 0 && !ares_is_graph_output(g, mm->out[0])) mm->dead = 1;
  ares_graph_relink(g);
  return 1;
}

/* Is the float tensor y, through layout ops, the output of a layer lower-int lowers with
 * its multipliers (MatMul / Gemm / Conv, a bias Add after a MatMul)? Only those honour a
 * quantizer's prescale. */
static int from_linear(ares_graph *g, int y) {
  for (int hops = 0; hops < 16; hops++) {
    ares_node *p = ares_producer(g, y), *add;
    int bias;
    if (!p) return 0;
    if (p->op == ARES_OP_MATMUL || p->op == ARES_OP_GEMM || p->op == ARES_OP_CONV || linear_of(g, y, &add, &bias)) return 1;
    if (!is_layout(p->op) || g->tensors[y]->nconsumers != 1) return 0;
    y = p->in[0];
  }
  return 0;
}

/* Q(Div(y, c)) or Q(Mul(y, c)) for a scalar constant c > 0 and y a linear layer's result
 * (through layout ops): Q(y) with the factor recorded on the quantizer ("ares_prescale" =
 * {mul, div}, float32 constants as in the model), which lower-int folds into the layer's
 * multipliers exactly, in double: the 1/sqrt(d) of attention before q's quantizer. */
static int hoist_scale(ares_graph *g, ares_node *q) {
  ares_node *d = ares_producer(g, q->in[0]);
  if (!d || (d->op != ARES_OP_DIV && d->op != ARES_OP_MUL) || d->nin != 2 || g->tensors[d->out[0]]->nconsumers != 1)
    return 0;
  int k = d->op == ARES_OP_MUL && ares_tensor_is_const(g, d->in[0]) ? 0 : 1; /* the constant */
  int y = d->in[1 - k];
  if (!ares_tensor_is_const(g, d->in[k]) || ares_tensor_is_const(g, y) || dq_of(g, y)) return 0;
  ares_tensor *c = g->tensors[d->in[k]];
  if (c->dtype != ARES_DT_F32 || ares_tensor_numel(c) != 1 || c->rank > g->tensors[y]->rank) return 0;
  float v = ((const float *)c->data)[0];
  if (!(v > 0) || !from_linear(g, y)) return 0;
  const ares_attr *a = ares_attr_find(q, "ares_prescale");
  float *pre = a ? a->floats : ares_attr_add_floats(g, q, "ares_prescale", 2)->floats;
  if (!a) pre[0] = pre[1] = 1.0f;
  int i = d->op == ARES_OP_MUL ? 0 : 1;
  pre[i] = pre[i] == 1.0f ? v : pre[i] * v;
  q->in[0] = y;
  d->dead = 1;
  ares_graph_relink(g);
  return 1;
}

/* Q(L(y)) -> L_int(Q(y)) for a pure layout op L: quantization is elementwise. */
static int hoist_quant(ares_graph *g, ares_node *q) {
  ares_node *l = ares_producer(g, q->in[0]);
  if (!l || !is_layout(l->op) || dq_of(g, l->in[0])) return 0;
  if (l->op == ARES_OP_GATHER && !gather_const_indices(g, l)) return 0;
  if (l->op == ARES_OP_SLICE && split_linear(g, l, 1)) return 0; /* split_linear's */
  ares_tensor *y = g->tensors[l->in[0]], *t = g->tensors[q->out[0]];
  if (y->dtype != ARES_DT_F32) return 0;
  ares_tensor *u = new_int_tensor(g, y, t, y->name);
  ares_node *in = ares_node_new(g, layout_int_op(l->op), l->name, 1, 1);
  in->in[0] = u->id;
  in->out[0] = t->id;
  if (int_params(g, l, in, u, t) < 0) return -1;
  q->in[0] = y->id;
  q->out[0] = u->id;
  ares_graph_relink(g);
  if (g->tensors[l->out[0]]->nconsumers == 0) l->dead = 1;
  return 1;
}

/* Q(DQ(t)): the same tensor, or a rescale. */
static int fold_requant(ares_graph *g, ares_node *q) {
  ares_node *dq = dq_of(g, q->in[0]);
  if (!dq) return 0;
  ares_tensor *t = g->tensors[dq->in[0]], *u = g->tensors[q->out[0]];
  if (ares_quant_equal(&t->q, &u->q) && !ares_is_graph_output(g, u->id)) {
    /* the same quantization (an op on integers in QOperator form, requantized to its own
     * parameters): the same tensor, no copy */
    q->dead = 1;
    ares_graph_replace_uses(g, u->id, t->id);
    ares_graph_relink(g);
    return 1;
  }
  q->op = ARES_OP_QREQUANT;
  q->op_type = ares_strdup(g, "qrequant");
  q->in[0] = t->id;
  ares_eltwise_params *e = &q->p.elt;
  e->n = 1;
  e->zp_in[0] = t->q.zp[0];
  int8_t sh;
  if (ares_quant_multiplier((double)t->q.scale[0] / u->q.scale[0], &e->mult[0], &sh) < 0)
    return ares_fail(q, "unsupported: rescale by more than 2^30");
  e->shift = sh;
  e->zp = u->q.zp[0];
  e->qmin = u->q.qmin;
  e->qmax = u->q.qmax;
  ares_graph_relink(g);
  return 1;
}

int ares_pass_sink_dequant(ares_graph *g) {
  for (int changed = 1; changed;) {
    changed = 0;
    for (int i = 0; i < g->nnodes; i++) {
      ares_node *n = g->nodes[i];
      if (n->dead) continue;
      int rc = 0;
      switch (n->op) {
      case ARES_OP_RELU:
      case ARES_OP_CLIP:
      case ARES_OP_MAXPOOL:
      case ARES_OP_PAD:
      case ARES_OP_FLATTEN:
      case ARES_OP_RESHAPE:
      case ARES_OP_SQUEEZE:
      case ARES_OP_UNSQUEEZE:
      case ARES_OP_TRANSPOSE:
      case ARES_OP_SLICE:
      case ARES_OP_GATHER:
        rc = n->op != ARES_OP_RELU && n->op != ARES_OP_CLIP && n->op != ARES_OP_MAXPOOL && n->op != ARES_OP_PAD
                 ? fold_const_layout(g, n)
                 : 0;
        if (rc == 0 && n->op == ARES_OP_SLICE) rc = split_linear(g, n, 0);
        if (rc == 0) rc = sink_through(g, n);
        break;
      case ARES_OP_SPLIT:
        rc = sink_split(g, n);
        break;
      case ARES_OP_CONCAT: {
        /* all inputs dequantized and the result used as a float: integer concat + DQ */
        int all_dq = 1;
        for (int k = 0; k < n->nin; k++) all_dq &= n->in[k] >= 0 && dq_of(g, n->in[k]) != NULL;
        ares_node *c[2];
        int to_q = ares_consumers(g, n->out[0], c, 2) == 1 && c[0]->op == ARES_OP_QUANTIZELINEAR;
        if (all_dq && !to_q && !ares_is_graph_output(g, n->out[0])) {
          rc = ares_lower_concat(g, n) < 0 ? -1 : 1;
          ares_graph_relink(g);
        }
        break;
      }
      case ARES_OP_QUANTIZELINEAR:
        rc = hoist_scale(g, n);
        if (rc == 0) rc = hoist_quant(g, n);
        if (rc == 0) rc = fold_requant(g, n);
        break;
      default:
        break;
      }
      if (rc < 0) return -1;
      changed |= rc;
    }
  }
  /* DQ nodes nobody reads any more */
  ares_graph_relink(g);
  for (int i = 0; i < g->nnodes; i++) {
    ares_node *n = g->nodes[i];
    if (!n->dead && n->op == ARES_OP_DEQUANTIZELINEAR && g->tensors[n->out[0]]->nconsumers == 0) n->dead = 1;
  }
  ares_graph_relink(g);
  return 0;
}
