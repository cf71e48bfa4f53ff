/* Unit tests of the table ops: the lower-lut pass on hand-built float islands (tables
 * worked out by hand in the comments), the reference qlut, and the runtime kernels against
 * a naive lookup written here. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ares_kernels.h"
#include "check.h"
#include "check_graph.h"
#include "ir/ir.h"
#include "passes/passes.h"
#include "ref/ref.h"
#include "ref/ref_internal.h"

#define MAXT 64

/* --- graph building (check_graph.h) ----------------------------------------------------- */

static ares_tensor *scalar(ares_graph *g, float v) { return constant(g, "c", ARES_DT_F32, 0, NULL, &v); }

static void quant(ares_graph *g, ares_tensor *t, float scale, int32_t zp) {
  ares_quant_set(g, t, 1, 0, &scale, &zp, -128, 127);
}

/* int8 graph input x [1, 256] holding every int8 value, and DQ(x). */
static ares_tensor *dq_input(ares_graph *g, void **v, int8_t *xs, float scale, int32_t zp, ares_tensor **xf) {
  ares_tensor *x = ares_tensor_new_shaped(g, "x", ARES_DT_I8, 2, ARR(1, 256));
  quant(g, x, scale, zp);
  ares_graph_add_input(g, x->id);
  for (int i = 0; i < 256; i++) xs[i] = (int8_t)(i - 128);
  v[x->id] = xs;
  *xf = ares_tensor_new_shaped(g, "xf", ARES_DT_F32, 2, ARR(1, 256));
  node(g, ARES_OP_DEQUANTIZELINEAR, 1, (int[]){x->id}, (*xf)->id);
  return x;
}

/* Q(y) -> int8 output tensor quantized (scale, zp), a graph output. */
static ares_tensor *q_output(ares_graph *g, ares_tensor *y, float scale, int32_t zp) {
  ares_tensor *t = ares_tensor_new_shaped(g, "t", ARES_DT_I8, 2, ARR(1, 256));
  quant(g, t, scale, zp);
  node(g, ARES_OP_QUANTIZELINEAR, 1, (int[]){y->id}, t->id);
  ares_graph_add_output(g, t->id);
  return t;
}

/* Runs lower-lut; drops the nodes finalize would drop; returns the number of qluts made. */
static int lower(ares_graph *g) {
  CHECK_EQ(ares_pass_lower_lut(g), 0);
  CHECK_EQ(ares_pass_finalize(g), 0);
  int k = 0;
  for (int i = 0; i < g->nnodes; i++) k += !g->nodes[i]->dead && g->nodes[i]->op == ARES_OP_QLUT;
  return k;
}

/* --- lower-lut -------------------------------------------------------------------------- */

/* Q(DQ(x) * 0.5 + 0.25) with both scales 1, zero points 0 and 3. */
static void test_mul_add_table(void) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  int8_t xs[256];
  ares_tensor *xf, *x = dq_input(g, v, xs, 1.0f, 0, &xf);
  ares_tensor *m = ares_tensor_new_shaped(g, "m", ARES_DT_F32, 2, ARR(1, 256)), *y = ares_tensor_new_shaped(g, "y", ARES_DT_F32, 2, ARR(1, 256));
  node(g, ARES_OP_MUL, 2, (int[]){xf->id, scalar(g, 0.5f)->id}, m->id);
  node(g, ARES_OP_ADD, 2, (int[]){scalar(g, 0.25f)->id, m->id}, y->id);
  ares_tensor *t = q_output(g, y, 1.0f, 3);
  CHECK_EQ(lower(g), 1);
  CHECK_EQ(ares_ref_run(g, v), 0);
  const int8_t *r = v[t->id];
  /* x = 0: 0.25 -> 0, + 3 = 3;  x = 1: 0.75 -> 1 -> 4;  x = 2: 1.25 -> 1 -> 4;
   * x = 3: 1.75 -> 2 -> 5;  x = -1: -0.25 -> 0 -> 3;  x = -2: -0.75 -> -1 -> 2;
   * x = -128: -63.75 -> -64 -> -61;  x = 127: 63.75 -> 64 -> 67 */
  CHECK_EQ(r[128 + 0], 3);
  CHECK_EQ(r[128 + 1], 4);
  CHECK_EQ(r[128 + 2], 4);
  CHECK_EQ(r[128 + 3], 5);
  CHECK_EQ(r[128 - 1], 3);
  CHECK_EQ(r[128 - 2], 2);
  CHECK_EQ(r[0], -61);
  CHECK_EQ(r[255], 67);
  ares_ref_free(g, v);
  ares_graph_free(g);
  (void)x;
}

