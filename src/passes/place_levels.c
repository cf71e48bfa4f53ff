/* place-levels: which memory level each weight lives in. The activation arena (plan-memory)
 * is in L2; weights join it in L2 in schedule order of first use while they fit the
 * target's L2, and the rest stay in L3, from where the tiled executors fetch them tile by
 * tile (they never need a whole weight tensor in L2). */
#include <stdlib.h>

#include "ir/diag.h"
#include "passes.h"

int ares_pass_place_levels(ares_graph *g) {
  int *order, cnt = ares_graph_topo(g, &order);
  if (cnt < 0) return ares_fail(NULL, "internal: cycle in the graph");
  int64_t used = g->arena_bytes;
  g->l2_weight_bytes = g->l3_weight_bytes = 0;
  for (int i = 0; i < g->ntensors; i++) g->tensors[i]->level = 0;
  if (used > g->l2_budget)
    ares_warn(NULL, "the activation arena (%lld bytes) exceeds L2 (%lld bytes)", (long long)used, (long long)g->l2_budget);
  for (int s = 0; s < cnt; s++) {
    ares_node *n = g->nodes[order[s]];
    for (int k = 0; k < n->nin; k++) {
      if (n->in[k] < 0) continue;
      ares_tensor *t = g->tensors[n->in[k]];
      if (!t->data || t->level) continue;
      int64_t b = (int64_t)ares_tensor_nbytes(t);
      if (used + b <= g->l2_budget) {
        t->level = 2;
        used += b;
        g->l2_weight_bytes += b;
      } else {
        t->level = 3;
        g->l3_weight_bytes += b;
      }
    }
  }
  free(order);
  return 0;
}
