/* lower-rope: a rotary position encoding between quantizers becomes one qrope.
 *
 * PyTorch writes RoPE as x * cos + rotate(x) * sin with constant cos/sin tables; the export
 * is a float island: DQ(t) feeds Mul(., cos) and, through Slice / Neg / Concat (plus
 * Unsqueeze / Reshape for the interleaved layout), Mul(., sin); an Add sums the two and a
 * QuantizeLinear ends it. sink-dequant has by then moved the DQ below whatever it could
 * (Slice -> qslice, Unsqueeze -> qreshape), so both float and integer data movement occur. Rather than match one spelling of rotate(), the pass evaluates the
 * data movement symbolically: every element of a Mul operand is traced back to +-(element
 * of t). One operand must be t itself, the other a rotation pairing each element of a row
 * (the last dim) with one partner in the same row - half-split (i +- d/2) or interleaved
 * (i ^ 1) - with a sign per i that folds into the sin multipliers (SEMANTICS.md, qrope). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/diag.h"
#include "onnx_attrs.h"
#include "passes.h"

#define MAX_ISLAND 64

typedef struct {
  ares_graph *g;
  ares_tensor *base;               /* the integer tensor every traced element comes from */
  ares_node *nodes[MAX_ISLAND];    /* float nodes of the island */
  int nn;
} island;

static void add_node(island *is, ares_node *n) {
  for (int i = 0; i < is->nn; i++)
    if (is->nodes[i] == n) return;
  if (is->nn < MAX_ISLAND) is->nodes[is->nn++] = n;
}

static int64_t *new_map(int64_t count) {
  int64_t *m = malloc(sizeof(int64_t) * (size_t)(count ? count : 1));
  if (!m) exit(2);
  return m;
}

/* Map of a transposed tensor: output dim i is input dim perm[i]. */
static int64_t *permute(const int64_t *m, const ares_tensor *x, const int64_t *perm) {
  int64_t count = ares_tensor_numel(x), idx[ARES_MAX_DIMS], odims[ARES_MAX_DIMS], oidx[ARES_MAX_DIMS];
  for (int d = 0; d < x->rank; d++) odims[d] = x->dims[perm[d]];
  int64_t *o = new_map(count);
  for (int64_t i = 0; i < count; i++) {
    ares_unravel(x->dims, x->rank, i, idx);
    for (int d = 0; d < x->rank; d++) oidx[d] = idx[perm[d]];
    o[ares_ravel(odims, x->rank, oidx)] = m[i];
  }
  return o;
}

/* Map of a strided slice of x (start, step per dim) with output dims `dims`. */
static int64_t *slice_map(const int64_t *m, const ares_tensor *x, const int64_t *start, const int64_t *step,
                          const int64_t *dims) {
  int64_t count = 1, idx[ARES_MAX_DIMS];
  for (int d = 0; d < x->rank; d++) count *= dims[d];
  int64_t *o = new_map(count);
  for (int64_t i = 0; i < count; i++) {
    ares_unravel(dims, x->rank, i, idx);
    for (int d = 0; d < x->rank; d++) idx[d] = start[d] + idx[d] * step[d];
    o[i] = m[ares_ravel(x->dims, x->rank, idx)];
  }
  return o;
}

/* The anchor (is->base) behind u, through integer data movement (reshape, transpose,
 * slice) that sink-dequant put between them. */
static int64_t *trace_int(island *is, ares_tensor *u) {
  if (u == is->base) {
    int64_t count = ares_tensor_numel(u);
    int64_t *m = new_map(count);
    for (int64_t i = 0; i < count; i++) m[i] = i + 1;
    return m;
  }
  ares_node *p = ares_producer(is->g, u->id);
  if (!p || (p->op != ARES_OP_QRESHAPE && p->op != ARES_OP_QTRANSPOSE && p->op != ARES_OP_QSLICE)) return NULL;
  ares_tensor *x = is->g->tensors[p->in[0]];
  int64_t *m = trace_int(is, x), *o;
  if (!m || p->op == ARES_OP_QRESHAPE) return m;
  if (p->op == ARES_OP_QSLICE) {
    o = slice_map(m, x, p->p.slice.start, p->p.slice.step, u->dims);
  } else {
    int64_t perm[ARES_MAX_DIMS];
    for (int d = 0; d < x->rank; d++) perm[d] = p->p.transpose.perm[d];
    o = permute(m, x, perm);
  }
  free(m);
  return o;
}

