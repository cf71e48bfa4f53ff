/* ares fidelity: how close the integer network is to the model it came from. For every
 * zoo network (DIR/<name>/ with model.onnx, model.qonnx.onnx, input.npy and the reference
 * outputs ort_output.npy / brevitas_output.npy written by `python -m ares.zoo`) it runs the
 * reference interpreter - which every target reproduces bit for bit - and compares its
 * output with ONNX Runtime's and Brevitas' in units of the output's LSB. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ares_npy.h"
#include "cli.h"
#include "ir/diag.h"
#include "ref/ref.h"

typedef struct {
  int ok;          /* the reference file existed and matched in size */
  double identical;/* share of elements within half an LSB */
  double max_lsb;  /* max |delta| in LSB */
  int top1;        /* argmax agrees (classifiers) */
} cmp_result;

/* LSB of each output element: the dequantizer's scale, or for a float-output layer the
 * accumulator scale of the element's channel. */
static double elem_lsb(const ares_graph *g, const ares_node *p, const ares_tensor *y, int64_t i) {
  if (p->op == ARES_OP_DEQUANTIZE) return p->p.qdq.scale;
  const ares_requant *rq = p->op == ARES_OP_QCONV ? &p->p.conv.rq : &p->p.linear.rq;
  if (rq->n <= 1) return rq->fscale[0];
  int64_t inner = 1;
  int axis = p->op == ARES_OP_QCONV ? 1 : y->rank - 1;
  for (int d = axis + 1; d < y->rank; d++) inner *= y->dims[d];
  (void)g;
  return rq->fscale[(i / inner) % rq->n];
}

static int64_t argmax(const float *v, int64_t n) {
  int64_t b = 0;
  for (int64_t i = 1; i < n; i++)
    if (v[i] > v[b]) b = i;
  return b;
}

static cmp_result compare(const ares_graph *g, const float *ours, const char *path) {
  cmp_result r = {0};
  const ares_tensor *y = g->tensors[g->outputs[0]];
  const ares_node *p = g->nodes[y->producer];
  int64_t n = ares_tensor_numel(y);
  ares_npy a;
  char err[256];
  if (ares_npy_load(path, &a, err, sizeof err) != 0) return r;
  if (strcmp(a.dtype, "f4") == 0 && a.nbytes == sizeof(float) * (size_t)n) {
    const float *ref = a.data;
    int64_t same = 0;
    for (int64_t i = 0; i < n; i++) {
      double d = fabs((double)ours[i] - ref[i]) / elem_lsb(g, p, y, i);
      if (d < 0.5) same++;
      if (d > r.max_lsb) r.max_lsb = d;
    }
    r.ok = 1;
    r.identical = n ? (double)same / (double)n : 1.0;
    r.top1 = argmax(ours, n) == argmax(ref, n);
  }
  ares_npy_free(&a);
  return r;
}

/* Whether the network's meta.json contains `key`. */
static int meta_has(const char *dir, const char *key) {
  char path[4096], buf[4096];
  snprintf(path, sizeof path, "%s/meta.json", dir);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t len = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[len] = 0;
  return strstr(buf, key) != NULL;
}

static void cell(char *out, size_t len, const cmp_result *r, int classifier) {
  if (!r->ok) snprintf(out, len, "| – | – | – ");
  else snprintf(out, len, "| %.2f %% | %.2f | %s ", 100.0 * r->identical, r->max_lsb, classifier ? (r->top1 ? "yes" : "no") : "n/a");
}

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Runs the reference on one model. Returns 0 and the float output, or -1. */
static int run_model(const char *model, const char *input, ares_graph **gout, float **out) {
  ares_graph *g = ares_cli_load(model, NULL);
  if (!g) return -1;
  const ares_tensor *y = g->tensors[g->outputs[0]];
  if (g->ninputs != 1 || y->dtype != ARES_DT_F32) {
    ares_fail(NULL, "%s: fidelity needs one input and a float output", model);
    ares_graph_free(g);
    return -1;
  }
  ares_npy in;
  char err[256];
  if (ares_npy_load(input, &in, err, sizeof err) != 0) {
    ares_fail(NULL, "%s: %s", input, err);
    ares_graph_free(g);
    return -1;
  }
  void **values = calloc((size_t)g->ntensors, sizeof(void *));
  int rc = -1;
  const ares_tensor *x = g->tensors[g->inputs[0]];
  if (strcmp(in.dtype, ares_dtype_npy(x->dtype)) != 0 || in.nbytes != ares_tensor_nbytes(x)) {
    ares_fail(NULL, "%s does not match the model's input", input);
  } else {
    values[g->inputs[0]] = in.data;
    if (ares_ref_run(g, values) == 0) {
      *out = malloc(ares_tensor_nbytes(y));
      memcpy(*out, values[y->id], ares_tensor_nbytes(y));
      rc = 0;
    }
    ares_ref_free(g, values);
  }
  free(values);
  ares_npy_free(&in);
  if (rc < 0) ares_graph_free(g);
  else *gout = g;
  return rc;
}