/* Q(DQ(x) * 0.5): exact ties round half to even; the output clamps. */
static void test_ties_and_clamp(void) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  int8_t xs[256];
  ares_tensor *xf;
  dq_input(g, v, xs, 1.0f, 0, &xf);
  ares_tensor *y = ares_tensor_new_shaped(g, "y", ARES_DT_F32, 2, ARR(1, 256));
  node(g, ARES_OP_MUL, 2, (int[]){xf->id, scalar(g, 0.5f)->id}, y->id);
  ares_tensor *t = q_output(g, y, 0.25f, 0);
  CHECK_EQ(lower(g), 1);
  CHECK_EQ(ares_ref_run(g, v), 0);
  const int8_t *r = v[t->id];
  /* y / 0.25 = 2x: x = 10 -> 20; x = 64 -> 128 -> clamp 127; x = -64 -> -128; x = -65 -> -130 -> -128 */
  CHECK_EQ(r[128 + 10], 20);
  CHECK_EQ(r[128 + 64], 127);
  CHECK_EQ(r[128 - 64], -128);
  CHECK_EQ(r[128 - 65], -128);
  ares_ref_free(g, v);
  ares_graph_free(g);

  /* scale 1, * 0.5: x = 1 -> 0.5 -> 0; x = 3 -> 1.5 -> 2; x = 5 -> 2.5 -> 2; x = -3 -> -1.5 -> -2 */
  g = ares_graph_new();
  memset(v, 0, sizeof v);
  dq_input(g, v, xs, 1.0f, 0, &xf);
  y = ares_tensor_new_shaped(g, "y", ARES_DT_F32, 2, ARR(1, 256));
  node(g, ARES_OP_MUL, 2, (int[]){scalar(g, 0.5f)->id, xf->id}, y->id);
  t = q_output(g, y, 1.0f, 0);
  CHECK_EQ(lower(g), 1);
  CHECK_EQ(ares_ref_run(g, v), 0);
  r = v[t->id];
  CHECK_EQ(r[128 + 1], 0);
  CHECK_EQ(r[128 + 3], 2);
  CHECK_EQ(r[128 + 5], 2);
  CHECK_EQ(r[128 - 3], -2);
  ares_ref_free(g, v);
  ares_graph_free(g);
}

/* SiLU as exported: DQ(x) * Sigmoid(DQ(x)), the leaf used twice; and Sigmoid alone. */
static void test_silu_sigmoid(void) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  int8_t xs[256];
  ares_tensor *xf;
  dq_input(g, v, xs, 0.125f, 0, &xf);
  ares_tensor *s = ares_tensor_new_shaped(g, "s", ARES_DT_F32, 2, ARR(1, 256)), *y = ares_tensor_new_shaped(g, "y", ARES_DT_F32, 2, ARR(1, 256));
  node(g, ARES_OP_SIGMOID, 1, (int[]){xf->id}, s->id);
  node(g, ARES_OP_MUL, 2, (int[]){xf->id, s->id}, y->id);
  ares_tensor *t = q_output(g, y, 0.125f, 0);
  CHECK_EQ(lower(g), 1);
  CHECK_EQ(ares_ref_run(g, v), 0);
  const int8_t *r = v[t->id];
  /* x = 0: 0;  x = 8 (1.0): 1 * 0.7310586 = 0.731 / 0.125 = 5.85 -> 6;
   * x = -8 (-1.0): -1 * 0.2689414 = -0.269 / 0.125 = -2.15 -> -2;
   * x = 127 (15.875): sigmoid = 1 - 1.3e-7, product 15.875 -> 127;
   * x = -128 (-16): -16 * 1.1254e-7 = -1.8e-6 -> -0.0 -> 0 */
  CHECK_EQ(r[128], 0);
  CHECK_EQ(r[128 + 8], 6);
  CHECK_EQ(r[128 - 8], -2);
  CHECK_EQ(r[255], 127);
  CHECK_EQ(r[0], 0);
  ares_ref_free(g, v);
  ares_graph_free(g);

  /* Sigmoid to scale 1/128, zp -128 (uint8 shifted): x = 0 -> 0.5 * 128 = 64 - 128 = -64;
   * x = 127 -> 1 - 1.3e-7 -> 127.99998 -> 128 - 128 = 0; x = -128 -> 1.1e-7 -> 0 -> -128 */
  g = ares_graph_new();
  memset(v, 0, sizeof v);
  dq_input(g, v, xs, 0.125f, 0, &xf);
  s = ares_tensor_new_shaped(g, "s", ARES_DT_F32, 2, ARR(1, 256));
  node(g, ARES_OP_SIGMOID, 1, (int[]){xf->id}, s->id);
  t = q_output(g, s, 1.0f / 128, -128);
  CHECK_EQ(lower(g), 1);
  CHECK_EQ(ares_ref_run(g, v), 0);
  r = v[t->id];
  CHECK_EQ(r[128], -64);
  CHECK_EQ(r[255], 0);
  CHECK_EQ(r[0], -128);
  ares_ref_free(g, v);
  ares_graph_free(g);
}

