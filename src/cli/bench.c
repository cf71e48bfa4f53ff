/* ares bench: the figures the project reports. For each network: compile it (timed), build
 * it for rv32, run it on 8 qemu harts and validate every layer bit for bit (a figure of a
 * wrong result means nothing), count each layer's instructions on the critical path over the
 * cores (the one-hart -icount run of `ares run`), and collect what the compiler planned: MACs,
 * L1 bytes, DMA bytes, the L2 arena against its lower bound, weight bytes; and the code size
 * of the ELF. Writes JSON and a Markdown table, and compares with a committed baseline under
 * per-metric thresholds (bench/thresholds): a regression beyond its threshold fails.
 * Per-network lines are in the tests' "ok   ..." / "FAIL ..." form, so a test script can
 * count them. */
#define _XOPEN_SOURCE 700
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "emit/emit.h"
#include "ir/diag.h"
#include "json.h"

/* The per-network figures, in the order of the JSON file. compile_ms is kept in
 * microseconds and is the only one that is not deterministic. */
enum { M_CORES, M_MACS, M_INSTR, M_L2_ARENA, M_L2_BOUND, M_L1_USED, M_L1_BUDGET, M_DMA, M_L3, M_WEIGHTS, M_WEIGHTS_L3,
       M_CODE, M_NET_CODE, M_COMPILE, NM };
static const char *const metric_key[NM] = {
    "cores",           "macs",          "instructions",    "l2_arena_bytes", "l2_lower_bound_bytes",
    "l1_used_bytes",   "l1_budget_bytes", "dma_bytes",     "l3_bytes",       "weight_bytes",
    "weight_l3_bytes", "code_bytes",    "network_code_bytes", "compile_ms"};

typedef struct {
  char *name, *op;
  int64_t macs, instr, l1_bytes, dma_bytes, l3_bytes;
} bench_layer;

typedef struct {
  char *name, *model;
  int64_t m[NM];
  int nlayers;
  bench_layer *layers;
} bench_net;

typedef struct {
  bench_net *v;
  int n;
} bench_set;

/* How far a metric may move from the baseline (bench/thresholds). */
typedef enum { TH_UNSET, TH_EXACT, TH_GROWTH, TH_OFF } th_kind;
typedef struct {
  th_kind kind;
  double pct; /* TH_GROWTH: allowed growth in percent */
} threshold;

static const char *usage_bench =
    "usage: ares bench [MODEL.onnx | ZOO_DIR ...] [--target rv32] [--json FILE] [--markdown FILE]\n"
    "                  [--baseline FILE [--thresholds FILE] [--update | --compare FILE]] [-j N]\n"
    "\n"
    "The project's performance figures. For every MODEL, and every ZOO_DIR/*/model.onnx\n"
    "(default: tests/zoo): compiles it (wall-clock time), builds it for rv32, runs it on 8\n"
    "qemu-system-riscv32 harts and validates every layer bit for bit against the reference\n"
    "interpreter (a mismatch fails), then counts each layer's instructions on the critical path\n"
    "over the cores (one hart under -icount: per fork the slowest core's share, plus the serial\n"
    "work). Per network and per layer it reports MACs, instructions, MACs per instruction, L1\n"
    "bytes against the budget and DMA bytes (L2/L3 <-> L1, and weight bytes read from L3); per\n"
    "network also the L2 arena against its lower bound, weight bytes, code bytes (function\n"
    "symbols of the rv32 ELF: all, and the generated network's own) and compile time. All but\n"
    "compile time are deterministic. One line per network: 'ok   NAME: ...' or 'FAIL NAME: ...'.\n"
    "\n"
    "  --target rv32      the platform that runs and counts (the only one: instructions come\n"
    "                     from qemu's exact counter)\n"
    "  --json FILE        write every figure, per network and per layer, as JSON\n"
    "  --markdown FILE    write the tables of docs/PERFORMANCE.md\n"
    "  --baseline FILE    compare with FILE (a JSON file this command wrote): per network and\n"
    "                     metric better / worse; a change beyond the metric's threshold is a\n"
    "                     regression (exit 1). Networks not in FILE are listed as new.\n"
    "  --thresholds FILE  the thresholds (default: 'thresholds' beside the baseline file): one\n"
    "                     'METRIC exact|off|PERCENT' line per metric (PERCENT: allowed growth)\n"
    "  --update           write the figures into the baseline file, regressions accepted\n"
    "                     (networks not run are kept while their model exists)\n"
    "  --compare FILE     do not run: compare the figures in FILE (written by --json) with the\n"
    "                     baseline\n"
    "  -j N               benchmark N networks at a time (default 1; the counts do not change)\n"
    "\n"
    "Only the QCDQ export (model.onnx) of a zoo directory is benchmarked: both dialects lower to\n"
    "the same integer ops, so model.qonnx.onnx would repeat the figures (its instruction counts\n"
    "differ by a few at most). Output files are written only when every network validated.\n"
    "exit status: 0 all validated and no regression, 1 a mismatch or a regression, 2 bad input\n"
    "or a network that does not compile, build or run\n";

