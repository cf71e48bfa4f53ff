/* ARES intermediate representation: one graph of tensors and nodes, shared by every phase.
 *
 * A graph starts life at the ONNX level (source ops, float semantics with fake-quantization
 * nodes) and is lowered, pass by pass, into integer ops (ARES_OP_Q*). Both levels live in
 * one enum (ops.def) so a half-lowered graph can be dumped and checked like any other. */
#ifndef ARES_IR_H
#define ARES_IR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARES_MAX_DIMS 6

typedef enum {
  ARES_DT_UNDEF = 0,
  ARES_DT_F32,
  ARES_DT_I8,
  ARES_DT_U8,
  ARES_DT_I16,
  ARES_DT_I32,
  ARES_DT_I64,
  ARES_DT_BOOL, /* ONNX bool, one byte 0 / 1: constants only (masks, comparisons) */
} ares_dtype;

/* Op kinds: SRC ops are ONNX operators as imported; INT ops are what the reference
 * interpreter and the runtime kernels execute. */
typedef enum { ARES_KIND_SRC, ARES_KIND_INT } ares_op_kind;

typedef enum {
#define ARES_SRC(e, onnx, domain, doc) ARES_OP_##e,
#define ARES_INT(e, name, doc) ARES_OP_##e,
#include "ops.def"
#undef ARES_SRC
#undef ARES_INT
  ARES_OP_COUNT
} ares_op;

typedef struct {
  ares_op op;
  ares_op_kind kind;
  const char *name;   /* ONNX op_type for SRC ops, ARES name for INT ops */
  const char *domain; /* ONNX domain ("" = default), NULL for INT ops */
  const char *doc;    /* one line: what is supported / what it computes */
} ares_op_info;

const ares_op_info *ares_op_get(ares_op op);
/* Looks up an ONNX (domain, op_type); returns ARES_OP_COUNT when unknown. */
ares_op ares_op_from_onnx(const char *domain, const char *op_type);

/* Quantization of a tensor: real = (q - zp) * scale. nscale == 0: not quantized.
 * Integer activations are held as int8 whatever the ONNX type was: a uint8 tensor becomes
 * int8 with zp - 128 (see docs/SEMANTICS.md), so every kernel has one input type. */
typedef struct {
  int nscale;     /* 0: none, 1: per-tensor, >1: per-channel along axis */
  int axis;
  float *scale;   /* nscale entries, exactly as in the model (float32) */
  int32_t *zp;    /* nscale entries, in the stored integer domain */
  int bits;       /* bit width of the integer range */
  int32_t qmin, qmax; /* representable range in the stored domain (narrow, bits, sign) */
} ares_quant;

typedef struct ares_tensor {
  int id;
  char *name;
  ares_dtype dtype;
  int rank;
  int64_t dims[ARES_MAX_DIMS];
  int has_shape;
  ares_quant q;
  void *data;     /* constant contents, or NULL for activations */
  int producer;   /* node id, -1 for graph inputs and constants */
  int nconsumers;
  int64_t offset; /* plan-memory: byte offset in the activation arena, -1 = not in it */
  int level;      /* place-levels, constants: 2 = L2-resident, 3 = in L3, streamed per tile */
} ares_tensor;

/* ONNX attribute as imported (SRC nodes). */
typedef enum { ARES_ATTR_INT, ARES_ATTR_FLOAT, ARES_ATTR_INTS, ARES_ATTR_FLOATS, ARES_ATTR_STRING, ARES_ATTR_TENSOR } ares_attr_type;
typedef struct {
  char *name;
  ares_attr_type type;
  int64_t i;
  float f;
  int n;
  int64_t *ints;
  float *floats;
  char *s;
  int tensor; /* tensor id for ARES_ATTR_TENSOR */
} ares_attr;

/* Requantization of an int32 accumulator to an int8 output:
 *   y = clamp(zp + round_half_even((acc * mult[c] + add[c]) / 2^shift[c]), qmin, qmax)
 * or, when out_float is set, y = (float)acc * fscale[c] + fbias[c] (dequantized output),
 * or, when out_i32 is set, y = acc (an int32 output at the accumulator's scale). */
