/* lower-norm: LayerNorm, RMSNorm and Softmax between a dequantize and a quantize become
 * the integer row ops qlayernorm, qrmsnorm and qsoftmax (docs/SEMANTICS.md).
 *
 * Brevitas has no quantized normalization: the float op sits between the DQ of an int8
 * tensor (for Softmax also an int32 tensor: attention scores) and the next Q. It arrives as
 *   LayerNormalization (opset >= 17), or
 *   ReduceMean -> Sub -> Pow 2 -> ReduceMean -> Add eps -> Sqrt -> Div  [-> Mul gamma] [-> Add beta]
 *   Pow 2 -> ReduceMean -> Add eps -> Sqrt -> (Div x | Div 1 / Reciprocal, Mul x) [-> Mul gamma]
 *   [Mul / Div by a positive scalar ->] [attention mask ->] Softmax  (the mask: Where of a
 *     constant condition and -inf, or an Add of a constant 0 / -inf tensor; before or after
 *     the scalar)
 *   InstanceNormalization [-> Reshape] [-> Mul gamma] [-> Add beta]   (GroupNorm: after a
 *     Reshape to [N, groups, -1], which sink-dequant has made an integer reshape)
 * with the reductions over trailing axes. A decomposed chain that does not match exactly
 * is left alone (finalize names its first float op); LayerNormalization and Softmax, which
 * only this pass lowers, are reported with the reason. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/diag.h"
#include "ir/norm_params.h"
#include "passes.h"

#define MAX_CHAIN 12

typedef struct {
  ares_node *kill[MAX_CHAIN];
  int nkill;
} chain;

static void take(chain *c, ares_node *n) {
  if (c->nkill < MAX_CHAIN) c->kill[c->nkill++] = n;
}

/* The integer tensor (per-tensor quantized int8, or int32 when allow_i32) behind a DQ
 * output. */
static ares_tensor *dq_int(ares_graph *g, int tid, int allow_i32) {
  ares_node *p = ares_producer(g, tid);
  if (!p || p->op != ARES_OP_DEQUANTIZELINEAR || p->nin < 1 || p->in[0] < 0) return NULL;
  ares_tensor *t = g->tensors[p->in[0]];
  if (t->q.nscale != 1 || t->data) return NULL;
  if (t->dtype == ARES_DT_I8 || (allow_i32 && t->dtype == ARES_DT_I32)) return t;
  return NULL;
}

/* The input of binary node n that is not tid (-1 when neither or both are). */
static int other(const ares_node *n, int tid) {
  if (n->nin != 2) return -1;
  if (n->in[0] == tid && n->in[1] != tid) return n->in[1];
  if (n->in[1] == tid && n->in[0] != tid) return n->in[0];
  return -1;
}

/* A constant holding one value (any shape of one element), as a real number. */
static int const_scalar(ares_graph *g, int tid, double *v) {
  if (tid < 0 || !ares_tensor_is_const(g, tid)) return 0;
  ares_tensor *t = g->tensors[tid];
  if (ares_tensor_numel(t) != 1) return 0;
  *v = t->q.nscale ? (double)(ares_tensor_get_i(t, 0) - t->q.zp[0]) * t->q.scale[0] : ares_tensor_get_f(t, 0);
  return 1;
}

/* The axes of a reduction or LayerNormalization, when they are the trailing axes
 * first..rank-1: returns first, or -1. */
static int trailing_axes(ares_graph *g, ares_node *n, int rank) {
  int64_t axes[ARES_MAX_DIMS];
  int na = ares_attr_ints(n, "axes", axes, ARES_MAX_DIMS);
  if (na < 0) {
    na = 0;
    if (n->nin > 1 && n->in[1] >= 0) {
      if (!ares_tensor_is_const(g, n->in[1])) return -1;
      ares_tensor *a = g->tensors[n->in[1]];
      if (ares_tensor_numel(a) > ARES_MAX_DIMS) return -1;
      na = (int)ares_tensor_numel(a);
      for (int i = 0; i < na; i++) axes[i] = ares_tensor_get_i(a, i);
    }
  }
  if (na == 0) return ares_attr_int(n, "noop_with_empty_axes", 0) ? -1 : 0;
  char mark[ARES_MAX_DIMS] = {0};
  for (int i = 0; i < na; i++) {
    int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
    if (a < 0 || a >= rank || mark[a]) return -1;
    mark[a] = 1;
  }
  int first = rank - na;
  for (int i = first; i < rank; i++)
    if (!mark[i]) return -1;
  return first;
}

