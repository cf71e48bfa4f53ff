/* Reference interpreter: dispatch table, graph execution and the helpers the ops share.
 * Runtime twin of the helpers: runtime/ares_kernels.h (ares_rhe, ares_sat); the rounding
 * here is computed by a different method on purpose. */
#include "ref_internal.h"

#include <stdlib.h>
#include <string.h>

static const ares_ref_fn ref_table[ARES_OP_COUNT] = {
    [ARES_OP_QUANTIZE] = ares_ref_quantize,
    [ARES_OP_DEQUANTIZE] = ares_ref_dequantize,
    [ARES_OP_QCONV] = ares_ref_qconv,
    [ARES_OP_QLINEAR] = ares_ref_qlinear,
    [ARES_OP_QADD] = ares_ref_qadd,
    [ARES_OP_QMUL] = ares_ref_qmul,
    [ARES_OP_QREQUANT] = ares_ref_qrequant,
    [ARES_OP_QCONCAT] = ares_ref_qconcat,
    [ARES_OP_QMAXPOOL] = ares_ref_qmaxpool,
    [ARES_OP_QAVGPOOL] = ares_ref_qavgpool,
    [ARES_OP_QPAD] = ares_ref_qpad,
    [ARES_OP_QRESHAPE] = ares_ref_qreshape,
    [ARES_OP_QTRANSPOSE] = ares_ref_qtranspose,
    [ARES_OP_QSLICE] = ares_ref_qslice,
    [ARES_OP_QGATHER] = ares_ref_qgather,
    [ARES_OP_QMATMUL] = ares_ref_qmatmul,
    [ARES_OP_QROPE] = ares_ref_qrope,
    [ARES_OP_QSCAN] = ares_ref_qscan,
    [ARES_OP_QCAST] = ares_ref_qcast,
    [ARES_OP_QLAYERNORM] = ares_ref_qlayernorm,
    [ARES_OP_QRMSNORM] = ares_ref_qrmsnorm,
    [ARES_OP_QSOFTMAX] = ares_ref_qsoftmax,
    [ARES_OP_QLUT] = ares_ref_qlut,
    [ARES_OP_QEMBED] = ares_ref_qembed,
};

int ares_ref_supports(ares_op op) { return op >= 0 && op < ARES_OP_COUNT && ref_table[op] != NULL; }

/* --- rounding and clamping ------------------------------------------------------------- */

/* Exact division with remainder: q = p / 2^s truncated toward zero, r = p - q * 2^s
 * (|r| < 2^s, same sign as p). The exact quotient is q + r / 2^s; move q one step away from
 * zero when |r| is more than half of 2^s, or exactly half and q is odd (ties to even).
 * |r| > 2^s - |r| is "2|r| > 2^s" written so that nothing can overflow. */
int64_t ares_ref_rhe(int64_t p, int s) {
  int64_t d = (int64_t)1 << s;
  int64_t q = p / d;
  int64_t r = p - q * d;
  int64_t ar = r < 0 ? -r : r;
  int64_t away = p < 0 ? -1 : 1;
  if (ar > d - ar) q += away;
  else if (ar == d - ar && (q % 2) != 0) q += away;
  return q;
}

int64_t ares_ref_clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* --- argument access --------------------------------------------------------------------- */

int ares_ref_arity(const ares_node *n, int nin, int nout) {
  if (n->nin < nin || n->nout < nout)
    return ares_fail(n, "expects %d input(s) and %d output(s), has %d and %d", nin, nout, n->nin, n->nout);
  return 0;
}

static const ares_tensor *arg_tensor(const ares_graph *g, const ares_node *n, int tid,
                                     const char *kind, int k, ares_dtype dt) {
  if (tid < 0 || tid >= g->ntensors) {
    ares_fail(n, "%s %d: no tensor (id %d)", kind, k, tid);
    return NULL;
  }
  const ares_tensor *t = g->tensors[tid];
  if (dt != ARES_DT_UNDEF && t->dtype != dt) {
    ares_fail(n, "%s %d ('%s'): dtype %s, expected %s", kind, k, t->name, ares_dtype_name(t->dtype),
              ares_dtype_name(dt));
    return NULL;
  }
  return t;
}

const void *ares_ref_in(const ares_graph *g, const ares_node *n, void **values, int k,
                        ares_dtype dt, const ares_tensor **t) {
  if (k >= n->nin) {
    ares_fail(n, "input %d missing", k);
    return NULL;
  }
  const ares_tensor *tt = arg_tensor(g, n, n->in[k], "input", k, dt);
  if (!tt) return NULL;
  const void *d = tt->data ? tt->data : values[tt->id];
  if (!d) {
    ares_fail(n, "input %d ('%s') has no value", k, tt->name);
    return NULL;
  }
  *t = tt;
  return d;
}

