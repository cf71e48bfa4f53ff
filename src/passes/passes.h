/* The pass pipeline. Each pass is one file doing one job; main.c runs them in order and
 * can dump the graph after any of them (--dump-after NAME). A pass returns 0, or -1 after
 * reporting the failing node through ares_fail. */
#ifndef ARES_PASSES_H
#define ARES_PASSES_H

#include "ir/ir.h"

typedef int (*ares_pass_fn)(ares_graph *g);

typedef struct {
  const char *name;
  ares_pass_fn run;
  const char *doc;
} ares_pass;

int ares_pass_fold_constants(ares_graph *g);
int ares_pass_canon_qop(ares_graph *g);
int ares_pass_canon_quant(ares_graph *g);
int ares_pass_infer_shapes(ares_graph *g);
int ares_pass_fold_batchnorm(ares_graph *g);
int ares_pass_lower_embed(ares_graph *g);
int ares_pass_sink_dequant(ares_graph *g);
int ares_pass_lower_matmul(ares_graph *g);
int ares_pass_lower_rope(ares_graph *g);
int ares_pass_lower_norm(ares_graph *g);
int ares_pass_lower_lut(ares_graph *g);
int ares_pass_lower_int(ares_graph *g);
int ares_pass_fuse_clamp(ares_graph *g);
int ares_pass_finalize(ares_graph *g);
int ares_pass_plan_memory(ares_graph *g);
int ares_pass_plan_tiles(ares_graph *g);
int ares_pass_place_levels(ares_graph *g);

/* The integer form of a Concat of dequantized tensors (lower_int.c): into the quantizer
 * that follows it, or - when its result is used as is - a qconcat and the DQ of its
 * result. sink-dequant uses the latter so Relu/MaxPool/... after a Concat can sink too. */
int ares_lower_concat(ares_graph *g, ares_node *n);

/* Evaluates a shape-arithmetic node whose inputs are all constants (fold_constants.c).
 * Returns 1 when the node is not such a node, 0 when folded, -1 on error. infer-shapes
 * uses it after folding a Shape. */
int ares_fold_const_node(ares_graph *g, ares_node *n);
/* The integer form of an ares SelectiveScan (lower_ssm.c), called by lower-int. */
int ares_lower_scan(ares_graph *g, ares_node *n);
/* The factor a QuantizeLinear applies before quantizing (its "ares_prescale" {mul, div},
 * which sink-dequant moves onto it from a Div by a constant): 1 when there is none. The
 * lowering of the layer feeding that quantizer folds it into its multipliers. */
double ares_prescale(const ares_node *q);

/* The pipeline in order; count in *n. */
const ares_pass *ares_passes(int *n);
/* Runs the pipeline; after the pass named dump_after (if not NULL) writes the graph to
 * dump_file. Returns 0 or -1. */
int ares_run_passes(ares_graph *g, const char *dump_after, FILE *dump_file);

#endif