const char *ares_cli_bench_usage(void) { return usage_bench; }

static char *dup_str(const char *s) {
  char *d = strdup(s ? s : "");
  if (!d) {
    fprintf(stderr, "ares: error: out of memory\n");
    exit(2);
  }
  return d;
}

static void net_free(bench_net *n) {
  for (int l = 0; l < n->nlayers; l++) free(n->layers[l].name), free(n->layers[l].op);
  free(n->layers);
  free(n->name);
  free(n->model);
  memset(n, 0, sizeof *n);
}

static void set_free(bench_set *s) {
  for (int i = 0; i < s->n; i++) net_free(&s->v[i]);
  free(s->v);
  s->v = NULL;
  s->n = 0;
}

static bench_net *set_add(bench_set *s) {
  bench_net *v = realloc(s->v, sizeof *v * (size_t)(s->n + 1));
  if (!v) {
    fprintf(stderr, "ares: error: out of memory\n");
    exit(2);
  }
  s->v = v;
  memset(&v[s->n], 0, sizeof *v);
  return &v[s->n++];
}

static const bench_net *set_find(const bench_set *s, const char *name) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->v[i].name, name) == 0) return &s->v[i];
  return NULL;
}

/* A network's name: its zoo directory for DIR/model.onnx, else DIR/stem of the file. */
static char *net_name(const char *model) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", model);
  char *file = strrchr(buf, '/');
  const char *parent = "";
  if (file) {
    *file++ = 0;
    char *p = strrchr(buf, '/');
    parent = p ? p + 1 : buf;
  } else {
    file = buf;
  }
  if (strcmp(file, "model.onnx") == 0 && parent[0]) return dup_str(parent);
  size_t l = strlen(file);
  if (l > 5 && strcmp(file + l - 5, ".onnx") == 0) file[l - 5] = 0;
  char name[4096];
  snprintf(name, sizeof name, "%s%s%s", parent, parent[0] ? "/" : "", file);
  return dup_str(name);
}

static double mac_per_instr(int64_t macs, int64_t instr) { return instr ? (double)macs / (double)instr : 0.0; }

/* Benchmarks one model into n. Returns 0 (validated), 1 (a layer differs) or 2 (an error). */
static int bench_one(const char *model, const char *target, bench_net *n) {
  ares_cli_opts o;
  memset(&o, 0, sizeof o);
  o.model = model;
  o.target = target;
  n->name = net_name(model);
  n->model = dup_str(model);
  ares_validation v;
  int rc = ares_validate(&o, &v) < 0 ? 2 : v.bad ? 1 : 0;
  if (rc == 1) {
    int s = 0;
    while (s < v.nsteps && strcmp(v.verdict[s], "ok") == 0) s++;
    const ares_node *bad = v.g->nodes[v.order[s]];
    printf("FAIL %s: %d layer(s) differ from the reference on %d %s harts (first: layer %d '%s' (%s): %s)\n", n->name, v.bad,
           v.g->ncores, target, s, bad->name, ares_op_get(bad->op)->name, v.verdict[s]);
  }
  char err[512];
  if (rc == 0) {
    char elf[4200];
    snprintf(elf, sizeof elf, "%s/ares_net.elf", v.proj);
    if (ares_elf_code_bytes(elf, &n->m[M_CODE], &n->m[M_NET_CODE], err, sizeof err) < 0) {
      ares_fail(NULL, "code size: %s", err);
      rc = 2;
    }
  }
  if (rc == 2) printf("FAIL %s: does not compile, build or run on %s (the error is on stderr)\n", n->name, target);
  if (rc != 0) {
    ares_validation_free(&v);
    return rc;
  }
  const ares_graph *g = v.g;
  n->m[M_CORES] = g->ncores;
  n->m[M_MACS] = ares_graph_macs(g);
  n->m[M_INSTR] = ares_validation_instructions(&v);
  n->m[M_L2_ARENA] = g->arena_bytes;
  n->m[M_L2_BOUND] = g->arena_lower_bound;
  n->m[M_L1_BUDGET] = g->l1_budget;
  n->m[M_WEIGHTS] = g->l2_weight_bytes + g->l3_weight_bytes;
  n->m[M_WEIGHTS_L3] = g->l3_weight_bytes;
  n->m[M_COMPILE] = (int64_t)llround(v.compile_secs * 1e6);
  n->layers = calloc((size_t)v.nsteps + 1, sizeof *n->layers);
  if (!n->layers) exit(2);
  n->nlayers = v.nsteps;
  for (int s = 0; s < v.nsteps; s++) {
    const ares_node *nd = g->nodes[v.order[s]];
    bench_layer *l = &n->layers[s];
    l->name = dup_str(nd->name);
    l->op = dup_str(ares_op_get(nd->op)->name);
    l->macs = nd->macs;
    l->instr = v.instr[s];
    l->l1_bytes = nd->l1_bytes;
    l->dma_bytes = nd->dma_bytes;
    /* place-levels: weights in L3 are fetched once per layer that reads them, tile by tile */
    for (int k = 0; k < nd->nin; k++)
      if (nd->in[k] >= 0 && g->tensors[nd->in[k]]->data && g->tensors[nd->in[k]]->level == 3)
        l->l3_bytes += (int64_t)ares_tensor_nbytes(g->tensors[nd->in[k]]);
    if (l->l1_bytes > n->m[M_L1_USED]) n->m[M_L1_USED] = l->l1_bytes;
    n->m[M_DMA] += l->dma_bytes;
    n->m[M_L3] += l->l3_bytes;
  }
  printf("ok   %s: bit-exact on %d %s harts; %" PRId64 " MACs, %" PRId64 " instructions on the critical path, %.3f MAC/instr; "
         "L2 arena %" PRId64 " B (lower bound %" PRId64 "); code %" PRId64 " B; compiled in %.0f ms\n",
         n->name, g->ncores, target, n->m[M_MACS], n->m[M_INSTR], mac_per_instr(n->m[M_MACS], n->m[M_INSTR]), n->m[M_L2_ARENA],
         n->m[M_L2_BOUND], n->m[M_CODE], (double)n->m[M_COMPILE] / 1000.0);
  ares_validation_free(&v);
  return 0;
}

