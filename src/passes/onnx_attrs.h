/* Interpretation of ONNX spatial attributes (Conv, MaxPool, AveragePool), shared by the
 * passes that need them (shape inference and lowering). */
#ifndef ARES_ONNX_ATTRS_H
#define ARES_ONNX_ATTRS_H

#include "ir/ir.h"

typedef struct {
  int nsp;           /* spatial dims: 1 or 2 */
  int k[2], s[2], d[2];
  int pb[2], pe[2];  /* pads at the beginning / end of each spatial dim */
  int ceil_mode;
} ares_spatial;

/* Reads kernel_shape (or the weight's shape for Conv: w may be NULL), strides, dilations,
 * pads, ceil_mode for an input of rank 3 or 4. Returns 0 or -1 (reported). */
int ares_spatial_read(const ares_node *n, const ares_tensor *x, const ares_tensor *w, ares_spatial *sp);
/* Output length of spatial dim i for input length len. */
int64_t ares_spatial_out(const ares_spatial *sp, int i, int64_t len);

/* ONNX Reshape: the output dims for input x and the constant shape tensor s (0 copies
 * the input dim unless allowzero, one -1 is inferred). Returns the rank or -1 (reported). */
int ares_reshape_dims(const ares_node *n, const ares_tensor *x, const ares_tensor *s, int64_t *dims);

/* The 2-D window of a 1-D or 2-D spatial op (1-D: H = 1, the single dim is W). */
void ares_spatial_window(const ares_spatial *sp, ares_window *w);

/* ONNX Slice with constant starts/ends/axes/steps: per dim of x, the first index, the step
 * (negative: backwards) and the output size. Returns 0 or -1 (reported). */
int ares_slice_read(const ares_graph *g, const ares_node *n, const ares_tensor *x, int64_t *start, int64_t *step,
                    int64_t *dims);
/* ONNX Split: the axis and the size of each of the node's outputs. Returns 0 or -1. */
int ares_split_read(const ares_graph *g, const ares_node *n, const ares_tensor *x, int *axis, int64_t *sizes);
/* ONNX Gather with constant indices: the axis and the (non-negative, checked) indices,
 * allocated in g. Returns their count or -1 (reported). */
int64_t ares_gather_read(ares_graph *g, const ares_node *n, const ares_tensor *x, int *axis, int64_t **idx);

/* The axes of a reduction: the `axes` attribute (opset < 18) or the constant second input
 * (opset 18), as given (may be negative). Returns their count (0: none given) or -1. */
int ares_axes_read(const ares_graph *g, const ares_node *n, int64_t *axes);

#endif
