/* Unit tests of the reference interpreter (src/ref). Every expected value is worked out by
 * hand in the comment next to it, not recomputed with the interpreter's formulas. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ares_kernels.h" /* only to cross-check ares_ref_rhe against the runtime's ares_rhe */
#include "check.h"
#include "check_graph.h"
#include "ir/ir.h"
#include "ref/ref.h"
#include "ref/ref_internal.h"

/* --- graph building helpers (check_graph.h) ------------------------------------------- */

/* A graph input whose value the test supplies (int8 or float); values[] keeps the pointer. */
static ares_tensor *input(ares_graph *g, void **values, const char *name, ares_dtype dt, int rank,
                          const int64_t *dims, const void *data) {
  ares_tensor *t = ares_tensor_new_shaped(g, name, dt, rank, dims);
  ares_graph_add_input(g, t->id);
  values[t->id] = (void *)data;
  return t;
}

/* A node whose output is also a graph output, so the test can read it. */
static ares_node *out_node(ares_graph *g, ares_op op, int nin, const int *in, int out) {
  ares_node *n = node(g, op, nin, in, out);
  ares_graph_add_output(g, out);
  return n;
}

#define MAXT 32

/* --- RHE -------------------------------------------------------------------------------- */

static void test_rhe(void) {
  CHECK_EQ(ares_ref_rhe(5, 1), 2);    /* 2.5 -> 2 (even) */
  CHECK_EQ(ares_ref_rhe(7, 1), 4);    /* 3.5 -> 4 (even) */
  CHECK_EQ(ares_ref_rhe(-5, 1), -2);  /* -2.5 -> -2 */
  CHECK_EQ(ares_ref_rhe(-7, 1), -4);  /* -3.5 -> -4 */
  CHECK_EQ(ares_ref_rhe(2, 2), 0);    /* 0.5 -> 0 */
  CHECK_EQ(ares_ref_rhe(6, 2), 2);    /* 1.5 -> 2 */
  CHECK_EQ(ares_ref_rhe(-2, 2), 0);   /* -0.5 -> 0 */
  CHECK_EQ(ares_ref_rhe(-6, 2), -2);  /* -1.5 -> -2 */
  CHECK_EQ(ares_ref_rhe(3, 2), 1);    /* 0.75 -> 1 */
  CHECK_EQ(ares_ref_rhe(-3, 2), -1);  /* -0.75 -> -1 */
  CHECK_EQ(ares_ref_rhe(5, 2), 1);    /* 1.25 -> 1 */
  CHECK_EQ(ares_ref_rhe(-5, 2), -1);  /* -1.25 -> -1 */
  CHECK_EQ(ares_ref_rhe(0, 7), 0);
  CHECK_EQ(ares_ref_rhe(INT64_MAX, 62), 2);              /* 1.99999... -> 2 */
  CHECK_EQ(ares_ref_rhe(INT64_MIN, 62), -2);             /* exactly -2 */
  CHECK_EQ(ares_ref_rhe((int64_t)3 << 61, 62), 2);       /* 1.5 -> 2 */
  CHECK_EQ(ares_ref_rhe((int64_t)1 << 61, 62), 0);       /* 0.5 -> 0 */
  CHECK_EQ(ares_ref_rhe(-((int64_t)3 << 61), 62), -2);   /* -1.5 -> -2 */
  CHECK_EQ(ares_ref_rhe(-((int64_t)5 << 60), 62), -1);   /* -1.25 -> -1 */

  /* Cross-check with the runtime's independent implementation (floor-based) on random
   * products whose quotient fits int32. */
  uint64_t st = 12345;
  int bad = 0;
  for (int i = 0; i < 200000; i++) {
    st = st * 6364136223846793005ULL + 1442695040888963407ULL;
    int s = 1 + (int)((st >> 33) % 32);
    int64_t p = (int64_t)(st >> 1) >> (63 - s - 30); /* |p| < 2^(s+30) */
    if (ares_ref_rhe(p, s) != ares_rhe(p, s)) bad++;
  }
  CHECK_EQ(bad, 0);
}

/* --- QUANTIZE / DEQUANTIZE ----------------------------------------------------------------- */

