/* Compile-time parameters of the integer row ops qlayernorm, qrmsnorm and qsoftmax
 * (docs/SEMANTICS.md): fixed-point multipliers, shifts and exp tables chosen, in double,
 * from the float32 scales of the model, with the range checks that keep every int64
 * intermediate of the kernels in range. Used by the lower-norm pass and the unit tests. */
#ifndef ARES_NORM_PARAMS_H
#define ARES_NORM_PARAMS_H

#include "ir.h"

/* LayerNorm (center = 1) or RMSNorm (center = 0) of `outer` rows of n int8 elements
 * quantized per tensor like xq, with epsilon eps, real gamma[k] and beta[k] per parameter
 * set and position, k = (row % nsets) * n + i (beta may be NULL: 0), into an int8 output
 * quantized per tensor like yq. Arrays are allocated in g. Returns 0, or -1 after
 * ares_fail(at, ...). */
int ares_norm_params_make(ares_graph *g, const ares_node *at, ares_norm_params *p, int center, int64_t outer, int64_t n,
                          int64_t nsets, const ares_quant *xq, double eps, const double *gamma, const double *beta,
                          const ares_quant *yq);

/* Softmax of `outer` x `inner` rows of n elements (stride inner) whose real value is
 * s_in * q (int8 input: q - zp, which cancels; int32 input when in_i32), into an int8
 * output quantized per tensor like yq. Returns 0, or -1 after ares_fail(at, ...). */
int ares_softmax_params_make(ares_graph *g, const ares_node *at, ares_softmax_params *p, int64_t outer, int64_t n,
                             int64_t inner, int in_i32, double s_in, const ares_quant *yq);

/* The constant mask of a softmax whose parameters p already hold (inner 1): keep[r * n + j]
 * != 0 keeps element j of row r, for all outer rows. Reduced to its shortest row period, a
 * causal flag when every row keeps a prefix growing by one per row, otherwise a new int8
 * constant [rows][n] of 0 / 1 in *mask_tid (the qsoftmax's second input; else -1); a mask
 * keeping everything leaves p unmasked. Refuses a row that keeps nothing. Returns 0, or -1
 * after ares_fail(at, ...). */
int ares_softmax_mask_make(ares_graph *g, const ares_node *at, ares_softmax_params *p, const uint8_t *keep, int *mask_tid);

#endif
