/* plan-tiles: for every conv, linear, pooling and elementwise layer, the tile the cluster
 * executes it in: the one, among all tilings whose double-buffered L1 footprint fits the
 * budget (g->l1_budget), with the lowest cost
 *     DMA bytes  +  TILE_COST x tiles  +  idle core-MACs / 4
 * i.e. traffic, per-tile overhead (DMA programming, fork/join) and the work lost when the
 * tile's channels or rows do not split evenly over g->ncores. The search is exhaustive over
 * tile heights and channel counts (a few thousand candidates per layer). The footprints come
 * from runtime/ares_tile_plan.c, the functions the executors lay out L1 with.
 * qmatmul tiles rows x columns of each batch matrix (runtime/ares_tiled_matmul.c).
 * Concat, Pad, Transpose, Reshape, Quantize and Dequantize run from L2 on the orchestrator
 * (tiled == 0). */
#include <stdint.h>

#include "ares_tiled.h"
#include "ir/diag.h"
#include "ir/kshape.h"
#include "passes.h"

#define TILE_COST 256 /* bytes-equivalent of one tile's fixed overhead */

typedef struct {
  int found;
  int th, tc;
  int64_t l1, dma, ntiles;
  double cost;
} choice;

/* Cores kept busy by a tile of `units` independent channel groups or, when there are fewer
 * than cores, `rows` rows: the fraction of the cluster doing useful work. */
static double utilization(int64_t units, int64_t rows, int nc) {
  int64_t parts = units >= nc ? units : rows;
  int64_t rounds = (parts + nc - 1) / nc;
  return (double)parts / (double)(rounds * nc);
}

static void consider(choice *best, int th, int tc, int64_t l1, int64_t dma, int64_t ntiles, int64_t macs, double util) {
  double cost = (double)dma + (double)TILE_COST * (double)ntiles + (double)macs * (1.0 / util - 1.0) / 4.0;
  if (!best->found || cost < best->cost || (cost == best->cost && l1 > best->l1))
    *best = (choice){1, th, tc, l1, dma, ntiles, cost};
}

static int no_fit(ares_node *n, int64_t need, int64_t budget) {
  return ares_fail(n, "unsupported: the smallest tile needs %lld bytes of L1, the budget is %lld (raise --l1)",
                   (long long)need, (long long)budget);
}

static int plan_conv_like(ares_graph *g, ares_node *n, choice *best) {
  ares_conv_shape s;
  size_t wpc = 0, esz = 1;
  if (n->op == ARES_OP_QCONV) {
    ares_kshape_conv(g, n, &s);
    wpc = (size_t)(s.cin / s.group) * s.kh * s.kw;
    esz = n->p.conv.rq.out_float || n->p.conv.rq.out_i32 ? 4 : 1;
  } else {
    ares_pool_shape p;
    ares_kshape_pool(g, n, &p);
    s = (ares_conv_shape){p.n, p.c, p.h, p.w, p.c, p.oh, p.ow, p.kh, p.kw, p.sh, p.sw, p.dh, p.dw, p.pad_t, p.pad_l, p.c, p.x_zp};
  }
  int32_t unit = s.group == 1 ? 1 : s.cout / s.group; /* output channels that stay together */
  int64_t macs = n->macs ? n->macs : (int64_t)s.n * s.cout * s.oh * s.ow * s.kh * s.kw;
  int64_t smallest = -1;
  for (int32_t tc = unit; tc <= s.cout; tc += unit) {
    int32_t nct = (s.cout + tc - 1) / tc, cin_t = s.group == 1 ? s.cin : tc / unit * (s.cin / s.group);
    for (int32_t th = 1; th <= s.oh; th++) {
      int64_t l1 = (int64_t)ares_conv_tile_l1_bytes(&s, th, tc, wpc, esz);
      if (smallest < 0 || l1 < smallest) smallest = l1;
      if (l1 > g->l1_budget) break; /* taller tiles only get bigger */
      int32_t nrt = (s.oh + th - 1) / th;
      int64_t in_rows = (int64_t)(th - 1) * s.sh + (int64_t)(s.kh - 1) * s.dh + 1;
      if (in_rows > s.h) in_rows = s.h;
      int64_t dma = (int64_t)nct * s.n * nrt * cin_t * in_rows * s.w /* inputs, halos included */
                    + (int64_t)s.cout * (int64_t)wpc                  /* weights, once */
                    + (int64_t)s.n * s.cout * s.oh * s.ow * (int64_t)esz;
      consider(best, th, tc, l1, dma, (int64_t)nct * s.n * nrt, macs, utilization(tc / unit, th, g->ncores));
    }
  }
  return best->found ? 0 : no_fit(n, smallest, g->l1_budget);
}

