/* canon-qop: the QOperator format and integer graph inputs and outputs, rewritten into the
 * QDQ form the later passes handle (docs/SEMANTICS.md §5.9).
 *
 *   QLinearConv(x, sx, zx, w, sw, zw, sy, zy, B)  ->  Q(Conv(DQ(x, sx, zx), W, Bq), sy, zy)
 *   QLinearMatMul, QGemm, ConvInteger, MatMulInteger, QLinearAdd, QLinearMul,
 *   QLinearSigmoid, QLinearLeakyRelu, QLinearSoftmax, QLinearConcat, QLinearAveragePool,
 *   QLinearGlobalAveragePool                          likewise
 *   MaxPool / Flatten / Reshape / Squeeze / Unsqueeze / Transpose on an integer tensor t
 *                                                 ->  Q(op(DQ(t)), s_t, z_t), same quantization
 *
 * The constant weight becomes a quantized int8 constant with zero point 0 right here:
 * W = w - zw, exact. When that leaves int8 (uint8 weights, or int8 ones with a zero point),
 * W is split into k int8 parts of the same sign, W = W_1 + ... + W_k, laid side by side
 * along the reduction axis, and the input is concatenated k times along it: the
 * accumulator is the same sum, with k times the MACs. The int32 bias becomes an int32
 * constant quantized at fl32(sx * sw[c]), as QDQ exports write it. ConvInteger and
 * MatMulInteger quantize their result to int32 with scale 1: the accumulator itself.
 *
 * Integer graph inputs take their quantization from the DequantizeLinear (or QOperator op)
 * reading them; a uint8 one is converted into ARES' int8 storage (value - 128) by a qcast
 * node, and a uint8 graph output written by a QuantizeLinear is converted back. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/diag.h"
#include "passes.h"

/* What is known about an integer activation before canon-quant: the scale and zero-point
 * tensors that quantize it, and its element type. */
typedef struct {
  int s, z;      /* tensor ids; s < 0: not an integer activation */
  ares_dtype dt;
  int axis;      /* a graph input dequantized per axis straight to a graph output; else -1 */
} int_info;

typedef struct {
  ares_graph *g;
  int_info *info;
  int ninfo;
  ares_node *n;  /* the node being rewritten */
} qop_ctx;

static int_info *info_of(qop_ctx *c, int tid) { return tid >= 0 && tid < c->ninfo ? &c->info[tid] : NULL; }

static int is_int8_type(ares_dtype t) { return t == ARES_DT_I8 || t == ARES_DT_U8; }

static int has_in(const ares_node *n, int k) { return k < n->nin && n->in[k] >= 0; }

/* A node of the rewrite, named and typed after the QOperator node so diagnostics name it. */
static ares_node *new_node(qop_ctx *c, ares_op op, int nin) {
  ares_node *m = ares_node_new(c->g, op, c->n->name, nin, 1);
  m->op_type = c->n->op_type;
  return m;
}

static ares_tensor *new_tensor(qop_ctx *c, const char *name, ares_dtype dt) {
  ares_tensor *t = ares_tensor_new(c->g, name);
  t->dtype = dt;
  return t;
}

static int const_scalar(qop_ctx *c, ares_dtype dt, double v) {
  ares_tensor *t = ares_tensor_new_const(c->g, "qop_const", dt, 0, NULL);
  if (dt == ARES_DT_F32) *(float *)t->data = (float)v;
  else ares_tensor_set_i(t, 0, (int64_t)v);
  return t->id;
}

static void add_int_attr(ares_graph *g, ares_node *n, const char *name, int64_t v) {
  ares_attr *a = ares_alloc(g, sizeof(ares_attr) * (size_t)(n->nattr + 1));
  if (n->nattr) memcpy(a, n->attr, sizeof(ares_attr) * (size_t)n->nattr);
  a[n->nattr].name = ares_strdup(g, name);
  a[n->nattr].type = ARES_ATTR_INT;
  a[n->nattr].i = v;
  n->attr = a;
  n->nattr++;
}

/* Per-tensor activation scale and zero point: constants, one element each, float32 and
 * int8/uint8 (of the tensor's own type when that is known). */