typedef struct {
  int n;            /* channels (1 = per-tensor) */
  int32_t *mult;
  int8_t *shift;
  int64_t *add;     /* NULL or [n]: bias remainder below one accumulator unit, in 2^-shift output LSBs */
  int32_t zp;
  int32_t qmin, qmax;
  int out_float;
  float *fscale;
  float *fbias;
  int out_i32;
} ares_requant;

/* Parameters of the integer ops. Spatial ops are 2-D; 1-D ops use H = 1. */
typedef struct {
  int kh, kw, sh, sw, dh, dw;
  int pad_t, pad_l, pad_b, pad_r;
} ares_window;

/* The window fields are reachable both as p->kh ... and as p->win. */
#define ARES_WINDOW_FIELDS                  \
  union {                                   \
    ares_window win;                        \
    struct {                                \
      int kh, kw, sh, sw, dh, dw;           \
      int pad_t, pad_l, pad_b, pad_r;       \
    };                                      \
  }

typedef struct {
  ARES_WINDOW_FIELDS;
  int group;
  int x_zp;
  int32_t *bias;    /* [Cout], in accumulator units */
  ares_requant rq;
} ares_conv_params;

typedef struct {
  int x_zp;
  int32_t *bias;    /* [N] */
  ares_requant rq;
} ares_linear_params;

typedef struct {
  ARES_WINDOW_FIELDS;
  int x_zp;
  int count_include_pad;
  int ncount;       /* avgpool: rq tables indexed by (window element count - 1) */
  ares_requant rq;  /* avgpool: rq.n == ncount entries */
} ares_pool_params;

/* y = clamp(zp_y + rhe(sum_i (x_i - zp_i) * mult_i, shift)) for 1 or 2 inputs (Add, Requant). */
typedef struct {
  int n;
  int32_t zp_in[2];
  int32_t mult[2];
  int shift;
  int32_t zp;
  int32_t qmin, qmax;
} ares_eltwise_params;

typedef struct {
  int axis;
  int n;
  int32_t *zp_in, *mult; /* per input */
  int8_t *shift;
  int32_t zp, qmin, qmax;
} ares_concat_params;

typedef struct {
  int64_t pads[2 * ARES_MAX_DIMS]; /* begins then ends, per dim */
  int32_t value;
} ares_pad_params;

typedef struct {
  int perm[ARES_MAX_DIMS];
} ares_transpose_params;

typedef struct {
  float scale;
  int32_t zp, qmin, qmax;
  /* per-axis (a graph edge only): n > 1 scales and zero points, element i in channel
   * (i / inner) % n; scale and zp above are then unused */
  int n;
  int64_t inner;
  float *scales;
  int32_t *zps;
} ares_qdq_params;

/* qslice: output index o_d reads input index start[d] + o_d * step[d] (step may be < 0);
 * the output dims are the counts. */
typedef struct {
  int64_t start[ARES_MAX_DIMS], step[ARES_MAX_DIMS];
} ares_slice_params;

/* qmatmul: acc = sum_k (a[..][m][k] - a_zp) * (b[..][k][n] - b_zp), batch dims broadcast;
 * the output is requantized by rq (int8, or float with rq.out_float) or, when its dtype is
 * int32, the accumulator itself. */
typedef struct {
  int32_t a_zp, b_zp;
  ares_requant rq;
} ares_matmul_params;

/* qgather: y[outer][i][inner] = x[outer][idx[i]][inner] along axis. */
typedef struct {
  int axis;
  int64_t nidx;
  int64_t *idx;
} ares_gather_params;
/* Rotary position encoding (qrope; inputs x and the int32 constants mc, ms [npos][d]).
 * x is viewed as [outer][npos][inner][d]; element i of a row at position p has the partner
 * j in the same row (half: i +- d/2, interleaved: i ^ 1) and
 * y = clamp(zp + RHE((x_i - zp_in) * mc[p][i] + (x_j - zp_in) * ms[p][i], shift)); the
 * rotation's sign is folded into ms. */