static int is_mean(ares_graph *g, ares_node *n, int rank, int first) {
  return n && n->op == ARES_OP_REDUCEMEAN && ares_attr_int(n, "keepdims", 1) == 1 && trailing_axes(g, n, rank) == first;
}

/* Whether node n squares tid: Pow(tid, 2) or Mul(tid, tid). */
static int squares(ares_graph *g, ares_node *n, int tid) {
  double e;
  if (n->op == ARES_OP_POW) return n->nin == 2 && n->in[0] == tid && const_scalar(g, n->in[1], &e) && e == 2.0;
  return n->op == ARES_OP_MUL && n->nin == 2 && n->in[0] == tid && n->in[1] == tid;
}

/* The real value of a constant broadcast against x at each of the n positions of the
 * trailing dims of x from `first` on (their product is n); its dims before `first` must
 * be 1. */
static int row_const(ares_graph *g, ares_node *at, int tid, const ares_tensor *x, int first, int64_t n, double *out) {
  ares_tensor *c = g->tensors[tid];
  int off = x->rank - c->rank;
  if (off < 0) return ares_fail(at, "unsupported: constant '%s' has a higher rank than the input", c->name);
  for (int d = 0; d < c->rank; d++) {
    int xd = d + off;
    if (c->dims[d] != 1 && (xd < first || c->dims[d] != x->dims[xd]))
      return ares_fail(at, "unsupported: constant '%s' does not broadcast along the normalized axes only", c->name);
  }
  for (int64_t i = 0; i < n; i++) {
    /* coordinates of position i in the row, mapped into c */
    int64_t rem = i, ci = 0, stride = 1, qi = 0;
    for (int xd = x->rank - 1; xd >= first; xd--) {
      int64_t coord = rem % x->dims[xd];
      rem /= x->dims[xd];
      int d = xd - off;
      if (d >= 0) {
        int64_t cc = c->dims[d] == 1 ? 0 : coord;
        ci += cc * stride;
        if (c->q.nscale > 1 && d == c->q.axis) qi = cc;
        stride *= c->dims[d];
      }
    }
    if (c->q.nscale) out[i] = (double)(ares_tensor_get_i(c, ci) - c->q.zp[qi]) * c->q.scale[qi];
    else out[i] = ares_tensor_get_f(c, ci);
  }
  return 0;
}

/* The quantizer the result `tid` goes into, through an optional Mul by a constant gamma
 * and (allow_beta) Add of a constant beta; gamma/beta tensor ids or -1. */
static ares_node *affine_tail(ares_graph *g, int tid, int allow_beta, int *gamma, int *beta, chain *c) {
  *gamma = *beta = -1;
  ares_node *m = ares_sole_consumer(g, tid, ARES_OP_MUL);
  if (m && ares_tensor_is_const(g, other(m, tid))) {
    *gamma = other(m, tid);
    take(c, m);
    tid = m->out[0];
  }
  ares_node *a = allow_beta ? ares_sole_consumer(g, tid, ARES_OP_ADD) : NULL;
  if (a && ares_tensor_is_const(g, other(a, tid))) {
    *beta = other(a, tid);
    take(c, a);
    tid = a->out[0];
  }
  ares_node *q = ares_sole_consumer(g, tid, ARES_OP_QUANTIZELINEAR);
  if (q) take(c, q);
  return q;
}

/* "a/b/Op" -> "a/b": the module a decomposed chain came from names the integer op. */
static const char *module_name(ares_graph *g, const ares_node *n) {
  const char *s = strrchr(n->name, '/');
  if (!s || s == n->name) return n->name;
  char *m = ares_strdup(g, n->name);
  m[s - n->name] = 0;
  return m;
}