static int check_act_params(qop_ctx *c, int x, int s, int z, const char *what) {
  ares_graph *g = c->g;
  ares_node *n = c->n;
  if (s < 0) return ares_fail(n, "%s_scale is missing", what);
  ares_tensor *ts = g->tensors[s];
  if (!ares_tensor_is_const(g, s)) return ares_fail(n, "unsupported: %s_scale is not a constant", what);
  if (ts->dtype != ARES_DT_F32) return ares_fail(n, "%s_scale is %s, float32 expected", what, ares_dtype_name(ts->dtype));
  if (ares_tensor_numel(ts) != 1)
    return ares_fail(n, "unsupported: %s_scale has %lld elements (activations are quantized per tensor: one expected)", what,
                     (long long)ares_tensor_numel(ts));
  if (z < 0) return 0;
  ares_tensor *tz = g->tensors[z];
  if (!ares_tensor_is_const(g, z)) return ares_fail(n, "unsupported: %s_zero_point is not a constant", what);
  if (!is_int8_type(tz->dtype)) return ares_fail(n, "%s_zero_point is %s, int8 or uint8 expected", what, ares_dtype_name(tz->dtype));
  if (ares_tensor_numel(tz) != 1)
    return ares_fail(n, "%s_zero_point has %lld elements but %s_scale has 1", what, (long long)ares_tensor_numel(tz), what);
  int_info *xi = info_of(c, x);
  if (x >= 0 && xi && xi->s >= 0 && xi->dt != tz->dtype)
    return ares_fail(n, "%s_zero_point is %s but %s is %s", what, ares_dtype_name(tz->dtype), g->tensors[x]->name,
                     ares_dtype_name(xi->dt));
  return 0;
}

/* DQ(x, s, z): the float view of integer input x. */
static int dq_of(qop_ctx *c, int x, int s, int z, const char *what) {
  if (x < 0) return ares_fail(c->n, "input %s is missing", what);
  if (check_act_params(c, x, s, z, what) < 0) return -1;
  int_info *xi = info_of(c, x);
  if (z < 0 && xi && xi->s >= 0) z = const_scalar(c, xi->dt, 0); /* zero, in the tensor's own type */
  ares_node *dq = new_node(c, ARES_OP_DEQUANTIZELINEAR, z >= 0 ? 3 : 2);
  dq->in[0] = x;
  dq->in[1] = s;
  if (z >= 0) dq->in[2] = z;
  ares_tensor *f = new_tensor(c, c->g->tensors[x]->name, ARES_DT_F32);
  dq->out[0] = f->id;
  return f->id;
}

/* The node's result y becomes Q(yf, s, z): returns yf, the float tensor the node now writes. */
static int q_to(qop_ctx *c, int y, int s, int z, const char *what) {
  if (check_act_params(c, -1, s, z, what) < 0) return -1;
  ares_node *q = new_node(c, ARES_OP_QUANTIZELINEAR, z >= 0 ? 3 : 2);
  ares_tensor *f = new_tensor(c, c->g->tensors[y]->name, ARES_DT_F32);
  q->in[0] = f->id;
  q->in[1] = s;
  if (z >= 0) q->in[2] = z;
  q->out[0] = y;
  int_info *yi = info_of(c, y);
  if (yi) *yi = (int_info){s, z, z >= 0 ? c->g->tensors[z]->dtype : ARES_DT_U8, -1};
  return f->id;
}

/* The constant weight w (with scale s and zero point z, per tensor or along axis ca) as
 * int8 parts with zero point 0, side by side along axis sa (the reduction axis). Returns
 * the new constant's id and the number of parts in *k. */
