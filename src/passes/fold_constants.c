/* fold-constants: Constant nodes become constant tensors; Identity and (inference-mode)
 * Dropout disappear; shape arithmetic on constants (what torch exports for ZeroPad2d:
 * ConstantOfShape, Concat, Reshape, Slice, Transpose, Cast) is evaluated, and so are the ops
 * an attention mask is built from when a model computes it in forward (Trilu, Where, Not,
 * Equal, Less, Expand, float Add / Sub / Mul; infer-shapes calls this again once Shape has
 * become a constant). Both export back ends produce these (the dynamo one keeps Constant nodes
 * that the TorchScript one turns into initializers). */
#include <math.h>
#include <string.h>

#include "ir/diag.h"
#include "onnx_attrs.h"
#include "passes.h"

static int fold_constant_node(ares_graph *g, ares_node *n) {
  ares_tensor *out = g->tensors[n->out[0]];
  if (n->nattr != 1) return ares_fail(n, "Constant needs exactly one value attribute");
  const ares_attr *a = &n->attr[0];
  if (a->type == ARES_ATTR_TENSOR) {
    ares_tensor *src = g->tensors[a->tensor];
    out->dtype = src->dtype;
    ares_tensor_set_shape(out, src->rank, src->dims);
    out->data = src->data;
  } else if (a->type == ARES_ATTR_FLOAT || a->type == ARES_ATTR_INT) {
    out->dtype = a->type == ARES_ATTR_FLOAT ? ARES_DT_F32 : ARES_DT_I64;
    ares_tensor_set_shape(out, 0, NULL);
    out->data = ares_alloc(g, 8);
    if (a->type == ARES_ATTR_FLOAT) *(float *)out->data = a->f;
    else *(int64_t *)out->data = a->i;
  } else if (a->type == ARES_ATTR_FLOATS || a->type == ARES_ATTR_INTS) {
    out->dtype = a->type == ARES_ATTR_FLOATS ? ARES_DT_F32 : ARES_DT_I64;
    ares_tensor_set_shape(out, 1, (int64_t[]){a->n});
    out->data = ares_alloc(g, 8 * (size_t)a->n);
    if (a->type == ARES_ATTR_FLOATS) memcpy(out->data, a->floats, sizeof(float) * (size_t)a->n);
    else memcpy(out->data, a->ints, sizeof(int64_t) * (size_t)a->n);
  } else {
    return ares_fail(n, "unsupported: Constant attribute '%s'", a->name);
  }
  out->producer = -1;
  n->dead = 1;
  return 0;
}

/* Output tensor of a folded node: shape, dtype, freshly allocated data. */
static void *alloc_out(ares_graph *g, ares_node *n, ares_dtype dt, int rank, const int64_t *dims) {
  ares_tensor *o = g->tensors[n->out[0]];
  o->dtype = dt;
  ares_tensor_set_shape(o, rank, dims);
  o->data = ares_alloc(g, (size_t)ares_tensor_numel(o) * ares_dtype_size(dt) + 1);
  o->producer = -1;
  n->dead = 1;
  return o->data;
}

/* Numpy broadcasting of the inputs of an elementwise node into dims (right-aligned);
 * returns the rank, or -1 after ares_fail. */
static int bcast_shape(ares_graph *g, ares_node *n, int nin, int64_t *dims) {
  int rank = 0;
  for (int k = 0; k < nin; k++) {
    const ares_tensor *t = g->tensors[n->in[k]];
    if (t->rank > rank) rank = t->rank;
  }
  for (int i = 0; i < rank; i++) dims[i] = 1;
  for (int k = 0; k < nin; k++) {
    const ares_tensor *t = g->tensors[n->in[k]];
    for (int i = 0; i < t->rank; i++) {
      int64_t *d = &dims[rank - t->rank + i], v = t->dims[i];
      if (v != *d && v != 1 && *d != 1) return ares_fail(n, "shapes do not broadcast");
      if (v != 1) *d = v;
    }
  }
  int64_t total = 1;
  for (int i = 0; i < rank; i++)
    if ((total *= dims[i]) > (1 << 24)) return ares_fail(n, "unsupported: a constant of more than 2^24 elements");
  return rank;
}