/* The row structure of a norm: `outer` rows of n elements, cycling through nsets parameter
 * sets whose own scale and shift (NULL: 1 and 0) are set_gamma / set_beta; gamma_id and
 * beta_id (or -1) are constants broadcast against `shape`, whose trailing dims from
 * `first` on hold one period of nsets * n elements. */
typedef struct {
  int64_t outer, n, nsets;
  const double *set_gamma, *set_beta;
  const ares_tensor *shape;
  int first;
} norm_rows;

/* Builds the integer norm node once a chain has matched. */
static int make_norm(ares_graph *g, ares_node *at, const char *name, int center, ares_tensor *x, const norm_rows *nr,
                     double eps, int gamma_id, int beta_id, ares_node *q, chain *c) {
  int64_t n = nr->n, np = nr->n * nr->nsets;
  if (n > (1 << 20)) return ares_fail(at, "unsupported: normalizing %lld elements at once (at most 2^20)", (long long)n);
  if (np > (1 << 24)) return ares_fail(at, "unsupported: %lld normalization parameters", (long long)np);
  ares_tensor *y = g->tensors[q->out[0]];
  double *gm = malloc(sizeof(double) * (size_t)np), *bt = malloc(sizeof(double) * (size_t)np);
  double *gc = malloc(sizeof(double) * (size_t)np), *bc = malloc(sizeof(double) * (size_t)np);
  if (!gm || !bt || !gc || !bc) exit(2);
  int rc = 0;
  for (int64_t i = 0; i < np; i++) gc[i] = 1.0, bc[i] = 0.0;
  if (gamma_id >= 0) rc = row_const(g, at, gamma_id, nr->shape, nr->first, np, gc);
  if (rc == 0 && beta_id >= 0) rc = row_const(g, at, beta_id, nr->shape, nr->first, np, bc);
  /* gamma_c * (gamma_set * x^ + beta_set) + beta_c */
  for (int64_t k = 0; k < np; k++) {
    int64_t set = k / n;
    gm[k] = gc[k] * (nr->set_gamma ? nr->set_gamma[set] : 1.0);
    bt[k] = gc[k] * (nr->set_beta ? nr->set_beta[set] : 0.0) + bc[k];
  }
  ares_node *in = ares_node_new(g, center ? ARES_OP_QLAYERNORM : ARES_OP_QRMSNORM, name, 1, 1);
  in->in[0] = x->id;
  in->out[0] = y->id;
  if (rc == 0) rc = ares_norm_params_make(g, at, &in->p.norm, center, nr->outer, n, nr->nsets, &x->q, eps, gm, bt, &y->q);
  free(gm);
  free(bt);
  free(gc);
  free(bc);
  if (rc < 0) return -1;
  for (int i = 0; i < c->nkill; i++) c->kill[i]->dead = 1;
  return 1;
}

/* LayerNorm / RMSNorm rows: the trailing dims of x from `first` on, one parameter set. */
static norm_rows trailing_rows(const ares_tensor *x, int first) {
  norm_rows nr = {1, 1, 1, NULL, NULL, x, first};
  for (int d = 0; d < x->rank; d++) {
    if (d < first) nr.outer *= x->dims[d];
    else nr.n *= x->dims[d];
  }
  return nr;
}

/* Sqrt(tid) applied to num as a divisor: Div(num, sqrt), or Div(1, sqrt) / Reciprocal(sqrt)
 * then Mul with num. Returns the normalized tensor, or -1. */
static int apply_rsqrt(ares_graph *g, int sqrt_out, int num, chain *c) {
  ares_node *cons[2];
  if (ares_is_graph_output(g, sqrt_out) || ares_consumers(g, sqrt_out, cons, 2) != 1) return -1;
  ares_node *u = cons[0];
  double one;
  if (u->op == ARES_OP_DIV && u->nin == 2 && u->in[1] == sqrt_out && u->in[0] == num) {
    take(c, u);
    return u->out[0];
  }
  int is_recip = (u->op == ARES_OP_RECIPROCAL && u->in[0] == sqrt_out) ||
                 (u->op == ARES_OP_DIV && u->nin == 2 && u->in[1] == sqrt_out && const_scalar(g, u->in[0], &one) && one == 1.0);
  if (!is_recip) return -1;
  ares_node *m = ares_sole_consumer(g, u->out[0], ARES_OP_MUL);
  if (!m || other(m, u->out[0]) != num) return -1;
  take(c, u);
  take(c, m);
  return m->out[0];
}