/* Each element of float tensor tid as +-(1 + index into the anchor), or NULL when tid is
 * not pure data movement of the anchor. */
static int64_t *trace(island *is, int tid) {
  ares_graph *g = is->g;
  ares_node *p = ares_producer(g, tid);
  if (!p || p->nin < 1 || p->in[0] < 0) return NULL;
  ares_tensor *x = g->tensors[p->in[0]], *y = g->tensors[tid];
  if (p->op == ARES_OP_DEQUANTIZELINEAR) return trace_int(is, x);
  int64_t count = ares_tensor_numel(y);
  int64_t *m = NULL;
  switch (p->op) {
  case ARES_OP_NEG:
  case ARES_OP_UNSQUEEZE:
  case ARES_OP_SQUEEZE:
  case ARES_OP_RESHAPE:
  case ARES_OP_FLATTEN:
    m = trace(is, x->id);
    if (m && p->op == ARES_OP_NEG)
      for (int64_t i = 0; i < count; i++) m[i] = -m[i];
    break;
  case ARES_OP_TRANSPOSE: {
    int64_t perm[ARES_MAX_DIMS];
    int np = ares_attr_ints(p, "perm", perm, ARES_MAX_DIMS);
    if (np < 0)
      for (int d = 0; d < x->rank; d++) perm[d] = x->rank - 1 - d;
    else if (np != x->rank) return NULL;
    int64_t *mx = trace(is, x->id);
    if (mx) m = permute(mx, x, perm);
    free(mx);
    break;
  }
  case ARES_OP_SLICE: {
    int64_t start[ARES_MAX_DIMS], step[ARES_MAX_DIMS], dims[ARES_MAX_DIMS];
    if (ares_slice_read(g, p, x, start, step, dims) < 0) return NULL;
    int64_t *mx = trace(is, x->id);
    if (!mx) return NULL;
    m = slice_map(mx, x, start, step, dims);
    free(mx);
    break;
  }
  case ARES_OP_CONCAT: {
    int64_t axis = ares_attr_int(p, "axis", 0);
    if (axis < 0) axis += y->rank;
    if (axis < 0 || axis >= y->rank) return NULL;
    int64_t outer = 1, at = 0;
    for (int d = 0; d < axis; d++) outer *= y->dims[d];
    int64_t row = count / (outer ? outer : 1);
    m = new_map(count);
    for (int k = 0; k < p->nin; k++) {
      int64_t *mk = p->in[k] >= 0 ? trace(is, p->in[k]) : NULL;
      if (!mk) {
        free(m);
        return NULL;
      }
      int64_t chunk = ares_tensor_numel(g->tensors[p->in[k]]) / (outer ? outer : 1);
      for (int64_t r = 0; r < outer; r++) memcpy(m + r * row + at, mk + r * chunk, sizeof(int64_t) * (size_t)chunk);
      at += chunk;
      free(mk);
    }
    break;
  }
  default: return NULL;
  }
  if (m) add_node(is, p);
  return m;
}

/* Real value of a constant table (float, or a quantized integer constant). */
static double table_value(const ares_tensor *c, int64_t i) {
  if (c->q.nscale == 1) return (double)(ares_tensor_get_i(c, i) - c->q.zp[0]) * c->q.scale[0];
  return ares_tensor_get_f(c, i);
}

/* Element of table c (broadcast, right-aligned) at element e of a tensor of shape y. */
static double table_at(const ares_tensor *c, const ares_tensor *y, int64_t e) {
  int64_t idx[ARES_MAX_DIMS], ci = 0;
  ares_unravel(y->dims, y->rank, e, idx);
  for (int d = 0; d < c->rank; d++) {
    int64_t yd = idx[y->rank - c->rank + d];
    ci = ci * c->dims[d] + (c->dims[d] == 1 ? 0 : yd);
  }
  return table_value(c, ci);
}

/* Mul(a, table) with a constant table that does not enlarge a: the operand's map and the
 * table. */
typedef struct {
  ares_node *mul;
  ares_tensor *table;
  int64_t *map;
} term;

/* The operand of Mul(operand, constant) producing tid: its input index, or -1. */
static int mul_operand(ares_graph *g, int tid) {
  ares_node *mul = ares_producer(g, tid);
  if (!mul || mul->op != ARES_OP_MUL || mul->nin != 2 || mul->in[0] < 0 || mul->in[1] < 0) return -1;
  return ares_tensor_is_const(g, mul->in[1]) ? 0 : ares_tensor_is_const(g, mul->in[0]) ? 1 : -1;
}