/* Index into t of the element at idx of the broadcast result of rank `rank`. */
static int64_t bcast_at(const ares_tensor *t, int rank, const int64_t *idx) {
  int64_t i = 0;
  for (int d = 0; d < t->rank; d++) i = i * t->dims[d] + (t->dims[d] == 1 ? 0 : idx[rank - t->rank + d]);
  return i;
}

int ares_fold_const_node(ares_graph *g, ares_node *n) {
  for (int k = 0; k < n->nin; k++)
    if (n->in[k] >= 0 && !ares_tensor_is_const(g, n->in[k])) return 1;
  if (n->nin < 1 || n->in[0] < 0 || n->nout < 1 || n->out[0] < 0) return 1;
  ares_tensor *x = g->tensors[n->in[0]];
  size_t esz = ares_dtype_size(x->dtype);
  int64_t numel = ares_tensor_numel(x);
  switch (n->op) {
  case ARES_OP_CAST: {
    int64_t to = ares_attr_int(n, "to", 0);
    ares_dtype dt = to == 1 ? ARES_DT_F32 : to == 7 ? ARES_DT_I64 : to == 6 ? ARES_DT_I32 : to == 9 ? ARES_DT_BOOL : ARES_DT_UNDEF;
    if (dt == ARES_DT_UNDEF) return ares_fail(n, "unsupported: Cast to type %lld", (long long)to);
    ares_tensor *o = g->tensors[n->out[0]];
    alloc_out(g, n, dt, x->rank, x->dims);
    for (int64_t i = 0; i < numel; i++) {
      if (dt == ARES_DT_F32) ((float *)o->data)[i] = (float)ares_tensor_get_f(x, i);
      else ares_tensor_set_i(o, i, ares_tensor_get_i(x, i));
    }
    return 0;
  }
  case ARES_OP_ADD:
  case ARES_OP_SUB:
  case ARES_OP_MUL:
  case ARES_OP_DIV: {
    /* integer shape arithmetic (Brevitas' QuantMultiheadAttention computes its q/k/v slice
     * bounds from Shape): int64 / int32, one operand a scalar or both the same shape;
     * Div truncates toward zero, as ONNX's integer Div */
    ares_tensor *b = n->nin > 1 && n->in[1] >= 0 ? g->tensors[n->in[1]] : NULL;
    int isint = x->dtype == ARES_DT_I64 || x->dtype == ARES_DT_I32;
    if (!isint && n->op == ARES_OP_DIV) goto float_math;
    if (!isint && b && x->dtype == ARES_DT_F32 && b->dtype == ARES_DT_F32) {
      /* float32 arithmetic on two constants, broadcast (Brevitas' QuantMultiheadAttention
       * scales its constant key-padding mask by baddbmm's beta = 1) */
      int64_t dims[ARES_MAX_DIMS], idx[ARES_MAX_DIMS];
      int rank = bcast_shape(g, n, 2, dims);
      if (rank < 0) return -1;
      ares_tensor *o = g->tensors[n->out[0]];
      float *od = alloc_out(g, n, ARES_DT_F32, rank, dims);
      for (int64_t i = 0; i < ares_tensor_numel(o); i++) {
        ares_unravel(o->dims, o->rank, i, idx);
        float u = ((const float *)x->data)[bcast_at(x, rank, idx)], v = ((const float *)b->data)[bcast_at(b, rank, idx)];
        od[i] = n->op == ARES_OP_ADD ? u + v : n->op == ARES_OP_SUB ? u - v : u * v;
      }
      return 0;
    }
    if (!isint || !b) return 1;
    if (b->dtype != x->dtype) return ares_fail(n, "operands of types %s and %s", ares_dtype_name(x->dtype), ares_dtype_name(b->dtype));
    int64_t nb = ares_tensor_numel(b);
    const ares_tensor *big = nb > numel ? b : x;
    if (nb != 1 && numel != 1 && nb != numel) return ares_fail(n, "unsupported: integer shape arithmetic with broadcasting");
    ares_tensor *o = g->tensors[n->out[0]];
    alloc_out(g, n, x->dtype, big->rank, big->dims);
    for (int64_t i = 0; i < ares_tensor_numel(o); i++) {
      int64_t u = ares_tensor_get_i(x, numel == 1 ? 0 : i), v = ares_tensor_get_i(b, nb == 1 ? 0 : i), r;
      if ((u > (1 << 30) || u < -(1 << 30) || v > (1 << 30) || v < -(1 << 30)))
        return ares_fail(n, "unsupported: shape arithmetic on values beyond 2^30");
      if (n->op == ARES_OP_ADD) r = u + v;
      else if (n->op == ARES_OP_SUB) r = u - v;
      else if (n->op == ARES_OP_MUL) r = u * v;
      else if (v == 0) return ares_fail(n, "integer division by zero");
      else r = u / v;
      ares_tensor_set_i(o, i, r);
    }
    return 0;
  }
  case ARES_OP_GATHER: {
    int axis;
    int64_t *idx, cnt = ares_gather_read(g, n, x, &axis, &idx);
    if (cnt < 0) return -1;
    const ares_tensor *it = g->tensors[n->in[1]];
    int64_t dims[ARES_MAX_DIMS], outer = 1, inner = 1;
    int rank = x->rank - 1 + it->rank, r = 0;
    if (rank > ARES_MAX_DIMS) return ares_fail(n, "result rank %d out of range", rank);
    for (int d = 0; d < axis; d++) dims[r++] = x->dims[d], outer *= x->dims[d];
    for (int d = 0; d < it->rank; d++) dims[r++] = it->dims[d];
    for (int d = axis + 1; d < x->rank; d++) dims[r++] = x->dims[d], inner *= x->dims[d];
    char *o = alloc_out(g, n, x->dtype, rank, dims);
    for (int64_t a = 0; a < outer; a++)
      for (int64_t i = 0; i < cnt; i++, o += inner * (int64_t)esz)
        memcpy(o, (char *)x->data + ((a * x->dims[axis] + idx[i]) * inner) * (int64_t)esz, (size_t)(inner * (int64_t)esz));
    return 0;
  }
  case ARES_OP_LOG:
  case ARES_OP_CEIL:
  float_math: {
    /* float32 arithmetic, as the ONNX operators define it */
    ares_tensor *b = n->op == ARES_OP_DIV && n->nin > 1 && n->in[1] >= 0 ? g->tensors[n->in[1]] : NULL;
    if (n->op == ARES_OP_DIV && (!b || (ares_tensor_numel(b) != 1 && ares_tensor_numel(b) != numel)))
      return ares_fail(n, "unsupported: Div with broadcasting");
    if (x->dtype != ARES_DT_F32 || (b && b->dtype != ARES_DT_F32)) return ares_fail(n, "unsupported: non-float operands");
    ares_tensor *o = g->tensors[n->out[0]];
    alloc_out(g, n, ARES_DT_F32, x->rank, x->dims);
    for (int64_t i = 0; i < numel; i++) {
      float v = ((float *)x->data)[i];
      if (n->op == ARES_OP_LOG) v = logf(v);
      else if (n->op == ARES_OP_CEIL) v = ceilf(v);
      else v = v / ((float *)b->data)[ares_tensor_numel(b) == 1 ? 0 : i];
      ((float *)o->data)[i] = v;
    }
    return 0;
  }
  case ARES_OP_CONSTANTOFSHAPE: {
    int64_t dims[ARES_MAX_DIMS];
    if (numel > ARES_MAX_DIMS) return ares_fail(n, "shape of rank %lld", (long long)numel);
    for (int64_t i = 0; i < numel; i++) {
      dims[i] = ares_tensor_get_i(x, i);
      if (dims[i] < 0 || dims[i] > (1 << 20)) return ares_fail(n, "invalid dimension %lld", (long long)dims[i]);
    }
    const ares_attr *a = ares_attr_find(n, "value");
    ares_tensor *v = a && a->type == ARES_ATTR_TENSOR ? g->tensors[a->tensor] : NULL;
    if (v && ares_tensor_numel(v) != 1) return ares_fail(n, "value has %lld elements, 1 expected", (long long)ares_tensor_numel(v));
    ares_tensor *o = g->tensors[n->out[0]];
    alloc_out(g, n, v ? v->dtype : ARES_DT_F32, (int)numel, dims);
    for (int64_t i = 0; i < ares_tensor_numel(o); i++) {
      if (o->dtype == ARES_DT_F32) ((float *)o->data)[i] = v ? (float)ares_tensor_get_f(v, 0) : 0.0f;
      else ares_tensor_set_i(o, i, ares_tensor_get_i(v, 0));
    }
    return 0;
  }
  case ARES_OP_CONCAT: {
    int64_t axis = ares_attr_int(n, "axis", 0);
    if (axis < 0) axis += x->rank;
    if (axis < 0 || axis >= x->rank) return ares_fail(n, "axis out of range");
    int64_t dims[ARES_MAX_DIMS];
    for (int d = 0; d < x->rank; d++) dims[d] = x->dims[d];
    dims[axis] = 0;
    for (int k = 0; k < n->nin; k++) {
      ares_tensor *t = g->tensors[n->in[k]];
      if (t->rank != x->rank || t->dtype != x->dtype) return ares_fail(n, "inputs differ in rank or type");
      for (int d = 0; d < x->rank; d++)
        if (d != axis && t->dims[d] != x->dims[d]) return ares_fail(n, "inputs differ in shape");
      dims[axis] += t->dims[axis];
    }
    int64_t outer = 1;
    for (int d = 0; d < axis; d++) outer *= dims[d];
    char *o = alloc_out(g, n, x->dtype, x->rank, dims);
    for (int64_t r = 0; r < outer; r++)
      for (int k = 0; k < n->nin; k++) {
        ares_tensor *t = g->tensors[n->in[k]];
        size_t chunk = (size_t)(ares_tensor_numel(t) / (outer ? outer : 1)) * esz;
        memcpy(o, (char *)t->data + (size_t)r * chunk, chunk);
        o += chunk;
      }
    return 0;
  }
  case ARES_OP_RESHAPE: {
    if (n->nin < 2 || n->in[1] < 0) return ares_fail(n, "needs a shape input");
    int64_t dims[ARES_MAX_DIMS];
    int ns = ares_reshape_dims(n, x, g->tensors[n->in[1]], dims);
    if (ns < 0) return -1;
    void *o = alloc_out(g, n, x->dtype, (int)ns, dims);
    memcpy(o, x->data, (size_t)numel * esz);
    return 0;
  }
  case ARES_OP_TRANSPOSE: {
    int64_t perm[ARES_MAX_DIMS], dims[ARES_MAX_DIMS], idx[ARES_MAX_DIMS], oidx[ARES_MAX_DIMS];
    int np = ares_attr_ints(n, "perm", perm, ARES_MAX_DIMS);
    if (np < 0)
      for (int d = 0; d < x->rank; d++) perm[d] = x->rank - 1 - d;
    else if (np != x->rank) return ares_fail(n, "perm has %d entries for rank %d", np, x->rank);
    for (int d = 0; d < x->rank; d++) {
      if (perm[d] < 0 || perm[d] >= x->rank) return ares_fail(n, "invalid perm");
      dims[d] = x->dims[perm[d]];
    }
    char *o = alloc_out(g, n, x->dtype, x->rank, dims);
    for (int64_t i = 0; i < numel; i++) {
      ares_unravel(x->dims, x->rank, i, idx);
      for (int d = 0; d < x->rank; d++) oidx[d] = idx[perm[d]];
      memcpy(o + ares_ravel(dims, x->rank, oidx) * (int64_t)esz, (char *)x->data + i * (int64_t)esz, esz);
    }
    return 0;
  }
  case ARES_OP_SLICE: {
    int64_t start[ARES_MAX_DIMS], step[ARES_MAX_DIMS], dims[ARES_MAX_DIMS], idx[ARES_MAX_DIMS];
    if (ares_slice_read(g, n, x, start, step, dims) < 0) return -1;
    ares_tensor *o = g->tensors[n->out[0]];
    alloc_out(g, n, x->dtype, x->rank, dims);
    for (int64_t i = 0; i < ares_tensor_numel(o); i++) {
      ares_unravel(o->dims, o->rank, i, idx);
      for (int d = 0; d < x->rank; d++) idx[d] = start[d] + idx[d] * step[d];
      memcpy((char *)o->data + i * (int64_t)esz, (char *)x->data + ares_ravel(x->dims, x->rank, idx) * (int64_t)esz, esz);
    }
    return 0;
  }
  case ARES_OP_WHERE:
  case ARES_OP_EQUAL:
  case ARES_OP_LESS: {
    int where = n->op == ARES_OP_WHERE, nin = where ? 3 : 2;
    if (n->nin != nin || n->in[nin - 1] < 0) return ares_fail(n, "needs %d inputs", nin);
    ares_tensor *a = g->tensors[n->in[nin - 2]], *b = g->tensors[n->in[nin - 1]];
    if (a->dtype != b->dtype) return ares_fail(n, "operands of types %s and %s", ares_dtype_name(a->dtype), ares_dtype_name(b->dtype));
    int64_t dims[ARES_MAX_DIMS], idx[ARES_MAX_DIMS];
    int rank = bcast_shape(g, n, nin, dims);
    if (rank < 0) return -1;
    ares_tensor *o = g->tensors[n->out[0]];
    alloc_out(g, n, where ? a->dtype : ARES_DT_BOOL, rank, dims);
    size_t osz = ares_dtype_size(o->dtype);
    for (int64_t i = 0; i < ares_tensor_numel(o); i++) {
      ares_unravel(o->dims, o->rank, i, idx);
      int64_t ia = bcast_at(a, rank, idx), ib = bcast_at(b, rank, idx);
      if (where) {
        const ares_tensor *src = ares_tensor_get_i(x, bcast_at(x, rank, idx)) ? a : b;
        memcpy((char *)o->data + i * (int64_t)osz, (char *)src->data + (src == a ? ia : ib) * (int64_t)osz, osz);
      } else {
        double u = ares_tensor_get_f(a, ia), v = ares_tensor_get_f(b, ib);
        ares_tensor_set_i(o, i, n->op == ARES_OP_EQUAL ? u == v : u < v);
      }
    }
    return 0;
  }
  case ARES_OP_EXPAND: {
    /* x broadcast with the shape in input 1 (numpy rules, both ways) */
    if (n->nin != 2 || n->in[1] < 0) return ares_fail(n, "needs 2 inputs");
    const ares_tensor *st = g->tensors[n->in[1]];
    int64_t ns = ares_tensor_numel(st), dims[ARES_MAX_DIMS], idx[ARES_MAX_DIMS], total = 1;
    int rank = x->rank > ns ? x->rank : (int)ns;
    if (ns > ARES_MAX_DIMS || st->dtype != ARES_DT_I64) return ares_fail(n, "invalid shape input");
    for (int i = 0; i < rank; i++) {
      int64_t a = i >= rank - x->rank ? x->dims[i - (rank - x->rank)] : 1, b = i >= rank - ns ? ares_tensor_get_i(st, i - (rank - ns)) : 1;
      if (b < 0 || b > (1 << 20) || (a != b && a != 1 && b != 1)) return ares_fail(n, "shapes do not broadcast");
      dims[i] = a == 1 ? b : a;
      if ((total *= dims[i]) > (1 << 24)) return ares_fail(n, "unsupported: a constant of more than 2^24 elements");
    }
    ares_tensor *o = g->tensors[n->out[0]];
    char *od = alloc_out(g, n, x->dtype, rank, dims);
    for (int64_t i = 0; i < ares_tensor_numel(o); i++) {
      ares_unravel(o->dims, o->rank, i, idx);
      memcpy(od + i * (int64_t)esz, (char *)x->data + bcast_at(x, rank, idx) * (int64_t)esz, esz);
    }
    return 0;
  }
  case ARES_OP_NOT: {
    if (x->dtype != ARES_DT_BOOL) return ares_fail(n, "input of type %s (bool expected)", ares_dtype_name(x->dtype));
    ares_tensor *o = g->tensors[n->out[0]];
    alloc_out(g, n, ARES_DT_BOOL, x->rank, x->dims);
    for (int64_t i = 0; i < numel; i++) ares_tensor_set_i(o, i, !ares_tensor_get_i(x, i));
    return 0;
  }
  case ARES_OP_TRILU: {
    /* upper: keep element (i, j) of every matrix when j - i >= k; lower: when j - i <= k */
    if (x->rank < 2) return ares_fail(n, "input of rank %d (at least 2)", x->rank);
    int64_t k = 0;
    if (n->nin > 1 && n->in[1] >= 0) {
      const ares_tensor *kt = g->tensors[n->in[1]];
      if (ares_tensor_numel(kt) != 1) return ares_fail(n, "k is not a scalar");
      k = ares_tensor_get_i(kt, 0);
    }
    int upper = ares_attr_int(n, "upper", 1) != 0;
    int64_t rows = x->dims[x->rank - 2], cols = x->dims[x->rank - 1];
    ares_tensor *o = g->tensors[n->out[0]];
    char *od = alloc_out(g, n, x->dtype, x->rank, x->dims);
    for (int64_t e = 0; e < numel; e++) {
      int64_t i = e / cols % rows, j = e % cols;
      int keep = upper ? j - i >= k : j - i <= k;
      if (keep) memcpy(od + e * (int64_t)esz, (char *)x->data + e * (int64_t)esz, esz);
      else if (o->dtype == ARES_DT_F32) ((float *)od)[e] = 0.0f;
      else ares_tensor_set_i(o, e, 0);
    }
    return 0;
  }
  default:
    return 1;
  }
}

int ares_pass_fold_constants(ares_graph *g) {
  for (int i = 0; i < g->nnodes; i++) {
    ares_node *n = g->nodes[i];
    if (n->dead) continue;
    if (n->op == ARES_OP_CONSTANT) {
      if (n->nout != 1 || n->out[0] < 0) return ares_fail(n, "Constant needs one output");
      if (fold_constant_node(g, n) < 0) return -1;
    } else if (n->op == ARES_OP_IDENTITY || n->op == ARES_OP_DROPOUT) {
      if (n->nin < 1 || n->in[0] < 0 || n->out[0] < 0) return ares_fail(n, "needs one input and one output");
      if (n->op == ARES_OP_DROPOUT && n->nin > 2 && n->in[2] >= 0)
        return ares_fail(n, "unsupported: Dropout with a training_mode input");
      if (n->nout > 1 && n->out[1] >= 0 && g->tensors[n->out[1]]->nconsumers > 0)
        return ares_fail(n, "unsupported: Dropout mask output is used");
      n->dead = 1;
      ares_graph_replace_uses(g, n->out[0], n->in[0]);
    } else if (ares_fold_const_node(g, n) < 0) {
      return -1;
    }
  }
  ares_graph_relink(g);
  return 0;
}
