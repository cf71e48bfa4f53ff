/* Graph construction, queries and dumping. */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

static const ares_op_info op_table[ARES_OP_COUNT] = {
#define ARES_SRC(e, onnx, domain, doc) {ARES_OP_##e, ARES_KIND_SRC, onnx, domain, doc},
#define ARES_INT(e, name, doc) {ARES_OP_##e, ARES_KIND_INT, name, NULL, doc},
#include "ops.def"
#undef ARES_SRC
#undef ARES_INT
};

const ares_op_info *ares_op_get(ares_op op) {
  return (op >= 0 && op < ARES_OP_COUNT) ? &op_table[op] : NULL;
}

ares_op ares_op_from_onnx(const char *domain, const char *op_type) {
  /* ONNX spells the default domain "" or "ai.onnx". */
  if (!domain || strcmp(domain, "ai.onnx") == 0) domain = "";
  for (int i = 0; i < ARES_OP_COUNT; i++)
    if (op_table[i].kind == ARES_KIND_SRC && strcmp(op_table[i].name, op_type) == 0 &&
        strcmp(op_table[i].domain, domain) == 0)
      return (ares_op)i;
  return ARES_OP_COUNT;
}

/* --- arena: everything a graph owns is freed at once ---------------------------------- */
struct ares_arena_block {
  ares_arena_block *next;
  max_align_t data[];
};

void *ares_alloc(ares_graph *g, size_t n) {
  ares_arena_block *b = calloc(1, sizeof(*b) + (n ? n : 1));
  if (!b) {
    fprintf(stderr, "ares: error: out of memory (%zu bytes)\n", n);
    exit(2);
  }
  b->next = g->arena;
  g->arena = b;
  return b->data;
}

char *ares_strdup(ares_graph *g, const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = ares_alloc(g, n);
  memcpy(d, s, n);
  return d;
}

ares_graph *ares_graph_new(void) {
  ares_graph *g = calloc(1, sizeof(*g));
  if (!g) exit(2);
  return g;
}

void ares_graph_free(ares_graph *g) {
  if (!g) return;
  for (ares_arena_block *b = g->arena, *n; b; b = n) {
    n = b->next;
    free(b);
  }
  free(g->tensors);
  free(g->nodes);
  free(g->inputs);
  free(g->outputs);
  free(g);
}

static void *grow(void *p, int *cap, int need, size_t elt) {
  if (need <= *cap) return p;
  int nc = *cap ? *cap * 2 : 16;
  while (nc < need) nc *= 2;
  void *q = realloc(p, (size_t)nc * elt);
  if (!q) {
    fprintf(stderr, "ares: error: out of memory\n");
    exit(2);
  }
  *cap = nc;
  return q;
}

ares_tensor *ares_tensor_new(ares_graph *g, const char *name) {
  g->tensors = grow(g->tensors, &g->captensors, g->ntensors + 1, sizeof(*g->tensors));
  ares_tensor *t = ares_alloc(g, sizeof(*t));
  t->id = g->ntensors;
  t->name = ares_strdup(g, name ? name : "");
  t->producer = -1;
  g->tensors[g->ntensors++] = t;
  return t;
}

void ares_tensor_set_shape(ares_tensor *t, int rank, const int64_t *dims) {
  t->rank = rank;
  for (int i = 0; i < rank; i++) t->dims[i] = dims[i];
  t->has_shape = 1;
}

ares_tensor *ares_tensor_new_shaped(ares_graph *g, const char *name, ares_dtype dt, int rank, const int64_t *dims) {
  ares_tensor *t = ares_tensor_new(g, name);
  t->dtype = dt;
  ares_tensor_set_shape(t, rank, dims);
  return t;
}

ares_tensor *ares_tensor_new_const(ares_graph *g, const char *name, ares_dtype dt, int rank, const int64_t *dims) {
  ares_tensor *t = ares_tensor_new_shaped(g, name, dt, rank, dims);
  t->data = ares_alloc(g, ares_tensor_nbytes(t));
  return t;
}