static int read_term(island *is, int tid, term *t) {
  ares_graph *g = is->g;
  ares_node *mul = ares_producer(g, tid);
  int k = mul_operand(g, tid);
  if (k < 0) return 0;
  k = 1 - k; /* the constant's index */
  ares_tensor *a = g->tensors[mul->in[1 - k]], *c = g->tensors[mul->in[k]], *y = g->tensors[tid];
  if (ares_tensor_is_const(g, a->id) || a->rank != y->rank || memcmp(a->dims, y->dims, sizeof(int64_t) * (size_t)y->rank))
    return 0;
  if (c->rank > y->rank || (c->q.nscale > 1) || (c->dtype != ARES_DT_F32 && c->q.nscale != 1)) return 0;
  t->map = trace(is, a->id);
  if (!t->map) return 0;
  t->mul = mul;
  t->table = c;
  return 1;
}

static int is_identity(const int64_t *m, int64_t count) {
  for (int64_t i = 0; i < count; i++)
    if (m[i] != i + 1) return 0;
  return 1;
}

/* Marks the island's nodes dead once nothing outside it reads them. */
static void drop_island(island *is) {
  for (int changed = 1; changed;) {
    changed = 0;
    for (int i = 0; i < is->nn; i++) {
      ares_node *n = is->nodes[i];
      if (n->dead || ares_is_graph_output(is->g, n->out[0])) continue;
      ares_node *c[1];
      if (ares_consumers(is->g, n->out[0], c, 1) == 0) {
        n->dead = 1;
        changed = 1;
      }
    }
  }
}

/* The axis (other than the last) along which the table varies over y: -1 for none, -2 for
 * more than one. */
static int table_axis(const ares_tensor *c, const ares_tensor *y) {
  int axis = -1;
  for (int d = 0; d < c->rank - 1; d++)
    if (c->dims[d] != 1) axis = axis == -1 ? y->rank - c->rank + d : -2;
  return axis;
}