static int plan_linear(ares_graph *g, ares_node *n, choice *best) {
  int32_t rows, k, nout;
  ares_kshape_linear(g, n, &rows, &k, &nout);
  size_t esz = n->p.linear.rq.out_float || n->p.linear.rq.out_i32 ? 4 : 1;
  int64_t smallest = -1;
  for (int32_t tn = 1; tn <= nout; tn++) {
    int32_t nnt = (nout + tn - 1) / tn;
    for (int32_t tr = 1; tr <= rows; tr++) {
      int64_t l1 = (int64_t)ares_linear_tile_l1_bytes(k, tr, tn, esz);
      if (smallest < 0 || l1 < smallest) smallest = l1;
      if (l1 > g->l1_budget) break;
      int32_t nrt = (rows + tr - 1) / tr;
      int64_t dma = (int64_t)nnt * rows * k + (int64_t)nout * k + (int64_t)rows * nout * (int64_t)esz;
      consider(best, tr, tn, l1, dma, (int64_t)nnt * nrt, n->macs, utilization(tn, tn, g->ncores));
    }
  }
  return best->found ? 0 : no_fit(n, smallest, g->l1_budget);
}

/* qmatmul: tm rows x tn columns of one batch matrix; a's rows are reloaded per column tile,
 * b's columns load once. */
static int plan_matmul(ares_graph *g, ares_node *n, choice *best) {
  ares_matmul_shape s;
  ares_kshape_matmul(g, n, &s);
  size_t esz = s.out_i32 || n->p.matmul.rq.out_float ? 4 : 1;
  int64_t nbatch = 1, smallest = -1;
  for (int d = 0; d < s.nb; d++) nbatch *= s.bd[d];
  for (int32_t tn = 1; tn <= s.n; tn++) {
    int32_t nct = (s.n + tn - 1) / tn;
    for (int32_t tm = 1; tm <= s.m; tm++) {
      int64_t l1 = (int64_t)ares_matmul_tile_l1_bytes(s.k, tm, tn, esz);
      if (smallest < 0 || l1 < smallest) smallest = l1;
      if (l1 > g->l1_budget) break;
      int32_t nrt = (s.m + tm - 1) / tm;
      int64_t dma = nbatch * ((int64_t)nct * s.m * s.k + (int64_t)s.k * s.n + (int64_t)s.m * s.n * (int64_t)esz);
      consider(best, tm, tn, l1, dma, nbatch * nct * nrt, n->macs, utilization(tm, tn, g->ncores));
    }
  }
  return best->found ? 0 : no_fit(n, smallest, g->l1_budget);
}

static int plan_eltwise(ares_graph *g, ares_node *n, choice *best) {
  int nin = n->op == ARES_OP_QREQUANT ? 1 : 2;
  int64_t total = ares_tensor_numel(g->tensors[n->out[0]]);
  int64_t chunk = (g->l1_budget / (2 * (nin + 1))) / 8 * 8;
  if (chunk > total) chunk = total;
  if (chunk < 1) return no_fit(n, (int64_t)ares_elt_tile_l1_bytes(nin, 8), g->l1_budget);
  *best = (choice){1, 0, 0, (int64_t)ares_elt_tile_l1_bytes(nin, chunk), total * (nin + 1), (total + chunk - 1) / chunk, 0};
  n->tile_chunk = chunk;
  return 0;
}

/* RoPE: the multiplier tables stay in L1 for the layer; the largest tile of whole rows
 * that fits beside them (fewest tiles, same DMA bytes either way). */
static int plan_rope(ares_graph *g, ares_node *n, choice *best) {
  const ares_rope_params *p = &n->p.rope;
  int64_t rows = p->outer * p->npos * p->inner, tr = rows;
  while (tr > 1 && (int64_t)ares_rope_tile_l1_bytes(p->npos, (int32_t)p->d, tr) > g->l1_budget) tr = (tr + 1) / 2;
  int64_t l1 = (int64_t)ares_rope_tile_l1_bytes(p->npos, (int32_t)p->d, tr);
  if (l1 > g->l1_budget) return no_fit(n, l1, g->l1_budget);
  int64_t numel = rows * p->d;
  *best = (choice){1, 0, 0, l1, 2 * numel + 8 * p->npos * p->d, (rows + tr - 1) / tr, 0};
  n->tile_chunk = tr;
  return 0;
}

/* Selective scan: tc channels (split over the cores) x tl tokens; B and C are read once
 * per channel tile, everything else once. */