ares_tensor *ares_tensor_find(ares_graph *g, const char *name) {
  /* Linear scan from the end: recent tensors are the ones looked up while importing. */
  for (int i = g->ntensors - 1; i >= 0; i--)
    if (strcmp(g->tensors[i]->name, name) == 0) return g->tensors[i];
  return NULL;
}

ares_node *ares_node_new(ares_graph *g, ares_op op, const char *name, int nin, int nout) {
  g->nodes = grow(g->nodes, &g->capnodes, g->nnodes + 1, sizeof(*g->nodes));
  ares_node *n = ares_alloc(g, sizeof(*n));
  n->id = g->nnodes;
  n->op = op;
  n->name = ares_strdup(g, name ? name : "");
  const ares_op_info *info = ares_op_get(op);
  n->op_type = ares_strdup(g, info ? info->name : "?");
  n->domain = ares_strdup(g, info && info->domain ? info->domain : "");
  n->nin = nin;
  n->nout = nout;
  n->in = ares_alloc(g, sizeof(int) * (size_t)(nin ? nin : 1));
  n->out = ares_alloc(g, sizeof(int) * (size_t)(nout ? nout : 1));
  for (int i = 0; i < nin; i++) n->in[i] = -1;
  for (int i = 0; i < nout; i++) n->out[i] = -1;
  g->nodes[g->nnodes++] = n;
  return n;
}

static int *push_id(int *arr, int *n, int id) {
  arr = realloc(arr, sizeof(int) * (size_t)(*n + 1));
  if (!arr) exit(2);
  arr[(*n)++] = id;
  return arr;
}

void ares_graph_add_input(ares_graph *g, int tid) { g->inputs = push_id(g->inputs, &g->ninputs, tid); }
void ares_graph_add_output(ares_graph *g, int tid) { g->outputs = push_id(g->outputs, &g->noutputs, tid); }

void ares_node_become_dequant(ares_graph *g, ares_node *n, int tid) {
  n->op = ARES_OP_DEQUANTIZELINEAR;
  n->op_type = ares_strdup(g, "DequantizeLinear");
  n->nin = 1;
  n->in[0] = tid;
  n->nattr = 0;
}

/* --- queries ------------------------------------------------------------------------- */
size_t ares_dtype_size(ares_dtype t) {
  switch (t) {
  case ARES_DT_I8: case ARES_DT_U8: case ARES_DT_BOOL: return 1;
  case ARES_DT_I16: return 2;
  case ARES_DT_F32: case ARES_DT_I32: return 4;
  case ARES_DT_I64: return 8;
  default: return 0;
  }
}

const char *ares_dtype_name(ares_dtype t) {
  static const char *names[] = {"undef", "f32", "i8", "u8", "i16", "i32", "i64", "bool"};
  return (t >= 0 && t <= ARES_DT_BOOL) ? names[t] : "?";
}

const char *ares_dtype_npy(ares_dtype t) {
  static const char *codes[] = {"", "f4", "i1", "u1", "i2", "i4", "i8", "b1"};
  return (t >= 0 && t <= ARES_DT_BOOL) ? codes[t] : "";
}