static void test_quantize(void) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  /* scale 0.5, zp -3, narrow range -127..127 */
  static const float x[] = {0.25f, 0.75f, -0.25f, -1.25f, NAN, INFINITY, -INFINITY, 70.0f, 1.0f};
  ares_tensor *tx = input(g, v, "x", ARES_DT_F32, 1, ARR(9), x);
  ares_tensor *ty = ares_tensor_new_shaped(g, "y", ARES_DT_I8, 1, ARR(9));
  ares_node *n = out_node(g, ARES_OP_QUANTIZE, 1, (int[]){tx->id}, ty->id);
  n->p.qdq = (ares_qdq_params){0.5f, -3, -127, 127, 0, 0, 0, 0};
  /* two more: scale 0.1f, zp 0; the float32 division matters */
  static const float x2[] = {0.35f, 0.45f, 0.5f, 1.5f, -0.5f, -2.5f, 12.75f, -13.0f};
  ares_tensor *tx2 = input(g, v, "x2", ARES_DT_F32, 1, ARR(8), x2);
  ares_tensor *ty2 = ares_tensor_new_shaped(g, "y2", ARES_DT_I8, 1, ARR(8));
  ares_node *n2 = out_node(g, ARES_OP_QUANTIZE, 1, (int[]){tx2->id}, ty2->id);
  n2->p.qdq = (ares_qdq_params){1.0f, 0, -128, 127, 0, 0, 0, 0};
  ares_tensor *tx3 = input(g, v, "x3", ARES_DT_F32, 1, ARR(2), x2);
  ares_tensor *ty3 = ares_tensor_new_shaped(g, "y3", ARES_DT_I8, 1, ARR(2));
  ares_node *n3 = out_node(g, ARES_OP_QUANTIZE, 1, (int[]){tx3->id}, ty3->id);
  n3->p.qdq = (ares_qdq_params){0.1f, 0, -128, 127, 0, 0, 0, 0};
  /* dequantize: (q - 5) * 0.5 */
  static const int8_t q[] = {-128, 0, 5, 127};
  ares_tensor *tq = input(g, v, "q", ARES_DT_I8, 1, ARR(4), q);
  ares_tensor *tf = ares_tensor_new_shaped(g, "f", ARES_DT_F32, 1, ARR(4));
  ares_node *nd = out_node(g, ARES_OP_DEQUANTIZE, 1, (int[]){tq->id}, tf->id);
  nd->p.qdq = (ares_qdq_params){0.5f, 5, -128, 127, 0, 0, 0, 0};

  CHECK_EQ(ares_ref_run(g, v), 0);
  const int8_t *y = v[ty->id];
  /* x/0.5 = 0.5 -> 0, 1.5 -> 2, -0.5 -> 0, -2.5 -> -2 (ties to even), then + zp -3;
   * NaN -> 0 -> -3; +inf -> 127; -inf -> -127 (narrow); 140 - 3 = 137 -> 127; 2 - 3 = -1 */
  static const int8_t ey[] = {-3, -1, -3, -5, -3, 127, -127, 127, -1};
  CHECK_MEM(y, ey, sizeof ey, "quantize scale 0.5 zp -3");
  /* scale 1: 0.35, 0.45 -> 0; 0.5 -> 0; 1.5 -> 2; -0.5 -> 0; -2.5 -> -2; 12.75 -> 13; -13 */
  static const int8_t ey2[] = {0, 0, 0, 2, 0, -2, 13, -13};
  CHECK_MEM(v[ty2->id], ey2, sizeof ey2, "quantize scale 1");
  /* 0.35f / 0.1f: exact quotient 3.49999988824, whose nearest float32 is 3.5 (ulp 2.4e-7),
   * a tie -> 4; 0.45f / 0.1f: exact 4.50000011176, float32 4.5 -> 4. A double division
   * would give 3 and 5. */
  static const int8_t ey3[] = {4, 4};
  CHECK_MEM(v[ty3->id], ey3, sizeof ey3, "quantize float32 division");
  /* (-128 - 5) * 0.5 = -66.5; (0 - 5) * 0.5 = -2.5; 0; (127 - 5) * 0.5 = 61 */
  static const float ef[] = {-66.5f, -2.5f, 0.0f, 61.0f};
  CHECK_MEM(v[tf->id], ef, sizeof ef, "dequantize");
  ares_ref_free(g, v);
  CHECK(v[ty->id] == NULL && v[tx->id] == x);
  ares_graph_free(g);

  /* Randomized: with scale 1 the result must be rintf (ties to even) clamped, a different
   * implementation of the same rounding. */
  enum { N = 20000 };
  float *xr = malloc(N * sizeof(float));
  uint32_t st = 7;
  for (int i = 0; i < N; i++) {
    st = st * 1664525u + 1013904223u;
    xr[i] = (i % 3 == 0) ? (float)((int)(st >> 24) - 128) + 0.5f : ((float)(st >> 8) / 16777216.0f - 0.5f) * 300.0f;
  }
  g = ares_graph_new();
  memset(v, 0, sizeof v);
  tx = input(g, v, "x", ARES_DT_F32, 1, ARR(N), xr);
  ty = ares_tensor_new_shaped(g, "y", ARES_DT_I8, 1, ARR(N));
  n = out_node(g, ARES_OP_QUANTIZE, 1, (int[]){tx->id}, ty->id);
  n->p.qdq = (ares_qdq_params){1.0f, 0, -128, 127, 0, 0, 0, 0};
  CHECK_EQ(ares_ref_run(g, v), 0);
  int bad = 0;
  for (int i = 0; i < N; i++) {
    float r = rintf(xr[i]);
    int e = r < -128 ? -128 : r > 127 ? 127 : (int)r;
    bad += ((int8_t *)v[ty->id])[i] != e;
  }
  CHECK_EQ(bad, 0);
  ares_ref_free(g, v);
  ares_graph_free(g);
  free(xr);
}

/* --- QREQUANT / QADD ----------------------------------------------------------------------- */

static void test_eltwise(void) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  static const int8_t x[] = {3, 1, -1, 127, -128};
  ares_tensor *tx = input(g, v, "x", ARES_DT_I8, 2, ARR(1, 5), x);
  ares_tensor *ty = ares_tensor_new_shaped(g, "y", ARES_DT_I8, 2, ARR(1, 5));
  ares_node *n = out_node(g, ARES_OP_QREQUANT, 1, (int[]){tx->id}, ty->id);
  n->p.elt = (ares_eltwise_params){.n = 1, .zp_in = {1, 0}, .mult = {3, 0}, .shift = 2, .zp = 10, .qmin = -128, .qmax = 100};

  static const int8_t a[] = {10, -3, 4, 2, 127}, b[] = {4, 100, -4, -3, -128};
  ares_tensor *ta = input(g, v, "a", ARES_DT_I8, 1, ARR(5), a);
  ares_tensor *tb = input(g, v, "b", ARES_DT_I8, 1, ARR(5), b);
  ares_tensor *ts = ares_tensor_new_shaped(g, "s", ARES_DT_I8, 1, ARR(5));
  ares_node *na = out_node(g, ARES_OP_QADD, 2, (int[]){ta->id, tb->id}, ts->id);
  na->p.elt = (ares_eltwise_params){.n = 2, .zp_in = {2, -4}, .mult = {3, -2}, .shift = 2, .zp = -5, .qmin = -128, .qmax = 127};
  /* qmul, zp_in {2, -4}, mult 3, shift 3, zp 1, range -100..100:
   *   (10-2)(4+4) = 64 -> 192/8 = 24 -> 25;  (-3-2)(100+4) = -520 -> -1560/8 = -195 -> -194 -> -100;
   *   (4-2)(-4+4) = 0 -> 1;  (2-2)(-3+4) = 0 -> 1;  (127-2)(-128+4) = -15500 -> -46500/8 = -5812.5 -> -100;
   * (exact ties below) */
  ares_tensor *tm = ares_tensor_new_shaped(g, "m", ARES_DT_I8, 1, ARR(5));
  ares_node *nm = out_node(g, ARES_OP_QMUL, 2, (int[]){ta->id, tb->id}, tm->id);
  nm->p.elt = (ares_eltwise_params){.n = 2, .zp_in = {2, -4}, .mult = {3, 0}, .shift = 3, .zp = 1, .qmin = -100, .qmax = 100};
  /* ties: c = {3, 5, 1, -1, -3}, d = {4, 4, 4, 4, 4}, zp_in 0, mult 1, shift 3: c*d = 12, 20, 4, -4, -12
   * -> /8 = 1.5 -> 2, 2.5 -> 2, 0.5 -> 0, -0.5 -> 0, -1.5 -> -2 (half to even) */
  static const int8_t c[] = {3, 5, 1, -1, -3}, d[] = {4, 4, 4, 4, 4};
  ares_tensor *tc = input(g, v, "c", ARES_DT_I8, 1, ARR(5), c);
  ares_tensor *td = input(g, v, "d", ARES_DT_I8, 1, ARR(5), d);
  ares_tensor *tq = ares_tensor_new_shaped(g, "q", ARES_DT_I8, 1, ARR(5));
  ares_node *nq = out_node(g, ARES_OP_QMUL, 2, (int[]){tc->id, td->id}, tq->id);
  nq->p.elt = (ares_eltwise_params){.n = 2, .zp_in = {0, 0}, .mult = {1, 0}, .shift = 3, .zp = 0, .qmin = -128, .qmax = 127};

  CHECK_EQ(ares_ref_run(g, v), 0);
  /* (x - 1) * 3 = 6, 0, -6, 378, -387; / 4 = 1.5 -> 2, 0, -1.5 -> -2, 94.5 -> 94,
   * -96.75 -> -97; + 10 = 12, 10, 8, 104 -> clamp 100, -87 */
  static const int8_t ey[] = {12, 10, 8, 100, -87};
  CHECK_MEM(v[ty->id], ey, sizeof ey, "qrequant");
  /* (a - 2) * 3 + (b + 4) * -2:
   *   24 - 16 = 8 -> 2 -> -3;  -15 - 208 = -223 -> -55.75 -> -56 -> -61;
   *   6 + 0 = 6 -> 1.5 -> 2 -> -3;  0 - 2 = -2 -> -0.5 -> 0 -> -5;
   *   375 + 248 = 623 -> 155.75 -> 156 -> 151 -> clamp 127 */
  static const int8_t es[] = {-3, -61, -3, -5, 127};
  CHECK_MEM(v[ts->id], es, sizeof es, "qadd");

  static const int8_t em[] = {25, -100, 1, 1, -100}, eq[] = {2, 2, 0, 0, -2};
  CHECK_MEM(v[tm->id], em, sizeof em, "qmul");
  CHECK_MEM(v[tq->id], eq, sizeof eq, "qmul ties");
  ares_ref_free(g, v);
  ares_graph_free(g);
}