/* The tail shared by both decomposed norms: ReduceMean(sq) -> [Add eps] -> Sqrt -> applied
 * to num. Returns the normalized tensor or -1; eps in *eps. */
static int mean_eps_rsqrt(ares_graph *g, ares_node *sq, int rank, int first, int num, double *eps, chain *c) {
  ares_node *m2 = ares_sole_consumer(g, sq->out[0], ARES_OP_REDUCEMEAN);
  if (!is_mean(g, m2, rank, first)) return -1;
  take(c, m2);
  int cur = m2->out[0];
  *eps = 0;
  ares_node *a = ares_sole_consumer(g, cur, ARES_OP_ADD);
  if (a && const_scalar(g, other(a, cur), eps)) {
    take(c, a);
    cur = a->out[0];
  }
  ares_node *sq_rt = ares_sole_consumer(g, cur, ARES_OP_SQRT);
  if (!sq_rt) return -1;
  take(c, sq_rt);
  return apply_rsqrt(g, sq_rt->out[0], num, c);
}

/* What a decomposed LayerNorm (center = 1) and RMSNorm share after the square sq of num:
 * the mean, epsilon and rsqrt, the affine tail (a beta only when centered) and the output
 * quantizer; the chain becomes one integer norm at `at`. */
static int match_tail(ares_graph *g, ares_node *at, int center, ares_tensor *x, int first, ares_node *sq, int num, chain *c) {
  double eps;
  int norm = mean_eps_rsqrt(g, sq, x->rank, first, num, &eps, c);
  if (norm < 0) return 0;
  int gamma, beta;
  ares_node *q = affine_tail(g, norm, center, &gamma, &beta, c);
  if (!q) return 0;
  norm_rows nr = trailing_rows(x, first);
  return make_norm(g, at, module_name(g, at), center, x, &nr, eps, gamma, beta, q, c);
}

/* ReduceMean(X) -> Sub(X, mean) -> Pow 2 -> ... -> Div: a decomposed LayerNorm at m1. */
static int match_layernorm(ares_graph *g, ares_node *m1) {
  int xid = m1->in[0];
  ares_tensor *x = dq_int(g, xid, 0);
  if (!x) return 0;
  int first = trailing_axes(g, m1, x->rank);
  if (first < 0 || !is_mean(g, m1, x->rank, first)) return 0;
  chain c = {{0}, 0};
  take(&c, m1);
  ares_node *sub = ares_sole_consumer(g, m1->out[0], ARES_OP_SUB);
  if (!sub || sub->in[0] != xid || sub->in[1] != m1->out[0]) return 0;
  take(&c, sub);
  int d = sub->out[0];
  ares_node *cons[3];
  if (ares_is_graph_output(g, d) || ares_consumers(g, d, cons, 3) != 2) return 0;
  ares_node *sq = squares(g, cons[0], d) ? cons[0] : squares(g, cons[1], d) ? cons[1] : NULL;
  if (!sq) return 0;
  take(&c, sq);
  return match_tail(g, m1, 1, x, first, sq, d, &c);
}

/* Pow(X, 2) -> ReduceMean -> ... -> X * rsqrt: a decomposed RMSNorm at sq. */
static int match_rmsnorm(ares_graph *g, ares_node *sq) {
  int xid = sq->in[0];
  ares_tensor *x = dq_int(g, xid, 0);
  if (!x || !squares(g, sq, xid)) return 0;
  ares_node *m = ares_sole_consumer(g, sq->out[0], ARES_OP_REDUCEMEAN);
  int first = m ? trailing_axes(g, m, x->rank) : -1;
  if (first < 0) return 0;
  chain c = {{0}, 0};
  take(&c, sq);
  return match_tail(g, sq, 0, x, first, sq, xid, &c);
}

