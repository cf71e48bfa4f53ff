/* ONNX spatial attributes. */
#include "onnx_attrs.h"

#include <string.h>

#include "ir/diag.h"

int ares_spatial_read(const ares_node *n, const ares_tensor *x, const ares_tensor *w, ares_spatial *sp) {
  memset(sp, 0, sizeof *sp);
  if (x->rank != 3 && x->rank != 4)
    return ares_fail(n, "unsupported: input of rank %d (1-D or 2-D spatial data expected)", x->rank);
  sp->nsp = x->rank - 2;
  const char *autopad = ares_attr_string(n, "auto_pad", "NOTSET");
  if (strcmp(autopad, "NOTSET") != 0 && strcmp(autopad, "VALID") != 0)
    return ares_fail(n, "unsupported: auto_pad=%s (export with explicit pads)", autopad);
  int64_t v[4];
  int c = ares_attr_ints(n, "kernel_shape", v, 4);
  if (c < 0 && w) {
    if (w->rank != x->rank) return ares_fail(n, "weight rank %d does not match input rank %d", w->rank, x->rank);
    for (int i = 0; i < sp->nsp; i++) v[i] = w->dims[2 + i];
    c = sp->nsp;
  }
  if (c != sp->nsp) return ares_fail(n, "kernel_shape has %d entries for %d spatial dims", c, sp->nsp);
  for (int i = 0; i < sp->nsp; i++) {
    if (v[i] < 1 || v[i] > 4096) return ares_fail(n, "invalid kernel size %lld", (long long)v[i]);
    sp->k[i] = (int)v[i];
    sp->s[i] = sp->d[i] = 1;
  }
  c = ares_attr_ints(n, "strides", v, 4);
  if (c >= 0 && c != sp->nsp) return ares_fail(n, "strides has %d entries", c);
  for (int i = 0; i < c; i++) {
    if (v[i] < 1 || v[i] > 4096) return ares_fail(n, "invalid stride %lld", (long long)v[i]);
    sp->s[i] = (int)v[i];
  }
  c = ares_attr_ints(n, "dilations", v, 4);
  if (c >= 0 && c != sp->nsp) return ares_fail(n, "dilations has %d entries", c);
  for (int i = 0; i < c; i++) {
    if (v[i] < 1 || v[i] > 4096) return ares_fail(n, "invalid dilation %lld", (long long)v[i]);
    sp->d[i] = (int)v[i];
  }
  c = ares_attr_ints(n, "pads", v, 4);
  if (c >= 0 && c != 2 * sp->nsp) return ares_fail(n, "pads has %d entries", c);
  for (int i = 0; i < c; i++)
    if (v[i] < 0 || v[i] > 4096) return ares_fail(n, "invalid pad %lld", (long long)v[i]);
  for (int i = 0; i < sp->nsp && c > 0; i++) {
    sp->pb[i] = (int)v[i];
    sp->pe[i] = (int)v[sp->nsp + i];
  }
  sp->ceil_mode = (int)ares_attr_int(n, "ceil_mode", 0);
  for (int i = 0; i < sp->nsp; i++)
    if (ares_spatial_out(sp, i, x->dims[2 + i]) < 1)
      return ares_fail(n, "the window does not fit the input (spatial size %lld)", (long long)x->dims[2 + i]);
  return 0;
}

int ares_reshape_dims(const ares_node *n, const ares_tensor *x, const ares_tensor *s, int64_t *dims) {
  int64_t ns = ares_tensor_numel(s), known = 1, numel = ares_tensor_numel(x);
  int neg = -1;
  if (ns > ARES_MAX_DIMS) return ares_fail(n, "shape of rank %lld", (long long)ns);
  for (int64_t i = 0; i < ns; i++) {
    dims[i] = ares_tensor_get_i(s, i);
    if (dims[i] == 0 && !ares_attr_int(n, "allowzero", 0)) dims[i] = i < x->rank ? x->dims[i] : 0;
    if (dims[i] == -1) {
      if (neg >= 0) return ares_fail(n, "two -1 dimensions");
      neg = (int)i;
    } else if (dims[i] < 0 || dims[i] > ((int64_t)1 << 30)) {
      return ares_fail(n, "invalid dimension %lld", (long long)dims[i]);
    } else {
      known *= dims[i]; /* both factors <= 2^30: no overflow */
      if (known > ((int64_t)1 << 30))
        return ares_fail(n, "cannot reshape %lld elements into the requested shape", (long long)numel);
    }
  }
  if (neg >= 0) {
    if (known == 0 || numel % known) return ares_fail(n, "cannot infer the -1 dimension");
    dims[neg] = numel / known;
    known *= dims[neg];
  }
  if (known != numel) return ares_fail(n, "cannot reshape %lld elements into the requested shape", (long long)numel);
  return (int)ns;
}

