/* canon-quant: brings both export dialects to one canonical form.
 *
 *   QCDQ   x -> QuantizeLinear -> [Clip] -> DequantizeLinear
 *   QONNX  x -> Quant(scale, zeropt, bitwidth)
 * become  x -> QuantizeLinear(x) -> T -> DequantizeLinear(T)
 * where T is an int8 tensor carrying its quantization (scale, zero point, integer range);
 * the canonical Q and DQ nodes have that single input. uint8 activations are shifted into
 * int8 here (q - 128, zero point - 128), so every later stage sees one integer type.
 *
 * Quantized constants (weights and biases: an integer initializer behind DQ, or a float
 * initializer behind Quant) become constant integer tensors with their quantization, and
 * the DQ / Quant node disappears. */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "ir/diag.h"
#include "passes.h"

/* Scale / zero-point tensors: per-tensor (one element) or per-axis. Returns the count. */
static int read_scale_zp(ares_graph *g, ares_node *n, int s_id, int zp_id, float **scale, int32_t **zp) {
  if (!ares_tensor_is_const(g, s_id)) return ares_fail(n, "unsupported: scale is not a constant");
  ares_tensor *s = g->tensors[s_id];
  int64_t ns = ares_tensor_numel(s);
  if (ns < 1 || ns > (1 << 20)) return ares_fail(n, "scale has %lld elements", (long long)ns);
  if (s->dtype != ARES_DT_F32) return ares_fail(n, "unsupported: scale of type %s (float32 expected)", ares_dtype_name(s->dtype));
  *scale = ares_alloc(g, sizeof(float) * (size_t)ns);
  *zp = ares_alloc(g, sizeof(int32_t) * (size_t)ns);
  for (int64_t i = 0; i < ns; i++) {
    (*scale)[i] = ((float *)s->data)[i];
    if (!((*scale)[i] > 0) || !isfinite((*scale)[i]))
      return ares_fail(n, "scale %g is not a positive finite number", (*scale)[i]);
  }
  if (zp_id >= 0) {
    if (!ares_tensor_is_const(g, zp_id)) return ares_fail(n, "unsupported: zero point is not a constant");
    ares_tensor *z = g->tensors[zp_id];
    int64_t nz = ares_tensor_numel(z);
    if (nz != ns && nz != 1) return ares_fail(n, "scale has %lld elements but zero point %lld", (long long)ns, (long long)nz);
    for (int64_t i = 0; i < ns; i++) {
      double v = ares_tensor_get_f(z, nz == 1 ? 0 : i);
      if (v != floor(v) || fabs(v) > 2147483647.0) return ares_fail(n, "zero point %g is not an integer", v);
      (*zp)[i] = (int32_t)v;
    }
  }
  return (int)ns;
}

/* Axis of a per-channel scale over tensor x: ONNX's attribute for QCDQ; QONNX broadcasts
 * the scale, so its axis is the one non-1 dim. */
static int scale_axis(ares_graph *g, ares_node *n, ares_tensor *x, int s_id, int ns) {
  if (ns == 1) return 0;
  if (n->op != ARES_OP_QONNX_QUANT) {
    int64_t axis = ares_attr_int(n, "axis", 1);
    if (axis < 0) axis += x->rank;
    if (axis < 0 || axis >= x->rank || x->dims[axis] != ns)
      return ares_fail(n, "per-axis scale with %d elements does not match axis %lld of the input", ns, (long long)axis);
    return (int)axis;
  }
  ares_tensor *s = g->tensors[s_id];
  int off = x->rank - s->rank, axis = -1;
  for (int d = 0; d < s->rank; d++)
    if (s->dims[d] != 1) {
      if (axis >= 0) return ares_fail(n, "unsupported: scale varies along more than one axis");
      axis = d + off;
    }
  if (axis < 0 || axis >= x->rank || x->dims[axis] != ns)
    return ares_fail(n, "scale shape does not broadcast to the input");
  return axis;
}

static int64_t channel_of(const ares_tensor *x, int axis, int64_t i) {
  int64_t inner = 1;
  for (int d = axis + 1; d < x->rank; d++) inner *= x->dims[d];
  return (i / inner) % x->dims[axis];
}