enum { ARES_ROPE_HALF, ARES_ROPE_INTERLEAVED };
typedef struct {
  int layout;
  int64_t outer, npos, inner, d;
  int shift;
  int32_t zp_in, zp, qmin, qmax;
} ares_rope_params;
/* Selective scan (docs/SEMANTICS.md, qscan). Inputs: x, delta, B, C (int8), then the
 * constants a [D][N] (int32 decay exponents), m_d [D] (int64 skip multipliers) and the
 * exp2 tables [512] (int32, Q30); gated scans add z (int8) and the SiLU table [256] (int32). */
typedef struct {
  int direction;    /* 0: t = 0 .. L-1, 1: t = L-1 .. 0 */
  int32_t zp_x, zp_d, zp_b, zp_c;
  int f;            /* state format: the input term is p * 2^f (f >= 0) or RHE(p, -f) */
  int32_t hmax;     /* the state saturates at +-hmax */
  int64_t m_y;      /* output multiplier of sum_n (C - zp_c) * h */
  int shift;
  int32_t zp, qmin, qmax;
  /* gated (inputs 7, 8: z and the SiLU table G [256]): the output is rounded to gate_pre
   * bits first, multiplied by G[z + 128] and rounded by gate_shift */
  int gate, gate_pre, gate_shift;
} ares_scan_params;
/* qlayernorm / qrmsnorm over `outer` rows of n contiguous int8 elements (SEMANTICS.md,
 * "qlayernorm"): per row the exact sums, V = ((N*S2 - S1^2) << e2) + eps_fx, its integer
 * inverse square root, then per position i
 *   y = clamp(zp + RHE(u_i * M_i + b_add[k], t_shift), qmin, qmax),
 *   M_i = g_mult[k] * R shifted right by g_shift[k] + bitlen(isqrt(V)),
 * k = (row % nsets) * n + i: rows cycle through nsets parameter sets (GroupNorm and
 * InstanceNorm: one per group or channel; LayerNorm: 1). */
typedef struct {
  int64_t outer;
  int32_t n, nsets;
  int32_t x_zp;
  int e2;            /* fractional bits of V (even) */
  int64_t eps_fx;    /* eps * N^2 / s_x^2 * 2^e2, rounded */
  int32_t *g_mult;   /* [nsets * n]: gamma_k / s_y = g_mult * 2^-gs */
  int8_t *g_shift;   /* [nsets * n]: gs + 29 - t_shift - e2/2 */
  int64_t *b_add;    /* [nsets * n]: beta_k / s_y * 2^t_shift, rounded */
  int t_shift;
  int32_t zp, qmin, qmax;
} ares_norm_params;

/* qsoftmax over `outer` x `inner` rows of n elements at stride inner (SEMANTICS.md,
 * "qsoftmax"). int8 input: exp table tab[max - x]; int32 input: base-2 exponent
 * (max - x) * c_mult / 2^c_shift through the tables hi/lo. */
typedef struct {
  int64_t outer;
  int32_t n, inner;
  int in_i32;        /* input is int32 (attention scores), else int8 */
  int32_t *tab;      /* int8: [256] rhe(exp(-s * d) * 2^30) */
  int32_t *hi, *lo;  /* int32: [256] rhe(2^(30 - a/256)), rhe(2^(30 - b/65536)) */
  int64_t c_mult, dmax;
  int c_shift;
  int32_t y_mult;    /* 1 / s_y = y_mult * 2^-y_shift */
  int y_shift, out_shift;
  int32_t zp, qmin, qmax;
  /* optional constant mask (inner == 1 only): row r keeps element j when, with
   * i = r % mask_rows, causal ? j <= i + causal_off : mask[i][j] != 0, the mask being the
   * node's second input (an int8 0 / 1 constant [mask_rows][n]); masked elements have
   * exp = 0 (SEMANTICS.md "qsoftmax"). mask_rows == 0: no mask. */
  int32_t mask_rows;
  int causal;
  int32_t causal_off;
} ares_softmax_params;
/* qlut: y = table[x + 128] (int8), or ftable[x + 128] (float32) when the island's result
 * is a float graph output (lower_lut.c, docs/SEMANTICS.md). */
typedef struct {
  int8_t *table;  /* [256] or NULL */
  float *ftable;  /* [256] or NULL */
} ares_lut_params;