void ares_spatial_window(const ares_spatial *sp, ares_window *w) {
  int a = sp->nsp == 2 ? 0 : 1;
  w->kh = a ? 1 : sp->k[0];
  w->sh = a ? 1 : sp->s[0];
  w->dh = a ? 1 : sp->d[0];
  w->pad_t = a ? 0 : sp->pb[0];
  w->pad_b = a ? 0 : sp->pe[0];
  w->kw = sp->k[1 - a];
  w->sw = sp->s[1 - a];
  w->dw = sp->d[1 - a];
  w->pad_l = sp->pb[1 - a];
  w->pad_r = sp->pe[1 - a];
}

int64_t ares_spatial_out(const ares_spatial *sp, int i, int64_t len) {
  int64_t span = (int64_t)(sp->k[i] - 1) * sp->d[i] + 1;
  int64_t room = len + sp->pb[i] + sp->pe[i] - span;
  if (room < 0) return 0;
  int64_t out = (sp->ceil_mode ? (room + sp->s[i] - 1) / sp->s[i] : room / sp->s[i]) + 1;
  /* ceil mode: the last window must start inside the input or its left padding */
  if (sp->ceil_mode && (out - 1) * sp->s[i] >= len + sp->pb[i]) out--;
  return out;
}

/* ONNX Slice (opset >= 10: starts, ends, axes, steps inputs, all constant): per input dim,
 * the first index, the step and the element count. Out-of-range bounds clamp as ONNX says;
 * a step longer than the dim takes one element, clamped so nothing overflows. */
int ares_slice_read(const ares_graph *g, const ares_node *n, const ares_tensor *x, int64_t *start, int64_t *step,
                    int64_t *dims) {
  for (int d = 0; d < x->rank; d++) {
    start[d] = 0;
    step[d] = 1;
    dims[d] = x->dims[d];
  }
  if (n->nin < 3) return ares_fail(n, "unsupported: Slice with attributes (opset < 10)");
  if (n->in[1] < 0 || n->in[2] < 0) return ares_fail(n, "Slice needs starts and ends");
  for (int k = 1; k < 5 && k < n->nin; k++)
    if (n->in[k] >= 0 && !ares_tensor_is_const(g, n->in[k]))
      return ares_fail(n, "unsupported: Slice with non-constant starts, ends, axes or steps");
  int64_t na = ares_tensor_numel(g->tensors[n->in[1]]);
  for (int k = 2; k < 5 && k < n->nin; k++)
    if (n->in[k] >= 0 && ares_tensor_numel(g->tensors[n->in[k]]) != na)
      return ares_fail(n, "starts, ends, axes and steps differ in length");
  char seen[ARES_MAX_DIMS] = {0};
  for (int64_t k = 0; k < na; k++) {
    int64_t ax = n->nin > 3 && n->in[3] >= 0 ? ares_tensor_get_i(g->tensors[n->in[3]], k) : k;
    if (ax < 0) ax += x->rank;
    if (ax < 0 || ax >= x->rank) return ares_fail(n, "axis out of range");
    if (seen[ax]++) return ares_fail(n, "axis %lld sliced twice", (long long)ax);
    int64_t st = n->nin > 4 && n->in[4] >= 0 ? ares_tensor_get_i(g->tensors[n->in[4]], k) : 1;
    if (st == 0) return ares_fail(n, "step 0");
    int64_t dim = x->dims[ax], b = ares_tensor_get_i(g->tensors[n->in[1]], k), e = ares_tensor_get_i(g->tensors[n->in[2]], k);
    if (b < 0 && b > INT64_MIN / 2) b += dim;
    if (e < 0 && e > INT64_MIN / 2) e += dim;
    if (st > dim + 1) st = dim + 1;
    if (st < -(dim + 1)) st = -(dim + 1);
    if (st > 0) {
      b = b < 0 ? 0 : b > dim ? dim : b;
      e = e < 0 ? 0 : e > dim ? dim : e;
      dims[ax] = e > b ? (e - b - 1) / st + 1 : 0;
    } else {
      b = b < 0 ? -1 : b >= dim ? dim - 1 : b;
      e = e < -1 ? -1 : e >= dim ? dim - 1 : e;
      dims[ax] = b > e ? (b - e - 1) / -st + 1 : 0;
    }
    start[ax] = dims[ax] ? b : 0;
    step[ax] = st;
  }
  return 0;
}

