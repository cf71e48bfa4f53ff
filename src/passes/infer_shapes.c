/* infer-shapes: the static shape and element type of every tensor, in schedule order.
 * Shapes declared in the file are not trusted: everything is recomputed from the inputs. */
#include <stdlib.h>
#include <string.h>

#include "ir/diag.h"
#include "onnx_attrs.h"
#include "passes.h"

static ares_tensor *in_t(ares_graph *g, ares_node *n, int k) { return g->tensors[n->in[k]]; }

static int need_inputs(ares_node *n, int count) {
  if (n->nin < count) return ares_fail(n, "needs %d inputs, has %d", count, n->nin);
  for (int k = 0; k < count; k++)
    if (n->in[k] < 0) return ares_fail(n, "input %d is missing", k);
  return 0;
}

/* Squeeze/Unsqueeze axes: attribute before opset 13, input from 13 on. */
static int infer_node(ares_graph *g, ares_node *n) {
  if (n->nout < 1 || n->out[0] < 0) return ares_fail(n, "has no output");
  if (need_inputs(n, 1) < 0) return -1;
  ares_tensor *x = in_t(g, n, 0), *y = g->tensors[n->out[0]];
  if (!x->has_shape) return ares_fail(n, "input '%s' has no known shape", x->name);
  int64_t dims[ARES_MAX_DIMS];
  memcpy(dims, x->dims, sizeof dims);
  int rank = x->rank;
  ares_dtype dt = ARES_DT_F32;
  switch (n->op) {
  case ARES_OP_CONV: {
    if (need_inputs(n, 2) < 0) return -1;
    ares_tensor *w = in_t(g, n, 1);
    ares_spatial sp;
    if (ares_spatial_read(n, x, w, &sp) < 0) return -1;
    int64_t group = ares_attr_int(n, "group", 1);
    if (w->rank != x->rank || group < 1 || x->dims[1] % group || w->dims[1] * group != x->dims[1] || w->dims[0] % group)
      return ares_fail(n, "weight shape does not match %lld input channels in %lld groups", (long long)x->dims[1], (long long)group);
    dims[1] = w->dims[0];
    for (int i = 0; i < sp.nsp; i++) dims[2 + i] = ares_spatial_out(&sp, i, x->dims[2 + i]);
    break;
  }
  case ARES_OP_MAXPOOL:
  case ARES_OP_AVGPOOL: {
    ares_spatial sp;
    if (ares_spatial_read(n, x, NULL, &sp) < 0) return -1;
    if (n->nout > 1 && n->out[1] >= 0) return ares_fail(n, "unsupported: MaxPool indices output");
    for (int i = 0; i < sp.nsp; i++) dims[2 + i] = ares_spatial_out(&sp, i, x->dims[2 + i]);
    break;
  }
  case ARES_OP_GLOBALAVGPOOL:
    if (rank < 3) return ares_fail(n, "input of rank %d", rank);
    for (int i = 2; i < rank; i++) dims[i] = 1;
    break;
  case ARES_OP_GEMM: {
    if (need_inputs(n, 2) < 0) return -1;
    ares_tensor *w = in_t(g, n, 1);
    if (x->rank != 2 || w->rank != 2) return ares_fail(n, "Gemm needs 2-D operands");
    if (ares_attr_int(n, "transA", 0)) return ares_fail(n, "unsupported: transA=1");
    int tb = (int)ares_attr_int(n, "transB", 0);
    int64_t k = tb ? w->dims[1] : w->dims[0];
    if (k != x->dims[1]) return ares_fail(n, "inner dimensions differ (%lld vs %lld)", (long long)x->dims[1], (long long)k);
    dims[1] = tb ? w->dims[0] : w->dims[1];
    break;
  }
  case ARES_OP_MATMUL: {
    if (need_inputs(n, 2) < 0) return -1;
    ares_tensor *w = in_t(g, n, 1);
    if (!w->has_shape) return ares_fail(n, "input '%s' has no known shape", w->name);
    if (!ares_tensor_is_const(g, n->in[1]) && w->rank >= 2 && x->rank >= 2) {
      /* two activations: [..., M, K] x [..., K, N], the batch dims broadcast */
      if (x->dims[x->rank - 1] != w->dims[w->rank - 2]) return ares_fail(n, "inner dimensions differ");
      rank = x->rank > w->rank ? x->rank : w->rank;
      for (int i = 2; i < rank; i++) {
        int64_t da = i < x->rank ? x->dims[x->rank - 1 - i] : 1, db = i < w->rank ? w->dims[w->rank - 1 - i] : 1;
        if (da != db && da != 1 && db != 1) return ares_fail(n, "batch dimensions do not broadcast");
        dims[rank - 1 - i] = da > db ? da : db;
      }
      dims[rank - 2] = x->dims[x->rank - 2];
      dims[rank - 1] = w->dims[w->rank - 1];
      break;
    }
    if (w->rank != 2 || x->rank < 1) return ares_fail(n, "unsupported: MatMul with a second operand of rank %d (a 2-D weight expected)", w->rank);
    if (x->dims[x->rank - 1] != w->dims[0]) return ares_fail(n, "inner dimensions differ");
    dims[rank - 1] = w->dims[1];
    break;
  }
  case ARES_OP_SHAPE: {
    /* static shapes: the result is a constant, folded here so the shape arithmetic after
     * it (Slice, Concat, a Reshape's target) folds too */
    int64_t lo = ares_attr_int(n, "start", 0), hi = ares_attr_int(n, "end", rank);
    if (lo < 0) lo += rank;
    if (hi < 0) hi += rank;
    lo = lo < 0 ? 0 : lo > rank ? rank : lo;
    hi = hi < lo ? lo : hi > rank ? rank : hi;
    y->dtype = ARES_DT_I64;
    ares_tensor_set_shape(y, 1, (int64_t[]){hi - lo});
    y->data = ares_alloc(g, sizeof(int64_t) * (size_t)(hi - lo + 1));
    for (int64_t i = lo; i < hi; i++) ((int64_t *)y->data)[i - lo] = x->dims[i];
    y->producer = -1;
    n->dead = 1;
    return 0;
  }
  case ARES_OP_ADD:
  case ARES_OP_MUL:
  case ARES_OP_SUB:
  case ARES_OP_DIV:
  case ARES_OP_POW:
  case ARES_OP_MIN:
  case ARES_OP_MAX:
  case ARES_OP_PRELU:
  case ARES_OP_WHERE: {
    /* Min/Max: variadic; Where: condition, X, Y */
    int nb = n->op == ARES_OP_MIN || n->op == ARES_OP_MAX ? n->nin : n->op == ARES_OP_WHERE ? 3 : 2;
    if (need_inputs(n, nb) < 0) return -1;
    for (int k = 1; k < nb; k++) {
      ares_tensor *b = in_t(g, n, k);
      if (!b->has_shape) return ares_fail(n, "input '%s' has no known shape", b->name);
      int64_t prev[ARES_MAX_DIMS];
      int prank = rank;
      memcpy(prev, dims, sizeof prev);
      if (b->rank > rank) rank = b->rank;
      /* numpy broadcasting, right-aligned */
      for (int i = 0; i < rank; i++) {
        int64_t dx = i < prank ? prev[prank - 1 - i] : 1, db = i < b->rank ? b->dims[b->rank - 1 - i] : 1;
        if (dx != db && dx != 1 && db != 1) return ares_fail(n, "shapes do not broadcast");
        dims[rank - 1 - i] = dx > db ? dx : db;
      }
    }
    break;
  }
  /* elementwise float functions: the shape of the input */
  case ARES_OP_SQRT:
  case ARES_OP_EXP:
  case ARES_OP_LOG:
  case ARES_OP_ERF:
  case ARES_OP_TANH:
  case ARES_OP_SIGMOID:
  case ARES_OP_GELU:
  case ARES_OP_SOFTPLUS:
  case ARES_OP_SOFTSIGN:
  case ARES_OP_HARDSIGMOID:
  case ARES_OP_HARDSWISH:
  case ARES_OP_NEG:
  case ARES_OP_ABS:
  case ARES_OP_RECIPROCAL:
  case ARES_OP_LEAKYRELU:
  case ARES_OP_ELU:
    break;
  case ARES_OP_RELU:
  case ARES_OP_CLIP:
  case ARES_OP_BATCHNORM:
  case ARES_OP_INSTANCENORM:
  case ARES_OP_SOFTMAX:
    dt = x->dtype == ARES_DT_I8 && n->op == ARES_OP_CLIP ? ARES_DT_I8 : ARES_DT_F32;
    break;
  case ARES_OP_QUANTIZELINEAR:
    dt = ARES_DT_I8;
    break;
  case ARES_OP_DEQUANTIZELINEAR:
    break;
  case ARES_OP_FLATTEN: {
    int64_t axis = ares_attr_int(n, "axis", 1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis > rank) return ares_fail(n, "axis out of range");
    int64_t a = 1, b = 1;
    for (int i = 0; i < rank; i++) {
      if (i < axis) a *= x->dims[i];
      else b *= x->dims[i];
    }
    dims[0] = a;
    dims[1] = b;
    rank = 2;
    dt = x->dtype;
    break;
  }
  case ARES_OP_RESHAPE: {
    if (need_inputs(n, 2) < 0) return -1;
    if (!ares_tensor_is_const(g, n->in[1])) return ares_fail(n, "unsupported: shape is not a constant");
    int ns = ares_reshape_dims(n, x, in_t(g, n, 1), dims);
    if (ns < 0) return -1;
    rank = ns;
    dt = x->dtype;
    break;
  }
  case ARES_OP_SQUEEZE:
  case ARES_OP_UNSQUEEZE: {
    int64_t axes[ARES_MAX_DIMS];
    int na = ares_axes_read(g, n, axes);
    if (na < 0) return -1;
    int orank = n->op == ARES_OP_SQUEEZE ? rank - na : rank + na;
    if (n->op == ARES_OP_SQUEEZE && na == 0) orank = 0;
    if (orank < 0 || orank > ARES_MAX_DIMS) return ares_fail(n, "result rank %d out of range", orank);
    char mark[ARES_MAX_DIMS * 2] = {0};
    for (int i = 0; i < na; i++) {
      int64_t a = axes[i] < 0 ? axes[i] + (n->op == ARES_OP_SQUEEZE ? rank : orank) : axes[i];
      if (a < 0 || a >= (n->op == ARES_OP_SQUEEZE ? rank : orank)) return ares_fail(n, "axis out of range");
      mark[a] = 1;
    }
    int j = 0, r = 0;
    if (n->op == ARES_OP_SQUEEZE) {
      for (int i = 0; i < rank; i++) {
        int sq = na ? mark[i] : x->dims[i] == 1;
        if (sq && x->dims[i] != 1) return ares_fail(n, "cannot squeeze a dimension of size %lld", (long long)x->dims[i]);
        if (!sq) dims[r++] = x->dims[i];
      }
    } else {
      for (int i = 0; i < orank; i++) dims[r++] = mark[i] ? 1 : x->dims[j++];
    }
    rank = r;
    dt = x->dtype;
    break;
  }
  case ARES_OP_TRANSPOSE: {
    int64_t perm[ARES_MAX_DIMS];
    int np = ares_attr_ints(n, "perm", perm, ARES_MAX_DIMS);
    if (np < 0)
      for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
    else if (np != rank) return ares_fail(n, "perm has %d entries for rank %d", np, rank);
    char seen[ARES_MAX_DIMS] = {0};
    for (int i = 0; i < rank; i++) {
      if (perm[i] < 0 || perm[i] >= rank || seen[perm[i]]) return ares_fail(n, "perm is not a permutation");
      seen[perm[i]] = 1;
      dims[i] = x->dims[perm[i]];
    }
    dt = x->dtype;
    break;
  }
  case ARES_OP_PAD: {
    const char *mode = ares_attr_string(n, "mode", "constant");
    if (strcmp(mode, "constant") != 0) return ares_fail(n, "unsupported: Pad mode '%s' (constant only)", mode);
    int64_t pads[2 * ARES_MAX_DIMS];
    int np = ares_attr_ints(n, "pads", pads, 2 * ARES_MAX_DIMS);
    if (np < 0) {
      if (n->nin < 2 || !ares_tensor_is_const(g, n->in[1])) return ares_fail(n, "unsupported: pads are not constant");
      ares_tensor *p = in_t(g, n, 1);
      np = (int)ares_tensor_numel(p);
      if (np > 2 * ARES_MAX_DIMS) return ares_fail(n, "too many pads");
      for (int i = 0; i < np; i++) pads[i] = ares_tensor_get_i(p, i);
    }
    if (n->nin > 3 && n->in[3] >= 0) return ares_fail(n, "unsupported: Pad with an axes input");
    if (np != 2 * rank) return ares_fail(n, "pads has %d entries for rank %d", np, rank);
    for (int i = 0; i < rank; i++) {
      /* bounded before the sum: a fuzzed pair of INT64_MIN pads wrapped to a valid size */
      if (pads[i] < -65536 || pads[i] > 65536 || pads[rank + i] < -65536 || pads[rank + i] > 65536)
        return ares_fail(n, "invalid pads");
      dims[i] = x->dims[i] + pads[i] + pads[rank + i];
      if (dims[i] < 0) return ares_fail(n, "invalid pads");
    }
    dt = x->dtype;
    break;
  }
  case ARES_OP_CONCAT: {
    int64_t axis = ares_attr_int(n, "axis", 0);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) return ares_fail(n, "axis out of range");
    dims[axis] = 0;
    for (int k = 0; k < n->nin; k++) {
      if (n->in[k] < 0) return ares_fail(n, "missing input");
      ares_tensor *t = in_t(g, n, k);
      if (!t->has_shape || t->rank != rank) return ares_fail(n, "inputs differ in rank");
      for (int i = 0; i < rank; i++)
        if (i != axis && t->dims[i] != x->dims[i]) return ares_fail(n, "inputs differ in shape outside the axis");
      dims[axis] += t->dims[axis];
    }
    dt = x->dtype;
    break;
  }
  case ARES_OP_SLICE: {
    int64_t start[ARES_MAX_DIMS], step[ARES_MAX_DIMS];
    if (ares_slice_read(g, n, x, start, step, dims) < 0) return -1;
    dt = x->dtype;
    break;
  }
  case ARES_OP_SPLIT: {
    int axis;
    int64_t *sizes = ares_alloc(g, sizeof(int64_t) * (size_t)n->nout);
    if (ares_split_read(g, n, x, &axis, sizes) < 0) return -1;
    for (int k = 0; k < n->nout; k++) {
      if (n->out[k] < 0) continue;
      ares_tensor *o = g->tensors[n->out[k]];
      dims[axis] = sizes[k];
      ares_tensor_set_shape(o, rank, dims);
      o->dtype = x->dtype;
    }
    dims[axis] = sizes[0];
    dt = x->dtype;
    break;
  }
  case ARES_OP_GATHER: {
    int axis;
    int64_t *idx;
    if (n->nin > 1 && n->in[1] >= 0 && !ares_tensor_is_const(g, n->in[1])) {
      /* run-time indices (a token embedding): only the shape here, lower-embed does the rest */
      int64_t a = ares_attr_int(n, "axis", 0);
      if (a < 0) a += x->rank;
      if (a < 0 || a >= x->rank) return ares_fail(n, "axis out of range");
      axis = (int)a;
      if (!in_t(g, n, 1)->has_shape) return ares_fail(n, "indices have no known shape");
    } else if (ares_gather_read(g, n, x, &axis, &idx) < 0) {
      return -1;
    }
    const ares_tensor *it = in_t(g, n, 1);
    rank = x->rank - 1 + it->rank;
    if (rank > ARES_MAX_DIMS) return ares_fail(n, "result rank %d out of range", rank);
    int r = 0;
    for (int i = 0; i < axis; i++) dims[r++] = x->dims[i];
    for (int i = 0; i < it->rank; i++) dims[r++] = it->dims[i];
    for (int i = axis + 1; i < x->rank; i++) dims[r++] = x->dims[i];
    dt = x->dtype;
    break;
  }
  case ARES_OP_SELECTIVESCAN: /* y is shaped like x [batch, L, d_inner]; lower-int checks the rest */
    if (need_inputs(n, 5) < 0) return -1;
    break;
  case ARES_OP_REDUCEMEAN: {
    int64_t axes[ARES_MAX_DIMS];
    int na = ares_axes_read(g, n, axes);
    if (na < 0) return -1;
    char mark[ARES_MAX_DIMS] = {0};
    for (int i = 0; i < na; i++) {
      int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
      if (a < 0 || a >= rank) return ares_fail(n, "axis out of range");
      mark[a] = 1;
    }
    if (na == 0 && !ares_attr_int(n, "noop_with_empty_axes", 0))
      for (int i = 0; i < rank; i++) mark[i] = 1;
    int keep = (int)ares_attr_int(n, "keepdims", 1), r = 0;
    for (int i = 0; i < rank; i++) {
      if (!mark[i]) dims[r++] = x->dims[i];
      else if (keep) dims[r++] = 1;
    }
    rank = r;
    break;
  }
  case ARES_OP_LAYERNORM: {
    /* Mean and InvStdDev outputs, when present: the normalized dims become 1 */
    int64_t axis = ares_attr_int(n, "axis", -1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) return ares_fail(n, "axis out of range");
    for (int k = 1; k < n->nout; k++) {
      if (n->out[k] < 0) continue;
      int64_t rd[ARES_MAX_DIMS];
      for (int i = 0; i < rank; i++) rd[i] = i >= axis ? 1 : x->dims[i];
      ares_tensor_set_shape(g->tensors[n->out[k]], rank, rd);
      g->tensors[n->out[k]]->dtype = ARES_DT_F32;
    }
    break;
  }
  default:
    return ares_fail(n, "unsupported here: no shape rule for %s", n->op_type);
  }
  ares_tensor_set_shape(y, rank, dims);
  if (ares_op_get(n->op)->kind == ARES_KIND_SRC && n->op != ARES_OP_QUANTIZELINEAR) y->dtype = dt;
  if (n->op == ARES_OP_QUANTIZELINEAR) y->dtype = y->dtype == ARES_DT_I32 && y->q.nscale ? ARES_DT_I32 : ARES_DT_I8;
  if (ares_tensor_numel(y) > ((int64_t)1 << 30)) return ares_fail(n, "output has more than 2^30 elements");
  return 0;
}

