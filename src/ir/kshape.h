/* The runtime kernels' shape descriptors (runtime/ares_kernels.h) of an integer node: one
 * definition for the tiler, which sizes tiles with them, and the emitter, which writes them
 * into the generated code. */
#ifndef ARES_KSHAPE_H
#define ARES_KSHAPE_H

#include "ares_kernels.h"
#include "ares_tiled_matmul.h"
#include "ares_tiled_rows.h"
#include "ir.h"

void ares_kshape_conv(const ares_graph *g, const ares_node *n, ares_conv_shape *s);
void ares_kshape_pool(const ares_graph *g, const ares_node *n, ares_pool_shape *s);
/* QLINEAR: rows, K, N. */
void ares_kshape_linear(const ares_graph *g, const ares_node *n, int32_t *rows, int32_t *k, int32_t *nout);
/* QMATMUL: batch dims and their operand strides (in matrices), M, K, N, zero points. */
void ares_kshape_matmul(const ares_graph *g, const ares_node *n, ares_matmul_shape *s);
/* Row-wise ops (qlayernorm, qrmsnorm, qsoftmax): the slab view; tile = 1. Returns 0, or
 * -1 when n is not a row-wise op. */
int ares_kshape_rows(const ares_graph *g, const ares_node *n, ares_rows_shape *s);

#endif