/* ONNX Split along `axis` into the node's outputs: sizes from the `split` input (opset
 * 13+), the `split` attribute (older), or equal parts (the last one smaller when the dim
 * does not divide, as opset 18's num_outputs says). Returns 0 or -1 (reported). */
int ares_split_read(const ares_graph *g, const ares_node *n, const ares_tensor *x, int *axis, int64_t *sizes) {
  int64_t a = ares_attr_int(n, "axis", 0);
  if (a < 0) a += x->rank;
  if (a < 0 || a >= x->rank) return ares_fail(n, "axis out of range");
  *axis = (int)a;
  int64_t dim = x->dims[a], total = 0;
  int cnt = n->nout;
  if (cnt < 1) return ares_fail(n, "Split without outputs");
  if (n->nin > 1 && n->in[1] >= 0) {
    if (!ares_tensor_is_const(g, n->in[1])) return ares_fail(n, "unsupported: split sizes are not constant");
    const ares_tensor *s = g->tensors[n->in[1]];
    if (ares_tensor_numel(s) != cnt) return ares_fail(n, "%lld split sizes for %d outputs", (long long)ares_tensor_numel(s), cnt);
    for (int i = 0; i < cnt; i++) sizes[i] = ares_tensor_get_i(s, i);
  } else if (ares_attr_find(n, "split")) {
    const ares_attr *at = ares_attr_find(n, "split");
    if (at->type != ARES_ATTR_INTS || at->n != cnt) return ares_fail(n, "split attribute does not match %d outputs", cnt);
    for (int i = 0; i < cnt; i++) sizes[i] = at->ints[i];
  } else {
    int64_t part = (dim + cnt - 1) / cnt;
    for (int i = 0; i < cnt; i++) sizes[i] = dim - total < part ? dim - total : part, total += sizes[i];
    total = 0;
  }
  for (int i = 0; i < cnt; i++) {
    if (sizes[i] < 0 || sizes[i] > dim) return ares_fail(n, "invalid split size %lld", (long long)sizes[i]);
    total += sizes[i];
  }
  if (total != dim) return ares_fail(n, "split sizes add up to %lld, the dim is %lld", (long long)total, (long long)dim);
  return 0;
}

/* ONNX Gather with constant indices: the axis and the indices, negatives made positive
 * and checked against the dim. *idx is allocated in the graph. Returns the count or -1. */
int64_t ares_gather_read(ares_graph *g, const ares_node *n, const ares_tensor *x, int *axis, int64_t **idx) {
  int64_t a = ares_attr_int(n, "axis", 0);
  if (a < 0) a += x->rank;
  if (a < 0 || a >= x->rank) return ares_fail(n, "axis out of range");
  *axis = (int)a;
  if (n->nin < 2 || n->in[1] < 0) return ares_fail(n, "Gather needs indices");
  if (!ares_tensor_is_const(g, n->in[1])) return ares_fail(n, "unsupported: Gather with non-constant indices");
  const ares_tensor *it = g->tensors[n->in[1]];
  int64_t cnt = ares_tensor_numel(it);
  *idx = ares_alloc(g, sizeof(int64_t) * (size_t)(cnt ? cnt : 1));
  for (int64_t i = 0; i < cnt; i++) {
    int64_t v = ares_tensor_get_i(it, i);
    if (v < 0) v += x->dims[a];
    if (v < 0 || v >= x->dims[a]) return ares_fail(n, "index %lld out of range for a dim of %lld", (long long)ares_tensor_get_i(it, i), (long long)x->dims[a]);
    (*idx)[i] = v;
  }
  return cnt;
}

int ares_axes_read(const ares_graph *g, const ares_node *n, int64_t *axes) {
  int c = ares_attr_ints(n, "axes", axes, ARES_MAX_DIMS);
  if (c >= 0) return c;
  if (n->nin > 1 && n->in[1] >= 0) {
    if (!ares_tensor_is_const(g, n->in[1])) return ares_fail(n, "unsupported: axes is not a constant");
    ares_tensor *a = g->tensors[n->in[1]];
    int64_t na = ares_tensor_numel(a);
    if (na > ARES_MAX_DIMS) return ares_fail(n, "too many axes");
    for (int64_t i = 0; i < na; i++) axes[i] = ares_tensor_get_i(a, i);
    return (int)na;
  }
  return 0;
}