int64_t ares_tensor_numel(const ares_tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

int64_t ares_ravel(const int64_t *dims, int rank, const int64_t *idx) {
  int64_t i = 0;
  for (int d = 0; d < rank; d++) i = i * dims[d] + idx[d];
  return i;
}

void ares_unravel(const int64_t *dims, int rank, int64_t i, int64_t *idx) {
  for (int d = rank - 1; d >= 0; d--) {
    idx[d] = i % dims[d];
    i /= dims[d];
  }
}

size_t ares_tensor_nbytes(const ares_tensor *t) {
  return (size_t)ares_tensor_numel(t) * ares_dtype_size(t->dtype);
}

const ares_attr *ares_attr_find(const ares_node *n, const char *name) {
  for (int i = 0; i < n->nattr; i++)
    if (strcmp(n->attr[i].name, name) == 0) return &n->attr[i];
  return NULL;
}

int64_t ares_attr_int(const ares_node *n, const char *name, int64_t dflt) {
  const ares_attr *a = ares_attr_find(n, name);
  return (a && a->type == ARES_ATTR_INT) ? a->i : dflt;
}

float ares_attr_float(const ares_node *n, const char *name, float dflt) {
  const ares_attr *a = ares_attr_find(n, name);
  return (a && a->type == ARES_ATTR_FLOAT) ? a->f : dflt;
}

int ares_attr_ints(const ares_node *n, const char *name, int64_t *out, int max) {
  const ares_attr *a = ares_attr_find(n, name);
  if (!a || a->type != ARES_ATTR_INTS) return -1;
  for (int i = 0; i < a->n && i < max; i++) out[i] = a->ints[i];
  return a->n;
}

const char *ares_attr_string(const ares_node *n, const char *name, const char *dflt) {
  const ares_attr *a = ares_attr_find(n, name);
  return (a && a->type == ARES_ATTR_STRING) ? a->s : dflt;
}

double ares_tensor_get_f(const ares_tensor *t, int64_t i) {
  switch (t->dtype) {
  case ARES_DT_F32: return ((const float *)t->data)[i];
  default: return (double)ares_tensor_get_i(t, i);
  }
}

int64_t ares_tensor_get_i(const ares_tensor *t, int64_t i) {
  switch (t->dtype) {
  case ARES_DT_I8: return ((const int8_t *)t->data)[i];
  case ARES_DT_U8: return ((const uint8_t *)t->data)[i];
  case ARES_DT_BOOL: return ((const uint8_t *)t->data)[i] != 0;
  case ARES_DT_I16: return ((const int16_t *)t->data)[i];
  case ARES_DT_I32: return ((const int32_t *)t->data)[i];
  case ARES_DT_I64: return ((const int64_t *)t->data)[i];
  case ARES_DT_F32: return (int64_t)((const float *)t->data)[i];
  default: return 0;
  }
}

void ares_tensor_set_i(ares_tensor *t, int64_t i, int64_t v) {
  switch (t->dtype) {
  case ARES_DT_I8: ((int8_t *)t->data)[i] = (int8_t)v; break;
  case ARES_DT_U8: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
  case ARES_DT_BOOL: ((uint8_t *)t->data)[i] = v != 0; break;
  case ARES_DT_I16: ((int16_t *)t->data)[i] = (int16_t)v; break;
  case ARES_DT_I32: ((int32_t *)t->data)[i] = (int32_t)v; break;
  case ARES_DT_I64: ((int64_t *)t->data)[i] = v; break;
  case ARES_DT_F32: ((float *)t->data)[i] = (float)v; break;
  default: break;
  }
}

ares_attr *ares_attr_add_floats(ares_graph *g, ares_node *n, const char *name, int count) {
  ares_attr *na = ares_alloc(g, sizeof(ares_attr) * (size_t)(n->nattr + 1));
  for (int i = 0; i < n->nattr; i++) na[i] = n->attr[i];
  ares_attr *a = &na[n->nattr];
  a->name = ares_strdup(g, name);
  a->type = ARES_ATTR_FLOATS;
  a->n = count;
  a->floats = ares_alloc(g, sizeof(float) * (size_t)(count ? count : 1));
  n->attr = na;
  n->nattr++;
  return a;
}

int ares_tensor_is_const(const ares_graph *g, int tid) {
  return tid >= 0 && tid < g->ntensors && g->tensors[tid]->data != NULL;
}

int ares_tensor_is_scalar_const(const ares_graph *g, int tid) {
  return ares_tensor_is_const(g, tid) && ares_tensor_numel(g->tensors[tid]) == 1;
}

void ares_graph_relink(ares_graph *g) {
  for (int i = 0; i < g->ntensors; i++) {
    g->tensors[i]->nconsumers = 0;
    g->tensors[i]->producer = -1;
  }
  for (int i = 0; i < g->nnodes; i++) {
    ares_node *n = g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->nin; k++)
      if (n->in[k] >= 0) g->tensors[n->in[k]]->nconsumers++;
    for (int k = 0; k < n->nout; k++)
      if (n->out[k] >= 0) g->tensors[n->out[k]]->producer = n->id;
  }
  for (int i = 0; i < g->noutputs; i++) g->tensors[g->outputs[i]]->nconsumers++;
}