/* --- JSON ------------------------------------------------------------------------------ */

static void write_metric(FILE *f, int m, int64_t v) {
  if (m == M_COMPILE) fprintf(f, "%.3f", (double)v / 1000.0);
  else fprintf(f, "%" PRId64, v);
}

/* One key per line for a network, one line per layer: a changed figure is a one-line diff. */
static int write_json(const char *path, const char *target, const bench_set *s) {
  FILE *f = fopen(path, "w");
  if (!f) return ares_fail(NULL, "cannot write '%s'", path);
  fprintf(f, "{\n  \"generator\": \"ares bench\",\n  \"format\": 1,\n  \"target\": ");
  ares_json_write_str(f, target);
  fprintf(f, ",\n  \"networks\": [");
  for (int i = 0; i < s->n; i++) {
    const bench_net *n = &s->v[i];
    fprintf(f, "%s\n    {\n      \"name\": ", i ? "," : "");
    ares_json_write_str(f, n->name);
    fprintf(f, ",\n      \"model\": ");
    ares_json_write_str(f, n->model);
    for (int m = 0; m < NM; m++) {
      fprintf(f, ",\n      \"%s\": ", metric_key[m]);
      write_metric(f, m, n->m[m]);
      if (m == M_INSTR) fprintf(f, ",\n      \"macs_per_instruction\": %.4f", mac_per_instr(n->m[M_MACS], n->m[M_INSTR]));
    }
    fprintf(f, ",\n      \"layers\": [");
    for (int k = 0; k < n->nlayers; k++) {
      const bench_layer *l = &n->layers[k];
      fprintf(f, "%s\n        {\"name\": ", k ? "," : "");
      ares_json_write_str(f, l->name);
      fprintf(f, ", \"op\": ");
      ares_json_write_str(f, l->op);
      fprintf(f,
              ", \"macs\": %" PRId64 ", \"instructions\": %" PRId64 ", \"macs_per_instruction\": %.4f, \"l1_bytes\": %" PRId64
              ", \"dma_bytes\": %" PRId64 ", \"l3_bytes\": %" PRId64 "}",
              l->macs, l->instr, mac_per_instr(l->macs, l->instr), l->l1_bytes, l->dma_bytes, l->l3_bytes);
    }
    fprintf(f, "%s]\n    }", n->nlayers ? "\n      " : "");
  }
  fprintf(f, "%s]\n}\n", s->n ? "\n  " : "");
  return fclose(f) ? ares_fail(NULL, "write error in '%s'", path) : 0;
}

/* A member of obj that must be of type t (a number: an integer if integer), or NULL with
 * an error naming where. */
static const ares_json *member(const ares_json *obj, const char *key, ares_json_type t, int integer, const char *where,
                               char *err, size_t errlen) {
  const ares_json *v = ares_json_get(obj, key);
  if (!v || v->type != t || (integer && !v->is_int)) {
    snprintf(err, errlen, "%s: '%s' %s", where, key,
             !v ? "is missing" : t == ARES_JSON_STRING ? "is not a string" : integer ? "is not an integer" : "is not a number");
    return NULL;
  }
  return v;
}

static int object_at(const ares_json *j, const char *where, char *err, size_t errlen) {
  if (j->type == ARES_JSON_OBJECT) return 0;
  snprintf(err, errlen, "%s is not an object", where);
  return -1;
}