static int weight(qop_ctx *c, int w, int s, int z, int ca, int sa, int *k) {
  ares_graph *g = c->g;
  ares_node *n = c->n;
  if (w < 0) return ares_fail(n, "the weight input is missing");
  ares_tensor *tw = g->tensors[w];
  if (!ares_tensor_is_const(g, w))
    return ares_fail(n, "unsupported: weight '%s' is not a constant (ARES multiplies activations by constant weights only)",
                     tw->name);
  if (!is_int8_type(tw->dtype)) return ares_fail(n, "weight '%s' is %s, int8 or uint8 expected", tw->name, ares_dtype_name(tw->dtype));
  if (tw->rank < 2 || ca >= tw->rank || sa >= tw->rank) return ares_fail(n, "weight '%s' has rank %d", tw->name, tw->rank);
  int64_t ch = tw->dims[ca];
  int64_t ns = 1, nz = 0;
  float *scale = NULL;
  if (s < 0) {
    scale = ares_alloc(g, sizeof(float));
    scale[0] = 1.0f;
  } else {
    ares_tensor *ts = g->tensors[s];
    if (!ares_tensor_is_const(g, s)) return ares_fail(n, "unsupported: the weight scale is not a constant");
    if (ts->dtype != ARES_DT_F32) return ares_fail(n, "the weight scale is %s, float32 expected", ares_dtype_name(ts->dtype));
    ns = ares_tensor_numel(ts);
    if (ns != 1 && ns != ch)
      return ares_fail(n, "the weight scale has %lld elements for %lld output channels (1 or %lld expected)", (long long)ns,
                       (long long)ch, (long long)ch);
    scale = ts->data;
    for (int64_t i = 0; i < ns; i++)
      if (!(scale[i] > 0) || !isfinite(scale[i])) return ares_fail(n, "weight scale %g is not a positive finite number", scale[i]);
  }
  if (z >= 0) {
    ares_tensor *tz = g->tensors[z];
    if (!ares_tensor_is_const(g, z)) return ares_fail(n, "unsupported: the weight zero point is not a constant");
    if (tz->dtype != tw->dtype)
      return ares_fail(n, "the weight zero point is %s but the weight is %s", ares_dtype_name(tz->dtype), ares_dtype_name(tw->dtype));
    nz = ares_tensor_numel(tz);
    if (nz != 1 && nz != ch)
      return ares_fail(n, "the weight zero point has %lld elements for %lld output channels (1 or %lld expected)", (long long)nz,
                       (long long)ch, (long long)ch);
    if (ns != 1 && nz != ns && nz != 1)
      return ares_fail(n, "the weight scale has %lld elements but its zero point %lld", (long long)ns, (long long)nz);
  }
  int64_t numel = ares_tensor_numel(tw), inner_ca = 1, inner = 1;
  for (int d = ca + 1; d < tw->rank; d++) inner_ca *= tw->dims[d];
  for (int d = sa + 1; d < tw->rank; d++) inner *= tw->dims[d];
  int32_t *v = malloc(sizeof(int32_t) * (size_t)(numel ? numel : 1));
  if (!v) exit(2);
  int32_t vmax = 0;
  for (int64_t i = 0; i < numel; i++) {
    int64_t chan = (i / inner_ca) % ch;
    int64_t zp = z >= 0 ? ares_tensor_get_i(g->tensors[z], nz == 1 ? 0 : chan) : 0;
    v[i] = (int32_t)(ares_tensor_get_i(tw, i) - zp);
    if (abs(v[i]) > vmax) vmax = abs(v[i]);
  }
  /* int8 parts of the same sign: |part| <= ceil(|v| / k) <= 127 */
  int fits = 1;
  for (int64_t i = 0; i < numel; i++) fits &= v[i] >= -128 && v[i] <= 127;
  *k = fits ? 1 : (vmax + 126) / 127;
  int64_t d = tw->dims[sa], dims[ARES_MAX_DIMS];
  memcpy(dims, tw->dims, sizeof dims);
  dims[sa] = d * *k;
  ares_tensor *tq = ares_tensor_new_const(g, tw->name, ARES_DT_I8, tw->rank, dims);
  for (int64_t i = 0; i < numel; i++) {
    int64_t o = i / (d * inner), r = i % (d * inner);
    int32_t q = v[i] / *k, rem = v[i] - q * *k;
    for (int j = 0; j < *k; j++) {
      int32_t part = q + (j < abs(rem) ? (rem < 0 ? -1 : 1) : 0);
      ((int8_t *)tq->data)[o * (d * inner * *k) + j * d * inner + r] = (int8_t)part;
    }
  }
  free(v);
  int32_t *zeros = ares_alloc(g, sizeof(int32_t) * (size_t)ns);
  ares_quant_set(g, tq, (int)ns, ns > 1 ? ca : 0, scale, zeros, -128, 127);
  return tq->id;
}

/* k copies of the float input x side by side along axis (the weight's parts). */
static int repeat_input(qop_ctx *c, int x, int k, int axis) {
  if (k == 1) return x;
  ares_node *cat = new_node(c, ARES_OP_CONCAT, k);
  for (int j = 0; j < k; j++) cat->in[j] = x;
  add_int_attr(c->g, cat, "axis", axis);
  ares_tensor *f = new_tensor(c, c->g->tensors[x]->name, ARES_DT_F32);
  cat->out[0] = f->id;
  return f->id;
}

/* The int32 bias B in accumulator units, as a constant quantized at fl32(sx * sw[c]). */
static int bias(qop_ctx *c, int b, int sx, int sw, int64_t cout) {
  ares_graph *g = c->g;
  ares_node *n = c->n;
  if (b < 0) return -1;
  ares_tensor *tb = g->tensors[b];
  if (!ares_tensor_is_const(g, b)) return ares_fail(n, "unsupported: bias '%s' is not a constant", tb->name);
  if (tb->dtype != ARES_DT_I32) return ares_fail(n, "bias '%s' is %s, int32 expected", tb->name, ares_dtype_name(tb->dtype));
  if (ares_tensor_numel(tb) != cout)
    return ares_fail(n, "bias '%s' has %lld elements for %lld output channels", tb->name, (long long)ares_tensor_numel(tb),
                     (long long)cout);
  ares_tensor *ts = g->tensors[sw];
  int ns = (int)ares_tensor_numel(ts);
  float *scale = ares_alloc(g, sizeof(float) * (size_t)ns);
  for (int i = 0; i < ns; i++) scale[i] = (float)((double)*(float *)g->tensors[sx]->data * ((float *)ts->data)[i]);
  ares_tensor *q = ares_tensor_new_shaped(g, tb->name, ARES_DT_I32, tb->rank, tb->dims);
  q->data = tb->data;
  int32_t *zeros = ares_alloc(g, sizeof(int32_t) * (size_t)ns);
  ares_quant_set(g, q, ns, 0, scale, zeros, INT32_MIN, INT32_MAX);
  return q->id;
}

