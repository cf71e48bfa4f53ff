/* Per-tensor QuantizeLinear and DequantizeLinear as the generated code runs them: the
 * compiler's tables (src/ir/qdq_table.c) and the runtime kernels (ares_quantize_f32_s8_thr,
 * ares_lut_s8_f32) against the reference interpreter's QUANTIZE / DEQUANTIZE, on the
 * rounding boundaries themselves (the keys either side of every threshold), special values
 * and random bit patterns, for several scales, zero points and ranges. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ares_kernels.h"
#include "check.h"
#include "check_graph.h"
#include "ir/ir.h"
#include "ir/qdq_table.h"
#include "ref/ref.h"

static float key_to_f32(int32_t k) {
  uint32_t u = (uint32_t)k ^ ((uint32_t)(k >> 31) >> 1);
  float v;
  memcpy(&v, &u, sizeof v);
  return v;
}

static float bits_f32(uint32_t u) {
  float v;
  memcpy(&v, &u, sizeof v);
  return v;
}

/* The reference's QUANTIZE or DEQUANTIZE of n elements into y (a copy of its output). */
static void ref_qdq(ares_op op, const void *x, void *y, int64_t n, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  ares_graph *g = ares_graph_new();
  void *v[8] = {0};
  int q = op == ARES_OP_QUANTIZE;
  ares_tensor *tx = ares_tensor_new_shaped(g, "x", q ? ARES_DT_F32 : ARES_DT_I8, 1, ARR(n));
  ares_tensor *ty = ares_tensor_new_shaped(g, "y", q ? ARES_DT_I8 : ARES_DT_F32, 1, ARR(n));
  ares_graph_add_input(g, tx->id);
  ares_graph_add_output(g, ty->id);
  v[tx->id] = (void *)x;
  ares_node *nd = node(g, op, 1, (int[]){tx->id}, ty->id);
  nd->p.qdq = (ares_qdq_params){scale, zp, qmin, qmax, 0, 0, 0, 0};
  CHECK_EQ(ares_ref_run(g, v), 0);
  memcpy(y, v[ty->id], (size_t)n * (q ? 1 : sizeof(float)));
  ares_ref_free(g, v);
  ares_graph_free(g);
}

typedef struct {
  float scale;
  int32_t zp, qmin, qmax;
} qcase;

static void test_quantize(const qcase *c) {
  int32_t below[256];
  ares_quantize_thresholds(c->scale, c->zp, c->qmin, c->qmax, below);
  for (int j = 1; j < 256; j++) CHECK(below[j - 1] <= below[j]);
  /* the keys on both sides of every threshold, special values, random patterns */
  enum { NR = 4000 };
  static float x[4 * 256 + 32 + NR];
  int64_t n = 0;
  for (int j = 1; j < 256; j++) {
    if (c->qmin + j > c->qmax) break;
    for (int d = -1; d <= 2; d++) x[n++] = key_to_f32(below[j] + d);
  }
  static const uint32_t special[] = {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00000u,
                                     0x7f800001u, 0xff800001u, 0x7fffffffu, 0xffffffffu, 0x00000001u, 0x80000001u,
                                     0x007fffffu, 0x807fffffu, 0x7f7fffffu, 0xff7fffffu};
  for (size_t i = 0; i < sizeof special / sizeof *special; i++) x[n++] = bits_f32(special[i]);
  uint32_t st = 99u + (uint32_t)c->zp;
  for (int i = 0; i < NR; i++) {
    st = st * 1664525u + 1013904223u;
    /* half random bit patterns, half values within the range around the scale */
    x[n++] = i & 1 ? bits_f32(st) : ((float)(st >> 8) / 16777216.0f - 0.5f) * 300.0f * c->scale;
  }
  static int8_t ref[sizeof x / sizeof *x], got[sizeof x / sizeof *x];
  ref_qdq(ARES_OP_QUANTIZE, x, ref, n, c->scale, c->zp, c->qmin, c->qmax);
  int32_t nan_q = c->zp < c->qmin ? c->qmin : c->zp > c->qmax ? c->qmax : c->zp;
  /* lengths 1, odd and the whole buffer, at an offset */
  static const int64_t lens[] = {1, 3, 255};
  for (size_t l = 0; l < sizeof lens / sizeof *lens; l++) {
    memset(got, 0x55, sizeof got);
    ares_quantize_f32_s8_thr(x + 5, got + 5, lens[l], below, c->qmin, nan_q);
    CHECK_MEM(got + 5, ref + 5, (size_t)lens[l], "quantize, short");
    CHECK_EQ(got[5 + lens[l]], 0x55);
  }
  ares_quantize_f32_s8_thr(x, got, n, below, c->qmin, nan_q);
  char what[96];
  snprintf(what, sizeof what, "quantize scale %a zp %d range %d..%d", (double)c->scale, c->zp, c->qmin, c->qmax);
  CHECK_MEM(got, ref, (size_t)n, what);
}

static void test_dequantize(const qcase *c) {
  int8_t q[256 + 3];
  for (int i = 0; i < 256 + 3; i++) q[i] = (int8_t)(i * 37 + 11); /* every int8 value, then some */
  float table[256], ref[256 + 3], got[256 + 3];
  ares_dequantize_table(c->scale, c->zp, table);
  ref_qdq(ARES_OP_DEQUANTIZE, q, ref, 256 + 3, c->scale, c->zp, c->qmin, c->qmax);
  ares_lut_s8_f32(q, got, 256 + 3, table);
  char what[96];
  snprintf(what, sizeof what, "dequantize scale %a zp %d", (double)c->scale, c->zp);
  CHECK_MEM(got, ref, sizeof got, what);
  ares_lut_s8_f32(q, got, 1, table);
  CHECK_MEM(got, ref, sizeof(float), "dequantize, one element");
}

int main(void) {
  static const qcase cases[] = {
      {0.1f, 0, -128, 127},       /* float32 division ties (0.35f / 0.1f is 3.5 in float32) */
      {0.5f, -3, -127, 127},      /* narrow range, zp */
      {1.0f, 0, -128, 127},       {1.0f / 3.0f, 17, -128, 127}, {0x1.066f4cp-5f, 0, -128, 127},
      {1.0f, -128, -128, 127},    /* uint8 shifted to int8: zp at the bottom */
      {0.25f, 0, -8, 7},          /* 4 bits */
      {3.0f, 1, -2, 1},           /* 2 bits */
      {1e-30f, 5, -128, 127},     /* thresholds among the subnormals */
      {1e30f, -7, -128, 127},     /* every finite input but huge ones quantizes to zp */
      {1e-3f, 300, -128, 127},    /* zp beyond the range: clamps (NaN too) */
      {2.0f, 0, 5, 5},            /* a single value */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    test_quantize(&cases[i]);
    if (cases[i].zp >= -128 && cases[i].zp <= 127) test_dequantize(&cases[i]);
  }
  return check_report();
}
