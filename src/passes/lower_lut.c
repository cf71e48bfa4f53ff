/* lower-lut: elementwise float islands become 256-entry tables.
 *
 * An island is a connected set of elementwise float ops (GELU's Div/Erf/Add/Mul, SiLU's
 * Sigmoid and Mul, Hardswish's HardSigmoid and Mul, Softplus, Tanh ...) whose only
 * non-constant leaf is DQ(t) for one per-tensor int8 tensor t (used any number of times),
 * whose constants are uniform (every element equal: a scalar under broadcasting), and whose
 * one result feeds a QuantizeLinear (or is a float graph output). Since t takes at most 256
 * values, the island is a function int8 -> int8: it is evaluated here, in float32 op by op
 * (docs/SEMANTICS.md, "qlut"), for every value, quantized like QuantizeLinear, and replaced
 * by one `qlut`. Anything else is left alone for the passes after this one: a non-match is
 * not an error here. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/diag.h"
#include "passes.h"

#define MAX_ISLAND 64

static int is_island_op(ares_op op) {
  switch (op) {
  case ARES_OP_ADD: case ARES_OP_SUB: case ARES_OP_MUL: case ARES_OP_DIV: case ARES_OP_POW:
  case ARES_OP_MIN: case ARES_OP_MAX: case ARES_OP_SQRT: case ARES_OP_EXP: case ARES_OP_LOG:
  case ARES_OP_ERF: case ARES_OP_TANH: case ARES_OP_SIGMOID: case ARES_OP_GELU: case ARES_OP_SOFTPLUS:
  case ARES_OP_SOFTSIGN: case ARES_OP_HARDSIGMOID: case ARES_OP_HARDSWISH: case ARES_OP_NEG:
  case ARES_OP_ABS: case ARES_OP_RECIPROCAL: case ARES_OP_RELU: case ARES_OP_LEAKYRELU: case ARES_OP_ELU:
  case ARES_OP_CLIP: case ARES_OP_PRELU: return 1;
  default: return 0;
  }
}

typedef struct {
  ares_node *node[MAX_ISLAND]; /* in dependency order: inputs before users */
  int n;
  ares_tensor *leaf;           /* t of the DQ(t) every non-constant leaf is */
  int dq_out[MAX_ISLAND];      /* the outputs of those DQ nodes (one t may have several) */
  int ndq;
} island;

static int in_island(const island *is, const ares_node *n) {
  for (int i = 0; i < is->n; i++)
    if (is->node[i] == n) return 1;
  return 0;
}

/* A constant whose elements are all equal (a scalar under broadcasting), float32. */
static int uniform_const(const ares_graph *g, int tid) {
  if (!ares_tensor_is_const(g, tid)) return 0;
  const ares_tensor *c = g->tensors[tid];
  if (c->q.nscale || !c->data) return 0;
  int64_t cnt = ares_tensor_numel(c);
  if (cnt < 1) return 0;
  double v0 = ares_tensor_get_f(c, 0);
  for (int64_t i = 1; i < cnt; i++)
    if (ares_tensor_get_f(c, i) != v0) return 0;
  return 1;
}

static int attrs_supported(const ares_node *n) {
  if (n->op == ARES_OP_GELU) {
    const char *a = ares_attr_string(n, "approximate", "none");
    return strcmp(a, "none") == 0 || strcmp(a, "tanh") == 0;
  }
  return n->nout == 1 || (n->nout > 1 && n->out[1] < 0);
}

/* Collects the island producing tensor tid, post-order (inputs first). 0: not an island. */
static int collect(ares_graph *g, island *is, int tid, int depth) {
  if (depth > MAX_ISLAND) return 0;
  ares_node *p = ares_producer(g, tid);
  if (!p || p->dead) return 0;
  if (p->op == ARES_OP_DEQUANTIZELINEAR) {
    ares_tensor *t = g->tensors[p->in[0]];
    if (p->nin != 1 || t->dtype != ARES_DT_I8 || t->q.nscale != 1) return 0;
    if (is->leaf && is->leaf != t) return 0; /* a second activation: not a table */
    is->leaf = t;
    for (int i = 0; i < is->ndq; i++)
      if (is->dq_out[i] == tid) return 1;
    if (is->ndq == MAX_ISLAND) return 0;
    is->dq_out[is->ndq++] = tid;
    return 1;
  }
  if (!is_island_op(p->op) || !attrs_supported(p)) return 0;
  if (in_island(is, p)) return 1;
  for (int k = 0; k < p->nin; k++) {
    int in = p->in[k];
    if (in < 0) continue; /* absent optional input (Clip bounds) */
    if (ares_tensor_is_const(g, in)) {
      if (!uniform_const(g, in)) return 0;
      continue;
    }
    if (!collect(g, is, in, depth + 1)) return 0;
  }
  if (in_island(is, p)) return 1; /* reached twice through its inputs' paths */
  if (is->n == MAX_ISLAND) return 0;
  is->node[is->n++] = p;
  return 1;
}

