/* Per-op code emission: one function per integer op writing the runtime kernel call
 * (runtime/kernels/ares_<op>.c) for a node, its constant parameters first. */
#include <inttypes.h>
#include <string.h>

#include "emit_internal.h"
#include "ir/diag.h"
#include "ir/kshape.h"
#include "ir/qdq_table.h"

static void emit_i32_array(FILE *f, const char *name, const int32_t *v, int n) {
  fprintf(f, "  static const int32_t %s[%d] = {", name, n);
  for (int i = 0; i < n; i++) fprintf(f, "%s%" PRId32, i ? ", " : "", v[i]);
  fprintf(f, "};\n");
}

static void emit_i8_array(FILE *f, const char *name, const int8_t *v, int n) {
  fprintf(f, "  static const int8_t %s[%d] = {", name, n);
  for (int i = 0; i < n; i++) fprintf(f, "%s%d", i ? ", " : "", v[i]);
  fprintf(f, "};\n");
}

static void emit_f32_array(FILE *f, const char *name, const float *v, int n) {
  fprintf(f, "  static const float %s[%d] = {", name, n);
  for (int i = 0; i < n; i++) fprintf(f, "%s%a", i ? ", " : "", (double)v[i]);
  fprintf(f, "};\n");
}

static void emit_i64_array(FILE *f, const char *name, const int64_t *v, int64_t n) {
  fprintf(f, "  static const int64_t %s[%" PRId64 "] = {", name, n);
  for (int64_t i = 0; i < n; i++) fprintf(f, "%sINT64_C(%" PRId64 ")", i ? ", " : "", v[i]);
  fprintf(f, "};\n");
}

/* Shapes and index lists; an empty one holds a dummy 0 (C has no empty arrays). */
static void emit_i64_list(FILE *f, const char *name, const int64_t *v, int64_t n) {
  fprintf(f, "  static const int64_t %s[%" PRId64 "] = {", name, n ? n : 1);
  for (int64_t i = 0; i < n; i++) fprintf(f, "%s%" PRId64, i ? ", " : "", v[i]);
  fprintf(f, "%s};\n", n ? "" : "0");
}

static void emit_rq(FILE *f, const ares_requant *rq) {
  if (rq->out_i32) {
    fprintf(f, "  static const ares_rq rq = {%d, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};\n", rq->n);
  } else if (rq->out_float) {
    emit_f32_array(f, "fscale", rq->fscale, rq->n);
    emit_f32_array(f, "fbias", rq->fbias, rq->n);
    fprintf(f, "  static const ares_rq rq = {%d, 0, 0, 0, 0, 0, 1, fscale, fbias, 0, 0};\n", rq->n);
  } else {
    emit_i32_array(f, "mult", rq->mult, rq->n);
    emit_i8_array(f, "shift", rq->shift, rq->n);
    if (rq->add) emit_i64_array(f, "add", rq->add, rq->n);
    fprintf(f, "  static const ares_rq rq = {%d, mult, shift, %d, %d, %d, 0, 0, 0, %s, 0};\n", rq->n, rq->zp, rq->qmin, rq->qmax,
            rq->add ? "add" : "0");
  }
}

static int emit_quantize(ares_emit_ctx *c, const ares_node *n) {
  const ares_tensor *x = c->g->tensors[n->in[0]];
  const ares_qdq_params *p = &n->p.qdq;
  if (p->n > 1) {
    emit_f32_array(c->f, "scale", p->scales, p->n);
    emit_i32_array(c->f, "zp", p->zps, p->n);
    fprintf(c->f, "  ares_quantize_f32_s8_axis(%s, %s, %" PRId64 ", %" PRId64 ", %d, scale, zp, %d, %d);\n", ares_emit_ref(c, n->in[0]),
            ares_emit_ref(c, n->out[0]), ares_tensor_numel(x), p->inner, p->n, p->qmin, p->qmax);
    return 0;
  }
  int32_t below[256];
  ares_quantize_thresholds(p->scale, p->zp, p->qmin, p->qmax, below);
  fprintf(c->f, "  /* x / %a: below[j] is the largest float32 key quantized below qmin + j */\n", (double)p->scale);
  emit_i32_array(c->f, "below", below, 256);
  int32_t nan_q = p->zp < p->qmin ? p->qmin : p->zp > p->qmax ? p->qmax : p->zp;
  fprintf(c->f, "  ares_quantize_f32_s8_thr(%s, %s, %" PRId64 ", below, %d, %d);\n", ares_emit_ref(c, n->in[0]),
          ares_emit_ref(c, n->out[0]), ares_tensor_numel(x), p->qmin, nan_q);
  return 0;
}