/* --- QROPE ---------------------------------------------------------------------------------- */

static void test_rope(void) {
  for (int layout = ARES_ROPE_HALF; layout <= ARES_ROPE_INTERLEAVED; layout++) {
    ares_graph *g = ares_graph_new();
    void *v[MAXT] = {0};
    /* two positions of d = 4; position 0 is the identity (mc = 1.0 at shift 2), position 1
     * has arbitrary multipliers */
    static const int8_t x[] = {5, -3, 1, 127, 3, 0, -5, 2};
    static const int32_t mc[] = {4, 4, 4, 4, 2, 0, -2, 1}, ms[] = {0, 0, 0, 0, -3, 4, 1, 2};
    ares_tensor *tx = input(g, v, "x", ARES_DT_I8, 3, ARR(1, 2, 4), x);
    ares_tensor *tc = constant(g, "mc", ARES_DT_I32, 2, ARR(2, 4), mc);
    ares_tensor *ts = constant(g, "ms", ARES_DT_I32, 2, ARR(2, 4), ms);
    ares_tensor *ty = ares_tensor_new_shaped(g, "y", ARES_DT_I8, 3, ARR(1, 2, 4));
    ares_node *n = out_node(g, ARES_OP_QROPE, 3, (int[]){tx->id, tc->id, ts->id}, ty->id);
    n->p.rope = (ares_rope_params){.layout = layout, .outer = 1, .npos = 2, .inner = 1, .d = 4, .shift = 2,
                                   .zp_in = 1, .zp = 0, .qmin = -128, .qmax = 100};
    CHECK_EQ(ares_ref_run(g, v), 0);
    /* row 0: (x - 1) * 4 / 4 = 4, -4, 0, 126 -> clamp 100.
     * row 1: x - 1 = 2, -1, -6, 1.
     *   half (partners 0<->2, 1<->3): 2*2 + -6*-3 = 22 -> 5.5 -> 6;  -1*0 + 1*4 = 4 -> 1;
     *     -6*-2 + 2*1 = 14 -> 3.5 -> 4;  1*1 + -1*2 = -1 -> -0.25 -> 0
     *   interleaved (0<->1, 2<->3): 2*2 + -1*-3 = 7 -> 1.75 -> 2;  -1*0 + 2*4 = 8 -> 2;
     *     -6*-2 + 1*1 = 13 -> 3.25 -> 3;  1*1 + -6*2 = -11 -> -2.75 -> -3 */
    static const int8_t eh[] = {4, -4, 0, 100, 6, 1, 4, 0}, ei[] = {4, -4, 0, 100, 2, 2, 3, -3};
    CHECK_MEM(v[ty->id], layout == ARES_ROPE_HALF ? eh : ei, sizeof eh, layout == ARES_ROPE_HALF ? "qrope half" : "qrope interleaved");
    ares_ref_free(g, v);
    ares_graph_free(g);
  }
}

/* --- QEMBED --------------------------------------------------------------------------------- */

static void test_embed(void) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  static const int8_t w[] = {1, 2, 3, -4, -5, -6, 7, 8, 9}; /* 3 rows of 3 */
  static const int64_t ids[] = {2, 0, 3, -1, 2};
  ares_tensor *tw = constant(g, "w", ARES_DT_I8, 2, ARR(3, 3), w);
  ares_tensor *ti = input(g, v, "ids", ARES_DT_I64, 2, ARR(1, 5), ids);
  ares_tensor *ty = ares_tensor_new_shaped(g, "y", ARES_DT_I8, 3, ARR(1, 5, 3));
  ares_node *n = out_node(g, ARES_OP_QEMBED, 2, (int[]){tw->id, ti->id}, ty->id);
  n->p.embed.oob = -7;
  CHECK_EQ(ares_ref_run(g, v), 0);
  /* rows 2, 0, then 3 and -1 are outside 0..2 (a row of -7), then row 2 again */
  static const int8_t ey[] = {7, 8, 9, 1, 2, 3, -7, -7, -7, -7, -7, -7, 7, 8, 9};
  CHECK_MEM(v[ty->id], ey, sizeof ey, "qembed");
  ares_ref_free(g, v);
  ares_graph_free(g);
}

/* --- QCONV --------------------------------------------------------------------------------- */