/* qembed (inputs: the int8 table [vocab][d], integer indices): y[t] = table[ids[t]]; an
 * index outside 0..vocab-1 gives a row of `oob` (the output's zero point: real 0). */
typedef struct {
  int32_t oob;
} ares_embed_params;

typedef struct ares_node {
  int id;
  char *name;
  ares_op op;
  char *op_type;    /* as in the ONNX file */
  char *domain;
  int nin, nout;
  int *in;          /* tensor ids; -1 = optional input absent */
  int *out;
  int nattr;
  ares_attr *attr;
  int dead;
  union {
    ares_conv_params conv;
    ares_linear_params linear;
    ares_pool_params pool;
    ares_eltwise_params elt;
    ares_concat_params concat;
    ares_pad_params pad;
    ares_transpose_params transpose;
    ares_qdq_params qdq;
    ares_slice_params slice;
    ares_gather_params gather;
    ares_matmul_params matmul;
    ares_rope_params rope;
    ares_scan_params scan;
    ares_norm_params norm;
    ares_softmax_params softmax;
    ares_lut_params lut;
    ares_embed_params embed;
  } p;
  int64_t macs;
  /* lower-int's range proof: the largest |int32 accumulator| any input can produce (bias
   * included), over all channels; 0 for ops without an accumulator. ares_acc_headroom_bits
   * turns it into bits to spare. */
  int64_t acc_bound;
  /* plan-tiles: tile of tile_h output rows (linear: rows) x tile_c channels (linear:
   * features), or tile_chunk elements (elementwise); tiled == 0: runs from L2 */
  int tiled;
  int tile_h, tile_c;
  int64_t tile_chunk;
  int64_t l1_bytes, dma_bytes, ntiles;
} ares_node;

typedef struct ares_arena_block ares_arena_block;

typedef struct {
  ares_tensor **tensors;
  int ntensors, captensors;
  ares_node **nodes;
  int nnodes, capnodes;
  int *inputs, ninputs;
  int *outputs, noutputs;
  int64_t opset;
  char *name;
  int64_t l1_budget;         /* bytes of L1 the tiles may use (target, or --l1) */
  int64_t l2_budget;         /* bytes of L2 (target) */
  int64_t l2_weight_bytes, l3_weight_bytes; /* place-levels */
  int ncores;                /* cluster cores the kernels are split over */
  int64_t arena_bytes;       /* plan-memory: size of the activation arena */
  int64_t arena_lower_bound; /* largest sum of activations live at one step */
  ares_arena_block *arena;
} ares_graph;

/* --- graph construction (ir.c) ------------------------------------------------------ */
ares_graph *ares_graph_new(void);
void ares_graph_free(ares_graph *g);
void *ares_alloc(ares_graph *g, size_t n);       /* zeroed, freed with the graph */
char *ares_strdup(ares_graph *g, const char *s);
ares_tensor *ares_tensor_new(ares_graph *g, const char *name);
ares_tensor *ares_tensor_find(ares_graph *g, const char *name);
/* Gives t the shape dims[0..rank) (has_shape set). */
void ares_tensor_set_shape(ares_tensor *t, int rank, const int64_t *dims);
/* A new tensor of type dt and shape dims[0..rank), without data: a value computed at run time. */
ares_tensor *ares_tensor_new_shaped(ares_graph *g, const char *name, ares_dtype dt, int rank, const int64_t *dims);
/* The same with ares_tensor_nbytes zeroed bytes of data: a constant for the caller to fill. */
ares_tensor *ares_tensor_new_const(ares_graph *g, const char *name, ares_dtype dt, int rank, const int64_t *dims);
ares_node *ares_node_new(ares_graph *g, ares_op op, const char *name, int nin, int nout);
void ares_graph_add_input(ares_graph *g, int tid);
void ares_graph_add_output(ares_graph *g, int tid);
/* Turns n into the DequantizeLinear of the integer tensor tid (scale and zero point: tid's
 * quantization): how a lowered float op hands its integer result to float consumers. */
void ares_node_become_dequant(ares_graph *g, ares_node *n, int tid);