static int emit_dequantize(ares_emit_ctx *c, const ares_node *n) {
  const ares_tensor *x = c->g->tensors[n->in[0]];
  const ares_qdq_params *p = &n->p.qdq;
  if (p->n > 1) {
    emit_f32_array(c->f, "scale", p->scales, p->n);
    emit_i32_array(c->f, "zp", p->zps, p->n);
    fprintf(c->f, "  ares_dequantize_s8_f32_axis(%s, %s, %" PRId64 ", %" PRId64 ", %d, scale, zp);\n", ares_emit_ref(c, n->in[0]),
            ares_emit_ref(c, n->out[0]), ares_tensor_numel(x), p->inner, p->n);
    return 0;
  }
  float table[256];
  ares_dequantize_table(p->scale, p->zp, table);
  fprintf(c->f, "  /* (q - %d) * %a for every int8 q */\n", p->zp, (double)p->scale);
  emit_f32_array(c->f, "table", table, 256);
  fprintf(c->f, "  ares_lut_s8_f32(%s, %s, %" PRId64 ", table);\n", ares_emit_ref(c, n->in[0]), ares_emit_ref(c, n->out[0]),
          ares_tensor_numel(x));
  return 0;
}

/* Layers the tiler planned run through the tiled executors (runtime/ares_tiled.c): DMA
 * L2 <-> L1 and the cores; the plain kernels compute each tile. */
static void emit_tile(ares_emit_ctx *c, const ares_node *n) {
  fprintf(c->f, "  static const ares_tile2 t = {%d, %d}; /* %lld tiles, %lld B of L1, %lld B of DMA */\n", n->tile_h, n->tile_c,
          (long long)n->ntiles, (long long)n->l1_bytes, (long long)n->dma_bytes);
}

static int emit_qconv(ares_emit_ctx *c, const ares_node *n) {
  const ares_conv_params *p = &n->p.conv;
  ares_conv_shape s;
  ares_kshape_conv(c->g, n, &s);
  emit_rq(c->f, &p->rq);
  if (p->bias) emit_i32_array(c->f, "bias", p->bias, s.cout);
  fprintf(c->f, "  static const ares_conv_shape s = {%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d};\n",
          s.n, s.cin, s.h, s.w, s.cout, s.oh, s.ow, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.pad_t, s.pad_l, s.group, s.x_zp);
  emit_tile(c, n);
  fprintf(c->f, "  ares_conv2d_tiled(%s, %s, %s, %s, &s, &rq, &t);\n", ares_emit_ref(c, n->in[0]), ares_emit_ref(c, n->in[1]),
          p->bias ? "bias" : "0", ares_emit_ref(c, n->out[0]));
  return 0;
}

static int emit_qlinear(ares_emit_ctx *c, const ares_node *n) {
  const ares_linear_params *p = &n->p.linear;
  int32_t rows, k, nout;
  ares_kshape_linear(c->g, n, &rows, &k, &nout);
  emit_rq(c->f, &p->rq);
  if (p->bias) emit_i32_array(c->f, "bias", p->bias, nout);
  emit_tile(c, n);
  fprintf(c->f, "  ares_linear_tiled(%s, %s, %s, %s, %d, %d, %d, %d, &rq, &t);\n", ares_emit_ref(c, n->in[0]),
          ares_emit_ref(c, n->in[1]), p->bias ? "bias" : "0", ares_emit_ref(c, n->out[0]), rows, k, nout, p->x_zp);
  return 0;
}

