/* plan-memory: places every activation tensor in one arena by lifetime. Tensors whose
 * lifetimes overlap get disjoint byte ranges; the placement is greedy (largest first, at
 * the lowest offset that fits), and the lower bound - the largest total size of tensors
 * live at the same step - is recorded to measure it against. Graph inputs and outputs
 * live in the caller's buffers, constants in the weights. */
#include <stdlib.h>

#include "ir/diag.h"
#include "passes.h"

#define ALIGN 8

typedef struct {
  int tid;
  int first, last; /* schedule steps: defined at first, last read at last */
  int64_t size;
} live_range;

static int by_size_desc(const void *a, const void *b) {
  const live_range *x = a, *y = b;
  if (x->size != y->size) return x->size < y->size ? 1 : -1;
  return x->first - y->first;
}

int ares_pass_plan_memory(ares_graph *g) {
  int *order;
  int cnt = ares_graph_topo(g, &order);
  if (cnt < 0) return ares_fail(NULL, "internal: cycle in the graph");
  int *first = malloc(sizeof(int) * (size_t)g->ntensors), *last = malloc(sizeof(int) * (size_t)g->ntensors);
  live_range *lr = malloc(sizeof(live_range) * (size_t)(g->ntensors + 1));
  if (!first || !last || !lr) exit(2);
  for (int i = 0; i < g->ntensors; i++) {
    first[i] = last[i] = -1;
    g->tensors[i]->offset = -1;
  }
  for (int s = 0; s < cnt; s++) {
    ares_node *n = g->nodes[order[s]];
    for (int k = 0; k < n->nout; k++)
      if (n->out[k] >= 0) first[n->out[k]] = last[n->out[k]] = s;
    for (int k = 0; k < n->nin; k++)
      if (n->in[k] >= 0 && first[n->in[k]] >= 0) last[n->in[k]] = s;
  }
  int nl = 0;
  for (int i = 0; i < g->ntensors; i++) {
    ares_tensor *t = g->tensors[i];
    if (first[i] < 0 || t->data || ares_is_graph_output(g, i) || ares_is_graph_input(g, i)) continue;
    lr[nl++] = (live_range){i, first[i], last[i], (int64_t)((ares_tensor_nbytes(t) + ALIGN - 1) / ALIGN * ALIGN)};
  }
  /* lower bound: the fullest step */
  int64_t bound = 0;
  for (int s = 0; s < cnt; s++) {
    int64_t live = 0;
    for (int j = 0; j < nl; j++)
      if (lr[j].first <= s && s <= lr[j].last) live += lr[j].size;
    if (live > bound) bound = live;
  }
  qsort(lr, (size_t)nl, sizeof *lr, by_size_desc);
  int64_t arena = 0;
  for (int j = 0; j < nl; j++) {
    int64_t off = 0;
    /* first fit among the already placed tensors that overlap in time */
    for (int moved = 1; moved;) {
      moved = 0;
      for (int k = 0; k < j; k++) {
        if (lr[k].last < lr[j].first || lr[j].last < lr[k].first) continue;
        int64_t ko = g->tensors[lr[k].tid]->offset;
        if (off < ko + lr[k].size && ko < off + lr[j].size) {
          off = ko + lr[k].size;
          moved = 1;
        }
      }
    }
    g->tensors[lr[j].tid]->offset = off;
    if (off + lr[j].size > arena) arena = off + lr[j].size;
  }
  g->arena_bytes = arena;
  g->arena_lower_bound = bound;
  free(first);
  free(last);
  free(lr);
  free(order);
  return 0;
}
