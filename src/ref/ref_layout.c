/* Reference QPAD, QRESHAPE, QTRANSPOSE, QSLICE and QGATHER. Runtime twins:
 * runtime/kernels/ares_pad.c (ares_pad_s8), runtime/kernels/ares_transpose.c
 * (ares_transpose_s8), runtime/kernels/ares_slice.c (ares_slice_s8, ares_gather_s8); QRESHAPE
 * is a copy here and an alias or memcpy in generated code. */
#include "ref_internal.h"

#include <string.h>

/* Row-major strides of a shape. */
static void strides_of(const ares_tensor *t, int64_t *st) {
  int64_t s = 1;
  for (int d = t->rank - 1; d >= 0; d--) {
    st[d] = s;
    s *= t->dims[d];
  }
}

/* Steps a multi-index idx over the shape of t in row-major order. */
static void next_index(const ares_tensor *t, int64_t *idx) {
  for (int d = t->rank - 1; d >= 0; d--) {
    if (++idx[d] < t->dims[d]) return;
    idx[d] = 0;
  }
}

/* Output dim d = pads[d] + input dim d + pads[rank + d]; negative pads crop. Output element
 * at index o comes from the input at o - pads_begin, or is `value` when that is outside. */
int ares_ref_qpad(const ares_graph *g, const ares_node *n, void **values) {
  const ares_pad_params *p = &n->p.pad;
  const ares_tensor *tx, *ty;
  if (ares_ref_arity(n, 1, 1)) return -1;
  const int8_t *x = ares_ref_in(g, n, values, 0, ARES_DT_I8, &tx);
  int8_t *y = x ? ares_ref_out(g, n, values, 0, ARES_DT_I8, &ty) : NULL;
  if (!y) return -1;
  int rank = tx->rank;
  if (ty->rank != rank) return ares_fail(n, "output rank %d differs from input rank %d", ty->rank, rank);
  for (int d = 0; d < rank; d++)
    if (p->pads[d] + tx->dims[d] + p->pads[rank + d] != ty->dims[d])
      return ares_fail(n, "dim %d: %lld + %lld + %lld != output %lld", d, (long long)p->pads[d], (long long)tx->dims[d],
                       (long long)p->pads[rank + d], (long long)ty->dims[d]);
  if (p->value < -128 || p->value > 127) return ares_fail(n, "pad value %d not an int8", p->value);

  int64_t xst[ARES_MAX_DIMS], idx[ARES_MAX_DIMS] = {0};
  strides_of(tx, xst);
  int64_t count = ares_tensor_numel(ty);
  for (int64_t e = 0; e < count; e++, next_index(ty, idx)) {
    int64_t src = 0;
    for (int d = 0; d < rank && src >= 0; d++) {
      int64_t i = idx[d] - p->pads[d];
      src = (i < 0 || i >= tx->dims[d]) ? -1 : src + i * xst[d];
    }
    y[e] = src < 0 ? (int8_t)p->value : x[src];
  }
  return 0;
}

/* Same elements, new shape: a copy of the bytes. */
int ares_ref_qreshape(const ares_graph *g, const ares_node *n, void **values) {
  const ares_tensor *tx, *ty;
  if (ares_ref_arity(n, 1, 1)) return -1;
  const void *x = ares_ref_in(g, n, values, 0, ARES_DT_UNDEF, &tx);
  void *y = x ? ares_ref_out(g, n, values, 0, tx->dtype, &ty) : NULL;
  if (!y) return -1;
  if (ares_tensor_numel(tx) != ares_tensor_numel(ty))
    return ares_fail(n, "input has %lld elements, output %lld", (long long)ares_tensor_numel(tx),
                     (long long)ares_tensor_numel(ty));
  memcpy(y, x, ares_tensor_nbytes(ty));
  return 0;
}

/* Output dim i = input dim perm[i]: y[o_0, ..., o_r-1] = x at input index j with
 * j[perm[i]] = o_i. */