/* --- queries ------------------------------------------------------------------------- */
size_t ares_dtype_size(ares_dtype t);
const char *ares_dtype_name(ares_dtype t);
/* numpy type code ("f4", "i1", "u1", "i2", "i4", "i8"); "" for ARES_DT_UNDEF. */
const char *ares_dtype_npy(ares_dtype t);
int64_t ares_tensor_numel(const ares_tensor *t);
/* Row-major flat index <-> multi-index over dims[0..rank). */
int64_t ares_ravel(const int64_t *dims, int rank, const int64_t *idx);
void ares_unravel(const int64_t *dims, int rank, int64_t i, int64_t *idx);
size_t ares_tensor_nbytes(const ares_tensor *t);
const ares_attr *ares_attr_find(const ares_node *n, const char *name);
int64_t ares_attr_int(const ares_node *n, const char *name, int64_t dflt);
float ares_attr_float(const ares_node *n, const char *name, float dflt);
/* Copies up to max ints of an INTS attribute into out; returns count, or -1 if absent. */
int ares_attr_ints(const ares_node *n, const char *name, int64_t *out, int max);
const char *ares_attr_string(const ares_node *n, const char *name, const char *dflt);
/* Reads element i of a constant tensor as double / int64, whatever its dtype. */
double ares_tensor_get_f(const ares_tensor *t, int64_t i);
int64_t ares_tensor_get_i(const ares_tensor *t, int64_t i);
void ares_tensor_set_i(ares_tensor *t, int64_t i, int64_t v);
int ares_tensor_is_const(const ares_graph *g, int tid);
/* A constant of exactly one element (any shape): safe to read element 0. */
int ares_tensor_is_scalar_const(const ares_graph *g, int tid);
/* Appends a FLOATS attribute of count zeroed values (internal attributes are named
 * "ares_..."); returns it. */
ares_attr *ares_attr_add_floats(ares_graph *g, ares_node *n, const char *name, int count);

/* Recounts consumers and producers after a pass rewired the graph. */
void ares_graph_relink(ares_graph *g);
/* Replaces every use of tensor `from` by `to` (node inputs and graph outputs). */
void ares_graph_replace_uses(ares_graph *g, int from, int to);
/* Node ids in execution order (live nodes only); returns count. Caller frees. */
int ares_graph_topo(ares_graph *g, int **order);

/* Text dump of a graph (--dump-after). */
void ares_graph_dump(const ares_graph *g, FILE *f);

/* --- graph navigation (ir.c) ----------------------------------------------------------- */
ares_node *ares_producer(const ares_graph *g, int tid);
/* Live nodes reading tensor tid; fills up to max of them, returns the total count. */
int ares_consumers(const ares_graph *g, int tid, ares_node **out, int max);
/* The only reader of tid when it is a live `op` node and tid is not a graph output (the
 * next link of a chain a pass may fuse); NULL otherwise. */
ares_node *ares_sole_consumer(const ares_graph *g, int tid, ares_op op);
int ares_is_graph_output(const ares_graph *g, int tid);
int ares_is_graph_input(const ares_graph *g, int tid);

/* --- quantization arithmetic (quant.c) ------------------------------------------------- */
/* Finds mult, shift with mult / 2^shift ~= r (31 significant bits, mult signed, shift in
 * 1..62). Returns -1 when |r| >= 2^30 (no such pair). */
int ares_quant_multiplier(double r, int32_t *mult, int8_t *shift);
/* Round half to even of a double. */
double ares_round_half_even(double x);
/* Sets t->q: n scales (per-tensor when n == 1) along axis, zero points, range. */
void ares_quant_set(ares_graph *g, ares_tensor *t, int n, int axis, const float *scale,
                    const int32_t *zp, int32_t qmin, int32_t qmax);
/* Same scales, zero points and range. */
int ares_quant_equal(const ares_quant *a, const ares_quant *b);
/* Bits needed for the range qmin..qmax. */
int ares_quant_bits(int32_t qmin, int32_t qmax);
/* Bits to spare in an int32 accumulator whose magnitude is at most bound (n->acc_bound):
 * 31 minus the bit length of bound (the accumulator could grow 2^result times and still
 * fit). -1 when bound does not fit int32 at all. */
int ares_acc_headroom_bits(int64_t bound);

#endif /* ARES_IR_H */
