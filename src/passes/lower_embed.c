/* lower-embed: a token embedding - Gather of a quantized constant table [vocab][d] at
 * run-time integer indices (Brevitas QuantEmbedding: DQ(int8 weight) -> Gather(., ids)) -
 * becomes one qembed, a row copy. When the lookup's only reader is a QuantizeLinear, the
 * requantization to it is applied to the table at compile time (each entry rounded once,
 * half to even), so the copy writes the quantizer's tensor. Otherwise the table keeps its
 * own per-tensor quantization and the Gather becomes the DQ of the copy, which sink-dequant
 * (the next pass) moves on like any other. (SEMANTICS.md, qembed.) */
#include <math.h>
#include <string.h>

#include "ir/diag.h"
#include "passes.h"

/* The table requantized to the quantization of t: entry (v, k) is
 * clamp(zp + rhe(w * s_w / s_t)), with s_w per tensor or per row / column. */
static ares_tensor *requant_table(ares_graph *g, ares_node *n, const ares_tensor *w, const ares_tensor *t) {
  ares_tensor *o = ares_tensor_new_const(g, w->name, ARES_DT_I8, 2, w->dims);
  o->q = t->q;
  for (int64_t v = 0; v < w->dims[0]; v++)
    for (int64_t k = 0; k < w->dims[1]; k++) {
      int c = w->q.nscale == 1 ? 0 : (int)(w->q.axis == 0 ? v : k);
      double r = (double)w->q.scale[c] / t->q.scale[0];
      double q = t->q.zp[0] + ares_round_half_even((double)(ares_tensor_get_i(w, v * w->dims[1] + k) - w->q.zp[c]) * r);
      if (!isfinite(q)) {
        ares_fail(n, "unsupported: table scale %g against output scale %g", w->q.scale[c], t->q.scale[0]);
        return NULL;
      }
      ((int8_t *)o->data)[v * w->dims[1] + k] = (int8_t)(q < t->q.qmin ? t->q.qmin : q > t->q.qmax ? t->q.qmax : q);
    }
  return o;
}

static int lower_embed(ares_graph *g, ares_node *n) {
  if (n->nin < 2 || n->in[0] < 0 || n->in[1] < 0 || !ares_tensor_is_const(g, n->in[0]) || ares_tensor_is_const(g, n->in[1]))
    return 0;
  ares_tensor *w = g->tensors[n->in[0]], *ids = g->tensors[n->in[1]], *y = g->tensors[n->out[0]];
  if (w->q.nscale == 0) return 0; /* a float table: nothing ARES can compute in integers; finalize reports it */
  if (ids->dtype != ARES_DT_I64)
    return ares_fail(n, "unsupported: embedding indices of type %s (int64 expected)", ares_dtype_name(ids->dtype));
  if (w->rank != 2 || w->dtype != ARES_DT_I8 || ares_attr_int(n, "axis", 0) != 0)
    return ares_fail(n, "unsupported: lookup of a table of rank %d along axis %lld (a [vocab][dim] int8 table along axis 0 expected)",
                     w->rank, (long long)ares_attr_int(n, "axis", 0));
  ares_node *q = ares_sole_consumer(g, y->id, ARES_OP_QUANTIZELINEAR);
  ares_tensor *table = w, *out;
  if (q) {
    out = g->tensors[q->out[0]];
    if (out->q.nscale != 1) return ares_fail(n, "unsupported: the quantizer after the lookup is not per tensor");
    if (!(table = requant_table(g, n, w, out))) return -1;
  } else {
    if (w->q.nscale != 1)
      return ares_fail(n, "unsupported: a per-channel table whose lookup is used unquantized (put a quantizer after it)");
    out = ares_tensor_new_shaped(g, y->name, ARES_DT_I8, y->rank, y->dims);
    out->q = w->q;
  }
  ares_node *e = ares_node_new(g, ARES_OP_QEMBED, n->name, 2, 1);
  e->in[0] = table->id;
  e->in[1] = ids->id;
  e->out[0] = out->id;
  e->p.embed.oob = out->q.zp[0];
  if (q) {
    n->dead = q->dead = 1;
  } else {
    /* the float Gather becomes the DQ of the integer rows */
    ares_node_become_dequant(g, n, out->id);
  }
  return 0;
}

int ares_pass_lower_embed(ares_graph *g) {
  int rc = 0, n0 = g->nnodes;
  for (int i = 0; i < n0; i++) {
    ares_node *n = g->nodes[i];
    if (!n->dead && n->op == ARES_OP_GATHER && lower_embed(g, n) < 0) rc = -1;
  }
  ares_graph_relink(g);
  return rc;
}