static int lower_layernormalization(ares_graph *g, ares_node *n) {
  ares_tensor *x = n->nin > 0 && n->in[0] >= 0 ? dq_int(g, n->in[0], 0) : NULL;
  if (!x)
    return ares_fail(n, "unsupported: the input is not a per-tensor int8 quantized tensor (put a quantizer, e.g. "
                        "QuantIdentity, before the LayerNorm)");
  for (int k = 1; k < n->nout; k++)
    if (n->out[k] >= 0 && (g->tensors[n->out[k]]->nconsumers > 0 || ares_is_graph_output(g, n->out[k])))
      return ares_fail(n, "unsupported: the Mean / InvStdDev outputs are used");
  int64_t axis = ares_attr_int(n, "axis", -1);
  if (axis < 0) axis += x->rank;
  if (axis < 0 || axis >= x->rank) return ares_fail(n, "axis out of range");
  if (n->nin < 2 || n->in[1] < 0 || !ares_tensor_is_const(g, n->in[1]))
    return ares_fail(n, "unsupported: Scale is not a constant");
  if (n->nin > 2 && n->in[2] >= 0 && !ares_tensor_is_const(g, n->in[2]))
    return ares_fail(n, "unsupported: B is not a constant");
  chain c = {{0}, 0};
  take(&c, n);
  ares_node *q = ares_sole_consumer(g, n->out[0], ARES_OP_QUANTIZELINEAR);
  if (!q) return ares_fail(n, "unsupported: the result is not quantized (add a quantizer, e.g. QuantIdentity, after it)");
  take(&c, q);
  norm_rows nr = trailing_rows(x, (int)axis);
  return make_norm(g, n, n->name, 1, x, &nr, ares_attr_float(n, "epsilon", 1e-5f), n->in[1], n->nin > 2 ? n->in[2] : -1, q,
                   &c);
}

/* The node producing tid, read by nothing else, when it is an attention mask on a float
 * tensor: Where(c, A, B) with a constant condition and one constant branch, or Add with
 * one constant operand. *score: the other input. */
static ares_node *mask_node(ares_graph *g, int tid, int *score) {
  ares_node *p = ares_producer(g, tid);
  if (!p || ares_is_graph_output(g, tid) || g->tensors[tid]->nconsumers != 1) return NULL;
  if (p->op == ARES_OP_WHERE && p->nin == 3 && p->in[0] >= 0 && p->in[1] >= 0 && p->in[2] >= 0) {
    int c1 = ares_tensor_is_const(g, p->in[1]), c2 = ares_tensor_is_const(g, p->in[2]);
    if (c1 == c2) return NULL;
    *score = p->in[c1 ? 2 : 1];
    return p;
  }
  if (p->op == ARES_OP_ADD && p->nin == 2 && p->in[0] >= 0 && p->in[1] >= 0) {
    int c0 = ares_tensor_is_const(g, p->in[0]), c1 = ares_tensor_is_const(g, p->in[1]);
    if (c0 == c1) return NULL;
    *score = p->in[c0 ? 1 : 0];
    return p;
  }
  return NULL;
}

/* Element e of a tensor of shape (rank, dims) in constant t broadcast to it (numpy rules,
 * right-aligned; the caller checked that t broadcasts). */
static int64_t bcast_elem(const ares_tensor *t, int rank, const int64_t *dims, int64_t e) {
  int64_t idx[ARES_MAX_DIMS], i = 0;
  for (int d = rank - 1; d >= 0; d--) {
    idx[d] = e % dims[d];
    e /= dims[d];
  }
  for (int d = 0; d < t->rank; d++) i = i * t->dims[d] + (t->dims[d] == 1 ? 0 : idx[rank - t->rank + d]);
  return i;
}

static double const_real(const ares_tensor *t, int64_t i) {
  return t->q.nscale == 1 ? (double)(ares_tensor_get_i(t, i) - t->q.zp[0]) * t->q.scale[0] : ares_tensor_get_f(t, i);
}