/* The rewritten node n itself becomes the float op `op` with inputs ins[0..nin). */
static void become(ares_node *n, ares_op op, const int *ins, int nin, int out) {
  n->op = op;
  for (int i = 0; i < nin; i++) n->in[i] = ins[i];
  n->nin = nin;
  n->out[0] = out;
}

enum { OUT_QUANT, OUT_INT32, OUT_FLOAT };

/* x * W: Conv (ConvInteger, QLinearConv), MatMul (MatMulInteger, QLinearMatMul), Gemm
 * (QGemm). Positions of the inputs: x, sx, zx, w, sw, zw, bias, sy, zy (-1: none). OUT_INT32
 * (ConvInteger, MatMulInteger): the weight has scale 1, x the scale it is quantized with
 * (1 for a graph input), and the result is quantized to int32 at their product: the
 * accumulator. */
static int rw_product(qop_ctx *c, ares_op op, const int pos[9], int mode) {
  ares_graph *g = c->g;
  ares_node *n = c->n;
  int in[9];
  for (int i = 0; i < 9; i++) in[i] = pos[i] >= 0 && has_in(n, pos[i]) ? n->in[pos[i]] : -1;
  int x = in[0], w = in[3];
  if (x < 0 || w < 0) return ares_fail(n, "needs its input and weight");
  int_info *xi = info_of(c, x);
  if (mode == OUT_INT32) {
    in[1] = xi && xi->s >= 0 ? xi->s : const_scalar(c, ARES_DT_F32, 1.0);
    in[7] = in[1];
    in[8] = const_scalar(c, ARES_DT_I32, 0);
    if (in[2] < 0 && xi && xi->s >= 0) in[2] = xi->z;
  }
  ares_tensor *tw = g->tensors[w];
  const char *xname = op == ARES_OP_CONV ? "x" : "a";
  if (op == ARES_OP_MATMUL && !ares_tensor_is_const(g, w)) {
    /* two activations (attention): DQ on both sides, for lower-matmul */
    if (mode == OUT_INT32)
      return ares_fail(n, "unsupported: MatMulInteger of two activations (an int32 product of activations is not "
                          "a graph output ARES computes; use QLinearMatMul)");
    int af = dq_of(c, x, in[1], in[2], "a"), bf = af < 0 ? -1 : dq_of(c, w, in[4], in[5], "b");
    int yf = bf < 0 ? -1 : q_to(c, n->out[0], in[7], in[8], "y");
    if (yf < 0) return -1;
    int ins[2] = {af, bf};
    become(n, op, ins, 2, yf);
    return 0;
  }
  int trans_b = op == ARES_OP_GEMM && ares_attr_int(n, "transB", 0);
  if (op == ARES_OP_GEMM && ares_attr_int(n, "transA", 0)) return ares_fail(n, "unsupported: transA=1");
  if (op == ARES_OP_MATMUL && tw->rank > 2) {
    /* a batched constant B: fine when every batch is the same matrix */
    int64_t mat = tw->dims[tw->rank - 2] * tw->dims[tw->rank - 1], nb = ares_tensor_numel(tw) / (mat ? mat : 1);
    for (int64_t b = 1; b < nb; b++)
      for (int64_t i = 0; i < mat; i++)
        if (ares_tensor_get_i(tw, b * mat + i) != ares_tensor_get_i(tw, i))
          return ares_fail(n, "unsupported: a batched constant B whose batches differ (ARES multiplies by one matrix)");
    ares_tensor *t2 = ares_tensor_new_shaped(c->g, tw->name, tw->dtype, 2, tw->dims + tw->rank - 2);
    t2->data = tw->data;
    w = t2->id;
    tw = t2;
  }
  /* channel axis and reduction axis of the weight */
  int ca = op == ARES_OP_CONV ? 0 : op == ARES_OP_GEMM && trans_b ? 0 : 1;
  int sa = op == ARES_OP_CONV ? 1 : op == ARES_OP_GEMM && trans_b ? 1 : 0;
  int k;
  int wq = weight(c, w, mode == OUT_INT32 ? -1 : in[4], in[5], ca, sa, &k);
  if (wq < 0) return -1;
  int64_t group = op == ARES_OP_CONV ? ares_attr_int(n, "group", 1) : 1;
  if (k > 1 && group != 1)
    return ares_fail(n, "unsupported: grouped convolution whose weights minus their zero point leave int8 (%d int8 parts "
                        "needed); quantize the weights to int8 with zero point 0",
                     k);
  int xf = dq_of(c, x, in[1], in[2], xname);
  if (xf < 0) return -1;
  xf = repeat_input(c, xf, k, op == ARES_OP_CONV ? 1 : -1);
  int bq = -1;
  if (in[6] >= 0) {
    bq = bias(c, in[6], in[1], in[4], tw->dims[ca]);
    if (bq < 0) return -1;
  }
  int y = n->out[0];
  int yf = y; /* QGemm without y_scale: a float output */
  if (mode == OUT_FLOAT) {
    g->tensors[y]->dtype = ARES_DT_F32;
  } else if (mode == OUT_INT32) {
    ares_node *q = new_node(c, ARES_OP_QUANTIZELINEAR, 3);
    yf = new_tensor(c, g->tensors[y]->name, ARES_DT_F32)->id;
    q->in[0] = yf, q->in[1] = in[7], q->in[2] = in[8], q->out[0] = y;
  } else if ((yf = q_to(c, y, in[7], in[8], "y")) < 0) {
    return -1;
  }
  int ins[3] = {xf, wq, bq};
  become(n, op, ins, bq >= 0 ? 3 : 2, yf);
  return 0;
}

