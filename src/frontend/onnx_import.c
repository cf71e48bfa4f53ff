/* ONNX reader: protobuf (C generated at build time from Debian's onnx.proto) -> ares_graph.
 *
 * Everything read from the file is validated before use: dims, element counts, data
 * lengths and types. Nodes keep their ONNX op_type and attributes; lowering happens in
 * the passes. */
#include "frontend.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ir/diag.h"
#include "onnx.pb-c.h"

#define MAX_FILE_BYTES ((size_t)1 << 31) /* 2 GiB: protobuf's own limit */
#define MAX_ELEMENTS ((int64_t)1 << 30)

static int map_dtype(int32_t onnx_type, ares_dtype *out) {
  switch (onnx_type) {
  case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: *out = ARES_DT_F32; return 0;
  case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: *out = ARES_DT_U8; return 0;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: *out = ARES_DT_I8; return 0;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT16: *out = ARES_DT_I16; return 0;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: *out = ARES_DT_I32; return 0;
  case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: *out = ARES_DT_I64; return 0;
  case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: *out = ARES_DT_BOOL; return 0;
  default: return -1;
  }
}

static const char *onnx_dtype_name(int32_t t) {
  static const char *names[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32",
                                "INT64", "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32",
                                "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
  return (t >= 0 && t < (int32_t)(sizeof(names) / sizeof(names[0]))) ? names[t] : "unknown";
}

static int set_dims(ares_tensor *t, size_t n, const int64_t *dims, const char *what) {
  if (n > ARES_MAX_DIMS)
    return ares_fail(NULL, "%s '%s': rank %zu exceeds the supported maximum %d", what, t->name, n, ARES_MAX_DIMS);
  int64_t numel = 1;
  for (size_t i = 0; i < n; i++) {
    if (dims[i] < 0 || dims[i] > MAX_ELEMENTS)
      return ares_fail(NULL, "%s '%s': invalid dimension %lld", what, t->name, (long long)dims[i]);
    numel *= dims[i];
    if (numel > MAX_ELEMENTS)
      return ares_fail(NULL, "%s '%s': more than %lld elements", what, t->name, (long long)MAX_ELEMENTS);
    t->dims[i] = dims[i];
  }
  t->rank = (int)n;
  t->has_shape = 1;
  return 0;
}

/* Converts a TensorProto's contents into t->data (native layout, little-endian host). */
static int load_tensor_data(ares_graph *g, ares_tensor *t, const Onnx__TensorProto *tp) {
  if (tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL || tp->n_external_data)
    return ares_fail(NULL, "initializer '%s': external data is not supported (save the model with the weights inside)", t->name);
  if (set_dims(t, tp->n_dims, tp->dims, "initializer") < 0) return -1;
  if (map_dtype(tp->data_type, &t->dtype) < 0)
    return ares_fail(NULL, "initializer '%s': unsupported data type %s", t->name, onnx_dtype_name(tp->data_type));
  int64_t numel = ares_tensor_numel(t);
  size_t esz = ares_dtype_size(t->dtype);
  /* lengths are checked before anything is allocated: a file cannot make us allocate
   * more than it holds */
  if (tp->has_raw_data) {
    if (tp->raw_data.len != (size_t)numel * esz)
      return ares_fail(NULL, "initializer '%s': raw_data holds %zu bytes, shape needs %zu", t->name,
                       tp->raw_data.len, (size_t)numel * esz);
    t->data = ares_alloc(g, (size_t)numel * esz);
    if (numel) memcpy(t->data, tp->raw_data.data, (size_t)numel * esz);
    return 0;
  }
  size_t have;
  switch (t->dtype) {
  case ARES_DT_F32: have = tp->n_float_data; break;
  case ARES_DT_I64: have = tp->n_int64_data; break;
  default: have = tp->n_int32_data; break;
  }
  if (have != (size_t)numel)
    return ares_fail(NULL, "initializer '%s': holds %zu values, shape needs %lld", t->name, have, (long long)numel);
  t->data = ares_alloc(g, (size_t)numel * esz);
  for (int64_t i = 0; i < numel; i++) {
    switch (t->dtype) {
    case ARES_DT_F32: ((float *)t->data)[i] = tp->float_data[i]; break;
    case ARES_DT_I64: ((int64_t *)t->data)[i] = tp->int64_data[i]; break;
    default: ares_tensor_set_i(t, i, tp->int32_data[i]); break;
    }
  }
  return 0;
}

static int import_value_info(ares_graph *g, const Onnx__ValueInfoProto *vi, int is_input) {
  if (!vi->name || !vi->name[0]) return ares_fail(NULL, "graph %s without a name", is_input ? "input" : "output");
  ares_tensor *t = ares_tensor_find(g, vi->name);
  if (t && t->data) return 0; /* an initializer listed as input (keep_initializers_as_inputs) */
  if (!t) t = ares_tensor_new(g, vi->name);
  const Onnx__TypeProto *tp = vi->type;
  if (tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && tp->tensor_type) {
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->has_elem_type && map_dtype(tt->elem_type, &t->dtype) < 0)
      return ares_fail(NULL, "graph %s '%s': unsupported element type %s", is_input ? "input" : "output", t->name,
                       onnx_dtype_name(tt->elem_type));
    if (t->dtype == ARES_DT_BOOL)
      return ares_fail(NULL, "unsupported: bool graph %s '%s' (a run-time mask; attention masks must be constants)",
                       is_input ? "input" : "output", t->name);
    if (tt->shape) {
      int64_t dims[ARES_MAX_DIMS];
      if (tt->shape->n_dim > ARES_MAX_DIMS)
        return ares_fail(NULL, "graph input '%s': rank %zu exceeds %d", t->name, tt->shape->n_dim, ARES_MAX_DIMS);
      int known = 1;
      for (size_t i = 0; i < tt->shape->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) dims[i] = d->dim_value;
        else if (is_input) dims[i] = 1; /* symbolic (batch) dim of an input: compile for batch 1 */
        else known = 0;
      }
      if (known && set_dims(t, tt->shape->n_dim, dims, is_input ? "graph input" : "graph output") < 0) return -1;
    }
  }
  if (is_input) {
    if (!t->has_shape) return ares_fail(NULL, "graph input '%s' has no static shape", t->name);
    if (ares_is_graph_input(g, t->id)) return ares_fail(NULL, "graph input '%s' is listed twice", t->name);
    ares_graph_add_input(g, t->id);
  } else {
    ares_graph_add_output(g, t->id);
  }
  return 0;
}