static int read_layer(const ares_json *jl, const char *where, bench_layer *l, char *err, size_t errlen) {
  static const char *const keys[] = {"macs", "instructions", "l1_bytes", "dma_bytes", "l3_bytes"};
  int64_t *dst[] = {&l->macs, &l->instr, &l->l1_bytes, &l->dma_bytes, &l->l3_bytes};
  const ares_json *name, *op, *x;
  if (object_at(jl, where, err, errlen) < 0 || !(name = member(jl, "name", ARES_JSON_STRING, 0, where, err, errlen)) ||
      !(op = member(jl, "op", ARES_JSON_STRING, 0, where, err, errlen)))
    return -1;
  for (int q = 0; q < 5; q++) {
    if (!(x = member(jl, keys[q], ARES_JSON_NUMBER, 1, where, err, errlen))) return -1;
    *dst[q] = x->i;
  }
  l->name = dup_str(name->str);
  l->op = dup_str(op->str);
  return 0;
}

/* Network number i (0-based) of a figures file, appended to s. */
static int read_net(const ares_json *jn, int i, bench_set *s, char *err, size_t errlen) {
  char where[600];
  const ares_json *name, *model, *layers, *x;
  snprintf(where, sizeof where, "network %d", i + 1);
  if (object_at(jn, where, err, errlen) < 0 || !(name = member(jn, "name", ARES_JSON_STRING, 0, where, err, errlen)) ||
      !(model = member(jn, "model", ARES_JSON_STRING, 0, where, err, errlen)))
    return -1;
  snprintf(where, sizeof where, "network '%s'", name->str);
  if (set_find(s, name->str)) return snprintf(err, errlen, "%s is listed twice", where), -1;
  bench_net *n = set_add(s);
  n->name = dup_str(name->str);
  n->model = dup_str(model->str);
  for (int m = 0; m < NM; m++) {
    if (!(x = member(jn, metric_key[m], ARES_JSON_NUMBER, m != M_COMPILE, where, err, errlen))) return -1;
    n->m[m] = m == M_COMPILE ? (int64_t)llround(x->num * 1000.0) : x->i;
  }
  if (!(layers = member(jn, "layers", ARES_JSON_ARRAY, 0, where, err, errlen))) return -1;
  n->layers = calloc((size_t)layers->n + 1, sizeof *n->layers);
  if (!n->layers) exit(2);
  for (int k = 0; k < layers->n; k++) {
    char lw[700];
    snprintf(lw, sizeof lw, "%s, layer %d", where, k);
    if (read_layer(layers->item[k], lw, &n->layers[k], err, errlen) < 0) return -1;
    n->nlayers++;
  }
  return 0;
}

/* A figures file (--json, a baseline) -> s. -1 with the reason, naming the file, in err. */
static int read_baseline(const char *path, const char *target, bench_set *s, char *err, size_t errlen) {
  ares_json *j = ares_json_load(path, err, errlen);
  if (!j) return -1;
  const ares_json *fmt, *tg, *nets;
  int rc = -1;
  if (object_at(j, "the file", err, errlen) < 0 || !(fmt = member(j, "format", ARES_JSON_NUMBER, 1, "the file", err, errlen)) ||
      !(tg = member(j, "target", ARES_JSON_STRING, 0, "the file", err, errlen)) ||
      !(nets = member(j, "networks", ARES_JSON_ARRAY, 0, "the file", err, errlen)))
    ;
  else if (fmt->i != 1) snprintf(err, errlen, "format %" PRId64 " (this ares writes and reads format 1)", fmt->i);
  else if (strcmp(tg->str, target) != 0) snprintf(err, errlen, "figures for target '%s', not '%s'", tg->str, target);
  else
    for (int i = rc = 0; rc == 0 && i < nets->n; i++) rc = read_net(nets->item[i], i, s, err, errlen);
  ares_json_free(j);
  if (rc < 0) {
    char e[1024];
    snprintf(e, sizeof e, "%s", err);
    snprintf(err, errlen, "'%s': %s", path, e);
    set_free(s);
  }
  return rc;
}

/* --- thresholds ------------------------------------------------------------------------ */