void ares_graph_replace_uses(ares_graph *g, int from, int to) {
  for (int i = 0; i < g->nnodes; i++) {
    ares_node *n = g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->nin; k++)
      if (n->in[k] == from) n->in[k] = to;
  }
  for (int i = 0; i < g->noutputs; i++)
    if (g->outputs[i] == from) g->outputs[i] = to;
  ares_graph_relink(g);
}

/* Kahn's algorithm, taking ready nodes in file order so the schedule is stable.
 * Returns -1 when the graph has a cycle or a node reads a tensor nobody produces. */
int ares_graph_topo(ares_graph *g, int **order) {
  ares_graph_relink(g);
  int *ord = malloc(sizeof(int) * (size_t)(g->nnodes + 1));
  char *ready = calloc((size_t)g->ntensors + 1, 1);
  char *done = calloc((size_t)g->nnodes + 1, 1);
  if (!ord || !ready || !done) exit(2);
  for (int i = 0; i < g->ntensors; i++)
    if (g->tensors[i]->producer < 0) ready[i] = 1;
  int n = 0, live = 0, progress = 1;
  for (int i = 0; i < g->nnodes; i++) live += !g->nodes[i]->dead;
  while (progress) {
    progress = 0;
    for (int i = 0; i < g->nnodes; i++) {
      ares_node *nd = g->nodes[i];
      if (nd->dead || done[i]) continue;
      int ok = 1;
      for (int k = 0; k < nd->nin && ok; k++)
        if (nd->in[k] >= 0 && !ready[nd->in[k]]) ok = 0;
      if (!ok) continue;
      done[i] = 1;
      ord[n++] = i;
      for (int k = 0; k < nd->nout; k++)
        if (nd->out[k] >= 0) ready[nd->out[k]] = 1;
      progress = 1;
    }
  }
  free(ready);
  free(done);
  if (n != live) {
    free(ord);
    *order = NULL;
    return -1;
  }
  *order = ord;
  return n;
}

/* --- dump ---------------------------------------------------------------------------- */
static void dump_tensor_ref(const ares_graph *g, int tid, FILE *f) {
  if (tid < 0) {
    fprintf(f, "_");
    return;
  }
  const ares_tensor *t = g->tensors[tid];
  fprintf(f, "%%%d:%s[", t->id, ares_dtype_name(t->dtype));
  for (int i = 0; i < t->rank; i++) fprintf(f, "%s%lld", i ? "," : "", (long long)t->dims[i]);
  fprintf(f, "]");
  if (t->q.nscale == 1)
    fprintf(f, "{s=%.9g,zp=%d,b=%d,%d..%d}", t->q.scale[0], t->q.zp[0], t->q.bits, t->q.qmin, t->q.qmax);
  else if (t->q.nscale > 1)
    fprintf(f, "{s[%d]@%d,b=%d,%d..%d}", t->q.nscale, t->q.axis, t->q.bits, t->q.qmin, t->q.qmax);
  if (t->data) fprintf(f, "=const");
}

static void dump_rq(const ares_requant *rq, FILE *f) {
  if (rq->out_i32) {
    fprintf(f, " out=int32 (the accumulator)");
    return;
  }
  if (rq->out_float) {
    fprintf(f, " out=float fscale[0]=%g", rq->fscale[0]);
    return;
  }
  fprintf(f, " rq[%d]: mult[0]=%d shift[0]=%d", rq->n, rq->mult[0], rq->shift[0]);
  if (rq->add) fprintf(f, " add[0]=%lld", (long long)rq->add[0]);
  fprintf(f, " zp=%d clamp=%d..%d", rq->zp, rq->qmin, rq->qmax);
}