void *ares_ref_out(const ares_graph *g, const ares_node *n, void **values, int k,
                   ares_dtype dt, const ares_tensor **t) {
  if (k >= n->nout) {
    ares_fail(n, "output %d missing", k);
    return NULL;
  }
  const ares_tensor *tt = arg_tensor(g, n, n->out[k], "output", k, dt);
  if (!tt) return NULL;
  if (!values[tt->id]) {
    ares_fail(n, "internal: output %d ('%s') has no buffer", k, tt->name);
    return NULL;
  }
  *t = tt;
  return values[tt->id];
}

int ares_ref_io_s8(const ares_graph *g, const ares_node *n, void **values, const int8_t **x, const ares_tensor **tx,
                   int8_t **y, const ares_tensor **ty) {
  if (ares_ref_arity(n, 1, 1)) return -1;
  if (!(*x = ares_ref_in(g, n, values, 0, ARES_DT_I8, tx))) return -1;
  return (*y = ares_ref_out(g, n, values, 0, ARES_DT_I8, ty)) ? 0 : -1;
}

int ares_ref_in2_s8(const ares_graph *g, const ares_node *n, void **values, const int8_t **a, const ares_tensor **ta,
                    const int8_t **b, const ares_tensor **tb, void **y, const ares_tensor **ty) {
  if (ares_ref_arity(n, 2, 1)) return -1;
  if (!(*a = ares_ref_in(g, n, values, 0, ARES_DT_I8, ta)) || !(*b = ares_ref_in(g, n, values, 1, ARES_DT_I8, tb))) return -1;
  return (*y = ares_ref_out(g, n, values, 0, ARES_DT_UNDEF, ty)) ? 0 : -1;
}

/* --- parameter checks ------------------------------------------------------------------------ */

int ares_ref_check_shift(const ares_node *n, int shift, const char *what) {
  if (shift < 1 || shift > 62) return ares_fail(n, "%s = %d outside 1..62", what, shift);
  return 0;
}

int ares_ref_check_range8(const ares_node *n, int32_t qmin, int32_t qmax) {
  if (qmin < -128 || qmax > 127 || qmin > qmax)
    return ares_fail(n, "output range %d..%d is not a sub-range of int8", qmin, qmax);
  return 0;
}

int ares_ref_check_zp(const ares_node *n, int64_t zp, const char *what) {
  if (zp < -(1 << 24) || zp > (1 << 24)) return ares_fail(n, "%s = %lld out of range", what, (long long)zp);
  return 0;
}

int ares_ref_check_numel(const ares_node *n, const ares_tensor *tx, const ares_tensor *ty) {
  if (ares_tensor_numel(tx) != ares_tensor_numel(ty))
    return ares_fail(n, "input has %lld elements, output %lld", (long long)ares_tensor_numel(tx),
                     (long long)ares_tensor_numel(ty));
  return 0;
}

int ares_ref_check_rq(const ares_node *n, const ares_requant *rq, int64_t channels,
                      ares_dtype out_dt) {
  if (rq->n != 1 && rq->n != channels)
    return ares_fail(n, "requantization has %d channels, expected 1 or %lld", rq->n, (long long)channels);
  if (rq->out_i32) {
    if (out_dt != ARES_DT_I32 || rq->out_float) return ares_fail(n, "int32 output but output dtype %s", ares_dtype_name(out_dt));
    return 0;
  }
  if (rq->out_float) {
    if (out_dt != ARES_DT_F32) return ares_fail(n, "float requantization but output dtype %s", ares_dtype_name(out_dt));
    if (!rq->fscale) return ares_fail(n, "float requantization without fscale");
    return 0;
  }
  if (out_dt != ARES_DT_I8) return ares_fail(n, "int8 requantization but output dtype %s", ares_dtype_name(out_dt));
  if (!rq->mult || !rq->shift) return ares_fail(n, "requantization without mult/shift");
  for (int c = 0; c < rq->n; c++)
    if (ares_ref_check_shift(n, rq->shift[c], "requantization shift")) return -1;
  return ares_ref_check_range8(n, rq->qmin, rq->qmax);
}

int ares_ref_check_acc(const ares_node *n, int64_t acc) {
  if (acc < INT32_MIN || acc > INT32_MAX)
    return ares_fail(n, "accumulator %lld overflows int32", (long long)acc);
  return 0;
}