/* GELU's erf form as Brevitas exports it, and the opset-20 Gelu op, to a float output:
 * a float table. GELU(0) = 0, GELU(1) = 0.8413447, GELU(-1) = -0.1586553. */
static void test_gelu_float_output(void) {
  for (int form = 0; form < 2; form++) {
    ares_graph *g = ares_graph_new();
    void *v[MAXT] = {0};
    int8_t xs[256];
    ares_tensor *xf;
    dq_input(g, v, xs, 0.0625f, 0, &xf);
    ares_tensor *y = ares_tensor_new_shaped(g, "y", ARES_DT_F32, 2, ARR(1, 256));
    if (form == 0) {
      ares_tensor *d = ares_tensor_new_shaped(g, "d", ARES_DT_F32, 2, ARR(1, 256)), *e = ares_tensor_new_shaped(g, "e", ARES_DT_F32, 2, ARR(1, 256));
      ares_tensor *a = ares_tensor_new_shaped(g, "a", ARES_DT_F32, 2, ARR(1, 256)), *m = ares_tensor_new_shaped(g, "m", ARES_DT_F32, 2, ARR(1, 256));
      node(g, ARES_OP_DIV, 2, (int[]){xf->id, scalar(g, 1.4142135f)->id}, d->id);
      node(g, ARES_OP_ERF, 1, (int[]){d->id}, e->id);
      node(g, ARES_OP_ADD, 2, (int[]){e->id, scalar(g, 1.0f)->id}, a->id);
      node(g, ARES_OP_MUL, 2, (int[]){xf->id, a->id}, m->id);
      node(g, ARES_OP_MUL, 2, (int[]){m->id, scalar(g, 0.5f)->id}, y->id);
    } else {
      node(g, ARES_OP_GELU, 1, (int[]){xf->id}, y->id);
    }
    ares_graph_add_output(g, y->id);
    CHECK_EQ(lower(g), 1);
    CHECK_EQ(ares_ref_run(g, v), 0);
    const float *r = v[y->id];
    CHECK(r[128] == 0.0f);
    CHECK(fabsf(r[128 + 16] - 0.8413447f) < 1e-6f);
    CHECK(fabsf(r[128 - 16] + 0.1586553f) < 1e-6f);
    CHECK(r[255] == 127 * 0.0625f); /* GELU(7.94) = 7.94 to float32 precision */
    ares_ref_free(g, v);
    ares_graph_free(g);
  }
}

/* Not islands, left alone without an error: a product of two activations, a constant that
 * is not uniform, an intermediate result used outside the island. */