/* 'METRIC exact|off|PERCENT' per line, '#' comments; every metric exactly once. */
static int read_thresholds(const char *path, threshold th[NM], char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) return snprintf(err, errlen, "cannot open '%s'", path), -1;
  memset(th, 0, sizeof(threshold) * NM);
  char line[512];
  int ln = 0, rc = 0;
  while (rc == 0 && fgets(line, sizeof line, f)) {
    ln++;
    char *hash = strchr(line, '#'), key[128], val[128], extra[8];
    if (hash) *hash = 0;
    int k = sscanf(line, "%127s %127s %7s", key, val, extra);
    if (k <= 0) continue;
    int m = 0;
    while (m < NM && strcmp(metric_key[m], key) != 0) m++;
    char *end;
    double pct = k == 2 ? strtod(val, &end) : 0;
    if (k != 2) snprintf(err, errlen, "'%s' line %d: 'METRIC exact|off|PERCENT' expected", path, ln), rc = -1;
    else if (m == NM) snprintf(err, errlen, "'%s' line %d: unknown metric '%s'", path, ln, key), rc = -1;
    else if (th[m].kind != TH_UNSET) snprintf(err, errlen, "'%s' line %d: '%s' given twice", path, ln, key), rc = -1;
    else if (strcmp(val, "exact") == 0) th[m].kind = TH_EXACT;
    else if (strcmp(val, "off") == 0) th[m].kind = TH_OFF;
    else if (*end == 0 && pct >= 0 && isfinite(pct)) th[m] = (threshold){TH_GROWTH, pct};
    else snprintf(err, errlen, "'%s' line %d: '%s' is not exact, off or a percentage >= 0", path, ln, val), rc = -1;
  }
  fclose(f);
  for (int m = 0; rc == 0 && m < NM; m++)
    if (th[m].kind == TH_UNSET) snprintf(err, errlen, "'%s' has no threshold for '%s'", path, metric_key[m]), rc = -1;
  return rc;
}

/* "; most: layer S 'NAME' (OP) +K" for the layer whose instructions grew most, when the
 * baseline has the same layers; else nothing. */
static void grown_layer(const bench_net *n, const bench_net *b, char *out, size_t len) {
  int worst = -1;
  for (int k = 0; k < n->nlayers; k++) {
    if (n->nlayers != b->nlayers || strcmp(n->layers[k].name, b->layers[k].name) != 0) return;
    int64_t d = n->layers[k].instr - b->layers[k].instr;
    if (d > 0 && (worst < 0 || d > n->layers[worst].instr - b->layers[worst].instr)) worst = k;
  }
  if (worst >= 0)
    snprintf(out, len, "; most: layer %d '%s' (%s) %+" PRId64, worst, n->layers[worst].name, n->layers[worst].op,
             n->layers[worst].instr - b->layers[worst].instr);
}

/* Prints the comparison of the run with the baseline; counts regressions and improvements. */
static void compare(const bench_set *run, const bench_set *base, const threshold th[NM], int *regressions, int *better,
                    int *fresh) {
  for (int i = 0; i < run->n; i++) {
    const bench_net *n = &run->v[i], *b = set_find(base, n->name);
    if (!b) {
      printf("new  %s: not in the baseline\n", n->name);
      ++*fresh;
      continue;
    }
    int bad = 0, good = 0;
    char note[2048] = "";
    size_t nl = 0;
    for (int m = 0; m < NM; m++) {
      int64_t o = b->m[m], v = n->m[m];
      if (th[m].kind == TH_OFF || o == v) continue;
      double pct = o ? 100.0 * (double)(v - o) / (double)o : 100.0;
      int regress = th[m].kind == TH_EXACT || (v > o && (double)(v - o) * 100.0 > th[m].pct * (double)o);
      char ov[32], nv[32];
      snprintf(ov, sizeof ov, "%" PRId64, o);
      snprintf(nv, sizeof nv, "%" PRId64, v);
      if (regress) {
        char allowed[48];
        if (th[m].kind == TH_EXACT) snprintf(allowed, sizeof allowed, "must equal the baseline");
        else snprintf(allowed, sizeof allowed, "allowed +%g %%", th[m].pct);
        char where[400] = "";
        if (m == M_INSTR) grown_layer(n, b, where, sizeof where);
        printf("FAIL %s: regression in %s: %s -> %s (%+.2f %%, %s)%s\n", n->name, metric_key[m], ov, nv, pct, allowed, where);
        bad++;
      } else if (nl < sizeof note) {
        nl += (size_t)snprintf(note + nl, sizeof note - nl, "%s%s %s -> %s %s (%+.2f %%)", nl ? "; " : "", metric_key[m], ov, nv,
                               v < o ? "better" : "worse, within the threshold", pct);
        good += v < o;
      }
    }
    *regressions += bad;
    *better += good;
    if (!bad) printf("ok   %s: no regression against the baseline%s%s\n", n->name, note[0] ? ": " : "", note);
    else if (note[0]) printf("     %s, besides: %s\n", n->name, note);
  }
  fflush(stdout);
}

/* --- Markdown -------------------------------------------------------------------------- */

static int layer_cmp_instr(const void *a, const void *b) {
  const bench_layer *x = *(bench_layer *const *)a, *y = *(bench_layer *const *)b;
  return x->instr != y->instr ? (x->instr < y->instr ? 1 : -1) : (x < y ? -1 : x > y);
}