static int import_attr(ares_graph *g, ares_node *n, ares_attr *a, const Onnx__AttributeProto *ap) {
  a->name = ares_strdup(g, ap->name ? ap->name : "");
  /* the passes annotate nodes with "ares_..." attributes; a model must not forge them */
  if (strncmp(a->name, "ares_", 5) == 0)
    return ares_fail(n, "attribute '%s': the prefix 'ares_' is reserved for the compiler's own annotations", a->name);
  switch (ap->type) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: a->type = ARES_ATTR_INT; a->i = ap->i; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: a->type = ARES_ATTR_FLOAT; a->f = ap->f; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
    a->type = ARES_ATTR_STRING;
    a->s = ares_alloc(g, ap->s.len + 1);
    if (ap->s.len) memcpy(a->s, ap->s.data, ap->s.len);
    break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
    a->type = ARES_ATTR_INTS;
    if (ap->n_ints > 1024) return ares_fail(n, "attribute '%s' has %zu values", a->name, ap->n_ints);
    a->n = (int)ap->n_ints;
    a->ints = ares_alloc(g, sizeof(int64_t) * ap->n_ints);
    if (ap->n_ints) memcpy(a->ints, ap->ints, sizeof(int64_t) * ap->n_ints);
    break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
    a->type = ARES_ATTR_FLOATS;
    if (ap->n_floats > 1024) return ares_fail(n, "attribute '%s' has %zu values", a->name, ap->n_floats);
    a->n = (int)ap->n_floats;
    a->floats = ares_alloc(g, sizeof(float) * ap->n_floats);
    if (ap->n_floats) memcpy(a->floats, ap->floats, sizeof(float) * ap->n_floats);
    break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
    if (!ap->t) return ares_fail(n, "attribute '%s' has no tensor", a->name);
    a->type = ARES_ATTR_TENSOR;
    ares_tensor *t = ares_tensor_new(g, n->name);
    if (load_tensor_data(g, t, ap->t) < 0) return ares_fail(n, "cannot read attribute '%s'", a->name);
    a->tensor = t->id;
    break;
  }
  default:
    return ares_fail(n, "attribute '%s' has a type ARES does not read (%d)", a->name, (int)ap->type);
  }
  return 0;
}