int ares_ref_qtranspose(const ares_graph *g, const ares_node *n, void **values) {
  const int *perm = n->p.transpose.perm;
  const ares_tensor *tx, *ty;
  if (ares_ref_arity(n, 1, 1)) return -1;
  const void *x = ares_ref_in(g, n, values, 0, ARES_DT_UNDEF, &tx);
  void *y = x ? ares_ref_out(g, n, values, 0, tx->dtype, &ty) : NULL;
  if (!y) return -1;
  int rank = tx->rank;
  if (ty->rank != rank) return ares_fail(n, "output rank %d differs from input rank %d", ty->rank, rank);
  int seen[ARES_MAX_DIMS] = {0};
  for (int i = 0; i < rank; i++) {
    if (perm[i] < 0 || perm[i] >= rank || seen[perm[i]]++)
      return ares_fail(n, "perm is not a permutation of 0..%d", rank - 1);
    if (ty->dims[i] != tx->dims[perm[i]])
      return ares_fail(n, "output dim %d is %lld, input dim perm[%d] = %d is %lld", i, (long long)ty->dims[i], i,
                       perm[i], (long long)tx->dims[perm[i]]);
  }
  size_t es = ares_dtype_size(tx->dtype);
  int64_t xst[ARES_MAX_DIMS], idx[ARES_MAX_DIMS] = {0};
  strides_of(tx, xst);
  int64_t count = ares_tensor_numel(ty);
  for (int64_t e = 0; e < count; e++, next_index(ty, idx)) {
    int64_t src = 0;
    for (int i = 0; i < rank; i++) src += idx[i] * xst[perm[i]];
    memcpy((char *)y + (size_t)e * es, (const char *)x + (size_t)src * es, es);
  }
  return 0;
}

/* Output index o reads input index start[d] + o_d * step[d] in every dim d; each such index
 * must lie inside the input (the compiler clamps ONNX's bounds, this checks the result). */
int ares_ref_qslice(const ares_graph *g, const ares_node *n, void **values) {
  const ares_slice_params *p = &n->p.slice;
  const ares_tensor *tx, *ty;
  if (ares_ref_arity(n, 1, 1)) return -1;
  const int8_t *x = ares_ref_in(g, n, values, 0, ARES_DT_I8, &tx);
  int8_t *y = x ? ares_ref_out(g, n, values, 0, ARES_DT_I8, &ty) : NULL;
  if (!y) return -1;
  int rank = tx->rank;
  if (ty->rank != rank) return ares_fail(n, "output rank %d differs from input rank %d", ty->rank, rank);
  for (int d = 0; d < rank; d++) {
    if (ty->dims[d] == 0) return 0;
    int64_t last = p->start[d] + (ty->dims[d] - 1) * p->step[d];
    if (p->step[d] == 0 || p->start[d] < 0 || p->start[d] >= tx->dims[d] || last < 0 || last >= tx->dims[d])
      return ares_fail(n, "dim %d: start %lld, step %lld, count %lld leave the input dim %lld", d, (long long)p->start[d],
                       (long long)p->step[d], (long long)ty->dims[d], (long long)tx->dims[d]);
  }
  int64_t xst[ARES_MAX_DIMS], idx[ARES_MAX_DIMS] = {0};
  strides_of(tx, xst);
  int64_t count = ares_tensor_numel(ty);
  for (int64_t e = 0; e < count; e++, next_index(ty, idx)) {
    int64_t src = 0;
    for (int d = 0; d < rank; d++) src += (p->start[d] + idx[d] * p->step[d]) * xst[d];
    y[e] = x[src];
  }
  return 0;
}

/* x viewed as [outer][dim][inner] around the axis: y[o][i][r] = x[o][idx[i]][r]. */
int ares_ref_qgather(const ares_graph *g, const ares_node *n, void **values) {
  const ares_gather_params *p = &n->p.gather;
  const ares_tensor *tx, *ty;
  if (ares_ref_arity(n, 1, 1)) return -1;
  const int8_t *x = ares_ref_in(g, n, values, 0, ARES_DT_I8, &tx);
  int8_t *y = x ? ares_ref_out(g, n, values, 0, ARES_DT_I8, &ty) : NULL;
  if (!y) return -1;
  if (p->axis < 0 || p->axis >= tx->rank) return ares_fail(n, "axis %d out of range", p->axis);
  int64_t outer = 1, inner = 1, dim = tx->dims[p->axis];
  for (int d = 0; d < p->axis; d++) outer *= tx->dims[d];
  for (int d = p->axis + 1; d < tx->rank; d++) inner *= tx->dims[d];
  if (outer * p->nidx * inner != ares_tensor_numel(ty))
    return ares_fail(n, "output has %lld elements, %lld x %lld x %lld expected", (long long)ares_tensor_numel(ty),
                     (long long)outer, (long long)p->nidx, (long long)inner);
  for (int64_t i = 0; i < p->nidx; i++)
    if (p->idx[i] < 0 || p->idx[i] >= dim) return ares_fail(n, "index %lld outside 0..%lld", (long long)p->idx[i], (long long)dim - 1);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < p->nidx; i++)
      for (int64_t r = 0; r < inner; r++) y[(o * p->nidx + i) * inner + r] = x[(o * dim + p->idx[i]) * inner + r];
  return 0;
}