/* Every value the island computes stays inside it, except its result `out`, which only
 * `sink` reads (sink NULL: out is a graph output nobody else reads). */
static int closed(ares_graph *g, const island *is, int out, const ares_node *sink) {
  for (int i = 0; i < is->n; i++) {
    int y = is->node[i]->out[0];
    ares_node *c[MAX_ISLAND + 1];
    int nc = ares_consumers(g, y, c, MAX_ISLAND + 1);
    if (nc > MAX_ISLAND) return 0;
    if (y == out) {
      if (sink ? nc != 1 || c[0] != sink || ares_is_graph_output(g, y) : nc != 0 || !ares_is_graph_output(g, y)) return 0;
      continue;
    }
    if (ares_is_graph_output(g, y)) return 0;
    for (int k = 0; k < nc; k++)
      if (!in_island(is, c[k])) return 0;
  }
  return 1;
}

/* --- float32 evaluation ------------------------------------------------------------------
 * Every op takes float32 operands and returns its exact real result rounded once to
 * float32: IEEE float32 arithmetic for + - * /, sqrtf, and for the transcendental functions
 * the double-precision libm function of the float32 operand, rounded to float32 (correctly
 * rounded except when the exact value lies within about 2^-29 relative of a float32
 * rounding boundary). */

static float operand(const ares_graph *g, int tid, const float *val) {
  const ares_tensor *t = g->tensors[tid];
  return t->data ? (float)ares_tensor_get_f(t, 0) : val[tid];
}

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

static float eval_node(const ares_graph *g, const ares_node *n, const float *val) {
  float a = operand(g, n->in[0], val);
  float b = n->nin > 1 && n->in[1] >= 0 ? operand(g, n->in[1], val) : 0.0f;
  double x = a;
  switch (n->op) {
  case ARES_OP_ADD: return a + b;
  case ARES_OP_SUB: return a - b;
  case ARES_OP_MUL: return a * b;
  case ARES_OP_DIV: return a / b;
  case ARES_OP_POW: return (float)pow(x, (double)b);
  case ARES_OP_MIN:
  case ARES_OP_MAX: {
    float r = a;
    for (int k = 1; k < n->nin; k++) {
      float v = operand(g, n->in[k], val);
      if (isnan(v) || isnan(r)) r = NAN;
      else if (n->op == ARES_OP_MIN ? v < r : v > r) r = v;
    }
    return r;
  }
  case ARES_OP_SQRT: return sqrtf(a);
  case ARES_OP_EXP: return (float)exp(x);
  case ARES_OP_LOG: return (float)log(x);
  case ARES_OP_ERF: return (float)erf(x);
  case ARES_OP_TANH: return (float)tanh(x);
  case ARES_OP_SIGMOID: return (float)(1.0 / (1.0 + exp(-x)));
  case ARES_OP_GELU:
    if (strcmp(ares_attr_string(n, "approximate", "none"), "tanh") == 0)
      return (float)(0.5 * x * (1.0 + tanh(0.79788456080286535588 /* sqrt(2 / pi) */ * (x + 0.044715 * x * x * x))));
    return (float)(0.5 * x * (1.0 + erf(x / sqrt(2.0))));
  case ARES_OP_SOFTPLUS: return (float)softplus(x);
  case ARES_OP_SOFTSIGN: return (float)(x / (1.0 + fabs(x)));
  case ARES_OP_HARDSIGMOID: {
    double v = (double)ares_attr_float(n, "alpha", 0.2f) * x + (double)ares_attr_float(n, "beta", 0.5f);
    return (float)(v < 0 ? 0 : v > 1 ? 1 : v);
  }
  case ARES_OP_HARDSWISH: {
    double v = x / 6.0 + 0.5;
    return (float)(x * (v < 0 ? 0 : v > 1 ? 1 : v));
  }
  case ARES_OP_NEG: return -a;
  case ARES_OP_ABS: return fabsf(a);
  case ARES_OP_RECIPROCAL: return 1.0f / a;
  case ARES_OP_RELU: return a < 0 ? 0.0f : a;
  case ARES_OP_LEAKYRELU: return a < 0 ? ares_attr_float(n, "alpha", 0.01f) * a : a;
  case ARES_OP_PRELU: return a < 0 ? b * a : a;
  case ARES_OP_ELU: return a < 0 ? (float)((double)ares_attr_float(n, "alpha", 1.0f) * expm1(x)) : a;
  case ARES_OP_CLIP: {
    /* bounds: inputs from opset 11 on, attributes before; absent = unbounded */
    float lo = -INFINITY, hi = INFINITY;
    if (n->nin > 1 && n->in[1] >= 0) lo = operand(g, n->in[1], val);
    else if (ares_attr_find(n, "min")) lo = ares_attr_float(n, "min", 0);
    if (n->nin > 2 && n->in[2] >= 0) hi = operand(g, n->in[2], val);
    else if (ares_attr_find(n, "max")) hi = ares_attr_float(n, "max", 0);
    if (isnan(a)) return a;
    return a < lo ? lo : a > hi ? hi : a;
  }
  default: return NAN; /* not an island op: collect() never lets one in */
  }
}

