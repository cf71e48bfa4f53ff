/* Shared by the reference interpreter's files (src/ref); not a public header. */
#ifndef ARES_REF_INTERNAL_H
#define ARES_REF_INTERNAL_H

#include <stdint.h>

#include "ir/diag.h"
#include "ir/ir.h"
#include "ref.h"

/* One op: reads its inputs, writes its (already allocated) outputs. 0, or -1 after
 * ares_fail(n, ...). */
typedef int (*ares_ref_fn)(const ares_graph *g, const ares_node *n, void **values);

/* ref_quant.c */
int ares_ref_quantize(const ares_graph *g, const ares_node *n, void **values);
int ares_ref_dequantize(const ares_graph *g, const ares_node *n, void **values);
/* ref_conv.c */
int ares_ref_qconv(const ares_graph *g, const ares_node *n, void **values);
/* ref_linear.c */
int ares_ref_qlinear(const ares_graph *g, const ares_node *n, void **values);
/* ref_eltwise.c */
int ares_ref_qadd(const ares_graph *g, const ares_node *n, void **values);
int ares_ref_qmul(const ares_graph *g, const ares_node *n, void **values);
int ares_ref_qrequant(const ares_graph *g, const ares_node *n, void **values);
/* ref_concat.c */
int ares_ref_qconcat(const ares_graph *g, const ares_node *n, void **values);
/* ref_pool.c */
int ares_ref_qmaxpool(const ares_graph *g, const ares_node *n, void **values);
int ares_ref_qavgpool(const ares_graph *g, const ares_node *n, void **values);
/* ref_matmul.c */
int ares_ref_qmatmul(const ares_graph *g, const ares_node *n, void **values);
/* ref_layout.c */
int ares_ref_qpad(const ares_graph *g, const ares_node *n, void **values);
int ares_ref_qreshape(const ares_graph *g, const ares_node *n, void **values);
int ares_ref_qtranspose(const ares_graph *g, const ares_node *n, void **values);
int ares_ref_qslice(const ares_graph *g, const ares_node *n, void **values);
int ares_ref_qgather(const ares_graph *g, const ares_node *n, void **values);
/* ref_embed.c */
int ares_ref_qembed(const ares_graph *g, const ares_node *n, void **values);
/* ref_rope.c */
int ares_ref_qrope(const ares_graph *g, const ares_node *n, void **values);
/* ref_ssm.c */
int ares_ref_qscan(const ares_graph *g, const ares_node *n, void **values);
/* ref_cast.c */
int ares_ref_qcast(const ares_graph *g, const ares_node *n, void **values);
/* ref_norm.c */
int ares_ref_qlayernorm(const ares_graph *g, const ares_node *n, void **values);
int ares_ref_qrmsnorm(const ares_graph *g, const ares_node *n, void **values);
int ares_ref_qsoftmax(const ares_graph *g, const ares_node *n, void **values);
/* ref_lut.c */
int ares_ref_qlut(const ares_graph *g, const ares_node *n, void **values);

/* --- helpers (ref.c) ------------------------------------------------------------------ */

/* p / 2^s rounded to nearest, ties to even, s in 1..62 (checked by the caller). */
int64_t ares_ref_rhe(int64_t p, int s);
int64_t ares_ref_clamp(int64_t v, int64_t lo, int64_t hi);

/* Checks n has at least nin inputs and nout outputs. */
int ares_ref_arity(const ares_node *n, int nin, int nout);
/* Data of input k (t->data for constants, values[id] otherwise), checked to have dtype dt
 * (ARES_DT_UNDEF: any); *t receives the tensor. NULL after ares_fail. */
const void *ares_ref_in(const ares_graph *g, const ares_node *n, void **values, int k,
                        ares_dtype dt, const ares_tensor **t);
/* Buffer of output k, checked to have dtype dt. NULL after ares_fail. */
void *ares_ref_out(const ares_graph *g, const ares_node *n, void **values, int k,
                   ares_dtype dt, const ares_tensor **t);
/* The int8 input and int8 output of a one-input op. 0, or -1 after ares_fail. */
int ares_ref_io_s8(const ares_graph *g, const ares_node *n, void **values, const int8_t **x, const ares_tensor **tx,
                   int8_t **y, const ares_tensor **ty);
/* The two int8 inputs and the output (any dtype) of a two-input op. 0, or -1 after ares_fail. */
int ares_ref_in2_s8(const ares_graph *g, const ares_node *n, void **values, const int8_t **a, const ares_tensor **ta,
                    const int8_t **b, const ares_tensor **tb, void **y, const ares_tensor **ty);

/* Checks of parameters that would otherwise crash or overflow int64 (each 0 or -1 after
 * ares_fail; `what` names the parameter in the message). */
int ares_ref_check_shift(const ares_node *n, int shift, const char *what);
int ares_ref_check_range8(const ares_node *n, int32_t qmin, int32_t qmax);
/* Zero points of inputs: |zp| <= 2^24 keeps every product with a 32-bit multiplier, and
 * sums of two of them, far inside int64. */
int ares_ref_check_zp(const ares_node *n, int64_t zp, const char *what);
/* An elementwise or reshaping op: as many output elements as input elements. */
int ares_ref_check_numel(const ares_node *n, const ares_tensor *tx, const ares_tensor *ty);
/* Requantization of `channels` accumulator channels to an output of dtype out_dt: rq.n is
 * 1 or channels; out_float matches out_dt; arrays present; shifts 1..62; range in int8. */
int ares_ref_check_rq(const ares_node *n, const ares_requant *rq, int64_t channels,
                      ares_dtype out_dt);
/* Checks acc fits the int32 accumulator the kernels use. */
int ares_ref_check_acc(const ares_node *n, int64_t acc);
/* Requantizes acc for channel c (index 0 when rq->n == 1) into element i of y, which is
 * float32 when rq->out_float, int32 when rq->out_i32, int8 otherwise. */
void ares_ref_requant(const ares_requant *rq, int64_t c, int64_t acc, void *y, int64_t i);

/* A rank-4 [N,C,H,W] or rank-3 [N,C,L] activation viewed as N, C, H, W (H = 1 for rank 3). */
typedef struct {
  int64_t n, c, h, w;
} ares_ref_nchw;
int ares_ref_get_nchw(const ares_node *n, const ares_tensor *t, const char *what,
                      ares_ref_nchw *s);

#endif /* ARES_REF_INTERNAL_H */