void ares_ref_requant(const ares_requant *rq, int64_t c, int64_t acc, void *y, int64_t i) {
  if (rq->n == 1) c = 0;
  if (rq->out_i32) {
    ((int32_t *)y)[i] = (int32_t)acc; /* the caller checked that acc fits */
    return;
  }
  if (rq->out_float) {
    /* float32 multiply, rounded, then float32 add: the volatile keeps a compiler from
     * fusing the two into one fma (which rounds once). */
    volatile float prod = (float)acc * rq->fscale[c];
    float bias = rq->fbias ? rq->fbias[c] : 0.0f;
    ((float *)y)[i] = prod + bias;
    return;
  }
  int64_t p = acc * (int64_t)rq->mult[c] + (rq->add ? rq->add[c] : 0);
  int64_t v = (int64_t)rq->zp + ares_ref_rhe(p, rq->shift[c]);
  ((int8_t *)y)[i] = (int8_t)ares_ref_clamp(v, rq->qmin, rq->qmax);
}

int ares_ref_get_nchw(const ares_node *n, const ares_tensor *t, const char *what,
                      ares_ref_nchw *s) {
  if (t->rank == 4) {
    s->n = t->dims[0], s->c = t->dims[1], s->h = t->dims[2], s->w = t->dims[3];
  } else if (t->rank == 3) {
    s->n = t->dims[0], s->c = t->dims[1], s->h = 1, s->w = t->dims[2];
  } else {
    return ares_fail(n, "%s '%s' has rank %d, expected 3 or 4", what, t->name, t->rank);
  }
  return 0;
}

/* --- execution ------------------------------------------------------------------------------- */

static int check_shape(const ares_node *n, const ares_tensor *t) {
  if (t->rank < 0 || t->rank > ARES_MAX_DIMS)
    return ares_fail(n, "tensor '%s' has rank %d", t->name, t->rank);
  for (int d = 0; d < t->rank; d++)
    if (t->dims[d] < 0) return ares_fail(n, "tensor '%s' has no static shape (dim %d = %lld)", t->name, d, (long long)t->dims[d]);
  if (ares_dtype_size(t->dtype) == 0) return ares_fail(n, "tensor '%s' has no dtype", t->name);
  return 0;
}

int ares_ref_run(ares_graph *g, void **values) {
  int *order = NULL;
  int count = ares_graph_topo(g, &order);
  if (count < 0) return ares_fail(NULL, "reference: graph has a cycle or an input nobody produces");
  int rc = 0;
  for (int i = 0; i < count && rc == 0; i++) {
    const ares_node *n = g->nodes[order[i]];
    const ares_op_info *info = ares_op_get(n->op);
    if (!info || info->kind != ARES_KIND_INT) {
      rc = ares_fail(n, "not lowered to integer ops; the reference interpreter runs lowered graphs only");
      break;
    }
    if (!ref_table[n->op]) {
      rc = ares_fail(n, "internal: no reference implementation");
      break;
    }
    for (int k = 0; k < n->nin && rc == 0; k++) {
      int tid = n->in[k];
      if (tid < 0) continue;
      if (tid >= g->ntensors) rc = ares_fail(n, "input %d: no tensor (id %d)", k, tid);
      else rc = check_shape(n, g->tensors[tid]);
    }
    for (int k = 0; k < n->nout && rc == 0; k++) {
      int tid = n->out[k];
      if (tid < 0) continue;
      if (tid >= g->ntensors) {
        rc = ares_fail(n, "output %d: no tensor (id %d)", k, tid);
        break;
      }
      const ares_tensor *t = g->tensors[tid];
      if (t->data || ares_is_graph_input(g, tid)) {
        rc = ares_fail(n, "output '%s' is a constant or a graph input", t->name);
        break;
      }
      if (check_shape(n, t)) {
        rc = -1;
        break;
      }
      size_t nb = ares_tensor_nbytes(t);
      void *buf = calloc(nb ? nb : 1, 1);
      if (!buf) {
        rc = ares_fail(n, "out of memory (%zu bytes)", nb);
        break;
      }
      values[tid] = buf;
    }
    if (rc == 0) rc = ref_table[n->op](g, n, values);
  }
  free(order);
  return rc;
}

void ares_ref_free(ares_graph *g, void **values) {
  for (int i = 0; i < g->nnodes; i++) {
    const ares_node *n = g->nodes[i];
    for (int k = 0; k < n->nout; k++) {
      int tid = n->out[k];
      if (tid < 0 || tid >= g->ntensors) continue;
      if (g->tensors[tid]->data || ares_is_graph_input(g, tid)) continue;
      free(values[tid]);
      values[tid] = NULL;
    }
  }
}
