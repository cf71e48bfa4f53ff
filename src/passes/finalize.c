/* finalize: drops nodes whose results nobody uses, and checks that what is left is a
 * graph of integer ops only: anything else is a float op ARES could not place inside a
 * quantized region, reported by name. */
#include <stdlib.h>

#include "ir/diag.h"
#include "passes.h"

int ares_pass_finalize(ares_graph *g) {
  for (int changed = 1; changed;) {
    changed = 0;
    ares_graph_relink(g);
    for (int i = 0; i < g->nnodes; i++) {
      ares_node *n = g->nodes[i];
      if (n->dead) continue;
      int used = 0;
      for (int k = 0; k < n->nout; k++)
        if (n->out[k] >= 0 && g->tensors[n->out[k]]->nconsumers) used = 1;
      if (!used) {
        n->dead = 1;
        changed = 1;
      }
    }
  }
  int rc = 0;
  for (int i = 0; i < g->nnodes; i++) {
    ares_node *n = g->nodes[i];
    if (n->dead || ares_op_get(n->op)->kind == ARES_KIND_INT) continue;
    rc = ares_fail(n, "unsupported: %s could not be lowered to integer arithmetic (it is not between a dequantize "
                      "and a quantize; quantize its inputs and its output)", n->op_type);
  }
  for (int i = 0; i < g->noutputs && rc == 0; i++) {
    ares_tensor *t = g->tensors[g->outputs[i]];
    if (t->producer < 0) rc = ares_fail(NULL, "graph output '%s' is not computed by the network", t->name);
  }
  int *order;
  if (rc == 0 && ares_graph_topo(g, &order) < 0) rc = ares_fail(NULL, "internal: cycle after lowering");
  else if (rc == 0) free(order);
  return rc;
}