/* The value range of a Quant / QuantizeLinear, from bit width, sign and narrowness. */
static void qrange(int bits, int is_signed, int narrow, int32_t *lo, int32_t *hi) {
  if (is_signed) {
    *lo = (int32_t)(-((int64_t)1 << (bits - 1)) + narrow);
    *hi = (int32_t)(((int64_t)1 << (bits - 1)) - 1);
  } else {
    *lo = 0;
    *hi = (int32_t)((((int64_t)1 << bits) - 1 - narrow) > 2147483647 ? 2147483647 : (((int64_t)1 << bits) - 1 - narrow));
  }
}

/* Quantizes a float constant the way QONNX / Brevitas do: float32 x / scale + zp, rounded. */
static int64_t quantize_value(float x, float scale, int32_t zp, const char *mode, int32_t lo, int32_t hi) {
  float v = x / scale + (float)zp;
  double r;
  if (strcasecmp(mode, "ROUND") == 0 || strcasecmp(mode, "HALF_EVEN") == 0) r = ares_round_half_even(v);
  else if (strcasecmp(mode, "FLOOR") == 0) r = floor(v);
  else if (strcasecmp(mode, "CEIL") == 0) r = ceil(v);
  else if (strcasecmp(mode, "HALF_UP") == 0) r = floor((double)v + 0.5);
  else if (strcasecmp(mode, "HALF_DOWN") == 0) r = ceil((double)v - 0.5);
  else if (strcasecmp(mode, "UP") == 0) r = v < 0 ? floor(v) : ceil(v);
  else r = trunc(v); /* DOWN: toward zero */
  if (r < lo) r = lo;
  if (r > hi) r = hi;
  return (int64_t)r;
}

static int known_mode(const char *m) {
  static const char *modes[] = {"ROUND", "HALF_EVEN", "FLOOR", "CEIL", "HALF_UP", "HALF_DOWN", "UP", "DOWN"};
  for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
    if (strcasecmp(m, modes[i]) == 0) return 1;
  return 0;
}

/* A constant integer tensor with quantization replaces the output of node n. */
static int make_qconst(ares_graph *g, ares_node *n, ares_tensor *src, int ns, int axis, float *scale,
                       int32_t *zp, int32_t lo, int32_t hi, const char *mode) {
  ares_tensor *out = g->tensors[n->out[0]];
  ares_tensor *c = ares_tensor_new_const(g, out->name, (lo >= -128 && hi <= 127) ? ARES_DT_I8 : ARES_DT_I32, src->rank, src->dims);
  int64_t numel = ares_tensor_numel(src);
  for (int64_t i = 0; i < numel; i++) {
    int64_t ch = ns > 1 ? channel_of(src, axis, i) : 0;
    int64_t v;
    if (src->dtype == ARES_DT_F32) {
      if (!isfinite(((float *)src->data)[i]))
        return ares_fail(n, "constant '%s' holds a non-finite value", src->name);
      v = quantize_value(((float *)src->data)[i], scale[ch], zp[ch], mode, lo, hi);
    } else {
      v = ares_tensor_get_i(src, i);
      if (v < lo || v > hi)
        return ares_fail(n, "constant value %lld outside its quantization range %d..%d", (long long)v, lo, hi);
    }
    ares_tensor_set_i(c, i, v);
  }
  ares_quant_set(g, c, ns, axis, scale, zp, lo, hi);
  n->dead = 1;
  ares_graph_replace_uses(g, out->id, c->id);
  return 0;
}

/* Integer range implied by the element type of a QuantizeLinear output. */
static int q_type_range(ares_node *n, ares_dtype t, int32_t *lo, int32_t *hi) {
  switch (t) {
  case ARES_DT_I8: *lo = -128; *hi = 127; return 0;
  case ARES_DT_U8: *lo = 0; *hi = 255; return 0;
  case ARES_DT_I32: *lo = INT32_MIN; *hi = INT32_MAX; return 0;
  default: return ares_fail(n, "unsupported: quantization to %s", ares_dtype_name(t));
  }
}