static void dump_window(const ares_window *w, FILE *f) {
  fprintf(f, " k=%dx%d s=%dx%d d=%dx%d pads=%d,%d,%d,%d", w->kh, w->kw, w->sh, w->sw, w->dh, w->dw, w->pad_t, w->pad_l,
          w->pad_b, w->pad_r);
}

/* The parameters of an integer op, one line's worth. */
static void dump_params(const ares_node *n, FILE *f) {
  switch (n->op) {
  case ARES_OP_QUANTIZE:
  case ARES_OP_DEQUANTIZE: fprintf(f, " scale=%.9g zp=%d", n->p.qdq.scale, n->p.qdq.zp); break;
  case ARES_OP_QCONV:
    dump_window(&n->p.conv.win, f);
    fprintf(f, " group=%d x_zp=%d", n->p.conv.group, n->p.conv.x_zp);
    dump_rq(&n->p.conv.rq, f);
    break;
  case ARES_OP_QLINEAR:
    fprintf(f, " x_zp=%d", n->p.linear.x_zp);
    dump_rq(&n->p.linear.rq, f);
    break;
  case ARES_OP_QMAXPOOL:
  case ARES_OP_QAVGPOOL:
    dump_window(&n->p.pool.win, f);
    if (n->op == ARES_OP_QAVGPOOL) dump_rq(&n->p.pool.rq, f);
    break;
  case ARES_OP_QADD:
  case ARES_OP_QREQUANT:
    fprintf(f, " mult=%d,%d shift=%d zp_in=%d,%d zp=%d clamp=%d..%d", n->p.elt.mult[0], n->p.elt.mult[1], n->p.elt.shift,
            n->p.elt.zp_in[0], n->p.elt.zp_in[1], n->p.elt.zp, n->p.elt.qmin, n->p.elt.qmax);
    break;
  case ARES_OP_QCONCAT: fprintf(f, " axis=%d", n->p.concat.axis); break;
  case ARES_OP_QPAD: fprintf(f, " value=%d", n->p.pad.value); break;
  case ARES_OP_QLAYERNORM:
  case ARES_OP_QRMSNORM:
    fprintf(f, " rows=%lld n=%d sets=%d x_zp=%d e2=%d t=%d zp=%d clamp=%d..%d", (long long)n->p.norm.outer, n->p.norm.n,
            n->p.norm.nsets, n->p.norm.x_zp, n->p.norm.e2, n->p.norm.t_shift, n->p.norm.zp, n->p.norm.qmin, n->p.norm.qmax);
    break;
  case ARES_OP_QSOFTMAX:
    fprintf(f, " rows=%lldx%d n=%d in=%s out_shift=%d zp=%d clamp=%d..%d", (long long)n->p.softmax.outer, n->p.softmax.inner,
            n->p.softmax.n, n->p.softmax.in_i32 ? "i32" : "i8", n->p.softmax.out_shift, n->p.softmax.zp, n->p.softmax.qmin,
            n->p.softmax.qmax);
    break;
  case ARES_OP_QMATMUL:
    fprintf(f, " a_zp=%d b_zp=%d", n->p.matmul.a_zp, n->p.matmul.b_zp);
    if (n->p.matmul.rq.mult || n->p.matmul.rq.out_float) dump_rq(&n->p.matmul.rq, f);
    else fprintf(f, " out=int32 accumulator");
    break;
  default: break;
  }
}