/* The keep / mask decision of every element of scores x for mask node m (SEMANTICS.md
 * §5.12): Where's constant branch and Add's constant are real values v (times `after`,
 * the positive scale applied after the mask). An element is masked when v is -inf, or when
 * it is finite but so low that float32 exp of (its value - the row maximum) is 0 for every
 * possible input: v <= zmin - 128 for Where (the value replaces the score), v + (zmax -
 * zmin) <= -128 for Add; [zmin, zmax] is the real range of the unmasked scores. An Add of
 * exactly 0 keeps the element; anything else is refused. */
static uint8_t *mask_keep(ares_graph *g, ares_node *m, const ares_tensor *x, double zmin, double zmax, double after) {
  int64_t numel = ares_tensor_numel(x);
  const ares_tensor *k[3];
  for (int i = 0; i < m->nin; i++) {
    k[i] = g->tensors[m->in[i]];
    if (k[i]->rank > x->rank) {
      ares_fail(m, "unsupported: the mask (rank %d) broadcasts the scores (rank %d) to a larger shape", k[i]->rank, x->rank);
      return NULL;
    }
    for (int d = 0; d < k[i]->rank; d++)
      if (k[i]->dims[d] != 1 && k[i]->dims[d] != x->dims[x->rank - k[i]->rank + d]) {
        ares_fail(m, "unsupported: the mask's shape does not broadcast to the scores' shape (it would enlarge them)");
        return NULL;
      }
  }
  int where = m->op == ARES_OP_WHERE;
  int vi = where ? (ares_tensor_is_const(g, m->in[1]) ? 1 : 2) : (ares_tensor_is_const(g, m->in[0]) ? 0 : 1);
  if (where && !ares_tensor_is_const(g, m->in[0])) {
    ares_fail(m, "unsupported: the mask condition is not a constant (run-time masks are not supported)");
    return NULL;
  }
  uint8_t *keep = ares_alloc(g, (size_t)numel);
  for (int64_t e = 0; e < numel; e++) {
    double v = const_real(k[vi], bcast_elem(k[vi], x->rank, x->dims, e)) * after;
    if (where) {
      int cond = ares_tensor_get_f(k[0], bcast_elem(k[0], x->rank, x->dims, e)) != 0;
      if (cond == (vi == 2)) {
        keep[e] = 1; /* the score itself */
        continue;
      }
      if (v == -INFINITY || (isfinite(v) && v <= zmin - 128)) {
        keep[e] = 0;
        continue;
      }
      ares_fail(m, "unsupported: masked attention score replaced by %g (only -inf, or a value at least 128 below the "
                   "scores' range [%g, %g], is an exact mask)", v, zmin, zmax);
      return NULL;
    }
    if (v == 0) keep[e] = 1;
    else if (v == -INFINITY || (isfinite(v) && v + (zmax - zmin) <= -128)) keep[e] = 0;
    else {
      ares_fail(m, "unsupported: additive attention mask with finite values (%g at element %lld): only 0 and -inf (or "
                   "values at least 128 below the scores' range [%g, %g]) are exact masks", v, (long long)e, zmin, zmax);
      return NULL;
    }
  }
  return keep;
}

