/* ares conformance DIR: the ONNX backend node tests (Debian's libonnx-testdata, in
 * /usr/share/libonnx-testdata/data/node) through ARES' frontend, passes and reference
 * interpreter, compared bit for bit with the shipped outputs.
 *
 * ARES executes integer networks, so a test runs in one of two ways:
 *   direct   the test's graph has quantization nodes (QuantizeLinear, QLinearConv,
 *            ConvInteger ...): its first input is the network input (float or integer),
 *            its other inputs (weights, scales, zero points) become constants, and ARES'
 *            outputs (float, int8, uint8, int32) are compared with the expected ones;
 *   wrapped  a float op that is exact on a quantization grid (data movement, max, ReLU):
 *            each data input x is fed through QuantizeLinear/DequantizeLinear with one
 *            per-test scale s = max|values| / 127 and each output likewise, so ARES
 *            computes op_int(Q(x)); since these ops commute with quantization, that must
 *            equal Q(expected), which is what the output is compared with.
 * Anything else is skipped with the reason: an op outside the registry (counted, listed
 * with -v or when it is one of the QOperator ops), a float op whose integer form rounds
 * (its result cannot equal the float reference bit for bit), or a model ARES refuses with
 * an "unsupported:" message (that message is the reason). A refusal that is not
 * "unsupported", a wrong value or a crash is a failure. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "frontend/frontend.h"
#include "ir/diag.h"
#include "passes/passes.h"
#include "ref/ref.h"
#include "targets/target.h"

typedef struct {
  char first[1024]; /* the first error */
  int nerr;
} conf_log;

static void first_error(void *user, int is_error, const ares_node *n, const char *msg) {
  conf_log *l = user;
  if (!is_error) return;
  if (l->nerr++ == 0) {
    if (n) snprintf(l->first, sizeof l->first, "node '%s' (%s): %s", n->name, n->op_type, msg);
    else snprintf(l->first, sizeof l->first, "%s", msg);
  }
}

/* Ops whose result on quantized values is exactly the quantized float result (they move,
 * select or clamp-at-zero values; with zero point 0, Relu too). */
static int exact_on_grid(ares_op op) {
  switch (op) {
  case ARES_OP_RELU:
  case ARES_OP_MAXPOOL:
  case ARES_OP_FLATTEN:
  case ARES_OP_RESHAPE:
  case ARES_OP_SQUEEZE:
  case ARES_OP_UNSQUEEZE:
  case ARES_OP_TRANSPOSE:
  case ARES_OP_SLICE:
  case ARES_OP_SPLIT:
  case ARES_OP_GATHER:
  case ARES_OP_CONCAT:
  case ARES_OP_IDENTITY:
  case ARES_OP_DROPOUT:
  case ARES_OP_PAD:  /* with a representable pad value (ARES refuses others) */
  case ARES_OP_CLIP: /* with representable bounds (likewise) */
    return 1;
  default:
    return 0;
  }
}

/* Ops of a quantized graph: their tests run directly (integer inputs and outputs as the
 * test gives them). */
static int is_quant_op(ares_op op) {
  switch (op) {
  case ARES_OP_QUANTIZELINEAR:
  case ARES_OP_DEQUANTIZELINEAR:
  case ARES_OP_QONNX_QUANT:
  case ARES_OP_QLINEARCONV:
  case ARES_OP_QLINEARMATMUL:
  case ARES_OP_CONVINTEGER:
  case ARES_OP_MATMULINTEGER:
  case ARES_OP_MS_QLINEARADD:
  case ARES_OP_MS_QLINEARGLOBALAVGPOOL:
  case ARES_OP_MS_QLINEARAVGPOOL:
  case ARES_OP_MS_QLINEARCONCAT:
  case ARES_OP_MS_QGEMM:
  case ARES_OP_MS_QLINEARMUL:
  case ARES_OP_MS_QLINEARSIGMOID:
  case ARES_OP_MS_QLINEARLEAKYRELU:
  case ARES_OP_MS_QLINEARSOFTMAX:
    return 1;
  default:
    return 0;
  }
}

/* Quantized ops outside the registry: listed anyway because users bring them. */
static int listed_anyway(const char *msg) {
  static const char *ops[] = {"QLinear", "Integer", "DynamicQuantizeLinear"};
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    if (strstr(msg, ops[i])) return 1;
  return 0;
}