/* Ops whose integer inputs are (x, sx, zx) triples at the given positions and whose output
 * is quantized by (sy, zy): those of elementwise_ops below, and QLinearConcat. */
static int rw_elementwise(qop_ctx *c, ares_op op, const int *xpos, int nx, int sy, int zy) {
  ares_node *n = c->n;
  if (ares_attr_int(n, "channels_last", 0)) return ares_fail(n, "unsupported: channels_last=1 (NCHW only)");
  int ins[64];
  if (nx > 64) return ares_fail(n, "unsupported: %d inputs", nx);
  for (int i = 0; i < nx; i++) {
    int p = xpos[i];
    if (p + 1 >= n->nin) return ares_fail(n, "input %d needs a scale and a zero point", p);
    int zi = p + 2 < n->nin ? n->in[p + 2] : -1;
    ins[i] = dq_of(c, has_in(n, p) ? n->in[p] : -1, n->in[p + 1], zi, "x");
    if (ins[i] < 0) return -1;
  }
  if (sy >= n->nin || !has_in(n, sy)) return ares_fail(n, "y_scale is missing");
  int yf = q_to(c, n->out[0], n->in[sy], has_in(n, zy) ? n->in[zy] : -1, "y");
  if (yf < 0) return -1;
  become(n, op, ins, nx, yf);
  return 0;
}

/* A quantization-transparent op applied directly to an integer tensor (ONNX Runtime's
 * QOperator models run MaxPool and Flatten on uint8): op(t) -> Q(op(DQ(t)), s_t, z_t). */
static int rw_transparent(qop_ctx *c) {
  ares_node *n = c->n;
  int_info xi = *info_of(c, n->in[0]);
  if (n->nout > 1 && n->out[1] >= 0) return ares_fail(n, "unsupported: a second output on an integer tensor");
  int xf = dq_of(c, n->in[0], xi.s, xi.z, "x");
  if (xf < 0) return -1;
  int yf = q_to(c, n->out[0], xi.s, xi.z, "y");
  if (yf < 0) return -1;
  n->in[0] = xf;
  n->out[0] = yf;
  return 0;
}

static int is_transparent(ares_op op) {
  return op == ARES_OP_MAXPOOL || op == ARES_OP_FLATTEN || op == ARES_OP_RESHAPE || op == ARES_OP_SQUEEZE ||
         op == ARES_OP_UNSQUEEZE || op == ARES_OP_TRANSPOSE;
}

/* The com.microsoft ops that rw_elementwise rewrites: the float op, and the positions of
 * their (x, scale, zero point) triples and of y's scale and zero point. input_params reads
 * the same positions. */
static const struct {
  ares_op qop, op;
  int nx, x[2], sy, zy;
} elementwise_ops[] = {
    {ARES_OP_MS_QLINEARADD, ARES_OP_ADD, 2, {0, 3}, 6, 7},
    {ARES_OP_MS_QLINEARMUL, ARES_OP_MUL, 2, {0, 3}, 6, 7},
    {ARES_OP_MS_QLINEARSIGMOID, ARES_OP_SIGMOID, 1, {0}, 3, 4},
    {ARES_OP_MS_QLINEARLEAKYRELU, ARES_OP_LEAKYRELU, 1, {0}, 3, 4},
    {ARES_OP_MS_QLINEARSOFTMAX, ARES_OP_SOFTMAX, 1, {0}, 3, 4},
    {ARES_OP_MS_QLINEARAVGPOOL, ARES_OP_AVGPOOL, 1, {0}, 3, 4},
    {ARES_OP_MS_QLINEARGLOBALAVGPOOL, ARES_OP_GLOBALAVGPOOL, 1, {0}, 3, 4},
};