static void test_conv(void) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  /* 1 channel 3x3, 2x2 kernel, stride 1, pad 1 on all sides -> 4x4; x_zp 1 */
  static const int8_t x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  static const int8_t w[] = {1, 2, 3, 4};
  static int32_t bias[] = {-10}, mult[] = {-1};
  static int8_t shift[] = {1};
  ares_tensor *tx = input(g, v, "x", ARES_DT_I8, 4, ARR(1, 1, 3, 3), x);
  ares_tensor *tw = constant(g, "w", ARES_DT_I8, 4, ARR(1, 1, 2, 2), w);
  ares_tensor *ty = ares_tensor_new_shaped(g, "y", ARES_DT_I8, 4, ARR(1, 1, 4, 4));
  ares_node *n = out_node(g, ARES_OP_QCONV, 2, (int[]){tx->id, tw->id}, ty->id);
  n->p.conv = (ares_conv_params){.kh = 2, .kw = 2, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pad_t = 1, .pad_l = 1,
                                 .pad_b = 1, .pad_r = 1, .group = 1, .x_zp = 1, .bias = bias,
                                 .rq = {.n = 1, .mult = mult, .shift = shift, .zp = 3, .qmin = -20, .qmax = 127}};

  /* depthwise: 2 channels 2x3, 2x2 kernels, no pad -> 1x2; per-channel bias and rq */
  static const int8_t xd[] = {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6};
  static const int8_t wd[] = {1, 0, 0, 1, 1, 1, 1, 1};
  static int32_t biasd[] = {1, 2}, multd[] = {1, 1};
  static int8_t shiftd[] = {1, 2};
  ares_tensor *txd = input(g, v, "xd", ARES_DT_I8, 4, ARR(1, 2, 2, 3), xd);
  ares_tensor *twd = constant(g, "wd", ARES_DT_I8, 4, ARR(2, 1, 2, 2), wd);
  ares_tensor *tyd = ares_tensor_new_shaped(g, "yd", ARES_DT_I8, 4, ARR(1, 2, 1, 2));
  ares_node *nd = out_node(g, ARES_OP_QCONV, 2, (int[]){txd->id, twd->id}, tyd->id);
  nd->p.conv = (ares_conv_params){.kh = 2, .kw = 2, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .group = 2, .bias = biasd,
                                  .rq = {.n = 2, .mult = multd, .shift = shiftd, .zp = 0, .qmin = -128, .qmax = 127}};

  /* 1-D: L = 5, k = 3, stride 2, dilation 2, pad 2 both sides -> (5 + 4 - 4 - 1) / 2 + 1 = 3 */
  static const int8_t x1[] = {1, 2, 3, 4, 5};
  static const int8_t w1[] = {1, 0, -1};
  static int32_t mult1[] = {1};
  static int8_t shift1[] = {1};
  ares_tensor *tx1 = input(g, v, "x1", ARES_DT_I8, 3, ARR(1, 1, 5), x1);
  ares_tensor *tw1 = constant(g, "w1", ARES_DT_I8, 3, ARR(1, 1, 3), w1);
  ares_tensor *ty1 = ares_tensor_new_shaped(g, "y1", ARES_DT_I8, 3, ARR(1, 1, 3));
  ares_node *n1 = out_node(g, ARES_OP_QCONV, 2, (int[]){tx1->id, tw1->id}, ty1->id);
  n1->p.conv = (ares_conv_params){.kh = 1, .kw = 3, .sh = 1, .sw = 2, .dh = 1, .dw = 2, .pad_l = 2, .pad_r = 2,
                                  .group = 1, .rq = {.n = 1, .mult = mult1, .shift = shift1, .qmin = -128, .qmax = 127}};

  CHECK_EQ(ares_ref_run(g, v), 0);
  /* x - zp = [0 1 2; 3 4 5; 6 7 8]; acc[oy][ox] = sum w[ky][kx] * xz[oy-1+ky][ox-1+kx]:
   *   row 0: 4*0=0 | 3*0+4*1=4 | 3*1+4*2=11 | 3*2=6
   *   row 1: 2*0+4*3=12 | 0+2+9+16=27 | 1+4+12+20=37 | 2+3*5=17
   *   row 2: 2*3+4*6=30 | 3+8+18+28=57 | 4+10+21+32=67 | 5+3*8=29
   *   row 3: 2*6=12 | 6+14=20 | 7+16=23 | 8
   * + bias -10, * mult -1, / 2 (RHE), + zp 3, clamp -20..127:
   *   -acc+10 = 10 6 -1 4 | -2 -17 -27 -7 | -20 -47 -57 -19 | -2 -10 -13 2
   *   /2 -> 5 3 0(-0.5) 2 | -1 -8(-8.5) -14(-13.5) -4(-3.5) | -10 -24(-23.5) -28(-28.5) -10(-9.5)
   *         | -1 -5 -6(-6.5) 1
   *   +3 -> 8 6 3 5 | 2 -5 -11 -1 | -7 -21->-20 -25->-20 -7 | 2 -2 -3 4 */
  static const int8_t ey[] = {8, 6, 3, 5, 2, -5, -11, -1, -7, -20, -20, -7, 2, -2, -3, 4};
  CHECK_MEM(v[ty->id], ey, sizeof ey, "conv 3x3 pad 1");
  /* ch0 (w = diag): 1+5=6, 2+6=8; + bias 1 = 7, 9; / 2 = 3.5 -> 4, 4.5 -> 4
   * ch1 (w = ones): -1-2-4-5=-12, -2-3-5-6=-16; + 2 = -10, -14; / 4 = -2.5 -> -2, -3.5 -> -4 */
  static const int8_t eyd[] = {4, 4, -2, -4};
  CHECK_MEM(v[tyd->id], eyd, sizeof eyd, "conv depthwise");
  /* taps at ox*2 - 2 + {0, 2, 4}: ox0: x0*0 + x2*-1 = -3; ox1: x0 - x4 = -4; ox2: x2 = 3;
   * / 2: -1.5 -> -2, -2, 1.5 -> 2 */
  static const int8_t ey1[] = {-2, -2, 2};
  CHECK_MEM(v[ty1->id], ey1, sizeof ey1, "conv 1-D");
  ares_ref_free(g, v);
  ares_graph_free(g);
}

/* --- QLINEAR ------------------------------------------------------------------------------- */

static void test_linear(void) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  static const int8_t x[] = {1, 2, 3, -1, 0, 4};
  static const int8_t w[] = {1, -1, 2, 3, 0, -2};
  static int32_t bias[] = {10, -5}, mult[] = {1, 3};
  static int8_t shift[] = {1, 2};
  static float fscale[] = {0.5f, 0.25f}, fbias[] = {0.25f, -1.0f};
  ares_tensor *tx = input(g, v, "x", ARES_DT_I8, 2, ARR(2, 3), x);
  ares_tensor *tw = constant(g, "w", ARES_DT_I8, 2, ARR(2, 3), w);
  ares_tensor *ty = ares_tensor_new_shaped(g, "y", ARES_DT_I8, 2, ARR(2, 2));
  ares_node *n = out_node(g, ARES_OP_QLINEAR, 2, (int[]){tx->id, tw->id}, ty->id);
  n->p.linear = (ares_linear_params){.x_zp = 1, .bias = bias,
                                     .rq = {.n = 2, .mult = mult, .shift = shift, .zp = -1, .qmin = -128, .qmax = 127}};
  /* same data as [2, 1, 3] with a float output */
  ares_tensor *tx3 = input(g, v, "x3", ARES_DT_I8, 3, ARR(2, 1, 3), x);
  ares_tensor *tyf = ares_tensor_new_shaped(g, "yf", ARES_DT_F32, 3, ARR(2, 1, 2));
  ares_node *nf = out_node(g, ARES_OP_QLINEAR, 2, (int[]){tx3->id, tw->id}, tyf->id);
  nf->p.linear = (ares_linear_params){.x_zp = 1, .bias = bias,
                                      .rq = {.n = 2, .out_float = 1, .fscale = fscale, .fbias = fbias}};

  CHECK_EQ(ares_ref_run(g, v), 0);
  /* x - 1 = [0 1 2; -2 -1 3]
   * r0: j0 10 + 0 - 1 + 4 = 13, j1 -5 + 0 + 0 - 4 = -9
   * r1: j0 10 - 2 + 1 + 6 = 15, j1 -5 - 6 + 0 - 6 = -17
   * j0: *1/2: 6.5 -> 6, 7.5 -> 8; j1: *3/4: -6.75 -> -7, -12.75 -> -13; + zp -1 */
  static const int8_t ey[] = {5, -8, 7, -14};
  CHECK_MEM(v[ty->id], ey, sizeof ey, "linear");
  /* 13*0.5+0.25 = 6.75, -9*0.25-1 = -3.25, 15*0.5+0.25 = 7.75, -17*0.25-1 = -5.25 */
  static const float ef[] = {6.75f, -3.25f, 7.75f, -5.25f};
  CHECK_MEM(v[tyf->id], ef, sizeof ef, "linear float out");
  ares_ref_free(g, v);
  ares_graph_free(g);
}

