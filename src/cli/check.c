/* ares check MODEL: what the compiler thinks of every node of a model, before compiling.
 *
 * No second list of what is supported: the model goes through the real frontend (with
 * unknown operators kept as placeholders) and the real pass pipeline, with a diagnostics
 * sink that files every error and warning under the node it names. A node is then
 *   ok          the pipeline lowered it (the integer op it became and, for ops with an
 *               accumulator, the range proof's headroom are shown),
 *   warning     lowered, with a warning (e.g. a rounding ARES had to introduce),
 *   UNSUPPORTED the frontend or a pass refused it: the reason, and advice,
 *   blocked     refused only because it reads the result of an unsupported node,
 *   unchecked   not reached: the pipeline stopped before it (fix the errors above first).
 * Exit status: 0 when the model compiles, 1 when it does not, 2 when the file cannot be
 * read as an ONNX model (or the command line is wrong). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "frontend/frontend.h"
#include "ir/diag.h"
#include "passes/passes.h"
#include "targets/target.h"

typedef struct {
  int is_error;
  char *node; /* NULL: about the model as a whole */
  char *op;
  char *msg;
} check_diag;

typedef struct {
  check_diag *d;
  int n, cap;
  const char *pass; /* the pass running when a diagnostic came in */
} check_log;

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (!d) {
    fputs("ares: error: out of memory\n", stderr);
    exit(2);
  }
  memcpy(d, s, n);
  return d;
}

static void collect(void *user, int is_error, const ares_node *node, const char *msg) {
  check_log *log = user;
  if (log->n == log->cap) {
    log->cap = log->cap ? 2 * log->cap : 32;
    log->d = realloc(log->d, sizeof(check_diag) * (size_t)log->cap);
    if (!log->d) {
      fputs("ares: error: out of memory\n", stderr);
      exit(2);
    }
  }
  check_diag *d = &log->d[log->n++];
  d->is_error = is_error;
  d->node = node && node->name ? xstrdup(node->name[0] ? node->name : "<unnamed>") : NULL;
  d->op = xstrdup(node && node->op_type ? node->op_type : "?");
  d->msg = xstrdup(msg);
}

/* Migration advice for operators outside the registry. Only what ARES can actually do
 * is suggested; the supported list itself is the registry (ares ops). */
static const struct {
  const char *op, *advice;
} op_advice[] = {
    {"ConvTranspose", "ARES has no transposed convolution and no upsampling op yet; keep the resolution with stride-1 "
                      "Convs (a decoder needs an op ARES lacks: this model cannot be deployed as is)"},
    {"Resize", "ARES has no resize/upsampling op; remove it or keep the layer on the host side"},
    {"Upsample", "ARES has no upsampling op; remove it or keep the layer on the host side"},
    {"HardTanh", "export it as Clip on a quantized tensor (nn.Hardtanh with a quantizer after it)"},
    {"LogSoftmax", "leave it off the exported graph and apply it to the float output"},
    {"ArgMax", "leave it off the exported graph and take the argmax of the output on the host"},
    {"LSTM", "recurrent layers are not supported"},
    {"GRU", "recurrent layers are not supported"},
    {"DynamicQuantizeLinear", "dynamic quantization computes scales at run time, which a fixed-point deployment cannot: "
                              "quantize statically (onnxruntime.quantization.quantize_static, QOperator or QDQ format)"},
};