/* QuantizeLinear of one float32: round_half_even(y / s) + zp, clamped; NaN -> zp (as the
 * `quantize` op, SEMANTICS.md §4). */
static int8_t quantize(float y, const ares_quant *q) {
  float v = y / q->scale[0];
  double r = isnan(v) ? 0.0 : (double)rintf(v);
  r += q->zp[0];
  return (int8_t)(r < q->qmin ? q->qmin : r > q->qmax ? q->qmax : r);
}

/* The island's value for every int8 input x: float table[x + 128]. */
static void evaluate(ares_graph *g, const island *is, float *val, float table[256]) {
  const ares_quant *q = &is->leaf->q;
  for (int x = -128; x < 128; x++) {
    for (int i = 0; i < is->ndq; i++) val[is->dq_out[i]] = (float)(x - q->zp[0]) * q->scale[0]; /* DequantizeLinear */
    for (int i = 0; i < is->n; i++) val[is->node[i]->out[0]] = eval_node(g, is->node[i], val);
    table[x + 128] = val[is->node[is->n - 1]->out[0]];
  }
}

/* The island ending in tensor `out` (read by Q node `q`, or a float graph output when q
 * is NULL) as one qlut, if it is one. */
static int try_island(ares_graph *g, int out, ares_node *q, float *val) {
  island is;
  memset(&is, 0, sizeof is);
  ares_node *last = ares_producer(g, out);
  if (!last || last->dead || !is_island_op(last->op) || !collect(g, &is, out, 0) || !is.leaf) return 0;
  if (is.node[is.n - 1] != last || !closed(g, &is, out, q)) return 0;
  /* with uniform constants only, the result has the leaf's elements in the leaf's order
   * unless broadcasting against a constant grew it */
  ares_tensor *y = g->tensors[out];
  if (ares_tensor_numel(y) != ares_tensor_numel(is.leaf)) return 0;
  float table[256];
  evaluate(g, &is, val, table);
  ares_node *in = ares_node_new(g, ARES_OP_QLUT, last->name, 1, 1);
  in->in[0] = is.leaf->id;
  if (q) {
    in->out[0] = q->out[0];
    in->p.lut.table = ares_alloc(g, 256);
    for (int v = 0; v < 256; v++) in->p.lut.table[v] = quantize(table[v], &g->tensors[q->out[0]]->q);
    q->dead = 1;
  } else {
    in->out[0] = out;
    in->p.lut.ftable = ares_alloc(g, sizeof(float) * 256);
    memcpy(in->p.lut.ftable, table, sizeof table);
  }
  for (int i = 0; i < is.n; i++) is.node[i]->dead = 1;
  ares_graph_relink(g);
  return 1;
}

int ares_pass_lower_lut(ares_graph *g) {
  /* nothing but a table computes PReLU; with a slope per channel there is no one table */
  for (int i = 0; i < g->nnodes; i++) {
    ares_node *n = g->nodes[i];
    if (!n->dead && n->op == ARES_OP_PRELU && n->nin == 2 && ares_tensor_is_const(g, n->in[1]) && !uniform_const(g, n->in[1]))
      return ares_fail(n, "unsupported: a slope per channel (one table per tensor: use nn.PReLU() with one parameter, "
                          "or LeakyReLU)");
  }
  float *val = calloc((size_t)g->ntensors + 1, sizeof(float));
  if (!val) return ares_fail(NULL, "out of memory");
  int nn = g->nnodes; /* nodes created here are qluts: not visited */
  for (int i = 0; i < nn; i++) {
    ares_node *n = g->nodes[i];
    if (n->dead || n->op != ARES_OP_QUANTIZELINEAR || n->nin != 1) continue;
    try_island(g, n->in[0], n, val);
  }
  for (int i = 0; i < g->noutputs; i++) try_island(g, g->outputs[i], NULL, val);
  free(val);
  return 0;
}
