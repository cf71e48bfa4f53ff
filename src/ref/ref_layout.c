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

/* How pad, transpose and slice move elements: along output dim d, output index o_d reads
 * input dim in_dim[d] at first[d] + o_d * step[d]. */
typedef struct {
  int in_dim[ARES_MAX_DIMS];
  int64_t first[ARES_MAX_DIMS], step[ARES_MAX_DIMS];
} move_map;

/* y (shape ty, elements of es bytes) from x (shape tx) by m; an output element whose input
 * index falls outside x in some dim is `fill` (padding). */
static void move_elements(const ares_tensor *tx, const ares_tensor *ty, const move_map *m, const void *x, void *y,
                          size_t es, int8_t fill) {
  int64_t xst[ARES_MAX_DIMS], idx[ARES_MAX_DIMS] = {0};
  strides_of(tx, xst);
  int64_t count = ares_tensor_numel(ty);
  for (int64_t e = 0; e < count; e++, next_index(ty, idx)) {
    int64_t src = 0;
    for (int d = 0; d < ty->rank && src >= 0; d++) {
      int64_t i = m->first[d] + idx[d] * m->step[d];
      src = (i < 0 || i >= tx->dims[m->in_dim[d]]) ? -1 : src + i * xst[m->in_dim[d]];
    }
    if (src < 0) memset((char *)y + (size_t)e * es, fill, es);
    else memcpy((char *)y + (size_t)e * es, (const char *)x + (size_t)src * es, es);
  }
}

/* The identity map of a rank: the walk of a pad (first = -pads) or a transpose (in_dim = perm). */
static move_map identity_map(int rank) {
  move_map m = {{0}, {0}, {0}};
  for (int d = 0; d < rank; d++) {
    m.in_dim[d] = d;
    m.first[d] = 0;
    m.step[d] = 1;
  }
  return m;
}

/* Output dim d = pads[d] + input dim d + pads[rank + d]; negative pads crop. Output element
 * at index o comes from the input at o - pads_begin, or is `value` when that is outside. */
int ares_ref_qpad(const ares_graph *g, const ares_node *n, void **values) {
  const ares_pad_params *p = &n->p.pad;
  const ares_tensor *tx, *ty;
  const int8_t *x;
  int8_t *y;
  if (ares_ref_io_s8(g, n, values, &x, &tx, &y, &ty)) return -1;
  int rank = tx->rank;
  if (ty->rank != rank) return ares_fail(n, "output rank %d differs from input rank %d", ty->rank, rank);
  for (int d = 0; d < rank; d++)
    if (p->pads[d] + tx->dims[d] + p->pads[rank + d] != ty->dims[d])
      return ares_fail(n, "dim %d: %lld + %lld + %lld != output %lld", d, (long long)p->pads[d], (long long)tx->dims[d],
                       (long long)p->pads[rank + d], (long long)ty->dims[d]);
  if (p->value < -128 || p->value > 127) return ares_fail(n, "pad value %d not an int8", p->value);
  move_map m = identity_map(rank);
  for (int d = 0; d < rank; d++) m.first[d] = -p->pads[d];
  move_elements(tx, ty, &m, x, y, 1, (int8_t)p->value);
  return 0;
}

/* Same elements, new shape: a copy of the bytes. */
int ares_ref_qreshape(const ares_graph *g, const ares_node *n, void **values) {
  const ares_tensor *tx, *ty;
  if (ares_ref_arity(n, 1, 1)) return -1;
  const void *x = ares_ref_in(g, n, values, 0, ARES_DT_UNDEF, &tx);
  void *y = x ? ares_ref_out(g, n, values, 0, tx->dtype, &ty) : NULL;
  if (!y) return -1;
  if (ares_ref_check_numel(n, tx, ty)) return -1;
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
  move_map m = identity_map(rank);
  for (int i = 0; i < rank; i++) m.in_dim[i] = perm[i];
  move_elements(tx, ty, &m, x, y, ares_dtype_size(tx->dtype), 0);
  return 0;
}

/* Output index o reads input index start[d] + o_d * step[d] in every dim d; each such index
 * must lie inside the input (the compiler clamps ONNX's bounds, this checks the result). */
int ares_ref_qslice(const ares_graph *g, const ares_node *n, void **values) {
  const ares_slice_params *p = &n->p.slice;
  const ares_tensor *tx, *ty;
  const int8_t *x;
  int8_t *y;
  if (ares_ref_io_s8(g, n, values, &x, &tx, &y, &ty)) return -1;
  int rank = tx->rank;
  if (ty->rank != rank) return ares_fail(n, "output rank %d differs from input rank %d", ty->rank, rank);
  for (int d = 0; d < rank; d++) {
    if (ty->dims[d] == 0) return 0;
    int64_t last = p->start[d] + (ty->dims[d] - 1) * p->step[d];
    if (p->step[d] == 0 || p->start[d] < 0 || p->start[d] >= tx->dims[d] || last < 0 || last >= tx->dims[d])
      return ares_fail(n, "dim %d: start %lld, step %lld, count %lld leave the input dim %lld", d, (long long)p->start[d],
                       (long long)p->step[d], (long long)ty->dims[d], (long long)tx->dims[d]);
  }
  move_map m = identity_map(rank);
  for (int d = 0; d < rank; d++) {
    m.first[d] = p->start[d];
    m.step[d] = p->step[d];
  }
  move_elements(tx, ty, &m, x, y, 1, 0);
  return 0;
}

/* x viewed as [outer][dim][inner] around the axis: y[o][i][r] = x[o][idx[i]][r]. */
int ares_ref_qgather(const ares_graph *g, const ares_node *n, void **values) {
  const ares_gather_params *p = &n->p.gather;
  const ares_tensor *tx, *ty;
  const int8_t *x;
  int8_t *y;
  if (ares_ref_io_s8(g, n, values, &x, &tx, &y, &ty)) return -1;
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