/* ARES' quantize (SEMANTICS: float32 division, round half to even, clamp) then dequantize
 * ((float)(q - zp) * scale: an integer q, so a zero is +0). */
static float fake_quant(float x, float s) {
  float v = nearbyintf(x / s);
  if (v < -128) v = -128;
  if (v > 127) v = 127;
  return (float)(int32_t)v * s;
}

enum { R_PASS, R_FAIL, R_SKIP, R_NA };

typedef struct {
  char reason[1200];
} conf_result;

static int run_test(const char *dir, conf_result *res) {
  char path[4096];
  conf_log log = {{0}, 0};
  ares_diag_set_sink(first_error, &log);
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  ares_graph *g = ares_onnx_import(path);
  ares_tensor **expected = NULL;
  void **values = NULL;
  int verdict = R_FAIL;
#define DONE(v, ...)                                             \
  do {                                                           \
    verdict = (v);                                               \
    snprintf(res->reason, sizeof res->reason, __VA_ARGS__);      \
    goto out;                                                    \
  } while (0)
  if (!g) {
    if (strstr(log.first, "is not known to ARES")) DONE(R_NA, "%s", log.first);
    DONE(R_SKIP, "%s", log.first);
  }
  int wrapped = 1, exact = 1;
  const char *inexact = NULL;
  for (int i = 0; i < g->nnodes; i++) {
    ares_op op = g->nodes[i]->op;
    if (is_quant_op(op)) wrapped = 0;
    else if (!exact_on_grid(op) && !inexact) exact = 0, inexact = g->nodes[i]->op_type;
  }
  const char *idoc = inexact ? ares_op_get(ares_op_from_onnx("", inexact))->doc : "";
  if (wrapped && !exact && strstr(idoc, "only") && strstr(idoc, "folded"))
    DONE(R_SKIP, "ARES supports %s on constants only (folded at compile time); the test feeds it a network input", inexact);
  if (wrapped && !exact)
    DONE(R_SKIP, "float test of %s, which ARES runs only as an integer op that rounds its result (requantization): not "
                 "comparable bit for bit with the float reference", inexact);

  /* inputs: data inputs stay network inputs, parameters become constants */
  int nin = g->ninputs;
  int *keep = calloc((size_t)nin + 1, sizeof(int));
  void **indata = calloc((size_t)nin + 1, sizeof(void *));
  if (!keep || !indata) exit(2);
  int rank0 = -1;
  for (int i = 0; i < nin; i++) {
    ares_tensor *t = g->tensors[g->inputs[i]];
    ares_tensor *v = ares_tensor_new(g, t->name);
    snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, i);
    if (ares_onnx_read_tensor_file(g, path, v) < 0) {
      free(keep), free(indata);
      DONE(R_FAIL, "cannot read %s: %s", path, log.first);
    }
    if (i == 0) rank0 = v->rank;
    keep[i] = i == 0 || (wrapped && v->dtype == ARES_DT_F32 && v->rank == rank0);
    if (i == 0 && wrapped && v->dtype != ARES_DT_F32) {
      free(keep), free(indata);
      DONE(R_SKIP, "unsupported: a test of a float op on %s data '%s' (ARES runs it only inside a quantized network, on "
                   "int8 tensors)", ares_dtype_name(v->dtype), t->name);
    }
    t->dtype = v->dtype;
    ares_tensor_set_shape(t, v->rank, v->dims);
    if (keep[i]) indata[i] = v->data;
    else t->data = v->data;
  }
  int k = 0;
  for (int i = 0; i < nin; i++)
    if (keep[i]) g->inputs[k++] = g->inputs[i];
  g->ninputs = k;
  free(keep);

  /* expected outputs */
  expected = calloc((size_t)g->noutputs + 1, sizeof *expected);
  if (!expected) exit(2);
  float scale = 1.0f;
  float vmax = 0;
  for (int i = 0; i < g->noutputs; i++) {
    expected[i] = ares_tensor_new(g, "expected");
    snprintf(path, sizeof path, "%s/test_data_set_0/output_%d.pb", dir, i);
    if (ares_onnx_read_tensor_file(g, path, expected[i]) < 0) {
      free(indata);
      DONE(R_FAIL, "cannot read %s: %s", path, log.first);
    }
    if (expected[i]->dtype == ARES_DT_F32)
      for (int64_t e = 0; e < ares_tensor_numel(expected[i]); e++) vmax = fmaxf(vmax, fabsf(((float *)expected[i]->data)[e]));
  }
  if (wrapped) {
    int j = 0;
    for (int i = 0; i < nin; i++) {
      if (!indata[i]) continue;
      ares_tensor *t = g->tensors[g->inputs[j++]];
      for (int64_t e = 0; e < ares_tensor_numel(t); e++) vmax = fmaxf(vmax, fabsf(((float *)indata[i])[e]));
    }
    if (vmax > 0) scale = vmax / 127.0f;
    ares_tensor *s = ares_tensor_new_const(g, "conf_scale", ARES_DT_F32, 0, NULL);
    ares_tensor *z = ares_tensor_new_const(g, "conf_zp", ARES_DT_I8, 0, NULL);
    *(float *)s->data = scale;
    for (int i = 0; i < g->ninputs; i++) {
      ares_tensor *x = g->tensors[g->inputs[i]];
      ares_tensor *q = ares_tensor_new(g, "conf_in_q"), *d = ares_tensor_new(g, "conf_in_dq");
      ares_graph_replace_uses(g, x->id, d->id);
      ares_node *qn = ares_node_new(g, ARES_OP_QUANTIZELINEAR, "conf_in_q", 3, 1);
      ares_node *dn = ares_node_new(g, ARES_OP_DEQUANTIZELINEAR, "conf_in_dq", 3, 1);
      qn->in[0] = x->id, qn->in[1] = s->id, qn->in[2] = z->id, qn->out[0] = q->id;
      dn->in[0] = q->id, dn->in[1] = s->id, dn->in[2] = z->id, dn->out[0] = d->id;
    }
    for (int i = 0; i < g->noutputs; i++) {
      ares_tensor *y = g->tensors[g->outputs[i]];
      ares_tensor *q = ares_tensor_new(g, "conf_out_q"), *d = ares_tensor_new(g, "conf_out_dq");
      ares_node *qn = ares_node_new(g, ARES_OP_QUANTIZELINEAR, "conf_out_q", 3, 1);
      ares_node *dn = ares_node_new(g, ARES_OP_DEQUANTIZELINEAR, "conf_out_dq", 3, 1);
      qn->in[0] = y->id, qn->in[1] = s->id, qn->in[2] = z->id, qn->out[0] = q->id;
      dn->in[0] = q->id, dn->in[1] = s->id, dn->in[2] = z->id, dn->out[0] = d->id;
      g->outputs[i] = d->id;
    }
  }
  ares_graph_relink(g);
  /* the reference does not depend on tiling: give the tiler room for any test tensor */
  ares_target_apply(ares_target_find("host"), g);
  g->l1_budget = (int64_t)1 << 30; /* node tests are about semantics, not tiling */
  if (ares_run_passes(g, NULL, NULL) < 0) {
    free(indata);
    if (strstr(log.first, "unsupported")) DONE(R_SKIP, "%s", log.first);
    DONE(R_FAIL, "refused: %s", log.first);
  }
  values = calloc((size_t)g->ntensors + 1, sizeof(void *));
  if (!values) exit(2);
  {
    int j = 0;
    for (int i = 0; i < nin; i++)
      if (indata[i]) values[g->inputs[j++]] = indata[i];
  }
  free(indata);
  if (ares_ref_run(g, values) < 0) DONE(R_FAIL, "reference interpreter: %s", log.first);
  for (int i = 0; i < g->noutputs; i++) {
    const ares_tensor *y = g->tensors[g->outputs[i]], *e = expected[i];
    int64_t n = ares_tensor_numel(y);
    if (n != ares_tensor_numel(e)) DONE(R_FAIL, "output %d has %lld elements, expected %lld", i, (long long)n, (long long)ares_tensor_numel(e));
    const void *got = y->data ? y->data : values[y->id];
    int64_t bad = 0, first = -1;
    double got_v = 0, want_v = 0;
    for (int64_t x = 0; x < n; x++) {
      int same;
      if (y->dtype == ARES_DT_F32 && e->dtype == ARES_DT_F32) {
        float want = wrapped ? fake_quant(((float *)e->data)[x], scale) : ((float *)e->data)[x];
        same = memcmp(&want, (const float *)got + x, 4) == 0;
        if (!same && bad == 0) got_v = ((const float *)got)[x], want_v = want;
      } else if (y->dtype == e->dtype && y->dtype != ARES_DT_F32) {
        ares_tensor view = *y; /* the computed values, read in their type */
        view.data = (void *)got;
        same = ares_tensor_get_i(&view, x) == ares_tensor_get_i(e, x);
        if (!same && bad == 0) got_v = (double)ares_tensor_get_i(&view, x), want_v = (double)ares_tensor_get_i(e, x);
      } else {
        DONE(R_FAIL, "output %d is %s, expected %s", i, ares_dtype_name(y->dtype), ares_dtype_name(e->dtype));
      }
      if (!same && bad++ == 0) first = x;
    }
    if (bad)
      DONE(R_FAIL, "output %d: %lld of %lld elements differ (first at %lld: %.9g, expected %.9g)", i, (long long)bad,
           (long long)n, (long long)first, got_v, want_v);
  }
  DONE(R_PASS, "%s", wrapped ? "wrapped in quantize/dequantize" : "direct");