static int write_markdown(const char *path, const char *cmdline, const bench_set *s) {
  FILE *f = fopen(path, "w");
  if (!f) return ares_fail(NULL, "cannot write '%s'", path);
  fprintf(f,
          "# Performance\n\n"
          "Generated by\n\n    %s\n\n(`make bench` regenerates this file and `bench/baseline.json`); do not edit. The baseline holds\n"
          "the same figures, per layer too; the rv32 suite (`tests/test_rv32.sh`) compares every run with\n"
          "it under `bench/thresholds`.\n\n"
          "Each network (its QCDQ export; the QONNX one lowers to the same integer ops) is compiled, run on 8\n"
          "`qemu-system-riscv32` harts and validated bit for bit against the reference interpreter, then counted\n"
          "on one hart under `-icount` (exact and repeatable). *instructions*: the critical path over the 8\n"
          "cores, per parallel region the slowest core's share plus the orchestrator's serial work, the DMA's\n"
          "own copying left out (rv32imac, `-O2`: no SIMD, soft float). *L2 arena*: the activation arena that\n"
          "plan-memory laid out, against its lower bound (the largest sum of activations live at one step).\n"
          "*L1*: the most any layer's tiles use, against the budget. *DMA*: bytes between L2/L3 and L1 as the\n"
          "tiler plans them; *L3*: of which weights read from L3. *code*: function bytes of the rv32 ELF (the\n"
          "generated network's own / all, kernels and libc included). *compile*: import, passes and emit, wall\n"
          "clock on the machine that ran this (not reproducible).\n\n"
          "| network | MACs | instructions | MAC/instr | L2 arena / lower bound (B) | L1 max / budget (B) | DMA (B) | L3 (B) | weights (B) | code (B) | compile (ms) |\n"
          "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
          cmdline);
  for (int i = 0; i < s->n; i++) {
    const int64_t *m = s->v[i].m;
    fprintf(f,
            "| %s | %" PRId64 " | %" PRId64 " | %.3f | %" PRId64 " / %" PRId64 " | %" PRId64 " / %" PRId64 " | %" PRId64
            " | %" PRId64 " | %" PRId64 " | %" PRId64 " / %" PRId64 " | %.0f |\n",
            s->v[i].name, m[M_MACS], m[M_INSTR], mac_per_instr(m[M_MACS], m[M_INSTR]), m[M_L2_ARENA], m[M_L2_BOUND],
            m[M_L1_USED], m[M_L1_BUDGET], m[M_DMA], m[M_L3], m[M_WEIGHTS], m[M_NET_CODE], m[M_CODE],
            (double)m[M_COMPILE] / 1000.0);
  }
  fprintf(f, "\n## The heaviest layers\n\nPer network, the (at most) five layers with the most instructions on the critical path.\n");
  for (int i = 0; i < s->n; i++) {
    const bench_net *n = &s->v[i];
    const bench_layer **ls = malloc(sizeof *ls * (size_t)(n->nlayers + 1));
    if (!ls) exit(2);
    for (int k = 0; k < n->nlayers; k++) ls[k] = &n->layers[k];
    qsort(ls, (size_t)n->nlayers, sizeof *ls, layer_cmp_instr);
    fprintf(f, "\n### %s\n\n| layer | op | MACs | instructions | share | MAC/instr | L1 (B) | DMA (B) |\n|---|---|--:|--:|--:|--:|--:|--:|\n",
            n->name);
    for (int k = 0; k < n->nlayers && k < 5; k++) {
      const bench_layer *l = ls[k];
      fprintf(f, "| %d `", (int)(l - n->layers));
      for (const char *c = l->name; *c; c++) fputc(*c == '|' || *c == '`' ? '_' : *c, f);
      fprintf(f, "` | %s | %" PRId64 " | %" PRId64 " | %.1f %% | %.3f | %" PRId64 " | %" PRId64 " |\n", l->op, l->macs, l->instr,
              n->m[M_INSTR] ? 100.0 * (double)l->instr / (double)n->m[M_INSTR] : 0.0, mac_per_instr(l->macs, l->instr),
              l->l1_bytes, l->dma_bytes);
    }
    free(ls);
  }
  return fclose(f) ? ares_fail(NULL, "write error in '%s'", path) : 0;
}

/* --- the command ----------------------------------------------------------------------- */

/* Benchmarks every model, up to `jobs` at a time, each in a child process (a crash costs one
 * network, not the run) that hands its figures back as a JSON file. Fills run in the models'
 * order; returns the worst status (0, 1 a mismatch, 2 an error). */