/* --- integer boundaries: qcast, int32 outputs ------------------------------------------------ */

static void test_int_io(void) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  static const uint8_t u[] = {0, 1, 127, 128, 255};
  static const int8_t s[] = {-128, -127, -1, 0, 127};
  ares_tensor *tu = input(g, v, "u", ARES_DT_U8, 1, ARR(5), u);
  ares_tensor *ts = ares_tensor_new_shaped(g, "s", ARES_DT_I8, 1, ARR(5));
  out_node(g, ARES_OP_QCAST, 1, (int[]){tu->id}, ts->id);
  ares_tensor *ts2 = input(g, v, "s2", ARES_DT_I8, 1, ARR(5), s);
  ares_tensor *tu2 = ares_tensor_new_shaped(g, "u2", ARES_DT_U8, 1, ARR(5));
  out_node(g, ARES_OP_QCAST, 1, (int[]){ts2->id}, tu2->id);
  /* test_linear's layer with an int32 output: the accumulators themselves */
  static const int8_t x[] = {1, 2, 3, -1, 0, 4};
  static const int8_t w[] = {1, -1, 2, 3, 0, -2};
  static int32_t bias[] = {10, -5};
  ares_tensor *tx = input(g, v, "x", ARES_DT_I8, 2, ARR(2, 3), x);
  ares_tensor *tw = constant(g, "w", ARES_DT_I8, 2, ARR(2, 3), w);
  ares_tensor *ty = ares_tensor_new_shaped(g, "y", ARES_DT_I32, 2, ARR(2, 2));
  ares_node *n = out_node(g, ARES_OP_QLINEAR, 2, (int[]){tx->id, tw->id}, ty->id);
  n->p.linear = (ares_linear_params){.x_zp = 1, .bias = bias, .rq = {.n = 2, .out_i32 = 1}};
  CHECK_EQ(ares_ref_run(g, v), 0);
  /* uint8 u is stored as u - 128 */
  CHECK_MEM(v[ts->id], s, sizeof s, "qcast u8 -> s8");
  CHECK_MEM(v[tu2->id], u, sizeof u, "qcast s8 -> u8");
  /* as in test_linear: 13, -9 / 15, -17 */
  static const int32_t ey[] = {13, -9, 15, -17};
  CHECK_MEM(v[ty->id], ey, sizeof ey, "linear int32 out");
  ares_ref_free(g, v);
  ares_graph_free(g);
}

/* --- pools --------------------------------------------------------------------------------- */

static void test_pool(void) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  /* avg: 2x2 input, 2x2 window, stride 1, pad top/left 1 -> 2x2; x_zp 2 -> xz = 2 6 10 14
   * tables mult[c-1] / 2^12 = 1/c (1/3 ~ 1365) */
  static const int8_t x[] = {4, 8, 12, 16};
  static int32_t mult[] = {4096, 2048, 1365, 1024};
  static int8_t shift[] = {12, 12, 12, 12};
  ares_tensor *tx = input(g, v, "x", ARES_DT_I8, 4, ARR(1, 1, 2, 2), x);
  ares_tensor *ty0 = ares_tensor_new_shaped(g, "y0", ARES_DT_I8, 4, ARR(1, 1, 2, 2));
  ares_tensor *ty1 = ares_tensor_new_shaped(g, "y1", ARES_DT_I8, 4, ARR(1, 1, 2, 2));
  ares_pool_params pp = {.kh = 2, .kw = 2, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pad_t = 1, .pad_l = 1, .x_zp = 2,
                         .ncount = 4, .rq = {.n = 4, .mult = mult, .shift = shift, .zp = 1, .qmin = -128, .qmax = 127}};
  ares_node *n0 = out_node(g, ARES_OP_QAVGPOOL, 1, (int[]){tx->id}, ty0->id);
  n0->p.pool = pp;
  ares_node *n1 = out_node(g, ARES_OP_QAVGPOOL, 1, (int[]){tx->id}, ty1->id);
  n1->p.pool = pp;
  n1->p.pool.count_include_pad = 1;

  /* max: all-negative 2x2, 2x2 window, stride 1, pad 1 all sides -> 3x3 */
  static const int8_t xm[] = {-5, -3, -7, -9};
  ares_tensor *txm = input(g, v, "xm", ARES_DT_I8, 4, ARR(1, 1, 2, 2), xm);
  ares_tensor *tym = ares_tensor_new_shaped(g, "ym", ARES_DT_I8, 4, ARR(1, 1, 3, 3));
  ares_node *nm = out_node(g, ARES_OP_QMAXPOOL, 1, (int[]){txm->id}, tym->id);
  nm->p.pool = (ares_pool_params){.kh = 2, .kw = 2, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                                  .pad_t = 1, .pad_l = 1, .pad_b = 1, .pad_r = 1, .x_zp = 5};
  /* 1-D avg: L = 4 {1, 2, 3, 5}, k = 2, stride 2 -> 2; zp 0: (1+2)/2 = 1.5 -> 2, (3+5)/2 = 4 */
  static const int8_t x1[] = {1, 2, 3, 5};
  static int32_t mult1[] = {2, 1};
  static int8_t shift1[] = {1, 1};
  ares_tensor *tx1 = input(g, v, "x1", ARES_DT_I8, 3, ARR(1, 1, 4), x1);
  ares_tensor *ty1d = ares_tensor_new_shaped(g, "y1d", ARES_DT_I8, 3, ARR(1, 1, 2));
  ares_node *n1d = out_node(g, ARES_OP_QAVGPOOL, 1, (int[]){tx1->id}, ty1d->id);
  n1d->p.pool = (ares_pool_params){.kh = 1, .kw = 2, .sh = 1, .sw = 2, .dh = 1, .dw = 1, .ncount = 2,
                                   .rq = {.n = 2, .mult = mult1, .shift = shift1, .qmin = -128, .qmax = 127}};

  CHECK_EQ(ares_ref_run(g, v), 0);
  /* windows: (0,0) only xz00 = 2, cnt 1 | (0,1) 2+6 = 8, cnt 2 | (1,0) 2+10 = 12, cnt 2 |
   * (1,1) 32, cnt 4. Exclude pad: 2, 4, 6, 8 (+1) = 3 5 7 9.
   * Include pad (/4): 0.5 -> 0, 2, 3, 8 (+1) = 1 3 4 9 */
  static const int8_t e0[] = {3, 5, 7, 9}, e1[] = {1, 3, 4, 9};
  CHECK_MEM(v[ty0->id], e0, sizeof e0, "avgpool exclude pad");
  CHECK_MEM(v[ty1->id], e1, sizeof e1, "avgpool include pad");
  /* x = [-5 -3; -7 -9]: corners see one element, edges two, the centre all four */
  static const int8_t em[] = {-5, -3, -3, -5, -3, -3, -7, -7, -9};
  CHECK_MEM(v[tym->id], em, sizeof em, "maxpool pad never wins");
  static const int8_t e1d[] = {2, 4};
  CHECK_MEM(v[ty1d->id], e1d, sizeof e1d, "avgpool 1-D");
  ares_ref_free(g, v);
  ares_graph_free(g);
}