static int lower_softmax(ares_graph *g, ares_node *n) {
  chain c = {{0}, 0};
  take(&c, n);
  int xid = n->in[0], sid;
  double alpha = 1.0, v, after = 1.0;
  /* an attention mask, after the scalar scale or before it */
  ares_node *mask = mask_node(g, xid, &sid);
  if (mask) xid = sid, take(&c, mask);
  ares_node *p = ares_producer(g, xid);
  /* a scalar scale before the softmax folds into its input scale */
  if (p && (p->op == ARES_OP_MUL || p->op == ARES_OP_DIV) && p->nin == 2 && !ares_is_graph_output(g, xid) &&
      g->tensors[xid]->nconsumers == 1) {
    int k = p->op == ARES_OP_MUL && const_scalar(g, p->in[0], &v) ? 0 : 1;
    if (const_scalar(g, p->in[k], &v) && (dq_int(g, p->in[1 - k], 1) || (!mask && mask_node(g, p->in[1 - k], &sid)))) {
      alpha = p->op == ARES_OP_MUL ? v : 1.0 / v;
      xid = p->in[1 - k];
      take(&c, p);
      if (!mask && (mask = mask_node(g, xid, &sid))) xid = sid, take(&c, mask), after = alpha;
    }
  }
  ares_tensor *x = dq_int(g, xid, 1);
  ares_node *pm = ares_producer(g, xid);
  if (!x && !mask && pm && (pm->op == ARES_OP_ADD || pm->op == ARES_OP_WHERE))
    for (int k = 0; k < pm->nin; k++)
      if (pm->in[k] >= 0 && dq_int(g, pm->in[k], 1))
        return ares_fail(pm, "unsupported: a run-time attention mask (the %s's other operands must be constants)",
                         pm->op_type);
  if (!x)
    return ares_fail(n, "unsupported: the input is not a per-tensor quantized int8 (or int32) tensor, nor one scaled by "
                        "a constant scalar");
  if (!(alpha > 0) || !isfinite(alpha)) return ares_fail(n, "unsupported: the input is scaled by %g (positive only)", alpha);
  int64_t axis = ares_attr_int(n, "axis", g->opset >= 13 ? -1 : 1);
  if (axis < 0) axis += x->rank;
  if (axis < 0 || axis >= x->rank) return ares_fail(n, "axis out of range");
  if (g->opset < 13 && axis != x->rank - 1)
    return ares_fail(n, "unsupported: opset %lld Softmax over more than the last axis", (long long)g->opset);
  ares_node *q = ares_sole_consumer(g, n->out[0], ARES_OP_QUANTIZELINEAR);
  if (!q) return ares_fail(n, "unsupported: the result is not quantized (add a quantizer after the Softmax)");
  take(&c, q);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < x->rank; d++) {
    if (d < axis) outer *= x->dims[d];
    else if (d > axis) inner *= x->dims[d];
  }
  uint8_t *keep = NULL;
  if (mask) {
    const ares_tensor *sm = g->tensors[n->in[0]];
    if (sm->rank != x->rank || memcmp(sm->dims, x->dims, sizeof(int64_t) * (size_t)x->rank))
      return ares_fail(mask, "unsupported: the mask broadcasts the scores to a larger shape");
    if (inner != 1) return ares_fail(mask, "unsupported: a masked softmax over an axis other than the last");
    if (ares_tensor_numel(x) > ((int64_t)1 << 26))
      return ares_fail(mask, "unsupported: a masked softmax over more than 2^26 scores");
    double s = alpha * x->q.scale[0];
    keep = mask_keep(g, mask, x, s * ((double)x->q.qmin - x->q.zp[0]), s * ((double)x->q.qmax - x->q.zp[0]), after);
    if (!keep) return -1;
  }
  ares_tensor *y = g->tensors[q->out[0]];
  ares_softmax_params sp = {0};
  int mask_tid = -1;
  if (ares_softmax_params_make(g, n, &sp, outer, x->dims[axis], inner, x->dtype == ARES_DT_I32, alpha * x->q.scale[0],
                               &y->q) < 0)
    return -1;
  if (keep && ares_softmax_mask_make(g, mask, &sp, keep, &mask_tid) < 0) return -1;
  ares_node *in = ares_node_new(g, ARES_OP_QSOFTMAX, n->name, mask_tid >= 0 ? 2 : 1, 1);
  in->in[0] = x->id;
  if (mask_tid >= 0) in->in[1] = mask_tid;
  in->out[0] = y->id;
  in->p.softmax = sp;
  for (int i = 0; i < c.nkill; i++) c.kill[i]->dead = 1;
  return 1;
}

/* InstanceNormalization over [N, C, ...]: N*C rows of the spatial elements, one parameter
 * set per channel (its Scale and B). GroupNorm exports as a Reshape to [N, groups, -1]
 * before it (an integer reshape by now) and a Reshape back, then the affine Mul / Add on
 * the original shape. */