void ares_graph_dump(const ares_graph *g, FILE *f) {
  fprintf(f, "graph %s (opset %lld)\n", g->name ? g->name : "", (long long)g->opset);
  fprintf(f, "  inputs:");
  for (int i = 0; i < g->ninputs; i++) {
    fputc(' ', f);
    dump_tensor_ref(g, g->inputs[i], f);
  }
  fprintf(f, "\n  outputs:");
  for (int i = 0; i < g->noutputs; i++) {
    fputc(' ', f);
    dump_tensor_ref(g, g->outputs[i], f);
  }
  fputc('\n', f);
  /* schedule order when there is one (a cycle is dumped in file order) */
  int *order = NULL, cnt = ares_graph_topo((ares_graph *)g, &order);
  for (int s = 0; s < (cnt < 0 ? g->nnodes : cnt); s++) {
    const ares_node *n = g->nodes[cnt < 0 ? s : order[s]];
    if (n->dead) continue;
    fprintf(f, "  ");
    for (int k = 0; k < n->nout; k++) {
      if (k) fprintf(f, ", ");
      dump_tensor_ref(g, n->out[k], f);
    }
    fprintf(f, " = %s(", ares_op_get(n->op)->kind == ARES_KIND_SRC ? n->op_type : ares_op_get(n->op)->name);
    for (int k = 0; k < n->nin; k++) {
      if (k) fprintf(f, ", ");
      dump_tensor_ref(g, n->in[k], f);
    }
    fprintf(f, ")");
    for (int k = 0; k < n->nattr; k++) {
      const ares_attr *a = &n->attr[k];
      fprintf(f, " %s=", a->name);
      switch (a->type) {
      case ARES_ATTR_INT: fprintf(f, "%lld", (long long)a->i); break;
      case ARES_ATTR_FLOAT: fprintf(f, "%g", a->f); break;
      case ARES_ATTR_STRING: fprintf(f, "\"%s\"", a->s); break;
      case ARES_ATTR_INTS:
        for (int j = 0; j < a->n; j++) fprintf(f, "%s%lld", j ? "," : "[", (long long)a->ints[j]);
        fprintf(f, "%s", a->n ? "]" : "[]");
        break;
      case ARES_ATTR_FLOATS:
        for (int j = 0; j < a->n; j++) fprintf(f, "%s%g", j ? "," : "[", a->floats[j]);
        fprintf(f, "%s", a->n ? "]" : "[]");
        break;
      case ARES_ATTR_TENSOR: fprintf(f, "%%%d", a->tensor); break;
      }
    }
    if (ares_op_get(n->op)->kind == ARES_KIND_INT) dump_params(n, f);
    if (n->macs) fprintf(f, "  ; macs=%lld", (long long)n->macs);
    fprintf(f, "  ; %s\n", n->name);
  }
  free(order);
}

/* --- navigation ---------------------------------------------------------------------- */
ares_node *ares_producer(const ares_graph *g, int tid) {
  if (tid < 0) return NULL;
  for (int i = 0; i < g->nnodes; i++) {
    ares_node *n = g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->nout; k++)
      if (n->out[k] == tid) return n;
  }
  return NULL;
}

int ares_consumers(const ares_graph *g, int tid, ares_node **out, int max) {
  int c = 0;
  for (int i = 0; i < g->nnodes; i++) {
    ares_node *n = g->nodes[i];
    if (n->dead) continue;
    for (int k = 0; k < n->nin; k++)
      if (n->in[k] == tid) {
        if (c < max) out[c] = n;
        c++;
        break;
      }
  }
  return c;
}

int ares_is_graph_output(const ares_graph *g, int tid) {
  for (int i = 0; i < g->noutputs; i++)
    if (g->outputs[i] == tid) return 1;
  return 0;
}

ares_node *ares_sole_consumer(const ares_graph *g, int tid, ares_op op) {
  ares_node *c[2];
  if (tid < 0 || ares_is_graph_output(g, tid) || ares_consumers(g, tid, c, 2) != 1 || c[0]->op != op) return NULL;
  return c[0];
}

int ares_is_graph_input(const ares_graph *g, int tid) {
  for (int i = 0; i < g->ninputs; i++)
    if (g->inputs[i] == tid) return 1;
  return 0;
}