/* Advice for reasons the passes give, keyed on a phrase of the message. */
static const struct {
  const char *phrase, *advice;
} reason_advice[] = {
    {"is not known to ARES", "replace it with operators from 'ares ops', or open an issue for it"},
    {"is not quantized", "every compute layer needs a quantized input: put a Brevitas quantizer (QuantIdentity, or a "
                         "Quant layer with return_quant_tensor) before it"},
    {"could not be lowered", "quantize its inputs and its output (QuantIdentity before and after)"},
    {"float output of this op", "give the layer an output quantizer, or make it the network's last layer"},
    {"used as a float tensor", "every compute layer's output needs a quantizer before it is used"},
    {"range proof failed", "lower the weight or input bit width, or split the layer (fewer input channels per output)"},
    {"Add with broadcasting", "make both operands the same shape before the Add"},
    {"no shape rule", "this op is only supported in the position the registry describes (see 'ares ops')"},
    {"BatchNormalization", "fold BatchNorm into the preceding convolution, or put it directly after one"},
    {"activations are quantized per tensor", "quantize activations per tensor (onnxruntime.quantization's default; "
                                             "per_channel applies to weights only)"},
    {"minus their zero point leave int8", "quantize weights to int8 with zero point 0 (onnxruntime: "
                                          "weight_type=QuantType.QInt8, the default symmetric weights)"},
};

static const char *advice_for(const char *op_type, const char *msg, int unknown) {
  if (unknown)
    for (size_t i = 0; i < sizeof op_advice / sizeof *op_advice; i++)
      if (strcmp(op_advice[i].op, op_type) == 0) return op_advice[i].advice;
  for (size_t i = 0; i < sizeof reason_advice / sizeof *reason_advice; i++)
    if (strstr(msg, reason_advice[i].phrase)) return reason_advice[i].advice;
  return NULL;
}

/* What an imported node looked like before the passes rewrote the graph. */
typedef struct {
  const char *name, *op_type;
  int unknown;    /* kept as a placeholder by the frontend */
  int downstream; /* reads (transitively) the result of an unknown node */
  const char *upstream;
} orig_node;

static const char *status_names[] = {"ok", "warning", "UNSUPPORTED", "blocked", "unchecked"};
enum { ST_OK, ST_WARN, ST_UNSUP, ST_BLOCKED, ST_UNCHECKED };

/* The integer ops a node became (live INT nodes carrying its name), and the smallest
 * accumulator headroom among them. */
static void lowered_to(const ares_graph *g, const char *name, char *buf, size_t len, int *headroom, int64_t *bound) {
  size_t k = 0;
  buf[0] = 0;
  *headroom = 99;
  *bound = 0;
  for (int i = 0; i < g->nnodes; i++) {
    const ares_node *n = g->nodes[i];
    if (n->dead || ares_op_get(n->op)->kind != ARES_KIND_INT || strcmp(n->name, name) != 0) continue;
    if (k + 32 < len) k += (size_t)snprintf(buf + k, len - k, "%s%s", k ? "+" : "", ares_op_get(n->op)->name);
    if (n->acc_bound > 0) {
      int h = ares_acc_headroom_bits(n->acc_bound);
      if (h < *headroom) *headroom = h, *bound = n->acc_bound;
    }
  }
}

static const char *usage_check =
    "usage: ares check MODEL [--target host]\n"
    "\n"
    "Classifies every node of MODEL as ok, warning or UNSUPPORTED (with the reason and advice),\n"
    "by running the compiler's own frontend and passes; nodes that only fail because of an\n"
    "unsupported node before them are 'blocked', nodes the compiler did not reach 'unchecked'.\n"
    "For layers with an int32 accumulator it shows the range proof's headroom: how many bits\n"
    "the worst-case accumulator (weights x input range + bias) stays below 2^31.\n"
    "--target NAME (default host) sets the memory sizes the tiler plans for.\n"
    "\n"
    "exit status: 0 the model compiles, 1 it does not, 2 unreadable file or bad command line\n";

const char *ares_cli_check_usage(void) { return usage_check; }