/* Narrows lo..hi to the constant scalar bounds of a Clip on the integers (QCDQ's C). */
static int clip_range(const ares_graph *g, const ares_node *clip, int32_t *lo, int32_t *hi) {
  for (int k = 1; k < 3 && k < clip->nin; k++) {
    if (clip->in[k] < 0) continue;
    if (!ares_tensor_is_const(g, clip->in[k])) return ares_fail(clip, "unsupported: non-constant Clip bound");
    if (!ares_tensor_is_scalar_const(g, clip->in[k])) return ares_fail(clip, "Clip bound is not a scalar");
    int64_t b = ares_tensor_get_i(g->tensors[clip->in[k]], 0);
    if (k == 1 && b > *lo) *lo = (int32_t)b;
    if (k == 2 && b < *hi) *hi = (int32_t)b;
  }
  return 0;
}

/* QCDQ: integer constant -> [Clip] -> DequantizeLinear. */
static int canon_dq_const(ares_graph *g, ares_node *n) {
  int src_id = n->in[0];
  int32_t lo = 0, hi = 0;
  ares_node *clip = NULL;
  if (!ares_tensor_is_const(g, src_id)) {
    clip = ares_producer(g, src_id);
    if (!clip || clip->op != ARES_OP_CLIP || !ares_tensor_is_const(g, clip->in[0])) return 1;
    src_id = clip->in[0];
  }
  ares_tensor *src = g->tensors[src_id];
  if (q_type_range(n, src->dtype, &lo, &hi) < 0) return -1;
  float *scale;
  int32_t *zp;
  int ns = read_scale_zp(g, n, n->in[1], n->nin > 2 ? n->in[2] : -1, &scale, &zp);
  if (ns < 0) return -1;
  int axis = scale_axis(g, n, src, n->in[1], ns);
  if (axis < 0) return -1;
  if (clip && clip_range(g, clip, &lo, &hi) < 0) return -1;
  if (src->dtype == ARES_DT_U8) return ares_fail(n, "unsupported: uint8 constant (weights must be int8)");
  if (make_qconst(g, n, src, ns, axis, scale, zp, lo, hi, "ROUND") < 0) return -1;
  if (clip) {
    ares_graph_relink(g);
    if (g->tensors[clip->out[0]]->nconsumers == 0) clip->dead = 1;
  }
  return 0;
}

/* Sets the int8 quantization of the output of a canonical QuantizeLinear, shifting
 * unsigned ranges into int8. */
static int set_activation_quant(ares_graph *g, ares_node *n, ares_tensor *t, float scale, int32_t zp,
                                int32_t lo, int32_t hi) {
  if (lo < 0 && hi > 127) return ares_fail(n, "unsupported: activation range %d..%d is wider than 8 bits", lo, hi);
  if (hi - (int64_t)lo > 255) return ares_fail(n, "unsupported: activation range %d..%d is wider than 8 bits", lo, hi);
  int shift = hi > 127 ? 128 : 0; /* unsigned 8-bit: move into int8 */
  if (zp < lo || zp > hi)
    return ares_fail(n, "unsupported: zero point %d outside the range %d..%d", zp, lo, hi);
  t->dtype = ARES_DT_I8;
  int32_t z = zp - shift;
  ares_quant_set(g, t, 1, 0, &scale, &z, lo - shift, hi - shift);
  return 0;
}