static void test_not_islands(void) {
  for (int c = 0; c < 3; c++) {
    ares_graph *g = ares_graph_new();
    void *v[MAXT] = {0};
    int8_t xs[256], zs[256];
    ares_tensor *xf;
    dq_input(g, v, xs, 0.125f, 0, &xf);
    ares_tensor *s = ares_tensor_new_shaped(g, "s", ARES_DT_F32, 2, ARR(1, 256)), *y = ares_tensor_new_shaped(g, "y", ARES_DT_F32, 2, ARR(1, 256));
    node(g, ARES_OP_SIGMOID, 1, (int[]){xf->id}, s->id);
    int other;
    if (c == 0) {
      ares_tensor *z = ares_tensor_new_shaped(g, "z", ARES_DT_I8, 2, ARR(1, 256)), *zf = ares_tensor_new_shaped(g, "zf", ARES_DT_F32, 2, ARR(1, 256));
      quant(g, z, 0.5f, 0);
      ares_graph_add_input(g, z->id);
      memcpy(zs, xs, sizeof zs);
      v[z->id] = zs;
      node(g, ARES_OP_DEQUANTIZELINEAR, 1, (int[]){z->id}, zf->id);
      other = zf->id;
    } else {
      ares_tensor *k = ares_tensor_new_shaped(g, "k", ARES_DT_F32, 2, ARR(1, 256));
      k->data = ares_alloc(g, 256 * sizeof(float));
      for (int i = 0; i < 256; i++) ((float *)k->data)[i] = c == 1 ? (float)i : 2.0f;
      other = k->id;
    }
    node(g, ARES_OP_MUL, 2, (int[]){s->id, other}, y->id);
    q_output(g, y, 0.125f, 0);
    if (c == 2) ares_graph_add_output(g, s->id); /* the sigmoid is also a result */
    CHECK_EQ(ares_pass_lower_lut(g), 0);
    int k = 0;
    for (int i = 0; i < g->nnodes; i++) k += !g->nodes[i]->dead && g->nodes[i]->op == ARES_OP_QLUT;
    CHECK_EQ(k, 0);
    ares_graph_free(g);
  }
}

/* --- reference qlut and the kernels ------------------------------------------------------ */

static void test_ref_qlut(void) {
  ares_graph *g = ares_graph_new();
  void *v[MAXT] = {0};
  static const int8_t x[] = {-128, -1, 0, 1, 127};
  ares_tensor *tx = ares_tensor_new_shaped(g, "x", ARES_DT_I8, 1, ARR(5)), *ty = ares_tensor_new_shaped(g, "y", ARES_DT_I8, 1, ARR(5));
  ares_graph_add_input(g, tx->id);
  v[tx->id] = (void *)x;
  ares_node *n = node(g, ARES_OP_QLUT, 1, (int[]){tx->id}, ty->id);
  ares_graph_add_output(g, ty->id);
  n->p.lut.table = ares_alloc(g, 256);
  for (int i = 0; i < 256; i++) n->p.lut.table[i] = (int8_t)(127 - i); /* entry i: 127 - i */
  CHECK_EQ(ares_ref_run(g, v), 0);
  /* x = -128 -> entry 0 -> 127; -1 -> 127 -> 0; 0 -> 128 -> -1; 1 -> 129 -> -2; 127 -> 255 -> -128 */
  static const int8_t ey[] = {127, 0, -1, -2, -128};
  CHECK_MEM(v[ty->id], ey, sizeof ey, "qlut");
  ares_ref_free(g, v);
  /* both tables, or neither: refused */
  n->p.lut.ftable = ares_alloc(g, 256 * sizeof(float));
  fprintf(stderr, "(the error below is expected)\n");
  CHECK(ares_ref_run(g, v) != 0);
  ares_ref_free(g, v);
  ares_graph_free(g);
}

static void test_kernels(void) {
  int8_t table[256];
  float ftable[256];
  for (int i = 0; i < 256; i++) {
    table[i] = (int8_t)rnd(-128, 127);
    ftable[i] = (float)rnd(-100000, 100000) / 64.0f;
  }
  for (int it = 0; it < 50; it++) {
    int64_t n = rnd(0, it % 5 == 0 ? 5000 : 300);
    int8_t *x = malloc((size_t)n + 1), *y = malloc((size_t)n + 1), *yr = malloc((size_t)n + 1);
    float *f = malloc(sizeof(float) * (size_t)(n + 1)), *fr = malloc(sizeof(float) * (size_t)(n + 1));
    for (int64_t i = 0; i < n; i++) x[i] = (int8_t)rnd(-128, 127);
    ares_lut_s8(x, y, n, table);
    ares_lut_s8_f32(x, f, n, ftable);
    for (int64_t i = 0; i < n; i++) {
      int idx = (int)x[i] - (-128); /* naive: the value's offset from -128 */
      yr[i] = table[idx];
      fr[i] = ftable[idx];
    }
    char what[64];
    snprintf(what, sizeof what, "lut it %d n %lld", it, (long long)n);
    CHECK_MEM(y, yr, n, what);
    CHECK_MEM(f, fr, sizeof(float) * (size_t)n, what);
    free(x), free(y), free(yr), free(f), free(fr);
  }
}

int main(void) {
  test_mul_add_table();
  test_ties_and_clamp();
  test_silu_sigmoid();
  test_gelu_float_output();
  test_not_islands();
  test_ref_qlut();
  test_kernels();
  return check_report();
}
