/* Hand-built graphs for the unit tests of the reference interpreter and the passes. */
#ifndef ARES_CHECK_GRAPH_H
#define ARES_CHECK_GRAPH_H

#include <string.h>

#include "ir/ir.h"

#define ARR(...) ((const int64_t[]){__VA_ARGS__})

static inline ares_tensor *constant(ares_graph *g, const char *name, ares_dtype dt, int rank, const int64_t *dims,
                                    const void *data) {
  ares_tensor *t = ares_tensor_new_const(g, name, dt, rank, dims);
  memcpy(t->data, data, ares_tensor_nbytes(t));
  return t;
}

/* A node of op reading tensors in[0 .. nin-1] and writing tensor out. */
static inline ares_node *node(ares_graph *g, ares_op op, int nin, const int *in, int out) {
  ares_node *n = ares_node_new(g, op, ares_op_get(op)->name, nin, 1);
  for (int i = 0; i < nin; i++) n->in[i] = in[i];
  n->out[0] = out;
  return n;
}

#endif