static int elementwise_index(ares_op op) {
  for (int i = 0; i < (int)(sizeof elementwise_ops / sizeof *elementwise_ops); i++)
    if (elementwise_ops[i].qop == op) return i;
  return -1;
}

/* QLinearSoftmax's `opset` attribute is the original Softmax's: before 13 the input is
 * coerced to 2-D at `axis`, which is the per-axis softmax only over the last axis. */
static int softmax_axis(qop_ctx *c) {
  ares_node *n = c->n;
  const ares_tensor *x = has_in(n, 0) ? c->g->tensors[n->in[0]] : NULL;
  int64_t axis = ares_attr_int(n, "axis", -1), opset = ares_attr_int(n, "opset", c->g->opset);
  int last = axis == -1 || (x && x->has_shape && axis == x->rank - 1);
  if (opset < 13 && !last)
    return ares_fail(n, "unsupported: opset %lld softmax semantics over more than the last axis", (long long)opset);
  if (!ares_attr_find(n, "axis")) add_int_attr(c->g, n, "axis", -1);
  return 0;
}

static int rewrite(qop_ctx *c) {
  ares_node *n = c->n;
  switch (n->op) {
  case ARES_OP_QLINEARCONV: {
    static const int pos[9] = {0, 1, 2, 3, 4, 5, 8, 6, 7};
    return rw_product(c, ARES_OP_CONV, pos, OUT_QUANT);
  }
  case ARES_OP_CONVINTEGER: {
    static const int pos[9] = {0, -1, 2, 1, -1, 3, -1, -1, -1};
    return rw_product(c, ARES_OP_CONV, pos, OUT_INT32);
  }
  case ARES_OP_QLINEARMATMUL: {
    static const int pos[9] = {0, 1, 2, 3, 4, 5, -1, 6, 7};
    return rw_product(c, ARES_OP_MATMUL, pos, OUT_QUANT);
  }
  case ARES_OP_MATMULINTEGER: {
    static const int pos[9] = {0, -1, 2, 1, -1, 3, -1, -1, -1};
    return rw_product(c, ARES_OP_MATMUL, pos, OUT_INT32);
  }
  case ARES_OP_MS_QGEMM: {
    static const int pos[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    return rw_product(c, ARES_OP_GEMM, pos, has_in(n, 7) ? OUT_QUANT : OUT_FLOAT);
  }
  case ARES_OP_MS_QLINEARCONCAT: {
    int nx = (n->nin - 2) / 3, xp[64];
    if (nx < 1 || (n->nin - 2) % 3 || nx > 64) return ares_fail(n, "expects y_scale, y_zero_point and (x, scale, zero point) triples");
    for (int i = 0; i < nx; i++) xp[i] = 2 + 3 * i;
    return rw_elementwise(c, ARES_OP_CONCAT, xp, nx, 0, 1);
  }
  default: {
    int e = elementwise_index(n->op);
    if (e >= 0) {
      if (n->op == ARES_OP_MS_QLINEARSOFTMAX && softmax_axis(c) < 0) return -1;
      return rw_elementwise(c, elementwise_ops[e].op, elementwise_ops[e].x, elementwise_ops[e].nx, elementwise_ops[e].sy,
                            elementwise_ops[e].zy);
    }
    if (is_transparent(n->op) && n->nin > 0 && info_of(c, n->in[0]) && info_of(c, n->in[0])->s >= 0) return rw_transparent(c);
    if (n->op == ARES_OP_QUANTIZELINEAR && n->nin > 1 && info_of(c, n->out[0])) {
      int z = has_in(n, 2) ? n->in[2] : -1;
      *info_of(c, n->out[0]) = (int_info){n->in[1], z, z >= 0 ? c->g->tensors[z]->dtype : ARES_DT_U8, -1};
    }
    return 0;
  }
  }
}

/* The scale and zero point an integer graph input is read with: by a DequantizeLinear, or
 * by a QOperator op at one of its (x, scale, zero point) positions. */
static int input_params(const ares_node *n, int tid, int *s, int *z) {
  static const struct {
    ares_op op;
    int x, s, z;
  } at[] = {
      {ARES_OP_DEQUANTIZELINEAR, 0, 1, 2}, {ARES_OP_QLINEARCONV, 0, 1, 2}, {ARES_OP_QLINEARMATMUL, 0, 1, 2}, {ARES_OP_QLINEARMATMUL, 3, 4, 5},
      {ARES_OP_CONVINTEGER, 0, -1, 2},     {ARES_OP_MATMULINTEGER, 0, -1, 2}, {ARES_OP_MS_QGEMM, 0, 1, 2},
  };
  for (size_t i = 0; i < sizeof at / sizeof *at; i++)
    if (at[i].op == n->op && at[i].x < n->nin && n->in[at[i].x] == tid) {
      *s = at[i].s >= 0 && at[i].s < n->nin ? n->in[at[i].s] : -1;
      *z = at[i].z < n->nin ? n->in[at[i].z] : -1;
      return 1;
    }
  int e = elementwise_index(n->op);
  for (int i = 0; e >= 0 && i < elementwise_ops[e].nx; i++) {
    int x = elementwise_ops[e].x[i];
    if (x < n->nin && n->in[x] == tid) {
      *s = x + 1 < n->nin ? n->in[x + 1] : -1;
      *z = x + 2 < n->nin ? n->in[x + 2] : -1;
      return 1;
    }
  }
  if (n->op == ARES_OP_MS_QLINEARCONCAT)
    for (int k = 2; k + 2 < n->nin; k += 3)
      if (n->in[k] == tid) {
        *s = n->in[k + 1];
        *z = n->in[k + 2];
        return 1;
      }
  return 0;
}

static double const_value(const ares_graph *g, int tid, double dflt) {
  return tid >= 0 && ares_tensor_is_const(g, tid) && ares_tensor_numel(g->tensors[tid]) == 1 ? ares_tensor_get_f(g->tensors[tid], 0)
                                                                                               : dflt;
}

/* The axis of a DequantizeLinear n of graph input x with one scale per channel whose result
 * is only a graph output (ONNX's per-axis dequantization, which ARES allows at that edge
 * only); -1 otherwise. */
static int per_axis_edge(const ares_graph *g, const ares_node *n, const ares_tensor *x) {
  if (n->op != ARES_OP_DEQUANTIZELINEAR || n->nin < 2 || n->in[1] < 0 || !ares_tensor_is_const(g, n->in[1])) return -1;
  int64_t ns = ares_tensor_numel(g->tensors[n->in[1]]), axis = ares_attr_int(n, "axis", 1);
  if (axis < 0) axis += x->rank;
  if (ns < 2 || axis < 0 || axis >= x->rank || x->dims[axis] != ns || !ares_is_graph_output(g, n->out[0])) return -1;
  for (int j = 0; j < g->nnodes; j++)
    for (int k = 0; k < g->nodes[j]->nin; k++)
      if (!g->nodes[j]->dead && g->nodes[j]->in[k] == n->out[0]) return -1;
  return (int)axis;
}

/* Integer graph inputs read through a quantization: their scale and zero point, before the
 * rewrite (so ops on them directly, like MaxPool, know them too). */
static int find_input_params(qop_ctx *c) {
  ares_graph *g = c->g;
  for (int i = 0; i < g->ninputs; i++) {
    ares_tensor *x = g->tensors[g->inputs[i]];
    if (!is_int8_type(x->dtype)) continue;
    int_info *xi = info_of(c, x->id);
    for (int j = 0; j < g->nnodes; j++) {
      ares_node *n = g->nodes[j];
      int s, z;
      if (n->dead || !input_params(n, x->id, &s, &z)) continue;
      c->n = n;
      if (s < 0) s = const_scalar(c, ARES_DT_F32, 1.0); /* ConvInteger, MatMulInteger */
      int axis = per_axis_edge(g, n, x);
      if (axis >= 0) {
        if (xi->s >= 0) return ares_fail(n, "unsupported: graph input '%s' is read with two different quantizations", x->name);
        *xi = (int_info){s, z, x->dtype, axis};
        continue;
      }
      if (check_act_params(c, -1, s, z, "x") < 0) return -1;
      if (z >= 0 && g->tensors[z]->dtype != x->dtype)
        return ares_fail(n, "the zero point of graph input '%s' is %s but the input is %s", x->name,
                         ares_dtype_name(g->tensors[z]->dtype), ares_dtype_name(x->dtype));
      if (xi->s < 0) {
        *xi = (int_info){s, z, x->dtype, -1};
      } else if (const_value(g, s, -1) != const_value(g, xi->s, -2) || const_value(g, z, 0) != const_value(g, xi->z, 0)) {
        return ares_fail(n, "unsupported: graph input '%s' is read with two different quantizations", x->name);
      }
    }
  }
  return 0;
}

/* Integer graph inputs get their quantization on the tensor itself (int8) or on a qcast
 * of it into int8 storage (uint8). */
static int canon_inputs(qop_ctx *c) {
  ares_graph *g = c->g;
  for (int i = 0; i < g->ninputs; i++) {
    ares_tensor *x = g->tensors[g->inputs[i]];
    int_info xi = x->id < c->ninfo ? c->info[x->id] : (int_info){-1, -1, ARES_DT_UNDEF, -1};
    if (!is_int8_type(x->dtype) || xi.s < 0) continue;
    ares_tensor *ts = g->tensors[xi.s];
    int ns = xi.axis >= 0 ? (int)ares_tensor_numel(ts) : 1;
    if (ts->dtype != ARES_DT_F32) return ares_fail(NULL, "graph input '%s': its scale is %s, float32 expected", x->name, ares_dtype_name(ts->dtype));
    if (xi.z >= 0 && ares_tensor_numel(g->tensors[xi.z]) != ns && ares_tensor_numel(g->tensors[xi.z]) != 1)
      return ares_fail(NULL, "graph input '%s': %d scales but %lld zero points", x->name, ns, (long long)ares_tensor_numel(g->tensors[xi.z]));
    float *scale = ares_alloc(g, sizeof(float) * (size_t)ns);
    int32_t *zp = ares_alloc(g, sizeof(int32_t) * (size_t)ns), *z8 = ares_alloc(g, sizeof(int32_t) * (size_t)ns);
    for (int k = 0; k < ns; k++) {
      scale[k] = ((float *)ts->data)[k];
      zp[k] = xi.z >= 0 ? (int32_t)ares_tensor_get_i(g->tensors[xi.z], ares_tensor_numel(g->tensors[xi.z]) == 1 ? 0 : k) : 0;
      z8[k] = zp[k] - 128;
      if (!(scale[k] > 0) || !isfinite(scale[k]))
        return ares_fail(NULL, "graph input '%s': scale %g is not a positive finite number", x->name, scale[k]);
    }
    int axis = xi.axis >= 0 ? xi.axis : 0;
    if (x->dtype == ARES_DT_I8) {
      ares_quant_set(g, x, ns, axis, scale, zp, -128, 127);
      continue;
    }
    ares_tensor *x8 = ares_tensor_new_shaped(g, x->name, ARES_DT_I8, x->rank, x->dims);
    ares_quant_set(g, x8, ns, axis, scale, z8, -128, 127);
    for (int j = 0; j < g->nnodes; j++)
      for (int k = 0; k < g->nodes[j]->nin; k++)
        if (g->nodes[j]->in[k] == x->id) g->nodes[j]->in[k] = x8->id;
    ares_node *cast = ares_node_new(g, ARES_OP_QCAST, x->name, 1, 1);
    cast->in[0] = x->id;
    cast->out[0] = x8->id;
  }
  return 0;
}

/* A uint8 graph output written by a QuantizeLinear: the Q writes ARES' int8 storage and a
 * qcast gives the caller ONNX's uint8 values. */
static void canon_outputs(qop_ctx *c) {
  ares_graph *g = c->g;
  ares_graph_relink(g);
  for (int i = 0; i < g->noutputs; i++) {
    ares_tensor *y = g->tensors[g->outputs[i]];
    ares_node *q = ares_producer(g, y->id);
    if (!q || q->op != ARES_OP_QUANTIZELINEAR || q->nin < 2) continue;
    ares_dtype zt = has_in(q, 2) ? g->tensors[q->in[2]]->dtype : ARES_DT_U8;
    if (zt != ARES_DT_U8) continue;
    ares_tensor *y8 = ares_tensor_new(g, y->name);
    for (int j = 0; j < g->nnodes; j++)
      for (int k = 0; k < g->nodes[j]->nin; k++)
        if (g->nodes[j]->in[k] == y->id) g->nodes[j]->in[k] = y8->id;
    q->out[0] = y8->id;
    y->dtype = ARES_DT_U8;
    ares_node *cast = ares_node_new(g, ARES_OP_QCAST, q->name, 1, 1);
    cast->in[0] = y8->id;
    cast->out[0] = y->id;
  }
}

int ares_pass_canon_qop(ares_graph *g) {
  qop_ctx c = {g, NULL, g->ntensors, NULL};
  c.info = malloc(sizeof(int_info) * (size_t)(c.ninfo + 1));
  if (!c.info) exit(2);
  for (int i = 0; i < c.ninfo; i++) c.info[i] = (int_info){-1, -1, ARES_DT_UNDEF, -1};
  /* the imported nodes are in file order, which the frontend checked is topological; a
   * node that cannot be rewritten is reported and the others are still tried (ares check
   * lists them all), dropping what the failed attempt created */
  int n0 = g->nnodes;
  int rc = find_input_params(&c);
  for (int i = 0; i < n0 && rc >= 0; i++) {
    c.n = g->nodes[i];
    int m0 = g->nnodes;
    if (!c.n->dead && rewrite(&c) < 0) {
      for (int k = m0; k < g->nnodes; k++) g->nodes[k]->dead = 1;
      rc = 1;
    }
  }
  if (rc > 0) rc = -1;
  if (rc == 0) rc = canon_inputs(&c);
  if (rc == 0) canon_outputs(&c);
  ares_graph_relink(g);
  free(c.info);
  return rc;
}