static int emit_eltwise(ares_emit_ctx *c, const ares_node *n) {
  const ares_eltwise_params *e = &n->p.elt;
  fprintf(c->f, "  static const ares_elt p = {%d, {%d, %d}, {%d, %d}, %d, %d, %d, %d, %d};\n", e->n, e->zp_in[0], e->zp_in[1],
          e->mult[0], e->mult[1], e->shift, e->zp, e->qmin, e->qmax, n->op == ARES_OP_QMUL);
  int64_t numel = ares_tensor_numel(c->g->tensors[n->out[0]]);
  fprintf(c->f, "  ares_eltwise_tiled(%s, %s, %s, %" PRId64 ", &p, %" PRId64 "); /* %lld tiles, %lld B of L1 */\n",
          ares_emit_ref(c, n->in[0]), n->op == ARES_OP_QREQUANT ? "0" : ares_emit_ref(c, n->in[1]), ares_emit_ref(c, n->out[0]),
          numel, n->tile_chunk, (long long)n->ntiles, (long long)n->l1_bytes);
  return 0;
}

static int emit_qconcat(ares_emit_ctx *c, const ares_node *n) {
  const ares_concat_params *p = &n->p.concat;
  const ares_tensor *y = c->g->tensors[n->out[0]];
  int64_t outer = 1;
  for (int d = 0; d < p->axis; d++) outer *= y->dims[d];
  fprintf(c->f, "  static const int64_t inner[%d] = {", p->n);
  for (int k = 0; k < p->n; k++) fprintf(c->f, "%s%" PRId64, k ? ", " : "", ares_tensor_numel(c->g->tensors[n->in[k]]) / outer);
  fprintf(c->f, "};\n");
  emit_i32_array(c->f, "zp_in", p->zp_in, p->n);
  emit_i32_array(c->f, "mult", p->mult, p->n);
  emit_i8_array(c->f, "shift", p->shift, p->n);
  fprintf(c->f, "  const int8_t *xs[%d] = {", p->n);
  for (int k = 0; k < p->n; k++) fprintf(c->f, "%s%s", k ? ", " : "", ares_emit_ref(c, n->in[k]));
  fprintf(c->f, "};\n");
  fprintf(c->f, "  static const ares_concat p = {%d, %" PRId64 ", inner, zp_in, mult, shift, %d, %d, %d};\n", p->n, outer, p->zp,
          p->qmin, p->qmax);
  fprintf(c->f, "  ares_concat_s8(xs, %s, &p);\n", ares_emit_ref(c, n->out[0]));
  return 0;
}

static int emit_pool(ares_emit_ctx *c, const ares_node *n) {
  const ares_pool_params *p = &n->p.pool;
  ares_pool_shape s;
  ares_kshape_pool(c->g, n, &s);
  fprintf(c->f, "  static const ares_pool_shape s = {%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d};\n", s.n,
          s.c, s.h, s.w, s.oh, s.ow, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.pad_t, s.pad_l, s.x_zp, s.count_include_pad);
  emit_tile(c, n);
  if (n->op == ARES_OP_QAVGPOOL) emit_rq(c->f, &p->rq);
  fprintf(c->f, "  ares_pool_tiled(%s, %s, &s, %s, &t);\n", ares_emit_ref(c, n->in[0]), ares_emit_ref(c, n->out[0]),
          n->op == ARES_OP_QAVGPOOL ? "&rq" : "0");
  return 0;
}

static int emit_qpad(ares_emit_ctx *c, const ares_node *n) {
  const ares_tensor *x = c->g->tensors[n->in[0]];
  int r = x->rank;
  emit_i64_list(c->f, "dims", x->dims, r);
  emit_i64_list(c->f, "pb", n->p.pad.pads, r);
  emit_i64_list(c->f, "pe", n->p.pad.pads + r, r);
  fprintf(c->f, "  ares_pad_s8(%s, %s, %d, dims, pb, pe, %d);\n", ares_emit_ref(c, n->in[0]), ares_emit_ref(c, n->out[0]), r,
          n->p.pad.value);
  return 0;
}

static int emit_qreshape(ares_emit_ctx *c, const ares_node *n) {
  fprintf(c->f, "  memcpy(%s, %s, %zu);\n", ares_emit_ref(c, n->out[0]), ares_emit_ref(c, n->in[0]),
          ares_tensor_nbytes(c->g->tensors[n->out[0]]));
  return 0;
}

static int emit_qtranspose(ares_emit_ctx *c, const ares_node *n) {
  const ares_tensor *x = c->g->tensors[n->in[0]];
  int r = x->rank;
  emit_i64_list(c->f, "dims", x->dims, r);
  fprintf(c->f, "  static const int32_t perm[%d] = {", r);
  for (int d = 0; d < r; d++) fprintf(c->f, "%s%d", d ? ", " : "", n->p.transpose.perm[d]);
  fprintf(c->f, "};\n  ares_transpose_s8(%s, %s, %d, dims, perm);\n", ares_emit_ref(c, n->in[0]), ares_emit_ref(c, n->out[0]), r);
  return 0;
}