/* --- concat, pad, reshape, transpose ---------------------------------------------------------- */

static void test_layout(void) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  /* concat axis 1 of a [2,1,2] (copied) and b [2,2,2] (rescaled: (x - 10) * 3 / 2, zp 0,
   * clamp -32..127) -> [2,3,2] */
  static const int8_t a[] = {1, 2, 3, 4};
  static const int8_t b[] = {10, 11, 12, 13, -10, -11, -12, -13};
  static int32_t zp_in[] = {0, 10}, cmult[] = {0, 3};
  static int8_t cshift[] = {0, 1};
  ares_tensor *ta = input(g, v, "a", ARES_DT_I8, 3, ARR(2, 1, 2), a);
  ares_tensor *tb = input(g, v, "b", ARES_DT_I8, 3, ARR(2, 2, 2), b);
  ares_tensor *tc = ares_tensor_new_shaped(g, "c", ARES_DT_I8, 3, ARR(2, 3, 2));
  ares_node *nc = out_node(g, ARES_OP_QCONCAT, 2, (int[]){ta->id, tb->id}, tc->id);
  nc->p.concat = (ares_concat_params){.axis = 1, .n = 2, .zp_in = zp_in, .mult = cmult, .shift = cshift,
                                      .zp = 0, .qmin = -32, .qmax = 127};
  /* pad [1,2,3] with begins {0, 1, -1}, ends {0, -1, 2} -> [1, 2, 4], value -7 */
  static const int8_t x[] = {1, 2, 3, 4, 5, 6};
  ares_tensor *tx = input(g, v, "x", ARES_DT_I8, 3, ARR(1, 2, 3), x);
  ares_tensor *tp = ares_tensor_new_shaped(g, "p", ARES_DT_I8, 3, ARR(1, 2, 4));
  ares_node *np = out_node(g, ARES_OP_QPAD, 1, (int[]){tx->id}, tp->id);
  np->p.pad = (ares_pad_params){.pads = {0, 1, -1, 0, -1, 2}, .value = -7};
  /* reshape [1,2,3] -> [3,2] */
  ares_tensor *tr = ares_tensor_new_shaped(g, "r", ARES_DT_I8, 2, ARR(3, 2));
  out_node(g, ARES_OP_QRESHAPE, 1, (int[]){tx->id}, tr->id);
  /* transpose [2,3] perm {1,0} */
  ares_tensor *tx2 = input(g, v, "x2", ARES_DT_I8, 2, ARR(2, 3), x);
  ares_tensor *tt = ares_tensor_new_shaped(g, "t", ARES_DT_I8, 2, ARR(3, 2));
  ares_node *nt = out_node(g, ARES_OP_QTRANSPOSE, 1, (int[]){tx2->id}, tt->id);
  nt->p.transpose = (ares_transpose_params){{1, 0}};
  /* transpose [2,3,4] perm {2,0,1} -> [4,2,3]; x3[a][b][c] = 12a + 4b + c */
  int8_t x3[24];
  for (int i = 0; i < 24; i++) x3[i] = (int8_t)i;
  ares_tensor *tx3 = input(g, v, "x3", ARES_DT_I8, 3, ARR(2, 3, 4), x3);
  ares_tensor *tt3 = ares_tensor_new_shaped(g, "t3", ARES_DT_I8, 3, ARR(4, 2, 3));
  ares_node *nt3 = out_node(g, ARES_OP_QTRANSPOSE, 1, (int[]){tx3->id}, tt3->id);
  nt3->p.transpose = (ares_transpose_params){{2, 0, 1}};

  CHECK_EQ(ares_ref_run(g, v), 0);
  /* b rescaled: 10 -> 0, 11 -> 1.5 -> 2, 12 -> 3, 13 -> 4.5 -> 4, -10 -> -30,
   * -11 -> -31.5 -> -32, -12 -> -33 -> -32, -13 -> -34.5 -> -34 -> -32.
   * Rows: batch 0 = a0 | b0; batch 1 = a1 | b1 */
  static const int8_t ec[] = {1, 2, 0, 2, 3, 4, 3, 4, -30, -32, -32, -32};
  CHECK_MEM(v[tc->id], ec, sizeof ec, "concat copy + rescale");
  /* out[r][c] = x[r - 1][c + 1]: row 0 all padding; row 1 = x[0][1], x[0][2], pad, pad */
  static const int8_t ep[] = {-7, -7, -7, -7, 2, 3, -7, -7};
  CHECK_MEM(v[tp->id], ep, sizeof ep, "pad with crop");
  CHECK_MEM(v[tr->id], x, sizeof x, "reshape");
  static const int8_t et[] = {1, 4, 2, 5, 3, 6};
  CHECK_MEM(v[tt->id], et, sizeof et, "transpose 2-D");
  /* out[i][j][k] = x3[j][k][i] = 12j + 4k + i, at flat 6i + 3j + k */
  const int8_t *t3 = v[tt3->id];
  CHECK_EQ(t3[0], 0);
  CHECK_EQ(t3[1 * 6 + 1 * 3 + 2], 21); /* [1][1][2] = 12 + 8 + 1 */
  CHECK_EQ(t3[3 * 6 + 0 * 3 + 1], 7);  /* [3][0][1] = 4 + 3 */
  CHECK_EQ(t3[2 * 6 + 1 * 3 + 0], 14); /* [2][1][0] = 12 + 2 */
  CHECK_EQ(t3[23], 23);                /* [3][1][2] = 12 + 8 + 3 */
  ares_ref_free(g, v);
  ares_graph_free(g);
}

/* --- a chain, created out of order: quantize -> qconv -> dequantize ---------------------------- */

