/* Kernel shape descriptors of integer nodes. */
#include "kshape.h"

#include <string.h>

/* N, C, H, W of a rank-3 [N, C, L] (H = 1) or rank-4 tensor. */
static void nchw(const ares_tensor *t, int32_t d[4]) {
  d[0] = (int32_t)t->dims[0];
  d[1] = (int32_t)t->dims[1];
  d[2] = t->rank == 4 ? (int32_t)t->dims[2] : 1;
  d[3] = (int32_t)t->dims[t->rank - 1];
}

void ares_kshape_conv(const ares_graph *g, const ares_node *n, ares_conv_shape *s) {
  const ares_conv_params *p = &n->p.conv;
  int32_t x[4], y[4];
  nchw(g->tensors[n->in[0]], x);
  nchw(g->tensors[n->out[0]], y);
  *s = (ares_conv_shape){x[0], x[1], x[2], x[3], y[1], y[2], y[3], p->kh, p->kw, p->sh, p->sw, p->dh, p->dw,
                         p->pad_t, p->pad_l, p->group, p->x_zp};
}

void ares_kshape_pool(const ares_graph *g, const ares_node *n, ares_pool_shape *s) {
  const ares_pool_params *p = &n->p.pool;
  int32_t x[4], y[4];
  nchw(g->tensors[n->in[0]], x);
  nchw(g->tensors[n->out[0]], y);
  *s = (ares_pool_shape){x[0], x[1], x[2], x[3], y[2], y[3], p->kh, p->kw, p->sh, p->sw, p->dh, p->dw,
                         p->pad_t, p->pad_l, p->x_zp, p->count_include_pad};
}

void ares_kshape_linear(const ares_graph *g, const ares_node *n, int32_t *rows, int32_t *k, int32_t *nout) {
  const ares_tensor *x = g->tensors[n->in[0]], *w = g->tensors[n->in[1]];
  *k = (int32_t)w->dims[1];
  *nout = (int32_t)w->dims[0];
  *rows = (int32_t)(ares_tensor_numel(x) / w->dims[1]);
}