/* Ops that build a constant attention mask from a folded Shape (torch's exporter writes
 * Shape -> ... -> ConstantOfShape -> Trilu -> Where when a mask is made from a tensor's
 * size): evaluated here once their inputs are constants. */
static int builds_mask(ares_op op) {
  return op == ARES_OP_TRILU || op == ARES_OP_WHERE || op == ARES_OP_NOT || op == ARES_OP_EQUAL || op == ARES_OP_LESS ||
         op == ARES_OP_EXPAND || op == ARES_OP_CAST;
}

int ares_pass_infer_shapes(ares_graph *g) {
  int *order;
  int cnt = ares_graph_topo(g, &order);
  if (cnt < 0) return ares_fail(NULL, "the graph has a cycle, or a node reads a tensor that nothing produces");
  int rc = 0;
  for (int i = 0; i < cnt && rc == 0; i++) {
    ares_node *n = g->nodes[order[i]];
    if (ares_op_get(n->op)->kind != ARES_KIND_SRC || n->dead) continue;
    /* shape arithmetic on a folded Shape: evaluate it like fold-constants does */
    int shape_math = n->nin > 0 && n->in[0] >= 0 && ares_tensor_is_const(g, n->in[0]) &&
                     (g->tensors[n->in[0]]->dtype == ARES_DT_I64 || builds_mask(n->op));
    int r = shape_math ? ares_fold_const_node(g, n) : 1;
    if (r < 0) rc = -1;
    else if (r > 0) rc = infer_node(g, n);
  }
  free(order);
  ares_graph_relink(g);
  return rc;
}
