/* fuse-clamp: an identity rescale that only clamps (a Relu found after a quantizer)
 * disappears into the integer op producing its input, which clamps for free. */
#include "ir/diag.h"
#include "passes.h"

/* The output clamp of an integer op, or NULL if it has none to narrow. */
static int32_t *clamp_min(ares_node *n) {
  switch (n->op) {
  case ARES_OP_QCONV: return n->p.conv.rq.out_float || n->p.conv.rq.out_i32 ? NULL : &n->p.conv.rq.qmin;
  case ARES_OP_QLINEAR: return n->p.linear.rq.out_float || n->p.linear.rq.out_i32 ? NULL : &n->p.linear.rq.qmin;
  case ARES_OP_QADD:
  case ARES_OP_QMUL:
  case ARES_OP_QREQUANT: return &n->p.elt.qmin;
  case ARES_OP_QAVGPOOL: return &n->p.pool.rq.qmin;
  default: return NULL;
  }
}

static int is_identity_clamp(const ares_node *n) {
  const ares_eltwise_params *e = &n->p.elt;
  return n->op == ARES_OP_QREQUANT && e->n == 1 && e->mult[0] == (1 << 30) && e->shift == 30 && e->zp_in[0] == e->zp;
}

int ares_pass_fuse_clamp(ares_graph *g) {
  ares_graph_relink(g);
  for (int i = 0; i < g->nnodes; i++) {
    ares_node *n = g->nodes[i];
    if (n->dead || !is_identity_clamp(n)) continue;
    ares_tensor *x = g->tensors[n->in[0]];
    ares_node *p = ares_producer(g, x->id);
    int32_t *lo = p ? clamp_min(p) : NULL;
    if (!lo || x->nconsumers != 1 || ares_is_graph_output(g, x->id)) continue;
    if (n->p.elt.qmax < x->q.qmax) continue; /* only lower clamps are fused */
    if (n->p.elt.qmin > *lo) *lo = n->p.elt.qmin;
    ares_tensor *y = g->tensors[n->out[0]];
    y->q.qmin = *lo;
    /* the producer now writes the clamped tensor directly */
    for (int k = 0; k < p->nout; k++)
      if (p->out[k] == x->id) p->out[k] = y->id;
    n->dead = 1;
    ares_graph_relink(g);
  }
  return 0;
}