/* The later node of gp producing tensor name, for a clearer message than "not produced". */
static const char *later_producer(const Onnx__GraphProto *gp, int index, const char *name) {
  for (size_t i = (size_t)index + 1; i < gp->n_node; i++)
    for (size_t k = 0; k < gp->node[i]->n_output; k++)
      if (gp->node[i]->output[k] && strcmp(gp->node[i]->output[k], name) == 0)
        return gp->node[i]->name && gp->node[i]->name[0] ? gp->node[i]->name : "<unnamed>";
  return NULL;
}

static int import_node(ares_graph *g, const Onnx__GraphProto *gp, int index, int flags) {
  const Onnx__NodeProto *np = gp->node[index];
  char fallback[32];
  snprintf(fallback, sizeof fallback, "node%d", index);
  const char *name = np->name && np->name[0] ? np->name : fallback;
  const char *domain = np->domain ? np->domain : "";
  const char *op_type = np->op_type ? np->op_type : "";
  ares_op op = ares_op_from_onnx(domain, op_type);
  if (np->n_input > 4096 || np->n_output > 64) {
    ares_node tmp = {.name = (char *)name, .op_type = (char *)op_type};
    return ares_fail(&tmp, "too many inputs or outputs");
  }
  ares_node *n = ares_node_new(g, op, name, (int)np->n_input, (int)np->n_output);
  n->op_type = ares_strdup(g, op_type);
  n->domain = ares_strdup(g, domain);
  int unknown = op == ARES_OP_COUNT;
  if (unknown) {
    if (domain[0]) ares_fail(n, "unsupported: operator %s from domain '%s' is not known to ARES", op_type, domain);
    else ares_fail(n, "unsupported: operator %s is not known to ARES (see docs/SUPPORTED_OPERATIONS.md)", op_type);
    if (!(flags & ARES_IMPORT_KEEP_UNKNOWN)) return -1;
    /* kept as a dead placeholder so the rest of the graph still imports (ares check);
     * the passes never see it */
    n->op = ARES_OP_IDENTITY;
    n->dead = 1;
  }
  n->nattr = (int)np->n_attribute;
  n->attr = ares_alloc(g, sizeof(ares_attr) * (np->n_attribute ? np->n_attribute : 1));
  for (size_t i = 0; i < np->n_attribute; i++)
    if (import_attr(g, n, &n->attr[i], np->attribute[i]) < 0) return -1;
  for (size_t i = 0; i < np->n_input; i++) {
    const char *in = np->input[i];
    if (!in || !in[0]) continue; /* optional input left out */
    ares_tensor *t = ares_tensor_find(g, in);
    const char *later = t ? NULL : later_producer(gp, index, in);
    if (later)
      return ares_fail(n, "input '%s' is produced by a later node, '%s' (the graph is not topologically sorted, or has a cycle)",
                       in, later);
    if (!t) return ares_fail(n, "input '%s' is not produced by any node, initializer or graph input", in);
    n->in[i] = t->id;
  }
  for (size_t i = 0; i < np->n_output; i++) {
    const char *o = np->output[i];
    if (!o || !o[0]) continue;
    ares_tensor *t = ares_tensor_find(g, o);
    if (t && (t->producer >= 0 || t->data))
      return ares_fail(n, "output '%s' is already produced elsewhere (the graph is not in SSA form)", o);
    if (t) {
      /* a graph output declared before its producer: fine, but a graph input is not */
      for (int k = 0; k < g->ninputs; k++)
        if (g->inputs[k] == t->id) return ares_fail(n, "output '%s' overwrites a graph input", o);
    } else {
      t = ares_tensor_new(g, o);
    }
    t->producer = n->id;
    n->out[i] = t->id;
  }
  return 0;
}

ares_graph *ares_onnx_import(const char *path) { return ares_onnx_import_ex(path, 0); }

