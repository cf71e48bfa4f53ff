/* The reference interpreter: the single definition of what a compiled network computes.
 *
 * Straightforward scalar C, written to be obviously right rather than fast, and
 * independent of runtime/kernels (it is what validates them). It executes a lowered graph,
 * in which only integer ops (ARES_KIND_INT in ops.def) remain. One file per op family,
 * named after its runtime twin: ref_quant.c, ref_conv.c, ref_linear.c, ref_eltwise.c,
 * ref_concat.c, ref_pool.c, ref_layout.c; ref.c holds the dispatch table. */
#ifndef ARES_REF_H
#define ARES_REF_H

#include "ir/ir.h"

/* Runs every live node of g in topological order (ares_graph_topo). values[] has one slot
 * per tensor id (g->ntensors); the caller fills the graph inputs' slots (float32 data,
 * NCHW, shape from the tensor). Constants are read from t->data. The interpreter mallocs a
 * buffer for each node output (ares_tensor_nbytes bytes, dtype from the tensor) into
 * values[id] (a slot already holding a pointer is overwritten: call ares_ref_free between
 * runs). Returns 0, or -1 after ares_fail(node, ...) for a node it cannot execute; the
 * buffers allocated so far stay in values[] and are released by ares_ref_free. */
int ares_ref_run(ares_graph *g, void **values);

/* Frees what ares_ref_run allocated (slots of node outputs) and sets those slots to NULL;
 * leaves graph inputs and constants alone. */
void ares_ref_free(ares_graph *g, void **values);

/* 1 when the interpreter has an implementation of op (every ARES_KIND_INT op must). */
int ares_ref_supports(ares_op op);

#endif /* ARES_REF_H */