/* QCDQ activation: QuantizeLinear -> [Clip] -> DequantizeLinear. */
static int canon_q(ares_graph *g, ares_node *n) {
  float *scale;
  int32_t *zp;
  int ns = read_scale_zp(g, n, n->in[1], n->nin > 2 ? n->in[2] : -1, &scale, &zp);
  if (ns < 0) return -1;
  ares_tensor *t = g->tensors[n->out[0]];
  ares_dtype qt = ARES_DT_U8; /* ONNX default when no zero point is given */
  if (n->nin > 2 && n->in[2] >= 0) qt = g->tensors[n->in[2]]->dtype;
  int32_t lo = 0, hi = 0;
  if (q_type_range(n, qt, &lo, &hi) < 0) return -1;
  if (ares_tensor_is_const(g, n->in[0])) {
    ares_tensor *src = g->tensors[n->in[0]];
    int axis = scale_axis(g, n, src, n->in[1], ns);
    if (axis < 0) return -1;
    return make_qconst(g, n, src, ns, axis, scale, zp, lo, hi, "ROUND");
  }
  ares_node *cons[2];
  if (ns != 1) {
    /* per axis: only a graph input quantized straight to a graph output (an ONNX edge case
     * the conformance tests use); every later stage is per tensor */
    ares_tensor *x = g->tensors[n->in[0]];
    int nc = ares_consumers(g, t->id, cons, 2);
    /* read by nothing, or (a uint8 output) only by canon-qop's qcast to ONNX's type */
    int only_out = (nc == 0 && ares_is_graph_output(g, t->id)) ||
                   (nc == 1 && cons[0]->op == ARES_OP_QCAST && ares_is_graph_output(g, cons[0]->out[0]));
    if (!ares_is_graph_input(g, x->id) || !only_out || (qt != ARES_DT_I8 && qt != ARES_DT_U8))
      return ares_fail(n, "unsupported: per-axis quantization of an activation");
    int axis = scale_axis(g, n, x, n->in[1], ns);
    if (axis < 0) return -1;
    int shift = hi > 127 ? 128 : 0;
    for (int c = 0; c < ns; c++) {
      if (zp[c] < lo || zp[c] > hi) return ares_fail(n, "unsupported: zero point %d outside the range %d..%d", zp[c], lo, hi);
      zp[c] -= shift;
    }
    t->dtype = ARES_DT_I8;
    ares_quant_set(g, t, ns, axis, scale, zp, lo - shift, hi - shift);
    n->nin = 1;
    return 0;
  }
  if (qt == ARES_DT_I32) {
    /* an int32 result (ConvInteger, MatMulInteger, or a QDQ export's Q to int32): kept only
     * as a network output, never read by another layer */
    if (!ares_is_graph_output(g, t->id) || ares_consumers(g, t->id, cons, 2) > 0)
      return ares_fail(n, "unsupported: int32 activation '%s' that is not only a graph output (ARES computes int32 "
                          "tensors only as a network's final result)", t->name);
    t->dtype = ARES_DT_I32;
    ares_quant_set(g, t, 1, 0, scale, zp, lo, hi);
    n->nin = 1;
    return 0;
  }
  /* fold a Clip on the integers into the range */
  if (ares_consumers(g, t->id, cons, 2) == 1 && cons[0]->op == ARES_OP_CLIP) {
    ares_node *clip = cons[0];
    if (clip_range(g, clip, &lo, &hi) < 0) return -1;
    clip->dead = 1;
    ares_graph_replace_uses(g, clip->out[0], t->id);
  }
  if (set_activation_quant(g, n, t, scale[0], zp[0], lo, hi) < 0) return -1;
  n->nin = 1;
  return 0;
}

