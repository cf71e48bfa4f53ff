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