static int lower_rope(ares_graph *g, ares_node *add) {
  if (add->nin != 2 || add->in[0] < 0 || add->in[1] < 0 || add->out[0] < 0) return 0;
  ares_tensor *y = g->tensors[add->out[0]];
  if (y->rank < 1 || !y->has_shape) return 0;
  island is = {g, NULL, {0}, 0};
  term t[2] = {{0}};
  int rc = 0;
  /* the anchor: the integer tensor one operand (x in x * cos) dequantizes directly */
  for (int k = 0; k < 2 && !is.base; k++) {
    int op = mul_operand(g, add->in[k]);
    ares_node *dq = op < 0 ? NULL : ares_producer(g, ares_producer(g, add->in[k])->in[op]);
    if (dq && dq->op == ARES_OP_DEQUANTIZELINEAR) is.base = g->tensors[dq->in[0]];
  }
  if (!is.base || !read_term(&is, add->in[0], &t[0]) || !read_term(&is, add->in[1], &t[1])) goto done;
  int64_t count = ares_tensor_numel(y), d = y->dims[y->rank - 1];
  if (ares_tensor_numel(is.base) != count || d < 2) goto done;
  if (!is_identity(t[0].map, count)) {
    term tmp = t[0];
    t[0] = t[1];
    t[1] = tmp;
  }
  if (!is_identity(t[0].map, count) || is_identity(t[1].map, count)) goto done;
  /* from here on this is a rotary encoding: refuse what qrope cannot express */
  int64_t *partner = calloc((size_t)d, sizeof(int64_t)), *sign = calloc((size_t)d, sizeof(int64_t));
  if (!partner || !sign) exit(2);
  int ok = 1;
  for (int64_t e = 0; e < count && ok; e++) {
    int64_t v = t[1].map[e], i = e % d, src = (v < 0 ? -v : v) - 1, s = v < 0 ? -1 : 1;
    if (src / d != e / d) ok = 0;
    else if (e < d) partner[i] = src % d, sign[i] = s;
    else ok = partner[i] == src % d && sign[i] == s;
  }
  int half = ok && d % 2 == 0, inter = half;
  for (int64_t i = 0; i < d && ok; i++) {
    half &= partner[i] == (i + d / 2) % d;
    inter &= partner[i] == (i ^ 1);
  }
  ares_node *q = ares_sole_consumer(g, y->id, ARES_OP_QUANTIZELINEAR);
  int axis0 = table_axis(t[0].table, y), axis1 = table_axis(t[1].table, y);
  int axis = axis0 == -1 ? axis1 : axis1 == -1 || axis1 == axis0 ? axis0 : -2;
  ares_tensor *x = is.base, *yq = q ? g->tensors[q->out[0]] : NULL;
  if (!ok || !(half || inter)) {
    rc = ares_fail(add, "unsupported: rotary encoding whose rotation is neither half-split (rotate_half) nor "
                        "interleaved pairs within the last dimension");
  } else if (!q) {
    rc = ares_fail(add, "unsupported: the rotary encoding's result is used as a float tensor (quantize it)");
  } else if (axis == -2) {
    rc = ares_fail(add, "unsupported: cos/sin tables that vary along more than one dimension besides the last");
  } else if (x->dtype != ARES_DT_I8 || x->q.nscale != 1 || yq->q.nscale != 1) {
    rc = ares_fail(add, "unsupported: rotary encoding of a tensor that is not int8 quantized per tensor");
  }
  if (rc < 0) {
    free(partner);
    free(sign);
    goto done;
  }
  ares_node *in = ares_node_new(g, ARES_OP_QROPE, add->name, 3, 1);
  in->in[0] = x->id;
  in->out[0] = yq->id;
  ares_rope_params *p = &in->p.rope;
  p->layout = half ? ARES_ROPE_HALF : ARES_ROPE_INTERLEAVED;
  p->d = d;
  if (axis < 0) {
    p->outer = count / d;
    p->npos = p->inner = 1;
  } else {
    p->outer = p->inner = 1;
    for (int k = 0; k < axis; k++) p->outer *= y->dims[k];
    p->npos = y->dims[axis];
    for (int k = axis + 1; k < y->rank - 1; k++) p->inner *= y->dims[k];
  }
  /* ratios per (position, i), one shift for all: the largest gets 30 significant bits */
  int64_t nt = p->npos * d;
  double *r = malloc(sizeof(double) * (size_t)(2 * nt)), mx = 0;
  if (!r) exit(2);
  double ratio = (double)x->q.scale[0] / yq->q.scale[0];
  for (int64_t pos = 0; pos < p->npos; pos++)
    for (int64_t i = 0; i < d; i++) {
      int64_t e = pos * p->inner * d + i; /* an element at this position and index */
      r[pos * d + i] = table_at(t[0].table, y, e) * ratio;
      r[nt + pos * d + i] = (double)sign[i] * table_at(t[1].table, y, e) * ratio;
    }
  for (int64_t k = 0; k < 2 * nt; k++) {
    if (!isfinite(r[k])) rc = ares_fail(add, "cos/sin table entry %g is not finite", r[k]);
    mx = fabs(r[k]) > mx ? fabs(r[k]) : mx;
  }
  int e2;
  frexp(mx, &e2);
  p->shift = 30 - e2;
  if (p->shift > 62) p->shift = 62;
  if (p->shift < 1 && rc == 0) rc = ares_fail(add, "unsupported: rescale factor %g is too large", mx);
  ares_tensor *mt[2];
  for (int k = 0; k < 2; k++) {
    mt[k] = ares_tensor_new_const(g, t[k].table->name, ARES_DT_I32, 2, (int64_t[]){p->npos, d});
    in->in[1 + k] = mt[k]->id;
  }
  for (int64_t k = 0; k < nt && rc == 0; k++) {
    ((int32_t *)mt[0]->data)[k] = (int32_t)ares_round_half_even(ldexp(r[k], p->shift));
    ((int32_t *)mt[1]->data)[k] = (int32_t)ares_round_half_even(ldexp(r[nt + k], p->shift));
  }
  free(r);
  free(partner);
  free(sign);
  p->zp_in = x->q.zp[0];
  p->zp = yq->q.zp[0];
  p->qmin = yq->q.qmin;
  p->qmax = yq->q.qmax;
  in->macs = 2 * count;
  if (rc < 0) {
    in->dead = 1;
    goto done;
  }
  add->dead = t[0].mul->dead = t[1].mul->dead = q->dead = 1;
  ares_graph_relink(g);
  drop_island(&is);
done:
  free(t[0].map);
  free(t[1].map);
  return rc;
}

int ares_pass_lower_rope(ares_graph *g) {
  int rc = 0;
  for (int i = 0; i < g->nnodes; i++) {
    ares_node *n = g->nodes[i];
    if (!n->dead && n->op == ARES_OP_ADD && lower_rope(g, n) < 0) rc = -1;
  }
  ares_graph_relink(g);
  return rc;
}