static int emit_qslice(ares_emit_ctx *c, const ares_node *n) {
  const ares_tensor *x = c->g->tensors[n->in[0]], *y = c->g->tensors[n->out[0]];
  emit_i64_list(c->f, "dims", x->dims, x->rank);
  emit_i64_list(c->f, "start", n->p.slice.start, x->rank);
  emit_i64_list(c->f, "step", n->p.slice.step, x->rank);
  emit_i64_list(c->f, "count", y->dims, y->rank);
  fprintf(c->f, "  ares_slice_s8(%s, %s, %d, dims, start, step, count);\n", ares_emit_ref(c, n->in[0]), ares_emit_ref(c, n->out[0]),
          x->rank);
  return 0;
}

static int emit_qgather(ares_emit_ctx *c, const ares_node *n) {
  const ares_tensor *x = c->g->tensors[n->in[0]];
  const ares_gather_params *p = &n->p.gather;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < p->axis; d++) outer *= x->dims[d];
  for (int d = p->axis + 1; d < x->rank; d++) inner *= x->dims[d];
  emit_i64_list(c->f, "idx", p->idx, p->nidx);
  fprintf(c->f, "  ares_gather_s8(%s, %s, %" PRId64 ", %" PRId64 ", %" PRId64 ", idx, %" PRId64 ");\n", ares_emit_ref(c, n->in[0]),
          ares_emit_ref(c, n->out[0]), outer, x->dims[p->axis], inner, p->nidx);
  return 0;
}

static int emit_qmatmul(ares_emit_ctx *c, const ares_node *n) {
  ares_matmul_shape s;
  ares_kshape_matmul(c->g, n, &s);
  if (s.nb > ARES_MATMUL_MAX_BATCH_DIMS) return ares_fail(n, "unsupported: %d batch dimensions", s.nb);
  if (!s.out_i32) emit_rq(c->f, &n->p.matmul.rq);
  else fprintf(c->f, "  static const ares_rq rq = {0};\n");
  fprintf(c->f, "  static const ares_matmul_shape s = {%d, {%d, %d, %d, %d}, {%d, %d, %d, %d}, {%d, %d, %d, %d}, %d, %d, %d, %d, %d, %d};\n",
          s.nb, s.bd[0], s.bd[1], s.bd[2], s.bd[3], s.as[0], s.as[1], s.as[2], s.as[3], s.bs[0], s.bs[1], s.bs[2], s.bs[3], s.m,
          s.k, s.n, s.a_zp, s.b_zp, s.out_i32);
  emit_tile(c, n);
  fprintf(c->f, "  ares_matmul_tiled(%s, %s, %s, &s, &rq, &t);\n", ares_emit_ref(c, n->in[0]), ares_emit_ref(c, n->in[1]),
          ares_emit_ref(c, n->out[0]));
  return 0;
}

static int emit_qrope(ares_emit_ctx *c, const ares_node *n) {
  const ares_rope_params *p = &n->p.rope;
  fprintf(c->f, "  static const ares_rope p = {%s, %" PRId64 ", %" PRId64 ", %" PRId64 ", %s, %s, %d, %d, %d, %d, %d};\n",
          p->layout == ARES_ROPE_HALF ? "ARES_ROPE_LAYOUT_HALF" : "ARES_ROPE_LAYOUT_INTERLEAVED", p->npos, p->inner, p->d,
          ares_emit_ref(c, n->in[1]), ares_emit_ref(c, n->in[2]), p->shift, p->zp_in, p->zp, p->qmin, p->qmax);
  fprintf(c->f, "  ares_rope_tiled(%s, %s, %" PRId64 ", &p, %" PRId64 "); /* %lld tiles, %lld B of L1 */\n",
          ares_emit_ref(c, n->in[0]), ares_emit_ref(c, n->out[0]), p->outer * p->npos * p->inner, n->tile_chunk,
          (long long)n->ntiles, (long long)n->l1_bytes);
  return 0;
}