static int lower_instancenorm(ares_graph *g, ares_node *n) {
  ares_tensor *x = n->nin > 0 && n->in[0] >= 0 ? dq_int(g, n->in[0], 0) : NULL;
  if (!x)
    return ares_fail(n, "unsupported: the input is not a per-tensor int8 quantized tensor (put a quantizer before the norm)");
  if (x->rank < 3) return ares_fail(n, "input of rank %d (at least 3 expected)", x->rank);
  int64_t sets = x->dims[1];
  if (sets < 1 || sets > (1 << 24)) return ares_fail(n, "unsupported: %lld channels", (long long)sets);
  double *sg = ares_alloc(g, sizeof(double) * (size_t)sets), *sb = ares_alloc(g, sizeof(double) * (size_t)sets);
  for (int k = 1; k <= 2; k++) {
    if (n->nin <= k || n->in[k] < 0 || !ares_tensor_is_const(g, n->in[k]) || ares_tensor_numel(g->tensors[n->in[k]]) != sets)
      return ares_fail(n, "unsupported: %s is not a constant of %lld values", k == 1 ? "scale" : "B", (long long)sets);
    ares_tensor *t = g->tensors[n->in[k]];
    for (int64_t i = 0; i < sets; i++) {
      int qi = t->q.nscale > 1 ? (int)i : 0;
      double v = t->q.nscale ? (double)(ares_tensor_get_i(t, i) - t->q.zp[qi]) * t->q.scale[qi] : ares_tensor_get_f(t, i);
      (k == 1 ? sg : sb)[i] = v;
    }
  }
  chain c = {{0}, 0};
  take(&c, n);
  int cur = n->out[0];
  ares_node *r = ares_sole_consumer(g, cur, ARES_OP_RESHAPE);
  if (r && r->in[0] == cur) {
    take(&c, r);
    cur = r->out[0];
  }
  int gamma, beta;
  ares_node *q = affine_tail(g, cur, 1, &gamma, &beta, &c);
  if (!q) return ares_fail(n, "unsupported: the result is not quantized (add a quantizer after the norm)");
  norm_rows nr = {x->dims[0] * sets, 1, sets, sg, sb, g->tensors[cur], -1};
  for (int d = 2; d < x->rank; d++) nr.n *= x->dims[d];
  /* the period of the parameters, nsets * n, in the trailing dims of the affine's input */
  int64_t prod = 1;
  for (int d = nr.shape->rank - 1; d >= 0 && prod < sets * nr.n; d--) {
    prod *= nr.shape->dims[d];
    if (prod == sets * nr.n) nr.first = d;
  }
  if (nr.first < 0) return ares_fail(n, "unsupported: the reshape after the norm does not keep whole samples");
  return make_norm(g, n, module_name(g, n), 1, x, &nr, ares_attr_float(n, "epsilon", 1e-5f), gamma, beta, q, &c);
}

int ares_pass_lower_norm(ares_graph *g) {
  int rc = 0;
  int count = g->nnodes; /* nodes created here are integer ops: not revisited */
  for (int i = 0; i < count; i++) {
    ares_node *n = g->nodes[i];
    if (n->dead) continue;
    int n0 = g->nnodes, r = 0;
    switch (n->op) {
    case ARES_OP_REDUCEMEAN: r = match_layernorm(g, n); break;
    case ARES_OP_POW:
    case ARES_OP_MUL: r = match_rmsnorm(g, n); break;
    case ARES_OP_LAYERNORM: r = lower_layernormalization(g, n); break;
    case ARES_OP_SOFTMAX: r = lower_softmax(g, n); break;
    case ARES_OP_INSTANCENORM: r = lower_instancenorm(g, n); break;
    default: break;
    }
    if (r < 0) {
      rc = -1;
      for (int k = n0; k < g->nnodes; k++) g->nodes[k]->dead = 1;
    }
    if (r != 0) ares_graph_relink(g);
  }
  ares_graph_relink(g);
  return rc;
}