static void test_chain(void) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  static const float x[] = {1.0f, -2.0f, 3.0f, 0.25f};
  static const int8_t w[] = {2};
  static int32_t mult[] = {1};
  static int8_t shift[] = {1};
  ares_tensor *tx = input(g, v, "x", ARES_DT_F32, 4, ARR(1, 1, 2, 2), x);
  ares_tensor *tq = ares_tensor_new_shaped(g, "q", ARES_DT_I8, 4, ARR(1, 1, 2, 2));
  ares_tensor *tw = constant(g, "w", ARES_DT_I8, 4, ARR(1, 1, 1, 1), w);
  ares_tensor *tc = ares_tensor_new_shaped(g, "c", ARES_DT_I8, 4, ARR(1, 1, 2, 2));
  ares_tensor *ty = ares_tensor_new_shaped(g, "y", ARES_DT_F32, 4, ARR(1, 1, 2, 2));
  ares_node *nd = ares_node_new(g, ARES_OP_DEQUANTIZE, "dq", 1, 1);
  nd->in[0] = tc->id, nd->out[0] = ty->id;
  nd->p.qdq = (ares_qdq_params){0.5f, 1, -128, 127, 0, 0, 0, 0};
  ares_node *nc = ares_node_new(g, ARES_OP_QCONV, "conv", 2, 1);
  nc->in[0] = tq->id, nc->in[1] = tw->id, nc->out[0] = tc->id;
  nc->p.conv = (ares_conv_params){.kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .group = 1, .x_zp = 1,
                                  .rq = {.n = 1, .mult = mult, .shift = shift, .zp = 1, .qmin = -128, .qmax = 127}};
  ares_node *nq = ares_node_new(g, ARES_OP_QUANTIZE, "q", 1, 1);
  nq->in[0] = tx->id, nq->out[0] = tq->id;
  nq->p.qdq = (ares_qdq_params){0.5f, 1, -128, 127, 0, 0, 0, 0};
  ares_graph_add_output(g, ty->id);

  CHECK_EQ(ares_ref_run(g, v), 0);
  /* q = x / 0.5 + 1 = 3, -3, 7, 0.5 -> 0 + 1 = 1; conv 2 * (q - 1) = 4, -8, 12, 0; / 2 = 2, -4, 6, 0;
   * + 1 = 3, -3, 7, 1; dequantized (c - 1) * 0.5 = 1, -2, 3, 0 */
  static const int8_t eq[] = {3, -3, 7, 1};
  static const float ey[] = {1.0f, -2.0f, 3.0f, 0.0f};
  CHECK_MEM(v[tq->id], eq, sizeof eq, "chain quantize");
  CHECK_MEM(v[ty->id], ey, sizeof ey, "chain output");
  ares_ref_free(g, v);
  CHECK(v[tq->id] == NULL && v[tc->id] == NULL && v[ty->id] == NULL && v[tx->id] == x);
  ares_graph_free(g);
}

/* --- errors are reported, not crashes ----------------------------------------------------------- */

static int run_one_failing(ares_op op, void (*setup)(ares_node *n, ares_tensor *tx, ares_tensor *ty)) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  static const int8_t x[] = {1, 2, 3, 4};
  ares_tensor *tx = input(g, v, "x", ARES_DT_I8, 4, ARR(1, 1, 2, 2), x);
  ares_tensor *ty = ares_tensor_new_shaped(g, "y", ARES_DT_I8, 4, ARR(1, 1, 2, 2));
  ares_node *n = out_node(g, op, 1, (int[]){tx->id}, ty->id);
  n->name = "bad";
  if (setup) setup(n, tx, ty);
  int rc = ares_ref_run(g, v);
  ares_ref_free(g, v);
  ares_graph_free(g);
  return rc;
}

static void bad_shift(ares_node *n, ares_tensor *tx, ares_tensor *ty) {
  (void)tx, (void)ty;
  n->p.elt = (ares_eltwise_params){.n = 1, .mult = {1, 0}, .shift = 0, .qmin = -128, .qmax = 127};
}
static void bad_shape(ares_node *n, ares_tensor *tx, ares_tensor *ty) {
  (void)tx;
  ty->dims[3] = 3;
  n->p.elt = (ares_eltwise_params){.n = 1, .mult = {1, 0}, .shift = 1, .qmin = -128, .qmax = 127};
}
static void bad_perm(ares_node *n, ares_tensor *tx, ares_tensor *ty) {
  (void)tx, (void)ty;
  n->p.transpose = (ares_transpose_params){{0, 1, 1, 3}};
}
static void bad_pool(ares_node *n, ares_tensor *tx, ares_tensor *ty) {
  (void)tx, (void)ty;
  n->p.pool = (ares_pool_params){.kh = 2, .kw = 2, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .ncount = 3};
}
static void bad_conv(ares_node *n, ares_tensor *tx, ares_tensor *ty) {
  (void)tx, (void)ty;
  n->nin = 1; /* weight missing */
}
static void bad_dtype(ares_node *n, ares_tensor *tx, ares_tensor *ty) {
  (void)n, (void)ty;
  tx->dtype = ARES_DT_F32;
}
static void window_in_padding(ares_node *n, ares_tensor *tx, ares_tensor *ty) {
  (void)tx;
  ty->dims[2] = ty->dims[3] = 3;
  n->p.pool = (ares_pool_params){.kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pad_t = 1, .pad_l = 1};
}

static void test_errors(void) {
  fprintf(stderr, "(the errors below are expected)\n");
  CHECK_EQ(run_one_failing(ARES_OP_QREQUANT, bad_shift), -1);
  CHECK_EQ(run_one_failing(ARES_OP_QREQUANT, bad_shape), -1);
  CHECK_EQ(run_one_failing(ARES_OP_QTRANSPOSE, bad_perm), -1);
  CHECK_EQ(run_one_failing(ARES_OP_QAVGPOOL, bad_pool), -1);
  CHECK_EQ(run_one_failing(ARES_OP_QCONV, bad_conv), -1);
  CHECK_EQ(run_one_failing(ARES_OP_QMAXPOOL, bad_dtype), -1);
  CHECK_EQ(run_one_failing(ARES_OP_QMAXPOOL, window_in_padding), -1);
  CHECK_EQ(run_one_failing(ARES_OP_RELU, NULL), -1); /* a source op: not lowered */
  fprintf(stderr, "(end of expected errors)\n");

  /* every integer op has a reference implementation, no source op has one */
#define ARES_SRC(e, onnx, domain, doc) CHECK(!ares_ref_supports(ARES_OP_##e));
#define ARES_INT(e, name, doc) CHECK(ares_ref_supports(ARES_OP_##e));
#include "ir/ops.def"
#undef ARES_SRC
#undef ARES_INT
}

/* --- qslice / qgather ------------------------------------------------------------------------- */