static int emit_qscan(ares_emit_ctx *c, const ares_node *n) {
  const ares_scan_params *p = &n->p.scan;
  const ares_tensor *x = c->g->tensors[n->in[0]], *b = c->g->tensors[n->in[2]];
  fprintf(c->f, "  static const ares_scan p = {%d, %d, %d, %d, %d, %d, %d, INT64_C(%" PRId64 "), %d, %d, %d, %d, %d, %d};\n",
          p->direction, p->zp_x, p->zp_d, p->zp_b, p->zp_c, p->f, p->hmax, p->m_y, p->shift, p->zp, p->qmin, p->qmax, p->gate_pre,
          p->gate_shift);
  emit_tile(c, n);
  fprintf(c->f, "  ares_scan_tiled(%s, %s, %s, %s, %s, ", ares_emit_ref(c, n->in[0]), ares_emit_ref(c, n->in[1]),
          ares_emit_ref(c, n->in[2]), ares_emit_ref(c, n->in[3]), p->gate ? ares_emit_ref(c, n->in[7]) : "0");
  fprintf(c->f, "%s, %s, %s, %s, %s, %" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64 ", &p, &t);\n", ares_emit_ref(c, n->out[0]),
          ares_emit_ref(c, n->in[4]), ares_emit_ref(c, n->in[5]), ares_emit_ref(c, n->in[6]), p->gate ? ares_emit_ref(c, n->in[8]) : "0",
          x->dims[0], x->dims[1], x->dims[2], b->dims[2]);
  return 0;
}

static int emit_qcast(ares_emit_ctx *c, const ares_node *n) {
  fprintf(c->f, "  ares_cast_u8_s8(%s, %s, %" PRId64 ");\n", ares_emit_ref(c, n->in[0]), ares_emit_ref(c, n->out[0]),
          ares_tensor_numel(c->g->tensors[n->out[0]]));
  return 0;
}

/* Row-wise ops run through ares_rows_tiled (runtime/ares_tiled_rows.c) with the row
 * function of their kernel. */
static void emit_rows_call(ares_emit_ctx *c, const ares_node *n, const char *fn) {
  ares_rows_shape s;
  ares_kshape_rows(c->g, n, &s);
  fprintf(c->f, "  static const ares_rows_shape s = {%" PRId64 ", %d, %d, %d, %d, %d, %" PRId64 ", %s}; /* %lld tiles, %lld B of L1 */\n",
          s.outer, s.n, s.inner, s.in_esz, s.out_esz, n->tile_h, s.side_bytes, s.side_bytes ? ares_emit_ref(c, n->in[1]) : "0",
          (long long)n->ntiles, (long long)n->l1_bytes);
  fprintf(c->f, "  ares_rows_tiled(%s, %s, &s, %s, &p);\n", ares_emit_ref(c, n->in[0]), ares_emit_ref(c, n->out[0]), fn);
}

static int emit_qnorm(ares_emit_ctx *c, const ares_node *n) {
  const ares_norm_params *p = &n->p.norm;
  int np = p->n * p->nsets;
  emit_i32_array(c->f, "g_mult", p->g_mult, np);
  emit_i8_array(c->f, "g_shift", p->g_shift, np);
  emit_i64_array(c->f, "b_add", p->b_add, np);
  fprintf(c->f, "  static const ares_norm p = {%d, %d, %d, %d, %d, INT64_C(%" PRId64 "), g_mult, g_shift, b_add, %d, %d, %d, %d};\n",
          p->n, p->nsets, n->op == ARES_OP_QLAYERNORM, p->x_zp, p->e2, p->eps_fx, p->t_shift, p->zp, p->qmin, p->qmax);
  emit_rows_call(c, n, "ares_norm_rows");
  return 0;
}

static int emit_qsoftmax(ares_emit_ctx *c, const ares_node *n) {
  const ares_softmax_params *p = &n->p.softmax;
  if (p->in_i32) {
    emit_i32_array(c->f, "hi", p->hi, 256);
    emit_i32_array(c->f, "lo", p->lo, 256);
  } else {
    emit_i32_array(c->f, "tab", p->tab, 256);
  }
  fprintf(c->f,
          "  static const ares_softmax p = {%d, %d, %d, %s, %s, %s, INT64_C(%" PRId64 "), INT64_C(%" PRId64
          "), %d, %d, %d, %d, %d, %d, %d, %d, %d, %d};\n",
          p->n, p->inner, p->in_i32, p->in_i32 ? "0" : "tab", p->in_i32 ? "hi" : "0", p->in_i32 ? "lo" : "0", p->c_mult,
          p->dmax, p->c_shift, p->y_mult, p->y_shift, p->out_shift, p->zp, p->qmin, p->qmax, p->mask_rows, p->causal,
          p->causal_off);
  emit_rows_call(c, n, "ares_softmax_rows");
  return 0;
}