int ares_cli_check(int argc, char **argv) {
  const char *model = NULL, *target_name = "host";
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage_check, stdout);
      return 0;
    }
    if (strcmp(argv[i], "--target") == 0 && i + 1 < argc) {
      target_name = argv[++i];
      continue;
    }
    if (argv[i][0] == '-' || model) {
      fprintf(stderr, "ares: error: %s '%s'\n\n%s", argv[i][0] == '-' ? "unknown option" : "unexpected argument", argv[i],
              usage_check);
      return 2;
    }
    model = argv[i];
  }
  if (!model) {
    fprintf(stderr, "ares: error: no MODEL given\n\n%s", usage_check);
    return 2;
  }

  const ares_target *target = ares_target_find(target_name);
  if (!target) {
    fprintf(stderr, "ares: error: unknown target '%s' (known: %s)\n", target_name, ares_target_names());
    return 2;
  }
  check_log log = {0};
  ares_diag_set_sink(collect, &log);
  ares_graph *g = ares_onnx_import_ex(model, ARES_IMPORT_KEEP_UNKNOWN);
  if (!g) {
    /* not a model we can read at all: say why, as every other command does */
    ares_diag_set_sink(NULL, NULL);
    for (int i = 0; i < log.n; i++)
      if (log.d[i].node) fprintf(stderr, "ares: error: node '%s' (%s): %s\n", log.d[i].node, log.d[i].op, log.d[i].msg);
      else fprintf(stderr, "ares: error: %s\n", log.d[i].msg);
    for (int i = 0; i < log.n; i++) free(log.d[i].node), free(log.d[i].op), free(log.d[i].msg);
    free(log.d);
    return 2;
  }

  ares_target_apply(target, g); /* what the planners plan for, as compile does */

  /* snapshot of the imported nodes: names, op types, and which read unknown results */
  int n0 = g->nnodes;
  orig_node *on = calloc((size_t)n0 + 1, sizeof *on);
  char *tainted = calloc((size_t)g->ntensors + 1, 1); /* tensor read from an unknown node */
  const char **taint_src = calloc((size_t)g->ntensors + 1, sizeof(char *));
  if (!on || !tainted || !taint_src) {
    fputs("ares: error: out of memory\n", stderr);
    exit(2);
  }
  int nunknown = 0;
  for (int i = 0; i < n0; i++) {
    ares_node *n = g->nodes[i];
    on[i].name = n->name;
    on[i].op_type = n->op_type;
    on[i].unknown = n->dead; /* the frontend marks nothing else dead */
    nunknown += on[i].unknown;
  }
  /* nodes are in file order, which ONNX requires to be topological */
  for (int i = 0; i < n0; i++) {
    ares_node *n = g->nodes[i];
    for (int k = 0; k < n->nin && !on[i].unknown; k++)
      if (n->in[k] >= 0 && tainted[n->in[k]]) {
        on[i].downstream = 1;
        on[i].upstream = taint_src[n->in[k]];
      }
    if (on[i].unknown || on[i].downstream)
      for (int k = 0; k < n->nout; k++)
        if (n->out[k] >= 0) {
          tainted[n->out[k]] = 1;
          taint_src[n->out[k]] = on[i].unknown ? on[i].name : on[i].upstream;
        }
  }

  /* the real pipeline, pass by pass, so we know where it stopped */
  int npasses;
  const ares_pass *passes = ares_passes(&npasses);
  const char *stopped = NULL;
  int reached_lowering = 0;
  for (int i = 0; i < npasses; i++) {
    if (!passes[i].run) continue;
    log.pass = passes[i].name;
    if (passes[i].run(g) < 0) {
      stopped = passes[i].name;
      if (strcmp(passes[i].name, "lower-int") == 0) reached_lowering = 1;
      break;
    }
    if (strcmp(passes[i].name, "lower-int") == 0) reached_lowering = 1;
  }
  ares_diag_set_sink(NULL, NULL);

  printf("%s: graph '%s', opset %lld, %d nodes\n", model, g->name ? g->name : "", (long long)g->opset, n0);
  /* columns as wide as the widest name and op (within reason), so they stay aligned */
  int wn = 32, wo = 20;
  for (int i = 0; i < n0; i++) {
    int ln = (int)strlen(on[i].name), lo = (int)strlen(on[i].op_type);
    if (ln > wn && ln <= 80) wn = ln;
    if (lo > wo && lo <= 40) wo = lo;
  }
  printf("%-*s %-*s %-11s %s\n", wn, "node", wo, "op", "status", "detail");
  int count[5] = {0};
  for (int i = 0; i < n0; i++) {
    const orig_node *o = &on[i];
    int st = ST_OK;
    const char *err = NULL, *warn = NULL;
    for (int k = 0; k < log.n; k++) {
      if (!log.d[k].node || strcmp(log.d[k].node, o->name) != 0) continue;
      if (log.d[k].is_error && !err) err = log.d[k].msg;
      if (!log.d[k].is_error && !warn) warn = log.d[k].msg;
    }
    char detail[1200];
    const char *advice = NULL;
    if (err && o->downstream && !o->unknown) {
      st = ST_BLOCKED;
      snprintf(detail, sizeof detail, "reads the result of unsupported node '%s' (%s)", o->upstream, err);
    } else if (err) {
      st = ST_UNSUP;
      snprintf(detail, sizeof detail, "%s", err);
      advice = advice_for(o->op_type, err, o->unknown);
    } else if (o->downstream) {
      st = ST_UNCHECKED;
      snprintf(detail, sizeof detail, "not analysed: reads the result of unsupported node '%s'", o->upstream);
    } else if (stopped && !reached_lowering) {
      st = ST_UNCHECKED;
      snprintf(detail, sizeof detail, "operator known; not lowered: the pipeline stopped in pass '%s'", stopped);
    } else {
      char ops[256];
      int headroom;
      int64_t bound;
      lowered_to(g, o->name, ops, sizeof ops, &headroom, &bound);
      size_t k = (size_t)snprintf(detail, sizeof detail, "%s", ops[0] ? ops : "folded into neighbouring integer ops");
      if (headroom < 99 && headroom >= 0)
        k += (size_t)snprintf(detail + k, sizeof detail - k, "; accumulator headroom %d bits (worst |acc| %lld < 2^31)",
                              headroom, (long long)bound);
      if (warn) {
        st = ST_WARN;
        snprintf(detail + k, sizeof detail - k, "; %s", warn);
      }
    }
    count[st]++;
    printf("%-*s %-*s %-11s %s\n", wn, o->name, wo, o->op_type, status_names[st], detail);
    if (advice) printf("%-*s %-*s %-11s advice: %s\n", wn, "", wo, "", "", advice);
  }
  /* diagnostics about the model as a whole, or naming no imported node */
  int model_errors = 0;
  for (int k = 0; k < log.n; k++) {
    int known = 0;
    for (int i = 0; log.d[k].node && i < n0 && !known; i++) known = strcmp(log.d[k].node, on[i].name) == 0;
    if (known) continue;
    model_errors += log.d[k].is_error;
    printf("%-*s %-*s %-11s %s\n", wn, log.d[k].node ? log.d[k].node : "(model)", wo, "", log.d[k].is_error ? "ERROR" : "warning",
           log.d[k].msg);
  }
  int compiles = !stopped && nunknown == 0;
  printf("summary: %d nodes: %d ok, %d warning, %d unsupported, %d blocked, %d unchecked%s; %s\n", n0, count[ST_OK],
         count[ST_WARN], count[ST_UNSUP], count[ST_BLOCKED], count[ST_UNCHECKED],
         model_errors ? " (and model-level errors)" : "",
         compiles ? "the model compiles" : stopped ? "the model does not compile" : "the model does not compile");
  if (!compiles && stopped) printf("the pipeline stopped in pass '%s'\n", stopped);

  for (int i = 0; i < log.n; i++) free(log.d[i].node), free(log.d[i].op), free(log.d[i].msg);
  free(log.d);
  free(on);
  free(tainted);
  free(taint_src);
  ares_graph_free(g);
  return compiles ? 0 : 1;
}