static int run_all(const bench_set *models, const char *target, int jobs, bench_set *run) {
  char dir[] = "/tmp/ares-bench-XXXXXX", path[4096], err[1024];
  if (!mkdtemp(dir)) return ares_fail(NULL, "cannot create a temporary directory: %s", strerror(errno)), 2;
  pid_t *pid = calloc((size_t)models->n + 1, sizeof *pid);
  int *rc = calloc((size_t)models->n + 1, sizeof *rc);
  if (!pid || !rc) exit(2);
  int next = 0, active = 0, worst = 0;
  while (next < models->n || active) {
    if (next < models->n && active < jobs) {
      fflush(stdout);
      fflush(stderr);
      snprintf(path, sizeof path, "%s/%d.json", dir, next);
      pid_t p = fork();
      if (p == 0) {
        bench_net n = {0};
        int st = bench_one(models->v[next].model, target, &n);
        bench_set one = {&n, 1};
        if (st == 0 && write_json(path, target, &one) < 0) st = 2;
        fflush(stdout);
        fflush(stderr);
        _exit(st);
      }
      if (p < 0) {
        ares_fail(NULL, "cannot start a process for '%s': %s", models->v[next].model, strerror(errno));
        rc[next] = 2;
      }
      pid[next++] = p;
      active += p > 0;
      continue;
    }
    int st;
    pid_t p = wait(&st);
    if (p < 0) break;
    for (int k = 0; k < next; k++) {
      if (pid[k] != p) continue;
      active--;
      rc[k] = WIFEXITED(st) ? WEXITSTATUS(st) : 2;
      if (!WIFEXITED(st)) printf("FAIL %s: crashed (signal %d)\n", models->v[k].name, WTERMSIG(st));
      fflush(stdout);
    }
  }
  for (int k = 0; k < models->n; k++) {
    bench_set one = {0};
    snprintf(path, sizeof path, "%s/%d.json", dir, k);
    if (rc[k] == 0 && read_baseline(path, target, &one, err, sizeof err) < 0) {
      ares_fail(NULL, "internal: figures of '%s' do not read back: %s", models->v[k].model, err);
      rc[k] = 2;
    }
    if (rc[k] == 0 && one.n == 1) *set_add(run) = one.v[0];
    free(one.v);
    if (rc[k] > worst) worst = rc[k];
  }
  ares_remove_tree(dir);
  free(pid);
  free(rc);
  return worst;
}

static int net_cmp(const void *a, const void *b) { return strcmp(((const bench_net *)a)->name, ((const bench_net *)b)->name); }

/* The new baseline: this run's networks, and the old baseline's others whose model still
 * exists, sorted by name. Moves the networks out of run and base. */
static void merge(bench_set *run, bench_set *base, bench_set *out) {
  for (int i = 0; i < base->n; i++) {
    if (set_find(run, base->v[i].name) || !ares_cli_is_file(base->v[i].model)) {
      net_free(&base->v[i]);
      continue;
    }
    *set_add(out) = base->v[i];
  }
  for (int i = 0; i < run->n; i++) *set_add(out) = run->v[i];
  free(run->v);
  free(base->v);
  run->v = base->v = NULL;
  run->n = base->n = 0;
  if (out->n) qsort(out->v, (size_t)out->n, sizeof *out->v, net_cmp);
}

static void append_word(char *buf, size_t len, size_t *used, const char *w) {
  if (*used < len) *used += (size_t)snprintf(buf + *used, len - *used, " %s", w);
}