static void test_slice_gather(void) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  /* x [2][3][4], x[a][b][c] = 12a + 4b + c */
  int8_t x[24];
  for (int i = 0; i < 24; i++) x[i] = (int8_t)i;
  ares_tensor *tx = input(g, v, "x", ARES_DT_I8, 3, ARR(2, 3, 4), x);
  /* dim 0 all, dim 1 from 2 step -2 (2, 0), dim 2 from 3 step -1 (3, 2, 1, 0): [2][2][4] */
  ares_tensor *ts = ares_tensor_new_shaped(g, "s", ARES_DT_I8, 3, ARR(2, 2, 4));
  ares_node *ns = out_node(g, ARES_OP_QSLICE, 1, (int[]){tx->id}, ts->id);
  ns->p.slice = (ares_slice_params){.start = {0, 2, 3}, .step = {1, -2, -1}};
  /* gather along dim 1 with indices {2, 2, 0}: [2][3][4] */
  static int64_t gidx[] = {2, 2, 0};
  ares_tensor *tg = ares_tensor_new_shaped(g, "gt", ARES_DT_I8, 3, ARR(2, 3, 4));
  ares_node *ng = out_node(g, ARES_OP_QGATHER, 1, (int[]){tx->id}, tg->id);
  ng->p.gather = (ares_gather_params){.axis = 1, .nidx = 3, .idx = gidx};
  CHECK_EQ(ares_ref_run(g, v), 0);
  /* s[a][b][c] = x[a][2 - 2b][3 - c]: a=0,b=0: 11 10 9 8; a=0,b=1: 3 2 1 0;
   * a=1,b=0: 23 22 21 20; a=1,b=1: 15 14 13 12 */
  static const int8_t es[] = {11, 10, 9, 8, 3, 2, 1, 0, 23, 22, 21, 20, 15, 14, 13, 12};
  CHECK_MEM(v[ts->id], es, sizeof es, "slice with negative steps");
  /* gt[a][i][c] = x[a][idx[i]][c]: rows 8..11, 8..11, 0..3, then 20..23, 20..23, 12..15 */
  static const int8_t eg[] = {8, 9, 10, 11, 8, 9, 10, 11, 0, 1, 2, 3, 20, 21, 22, 23, 20, 21, 22, 23, 12, 13, 14, 15};
  CHECK_MEM(v[tg->id], eg, sizeof eg, "gather with repeated indices");
  ares_ref_free(g, v);
  ares_graph_free(g);

  /* a slice reaching outside its input is refused */
  g = ares_graph_new();
  void *v2[MAXT] = {0};
  tx = input(g, v2, "x", ARES_DT_I8, 3, ARR(2, 3, 4), x);
  ts = ares_tensor_new_shaped(g, "s", ARES_DT_I8, 3, ARR(2, 3, 4));
  ns = out_node(g, ARES_OP_QSLICE, 1, (int[]){tx->id}, ts->id);
  ns->p.slice = (ares_slice_params){.start = {0, 1, 0}, .step = {1, 1, 1}}; /* rows 1..3 of 3 */
  fprintf(stderr, "(the error below is expected)\n");
  CHECK_EQ(ares_ref_run(g, v2), -1);
  ares_ref_free(g, v2);
  ares_graph_free(g);
}

/* --- qmatmul ------------------------------------------------------------------------------------ */

static void test_matmul(void) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  /* a [2][1][2] (zp 1): batch 0 = [3, 0], batch 1 = [1, -1]; b [1][2][2] (zp -2), broadcast
   * over a's batch: [[0, -2], [1, 2]], i.e. b - zp = [[2, 0], [3, 4]] */
  static const int8_t a[] = {3, 0, 1, -1}, b[] = {0, -2, 1, 2};
  ares_tensor *ta = input(g, v, "a", ARES_DT_I8, 3, ARR(2, 1, 2), a);
  ares_tensor *tb = input(g, v, "b", ARES_DT_I8, 3, ARR(1, 2, 2), b);
  /* int32 output: batch 0: a - zp = [2, -1] -> [2*2 + -1*3, 2*0 + -1*4] = [1, -4];
   * batch 1: a - zp = [0, -2] -> [-6, -8] */
  ares_tensor *t32 = ares_tensor_new_shaped(g, "acc", ARES_DT_I32, 3, ARR(2, 1, 2));
  float s1 = 1.0f;
  int32_t z0 = 0;
  ares_quant_set(g, t32, 1, 0, &s1, &z0, -8, 8);
  ares_node *n32 = out_node(g, ARES_OP_QMATMUL, 2, (int[]){ta->id, tb->id}, t32->id);
  n32->p.matmul = (ares_matmul_params){.a_zp = 1, .b_zp = -2};
  /* int8 output, times 3/4 (mult 3 * 2^28, shift 30), zp 5, clamp -128..0:
   * 1 -> 0.75 -> 1 + 5 = 6 -> 0 (clamp); -4 -> -3 + 5 = 2 -> 0; -6 -> -4.5 -> -4 (even) + 5 = 1 -> 0;
   * -8 -> -6 + 5 = -1 */
  static int32_t mult[] = {3 << 28};
  static int8_t shift[] = {30};
  ares_tensor *t8 = ares_tensor_new_shaped(g, "y", ARES_DT_I8, 3, ARR(2, 1, 2));
  ares_node *n8 = out_node(g, ARES_OP_QMATMUL, 2, (int[]){ta->id, tb->id}, t8->id);
  n8->p.matmul = (ares_matmul_params){.a_zp = 1, .b_zp = -2, .rq = {.n = 1, .mult = mult, .shift = shift, .zp = 5, .qmin = -128, .qmax = 0}};
  /* the same with the clamp at 127: 6, 2, 1, -1 */
  ares_tensor *t8b = ares_tensor_new_shaped(g, "y2", ARES_DT_I8, 3, ARR(2, 1, 2));
  ares_node *n8b = out_node(g, ARES_OP_QMATMUL, 2, (int[]){ta->id, tb->id}, t8b->id);
  n8b->p.matmul = n8->p.matmul;
  n8b->p.matmul.rq.qmax = 127;
  CHECK_EQ(ares_ref_run(g, v), 0);
  static const int32_t e32[] = {1, -4, -6, -8};
  CHECK_MEM(v[t32->id], e32, sizeof e32, "matmul int32 accumulator, b broadcast");
  static const int8_t e8[] = {0, 0, 0, -1}, e8b[] = {6, 2, 1, -1};
  CHECK_MEM(v[t8->id], e8, sizeof e8, "matmul requantized, clamped");
  CHECK_MEM(v[t8b->id], e8b, sizeof e8b, "matmul requantized");
  ares_ref_free(g, v);
  ares_graph_free(g);

  /* an accumulator outside the int32 output's proven range is an error */
  g = ares_graph_new();
  void *v2[MAXT] = {0};
  ta = input(g, v2, "a", ARES_DT_I8, 3, ARR(2, 1, 2), a);
  tb = input(g, v2, "b", ARES_DT_I8, 3, ARR(1, 2, 2), b);
  t32 = ares_tensor_new_shaped(g, "acc", ARES_DT_I32, 3, ARR(2, 1, 2));
  ares_quant_set(g, t32, 1, 0, &s1, &z0, -7, 7);
  n32 = out_node(g, ARES_OP_QMATMUL, 2, (int[]){ta->id, tb->id}, t32->id);
  n32->p.matmul = (ares_matmul_params){.a_zp = 1, .b_zp = -2};
  fprintf(stderr, "(the error below is expected)\n");
  CHECK_EQ(ares_ref_run(g, v2), -1);
  ares_ref_free(g, v2);
  ares_graph_free(g);
}

int main(void) {
  test_rhe();
  test_quantize();
  test_eltwise();
  test_rope();
  test_embed();
  test_conv();
  test_linear();
  test_int_io();
  test_pool();
  test_layout();
  test_chain();
  test_errors();
  test_slice_gather();
  test_matmul();
  return check_report();
}