/* QONNX Quant(x, scale, zeropt, bitwidth). */
static int canon_qonnx_quant(ares_graph *g, ares_node *n) {
  if (n->nin < 4 || n->in[3] < 0 || !ares_tensor_is_scalar_const(g, n->in[3]))
    return ares_fail(n, "Quant needs a constant scalar bit width input");
  double bw = ares_tensor_get_f(g->tensors[n->in[3]], 0);
  if (bw != floor(bw) || bw < 2 || bw > 32) return ares_fail(n, "unsupported: bit width %g (2..32 supported)", bw);
  int bits = (int)bw;
  int is_signed = (int)ares_attr_int(n, "signed", 1);
  int narrow = (int)ares_attr_int(n, "narrow", 0);
  const char *mode = ares_attr_string(n, "rounding_mode", "ROUND");
  if (!known_mode(mode)) return ares_fail(n, "unsupported: rounding_mode %s", mode);
  float *scale;
  int32_t *zp;
  int ns = read_scale_zp(g, n, n->in[1], n->in[2], &scale, &zp);
  if (ns < 0) return -1;
  int32_t lo, hi;
  qrange(bits, is_signed, narrow, &lo, &hi);
  ares_tensor *x = g->tensors[n->in[0]];
  if (ares_tensor_is_const(g, x->id)) {
    if (x->dtype != ARES_DT_F32) return ares_fail(n, "Quant of a non-float constant");
    int axis = scale_axis(g, n, x, n->in[1], ns);
    if (axis < 0) return -1;
    return make_qconst(g, n, x, ns, axis, scale, zp, lo, hi, mode);
  }
  if (ns != 1) return ares_fail(n, "unsupported: per-channel quantization of an activation");
  if (strcasecmp(mode, "ROUND") != 0 && strcasecmp(mode, "HALF_EVEN") != 0)
    return ares_fail(n, "unsupported: rounding_mode %s on an activation (ROUND only)", mode);
  if (bits > 8) return ares_fail(n, "unsupported: %d-bit activation (8 bits at most)", bits);
  /* split into canonical Q -> T -> DQ */
  int out_id = n->out[0];
  ares_tensor *t = ares_tensor_new(g, g->tensors[out_id]->name);
  if (set_activation_quant(g, n, t, scale[0], zp[0], lo, hi) < 0) return -1;
  n->op = ARES_OP_QUANTIZELINEAR;
  n->nin = 1;
  n->out[0] = t->id;
  ares_node *dq = ares_node_new(g, ARES_OP_DEQUANTIZELINEAR, n->name, 1, 1);
  dq->in[0] = t->id;
  dq->out[0] = out_id;
  ares_graph_relink(g);
  return 0;
}

static int const_scalar(ares_graph *g, ares_node *n, int k, double *v) {
  if (k >= n->nin || n->in[k] < 0 || !ares_tensor_is_const(g, n->in[k]) || ares_tensor_numel(g->tensors[n->in[k]]) != 1)
    return ares_fail(n, "unsupported: input %d is not a constant scalar", k);
  *v = ares_tensor_get_f(g->tensors[n->in[k]], 0);
  return 0;
}

/* QONNX Trunc(x, scale, zeropt, in_bits, out_scale, out_bits) after an AveragePool, as
 * Brevitas' TruncAvgPool exports it: x / scale is the window sum (scale = input scale /
 * window size), and the result is that sum divided by out_scale / scale = 2^t and rounded.
 * That is exactly the average requantized to out_scale, so Trunc becomes a canonical
 * quantizer with out_scale; the conditions that make this exact are checked here and, for
 * the window size, in lower-int. */
static int canon_qonnx_trunc(ares_graph *g, ares_node *n) {
  double scale, zp, out_scale, out_bits;
  if (n->nin < 6 || const_scalar(g, n, 1, &scale) < 0 || const_scalar(g, n, 2, &zp) < 0 ||
      const_scalar(g, n, 4, &out_scale) < 0 || const_scalar(g, n, 5, &out_bits) < 0)
    return -1;
  const char *mode = ares_attr_string(n, "rounding_mode", "FLOOR");
  if (strcasecmp(mode, "ROUND") != 0)
    return ares_fail(n, "unsupported: Trunc rounding_mode %s (ROUND only: ARES requantizes with round half to even)", mode);
  if (out_bits != floor(out_bits) || out_bits < 2 || out_bits > 8 || zp != 0)
    return ares_fail(n, "unsupported: Trunc to %g bits with zero point %g", out_bits, zp);
  double t = log2(out_scale / scale);
  if (!(scale > 0) || fabs(t - round(t)) > 1e-6)
    return ares_fail(n, "unsupported: Trunc whose output scale is not a power-of-two multiple of its input scale");
  ares_node *pool = ares_producer(g, n->in[0]);
  if (!pool || (pool->op != ARES_OP_AVGPOOL && pool->op != ARES_OP_GLOBALAVGPOOL))
    return ares_fail(n, "unsupported: Trunc that does not follow an AveragePool or GlobalAveragePool");
  int32_t lo, hi;
  qrange((int)out_bits, (int)ares_attr_int(n, "signed", 1), (int)ares_attr_int(n, "narrow", 0), &lo, &hi);
  int out_id = n->out[0];
  ares_tensor *u = ares_tensor_new(g, g->tensors[out_id]->name);
  if (set_activation_quant(g, n, u, (float)out_scale, 0, lo, hi) < 0) return -1;
  n->op = ARES_OP_QUANTIZELINEAR;
  n->nin = 1;
  n->out[0] = u->id;
  /* lower-int checks it against the pool's window once shapes are known */
  ares_attr_add_floats(g, n, "ares_trunc_scale", 1)->floats[0] = (float)scale;
  ares_node *ndq = ares_node_new(g, ARES_OP_DEQUANTIZELINEAR, n->name, 1, 1);
  ndq->in[0] = u->id;
  ndq->out[0] = out_id;
  ares_graph_relink(g);
  return 0;
}