int ares_cli_bench(int argc, char **argv) {
  const char *target = "rv32", *json = NULL, *markdown = NULL, *baseline = NULL, *thresholds = NULL, *figures = NULL;
  int update = 0, npaths = 0;
  long jobs = 1;
  const char **paths = calloc((size_t)argc + 1, sizeof *paths);
  char cmdline[4096];
  size_t cl = (size_t)snprintf(cmdline, sizeof cmdline, "ares bench");
  if (!paths) return 2;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char **slot = strcmp(a, "--target") == 0       ? &target
                        : strcmp(a, "--json") == 0       ? &json
                        : strcmp(a, "--markdown") == 0   ? &markdown
                        : strcmp(a, "--baseline") == 0   ? &baseline
                        : strcmp(a, "--thresholds") == 0 ? &thresholds
                        : strcmp(a, "--compare") == 0    ? &figures
                                                         : NULL;
    /* the command line, for the Markdown's header and the refresh hint; -j changes no figure */
    if (strncmp(a, "-j", 2) != 0) append_word(cmdline, sizeof cmdline, &cl, a);
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage_bench, stdout);
      free(paths);
      return 0;
    } else if (strcmp(a, "--update") == 0) {
      update = 1;
    } else if (strncmp(a, "-j", 2) == 0) {
      const char *v = a[2] ? a + 2 : i + 1 < argc ? argv[++i] : "";
      char *end;
      jobs = strtol(v, &end, 10);
      if (!*v || *end || jobs < 1 || jobs > 64) {
        fprintf(stderr, "ares: error: -j needs a number of jobs in 1..64, not '%s'\n\n%s", v, usage_bench);
        free(paths);
        return 2;
      }
    } else if (slot) {
      if (i + 1 >= argc) {
        fprintf(stderr, "ares: error: %s needs a value\n\n%s", a, usage_bench);
        free(paths);
        return 2;
      }
      *slot = argv[++i];
      append_word(cmdline, sizeof cmdline, &cl, argv[i]);
    } else if (a[0] == '-') {
      fprintf(stderr, "ares: error: unknown option '%s'\n\n%s", a, usage_bench);
      free(paths);
      return 2;
    } else {
      paths[npaths++] = a;
    }
  }
  if (!npaths && !figures) paths[npaths++] = "tests/zoo";
  int status = 0;
  char err[1024], thpath[4096];
  threshold th[NM];
  bench_set run = {0}, base = {0}, models = {0};
  if (strcmp(target, "rv32") != 0) {
    ares_fail(NULL, "unsupported: 'ares bench' on target '%s' (it counts instructions on rv32, the one target that "
              "runs here with an exact counter)", target);
    status = 2;
  } else if ((update || thresholds || figures) && !baseline) {
    fprintf(stderr, "ares: error: %s needs --baseline FILE\n\n%s", update ? "--update" : thresholds ? "--thresholds" : "--compare",
            usage_bench);
    status = 2;
  } else if (figures && (npaths || update)) {
    fprintf(stderr, "ares: error: --compare FILE takes the figures from FILE: no models, no --update\n\n%s", usage_bench);
    status = 2;
  }
  /* every model and the baseline are checked before anything runs */
  for (int i = 0; status == 0 && i < npaths; i++) {
    if (ares_cli_is_dir(paths[i])) {
      char **names;
      int nn = ares_cli_subdirs_with(paths[i], "model.onnx", &names);
      if (nn < 0) status = 2;
      else if (nn == 0) status = 2, ares_fail(NULL, "'%s' holds no */model.onnx", paths[i]);
      for (int k = 0; k < nn; k++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s/model.onnx", paths[i], names[k]);
        set_add(&models)->model = dup_str(p);
      }
      ares_cli_free_names(names, nn);
    } else if (ares_cli_is_file(paths[i])) {
      set_add(&models)->model = dup_str(paths[i]);
    } else {
      status = 2;
      ares_fail(NULL, "cannot open '%s' (neither a model nor a directory)", paths[i]);
    }
  }
  for (int i = 0; status == 0 && i < models.n; i++) {
    models.v[i].name = net_name(models.v[i].model);
    for (int k = 0; k < i; k++)
      if (strcmp(models.v[k].name, models.v[i].name) == 0) {
        ares_fail(NULL, "'%s' and '%s' are both named '%s'", models.v[k].model, models.v[i].model, models.v[i].name);
        status = 2;
      }
  }
  if (status == 0 && baseline) {
    if (thresholds) {
      snprintf(thpath, sizeof thpath, "%s", thresholds);
    } else {
      const char *slash = strrchr(baseline, '/');
      snprintf(thpath, sizeof thpath, "%.*s%sthresholds", slash ? (int)(slash - baseline) : 0, baseline, slash ? "/" : "");
    }
    if (!(update && !ares_cli_is_file(baseline)) && read_baseline(baseline, target, &base, err, sizeof err) < 0) {
      ares_fail(NULL, "baseline %s", err);
      status = 2;
    } else if (read_thresholds(thpath, th, err, sizeof err) < 0) {
      ares_fail(NULL, "thresholds: %s", err);
      status = 2;
    }
  }
  if (status == 0 && figures && read_baseline(figures, target, &run, err, sizeof err) < 0) {
    ares_fail(NULL, "--compare %s", err);
    status = 2;
  }
  int failed = status == 0 ? run_all(&models, target, (int)jobs, &run) : 0;
  if (status == 0) status = failed;
  /* the networks that validated are compared even when others did not */
  int regressions = 0, better = 0, fresh = 0, nrun = run.n, complete = status == 0;
  if (baseline && run.n) compare(&run, &base, th, &regressions, &better, &fresh);
  if (regressions && !update && status == 0) status = 1;
  if (complete) {
    if (json && write_json(json, target, &run) < 0) status = 2;
    if (markdown && write_markdown(markdown, cmdline, &run) < 0) status = 2;
    if (update && status != 2) {
      bench_set out = {0};
      merge(&run, &base, &out);
      if (write_json(baseline, target, &out) < 0) status = 2;
      else printf("ares bench: wrote the figures of %d network(s) into %s (%d in all)\n", nrun, baseline, out.n);
      set_free(&out);
    }
  } else if (nrun && (json || markdown || update)) {
    fprintf(stderr, "ares: bench: nothing written: not every network validated\n");
  }
  if (!update && (better || fresh))
    printf("ares bench: %d figure(s) better than the baseline, %d network(s) not in it: refresh it with `%s --update`\n", better,
           fresh, figures ? "ares bench MODELS --baseline FILE" : cmdline);
  if (nrun || failed)
    printf("ares bench: %d of %d network(s) %s%s\n", nrun, figures ? nrun : models.n, figures ? "read" : "validated and measured",
           !baseline ? "" : regressions ? (update ? ", regressions accepted into the baseline" : ", regressions against the baseline")
                                        : ", no regression against the baseline");
  set_free(&run);
  set_free(&base);
  set_free(&models);
  free(paths);
  return status;
}
