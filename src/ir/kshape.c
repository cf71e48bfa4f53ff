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

void ares_kshape_matmul(const ares_graph *g, const ares_node *n, ares_matmul_shape *s) {
  const ares_tensor *a = g->tensors[n->in[0]], *b = g->tensors[n->in[1]], *y = g->tensors[n->out[0]];
  memset(s, 0, sizeof *s);
  int ry = y->rank;
  s->nb = ry - 2;
  s->m = (int32_t)y->dims[ry - 2];
  s->n = (int32_t)y->dims[ry - 1];
  s->k = (int32_t)a->dims[a->rank - 1];
  s->a_zp = n->p.matmul.a_zp;
  s->b_zp = n->p.matmul.b_zp;
  s->out_i32 = y->dtype == ARES_DT_I32;
  /* right-aligned operand dims; a dim of 1 against a larger output dim is broadcast */
  int64_t sa = 1, sb = 1;
  for (int d = s->nb - 1; d >= 0; d--) {
    int ia = d - (ry - a->rank), ib = d - (ry - b->rank);
    int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    s->bd[d] = (int32_t)y->dims[d];
    s->as[d] = da == 1 ? 0 : (int32_t)sa;
    s->bs[d] = db == 1 ? 0 : (int32_t)sb;
    sa *= da;
    sb *= db;
  }
}

int ares_kshape_rows(const ares_graph *g, const ares_node *n, ares_rows_shape *s) {
  switch (n->op) {
  case ARES_OP_QLAYERNORM:
  case ARES_OP_QRMSNORM: *s = (ares_rows_shape){n->p.norm.outer, n->p.norm.n, 1, 1, 1, 1, 0, 0}; return 0;
  case ARES_OP_QSOFTMAX:
    *s = (ares_rows_shape){n->p.softmax.outer, n->p.softmax.n, n->p.softmax.inner, n->p.softmax.in_i32 ? 4 : 1, 1, 1, 0, 0};
    /* a stored mask: the side block */
    if (n->nin > 1 && n->in[1] >= 0) s->side_bytes = ares_tensor_numel(g->tensors[n->in[1]]);
    return 0;
  default: return -1;
  }
}