int ares_cli_fidelity(const char *zoo) {
  DIR *d = opendir(zoo);
  if (!d) return ares_fail(NULL, "cannot open '%s'", zoo), 2;
  char *names[512];
  int nn = 0;
  struct dirent *e;
  while ((e = readdir(d)) && nn < 512) {
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s/input.npy", zoo, e->d_name);
    if (e->d_name[0] != '.' && stat(p, &st) == 0) names[nn++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)nn, sizeof *names, name_cmp);
  printf("# Fidelity\n\n"
         "Generated by `ares fidelity tests/zoo` (`make fidelity`); do not edit.\n\n"
         "ARES' integer network (the reference interpreter, which every target reproduces bit for bit)\n"
         "against ONNX Runtime running the exported QCDQ model and against the Brevitas model itself,\n"
         "on each network's `input.npy`. *identical*: share of output elements within half an output\n"
         "LSB; *max |Δ|*: largest difference in output LSBs (for a float output: in accumulator LSBs of\n"
         "its channel); *top-1*: whether the arg-max agrees (classifiers, one input each).\n\n"
         "| network | dialect | vs ORT identical | max \\|Δ\\| | top-1 | vs Brevitas identical | max \\|Δ\\| | top-1 |\n"
         "|---|---|---|---|---|---|---|---|\n");
  int status = 0;
  for (int i = 0; i < nn; i++) {
    static const char *dialects[2][2] = {{"model.onnx", "QCDQ"}, {"model.qonnx.onnx", "QONNX"}};
    char dir[4096], model[4096], input[4096], ref[4096], c1[128], c2[128];
    snprintf(dir, sizeof dir, "%s/%s", zoo, names[i]);
    snprintf(input, sizeof input, "%s/input.npy", dir);
    int cls = meta_has(dir, "\"classifier\": true");
    /* ONNX Runtime cannot run the ares-domain ops: another float reference stands in */
    const char *mark = meta_has(dir, "\"ort_reference\"") ? " \\*" : "";
    for (int k = 0; k < 2; k++) {
      struct stat st;
      snprintf(model, sizeof model, "%s/%s", dir, dialects[k][0]);
      if (stat(model, &st) != 0) {
        printf("| %s | %s | not committed (see tests/zoo/README) | | | | | |\n", names[i], dialects[k][1]);
        continue;
      }
      ares_graph *g;
      float *out;
      if (run_model(model, input, &g, &out) < 0) {
        printf("| %s | %s | does not compile | | | | | |\n", names[i], dialects[k][1]);
        status = 2;
        continue;
      }
      snprintf(ref, sizeof ref, "%s/ort_output.npy", dir);
      cmp_result ort = k == 0 ? compare(g, out, ref) : (cmp_result){0};
      snprintf(ref, sizeof ref, "%s/brevitas_output.npy", dir);
      cmp_result bre = compare(g, out, ref);
      cell(c1, sizeof c1, &ort, cls);
      cell(c2, sizeof c2, &bre, cls);
      printf("| %s%s | %s %s%s|\n", names[i], mark, dialects[k][1], c1, c2);
      free(out);
      ares_graph_free(g);
    }
    free(names[i]);
  }
  printf("\nONNX Runtime cannot run QONNX's custom ops, so QONNX rows compare with Brevitas only.\n"
         "\\* The model contains `ares` ops (the selective scan), which ONNX Runtime does not know: its\n"
         "\"ORT\" column is onnx's reference evaluator running the QCDQ graph with the op's float\n"
         "semantics (`ort_reference` in the network's meta.json).\n");
  return status;
}