int ares_pass_canon_quant(ares_graph *g) {
  /* Quantize nodes first, so a DQ always finds its Q in canonical form. */
  int n0 = g->nnodes;
  for (int i = 0; i < n0; i++) {
    ares_node *n = g->nodes[i];
    if (n->dead) continue;
    int rc = 0;
    if (n->op == ARES_OP_QUANTIZELINEAR) {
      if (n->nin < 2 || n->in[0] < 0 || n->in[1] < 0) return ares_fail(n, "needs x and y_scale inputs");
      rc = canon_q(g, n);
    } else if (n->op == ARES_OP_QONNX_QUANT) {
      if (n->nin < 3 || n->in[0] < 0 || n->in[1] < 0 || n->in[2] < 0) return ares_fail(n, "needs x, scale and zeropt inputs");
      rc = canon_qonnx_quant(g, n);
    } else if (n->op == ARES_OP_QONNX_TRUNC) {
      rc = canon_qonnx_trunc(g, n);
    }
    if (rc < 0) return -1;
  }
  for (int i = 0; i < g->nnodes; i++) {
    ares_node *n = g->nodes[i];
    if (n->dead || n->op != ARES_OP_DEQUANTIZELINEAR) continue;
    /* canonical already (split from a QONNX Quant above): one input, a quantized tensor */
    if (n->nin == 1 && n->in[0] >= 0 && g->tensors[n->in[0]]->q.nscale > 0) continue;
    if (n->nin < 2 || n->in[0] < 0 || n->in[1] < 0) return ares_fail(n, "needs x and x_scale inputs");
    int rc = canon_dq_const(g, n);
    if (rc < 0) return -1;
    if (rc == 0) continue;
    /* activation: its input must be a canonical Q's output with the same parameters */
    ares_tensor *t = g->tensors[n->in[0]];
    if (t->q.nscale < 1) return ares_fail(n, "unsupported: DequantizeLinear of a tensor that is not the output of a QuantizeLinear");
    float *scale;
    int32_t *zp;
    int ns = read_scale_zp(g, n, n->in[1], n->nin > 2 ? n->in[2] : -1, &scale, &zp);
    if (ns < 0) return -1;
    /* per axis: only an integer graph input dequantized straight to a graph output (canon-qop
     * gave the input that quantization) */
    ares_node *cons[1];
    if (ns != 1 && (ns != t->q.nscale || !ares_is_graph_output(g, n->out[0]) || ares_consumers(g, n->out[0], cons, 1) > 0))
      return ares_fail(n, "unsupported: per-axis dequantization of an activation");
    if (ns == 1 && t->q.nscale != 1) return ares_fail(n, "unsupported: DequantizeLinear of a tensor that is not the output of a QuantizeLinear");
    /* set_activation_quant moved an unsigned range reaching past 127 into int8 (which
     * makes it start below 0); the DQ's zero point is in ONNX's type */
    int u8 = n->nin <= 2 || n->in[2] < 0 || g->tensors[n->in[2]]->dtype == ARES_DT_U8;
    int moved = u8 && t->q.qmin < 0;
    for (int c = 0; c < ns; c++)
      if (scale[c] != t->q.scale[c] || t->q.zp[c] != zp[c] - (moved ? 128 : 0))
        return ares_fail(n, "unsupported: DequantizeLinear parameters differ from its QuantizeLinear's");
    n->nin = 1;
  }
  ares_graph_relink(g);
  return 0;
}