static int plan_scan(ares_graph *g, ares_node *n, choice *best) {
  const ares_tensor *x = g->tensors[n->in[0]], *b = g->tensors[n->in[2]];
  int32_t batch = (int32_t)x->dims[0], len = (int32_t)x->dims[1], d = (int32_t)x->dims[2], ns = (int32_t)b->dims[2];
  int64_t smallest = -1;
  for (int32_t tc = 1; tc <= d; tc++) {
    int32_t nct = (d + tc - 1) / tc;
    for (int32_t tl = 1; tl <= len; tl++) {
      int64_t l1 = (int64_t)ares_scan_tile_l1_bytes(ns, tl, tc, n->p.scan.gate);
      if (smallest < 0 || l1 < smallest) smallest = l1;
      if (l1 > g->l1_budget) break;
      int32_t nlt = (len + tl - 1) / tl;
      int64_t dma = (3 + n->p.scan.gate) * (int64_t)batch * len * d + (int64_t)nct * batch * len * ns * 2 + (int64_t)d * ns * 4 +
                    (int64_t)d * 8 + 2048 + n->p.scan.gate * 1024;
      consider(best, tl, tc, l1, dma, (int64_t)nct * batch * nlt, n->macs, utilization(tc, tc, g->ncores));
    }
  }
  return best->found ? 0 : no_fit(n, smallest, g->l1_budget);
}

/* Row-wise ops: tiles of whole slabs (ares_tiled_rows.h); DMA traffic is the same for any
 * tile, so fewer tiles win unless they leave cores idle. tile_h holds the slabs per tile. */
static int plan_rows(ares_graph *g, ares_node *n, choice *best) {
  ares_rows_shape s;
  ares_kshape_rows(g, n, &s);
  int64_t elems = s.outer * s.n * s.inner, dma = elems * (s.in_esz + s.out_esz);
  int64_t smallest = (int64_t)ares_rows_tile_l1_bytes(&s, 1);
  for (int64_t t = 1; t <= s.outer && t <= INT32_MAX; t++) {
    int64_t l1 = (int64_t)ares_rows_tile_l1_bytes(&s, (int32_t)t);
    if (l1 > g->l1_budget) break;
    int64_t rows = t * s.inner;
    consider(best, (int)t, 1, l1, dma, (s.outer + t - 1) / t, elems * 4, utilization(rows, rows, g->ncores));
  }
  return best->found ? 0 : no_fit(n, smallest, g->l1_budget);
  return 0;
}

/* Table lookup: the table in L1, then the largest chunk whose two input and two output
 * buffers fit beside it. */
static int plan_lut(ares_graph *g, ares_node *n, choice *best) {
  size_t esz = n->p.lut.ftable ? 4 : 1;
  int64_t total = ares_tensor_numel(g->tensors[n->out[0]]);
  int64_t room = g->l1_budget - (int64_t)ares_lut_tile_l1_bytes(0, esz);
  int64_t chunk = room > 0 ? room / (2 * (1 + (int64_t)esz)) / 8 * 8 : 0;
  if (chunk > total) chunk = total;
  if (chunk < 1) return no_fit(n, (int64_t)ares_lut_tile_l1_bytes(8, esz), g->l1_budget);
  *best = (choice){1, 0, 0, (int64_t)ares_lut_tile_l1_bytes(chunk, esz), total * (1 + (int64_t)esz),
                   (total + chunk - 1) / chunk, 0};
  n->tile_chunk = chunk;
  return 0;
}

int ares_pass_plan_tiles(ares_graph *g) {
  if (g->l1_budget <= 0 || g->ncores < 1) return ares_fail(NULL, "internal: no L1 budget or core count set");
  for (int i = 0; i < g->nnodes; i++) {
    ares_node *n = g->nodes[i];
    if (n->dead) continue;
    choice best = {0};
    int rc;
    if (ares_tensor_numel(g->tensors[n->out[0]]) == 0) {
      /* nothing to compute: a plan with no tiles */
      n->tiled = 1;
      n->tile_h = n->tile_c = 1;
      n->tile_chunk = n->op == ARES_OP_QADD || n->op == ARES_OP_QMUL || n->op == ARES_OP_QREQUANT || n->op == ARES_OP_QLUT ? 1 : 0;
      continue;
    }
    switch (n->op) {
    case ARES_OP_QCONV:
    case ARES_OP_QMAXPOOL:
    case ARES_OP_QAVGPOOL: rc = plan_conv_like(g, n, &best); break;
    case ARES_OP_QLINEAR: rc = plan_linear(g, n, &best); break;
    case ARES_OP_QMATMUL: rc = plan_matmul(g, n, &best); break;
    case ARES_OP_QADD:
    case ARES_OP_QMUL:
    case ARES_OP_QREQUANT: rc = plan_eltwise(g, n, &best); break;
    case ARES_OP_QROPE: rc = plan_rope(g, n, &best); break;
    case ARES_OP_QSCAN: rc = plan_scan(g, n, &best); break;
    case ARES_OP_QLAYERNORM:
    case ARES_OP_QRMSNORM:
    case ARES_OP_QSOFTMAX: rc = plan_rows(g, n, &best); break;
    case ARES_OP_QLUT: rc = plan_lut(g, n, &best); break;
    default: continue;
    }
    if (rc < 0) return -1;
    n->tiled = 1;
    n->tile_h = best.th;
    n->tile_c = best.tc;
    n->l1_bytes = best.l1;
    n->dma_bytes = best.dma;
    n->ntiles = best.ntiles;
  }
  return 0;
}