out:
  ares_diag_set_sink(NULL, NULL);
  if (values && g) {
    for (int i = 0; i < g->ninputs; i++) values[g->inputs[i]] = NULL; /* owned by the graph */
    ares_ref_free(g, values);
  }
  free(values);
  free(expected);
  ares_graph_free(g);
  return verdict;
#undef DONE
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static const char *usage_conf =
    "usage: ares conformance DIR [-v] [--only SUBSTRING]\n"
    "\n"
    "Runs the ONNX backend node tests in DIR (each test_*/ holding model.onnx and\n"
    "test_data_set_0/; Debian's libonnx-testdata installs them in\n"
    "/usr/share/libonnx-testdata/data/node) through ARES' import, passes and reference\n"
    "interpreter and compares the outputs bit for bit. Prints PASS / FAIL / SKIP (with the\n"
    "reason) per test of an operator ARES knows; -v also lists the tests of operators outside\n"
    "the registry. Exit status 0 when nothing failed.\n";

const char *ares_cli_conformance_usage(void) { return usage_conf; }

int ares_cli_conformance(int argc, char **argv) {
  const char *dir = NULL, *only = NULL;
  int verbose = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage_conf, stdout);
      return 0;
    }
    if (strcmp(argv[i], "-v") == 0) verbose = 1;
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    else if (argv[i][0] != '-' && !dir) dir = argv[i];
    else {
      fprintf(stderr, "ares: error: unexpected argument '%s'\n\n%s", argv[i], usage_conf);
      return 2;
    }
  }
  if (!dir) {
    fprintf(stderr, "ares: error: no DIR given\n\n%s", usage_conf);
    return 2;
  }
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "ares: error: cannot open '%s'\n", dir);
    return 2;
  }
  char **names = NULL;
  int n = 0, cap = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (strncmp(e->d_name, "test_", 5) != 0 || (only && !strstr(e->d_name, only))) continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 256;
      names = realloc(names, sizeof(char *) * (size_t)cap);
      if (!names) exit(2);
    }
    names[n] = malloc(strlen(e->d_name) + 1);
    if (!names[n]) exit(2);
    strcpy(names[n++], e->d_name);
  }
  closedir(d);
  if (n) qsort(names, (size_t)n, sizeof(char *), cmp_str);
  int count[4] = {0};
  static const char *tag[] = {"PASS", "FAIL", "SKIP", "N/A "};
  for (int i = 0; i < n; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s/model.onnx", dir, names[i]);
    if (!ares_cli_is_file(path)) continue;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    conf_result r;
    int v = run_test(path, &r);
    count[v]++;
    if (v != R_NA || verbose || listed_anyway(r.reason)) printf("%s %-52s %s\n", tag[v], names[i], r.reason);
    free(names[i]);
  }
  free(names);
  printf("conformance: %d passed, %d failed, %d skipped, %d not applicable (operator not in ARES' registry)\n", count[R_PASS],
         count[R_FAIL], count[R_SKIP], count[R_NA]);
  printf("%d passed, %d failed\n", count[R_PASS], count[R_FAIL]);
  return count[R_FAIL] ? 1 : 0;
}