static int emit_qlut(ares_emit_ctx *c, const ares_node *n) {
  const ares_lut_params *p = &n->p.lut;
  if (p->table) {
    emit_i8_array(c->f, "table", p->table, 256);
  } else {
    fprintf(c->f, "  static const float ftable[256] = {");
    for (int i = 0; i < 256; i++) fprintf(c->f, "%s%a", i ? (i % 8 ? ", " : ",\n    ") : "", (double)p->ftable[i]);
    fprintf(c->f, "};\n");
  }
  int64_t numel = ares_tensor_numel(c->g->tensors[n->out[0]]);
  fprintf(c->f, "  ares_lut_tiled(%s, %s, %" PRId64 ", %s, %s, %" PRId64 "); /* %lld tiles, %lld B of L1 */\n",
          ares_emit_ref(c, n->in[0]), ares_emit_ref(c, n->out[0]), numel, p->table ? "table" : "0", p->table ? "0" : "ftable",
          n->tile_chunk, (long long)n->ntiles, (long long)n->l1_bytes);
  return 0;
}

/* Runs from L2 on the orchestrator: a row copy per token. */
static int emit_qembed(ares_emit_ctx *c, const ares_node *n) {
  const ares_tensor *w = c->g->tensors[n->in[0]];
  fprintf(c->f, "  ares_embed_s8(%s, %s, %s, %" PRId64 ", %" PRId64 ", %" PRId64 ", %d);\n", ares_emit_ref(c, n->in[0]),
          ares_emit_ref(c, n->in[1]), ares_emit_ref(c, n->out[0]), ares_tensor_numel(c->g->tensors[n->in[1]]), w->dims[0],
          w->dims[1], n->p.embed.oob);
  return 0;
}

typedef int (*emit_fn)(ares_emit_ctx *c, const ares_node *n);

static const emit_fn emitters[ARES_OP_COUNT] = {
    [ARES_OP_QUANTIZE] = emit_quantize,   [ARES_OP_DEQUANTIZE] = emit_dequantize, [ARES_OP_QCONV] = emit_qconv,
    [ARES_OP_QLINEAR] = emit_qlinear,     [ARES_OP_QADD] = emit_eltwise,          [ARES_OP_QREQUANT] = emit_eltwise,
    [ARES_OP_QCONCAT] = emit_qconcat,     [ARES_OP_QMAXPOOL] = emit_pool,         [ARES_OP_QAVGPOOL] = emit_pool,
    [ARES_OP_QPAD] = emit_qpad,           [ARES_OP_QRESHAPE] = emit_qreshape,     [ARES_OP_QTRANSPOSE] = emit_qtranspose,
    [ARES_OP_QSLICE] = emit_qslice,
    [ARES_OP_QGATHER] = emit_qgather,
    [ARES_OP_QMATMUL] = emit_qmatmul,
    [ARES_OP_QROPE] = emit_qrope,
    [ARES_OP_QSCAN] = emit_qscan,
    [ARES_OP_QCAST] = emit_qcast,
    [ARES_OP_QLAYERNORM] = emit_qnorm,    [ARES_OP_QRMSNORM] = emit_qnorm,        [ARES_OP_QSOFTMAX] = emit_qsoftmax,
    [ARES_OP_QLUT] = emit_qlut, [ARES_OP_QMUL] = emit_eltwise,
    [ARES_OP_QEMBED] = emit_qembed,
};

int ares_emit_node(ares_emit_ctx *c, const ares_node *n) {
  emit_fn fn = n->op < ARES_OP_COUNT ? emitters[n->op] : NULL;
  if (!fn) return ares_fail(n, "internal: no emitter for %s", ares_op_get(n->op)->name);
  return fn(c, n);
}

int ares_emit_has(ares_op op) { return op < ARES_OP_COUNT && emitters[op] != NULL; }