ares_graph *ares_onnx_import_ex(const char *path, int flags) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    ares_fail(NULL, "cannot open '%s'", path);
    return NULL;
  }
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 1 << 16;
      if (cap > MAX_FILE_BYTES) {
        fclose(f);
        free(buf);
        ares_fail(NULL, "'%s' is larger than 2 GiB", path);
        return NULL;
      }
      uint8_t *nb = realloc(buf, cap);
      if (!nb) {
        fclose(f);
        free(buf);
        ares_fail(NULL, "out of memory reading '%s'", path);
        return NULL;
      }
      buf = nb;
    }
    size_t r = fread(buf + len, 1, cap - len, f);
    len += r;
    if (r == 0) break;
  }
  fclose(f);
  if (len == 0) {
    free(buf);
    ares_fail(NULL, "'%s' is empty", path);
    return NULL;
  }
  ares_graph *g = ares_onnx_import_mem(buf, len, path, flags);
  free(buf);
  return g;
}

ares_graph *ares_onnx_import_mem(const uint8_t *buf, size_t len, const char *path, int flags) {
  if (len == 0) {
    ares_fail(NULL, "'%s' is empty", path);
    return NULL;
  }
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
  if (!m) {
    ares_fail(NULL, "'%s' is not a valid ONNX model (protobuf parse failed)", path);
    return NULL;
  }
  ares_graph *g = ares_graph_new();
  int rc = 0;
  if (!m->graph) rc = ares_fail(NULL, "'%s' has no graph", path);
  for (size_t i = 0; i < m->n_opset_import && rc == 0; i++) {
    const Onnx__OperatorSetIdProto *os = m->opset_import[i];
    if (!os->domain || !os->domain[0] || strcmp(os->domain, "ai.onnx") == 0) g->opset = os->version;
  }
  if (rc == 0) {
    const Onnx__GraphProto *gp = m->graph;
    g->name = ares_strdup(g, gp->name ? gp->name : "model");
    for (size_t i = 0; i < gp->n_initializer && rc == 0; i++) {
      const Onnx__TensorProto *tp = gp->initializer[i];
      if (!tp->name || !tp->name[0]) {
        rc = ares_fail(NULL, "initializer %zu has no name", i);
        break;
      }
      if (ares_tensor_find(g, tp->name)) {
        rc = ares_fail(NULL, "initializer '%s' defined twice", tp->name);
        break;
      }
      ares_tensor *t = ares_tensor_new(g, tp->name);
      rc = load_tensor_data(g, t, tp);
    }
    for (size_t i = 0; i < gp->n_input && rc == 0; i++) rc = import_value_info(g, gp->input[i], 1);
    for (size_t i = 0; i < gp->n_node && rc == 0; i++) rc = import_node(g, gp, (int)i, flags);
    for (size_t i = 0; i < gp->n_output && rc == 0; i++) {
      const char *o = gp->output[i]->name;
      ares_tensor *t = o ? ares_tensor_find(g, o) : NULL;
      if (!t || (t->producer < 0 && !t->data)) rc = ares_fail(NULL, "graph output '%s' is never produced", o ? o : "");
      else rc = import_value_info(g, gp->output[i], 0);
    }
    if (rc == 0 && g->ninputs == 0) rc = ares_fail(NULL, "'%s' has no graph input", path);
    if (rc == 0 && g->noutputs == 0) rc = ares_fail(NULL, "'%s' has no graph output", path);
  }
  onnx__model_proto__free_unpacked(m, NULL);
  if (rc < 0) {
    ares_graph_free(g);
    return NULL;
  }
  ares_graph_relink(g);
  return g;
}

int ares_onnx_read_tensor_file(ares_graph *g, const char *path, ares_tensor *t) {
  FILE *f = fopen(path, "rb");
  if (!f) return ares_fail(NULL, "cannot open '%s'", path);
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 1 << 12;
      uint8_t *nb = cap <= MAX_FILE_BYTES ? realloc(buf, cap) : NULL;
      if (!nb) {
        fclose(f);
        free(buf);
        return ares_fail(NULL, "'%s' is too large", path);
      }
      buf = nb;
    }
    size_t r = fread(buf + len, 1, cap - len, f);
    len += r;
    if (r == 0) break;
  }
  fclose(f);
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
  free(buf);
  if (!tp) return ares_fail(NULL, "'%s' is not a TensorProto", path);
  int rc = load_tensor_data(g, t, tp);
  onnx__tensor_proto__free_unpacked(tp, NULL);
  return rc;
}
