/* The per-layer table (`ares run`, `ares compile --report`): what each layer computes and
 * how it runs on the cluster - its tile, the L1 it uses, the DMA traffic it causes - and
 * the L2 map of the activation arena. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static void shape_str(const ares_tensor *t, char *buf, size_t len) {
  size_t k = 0;
  buf[0] = 0;
  for (int d = 0; d < t->rank && k + 24 < len; d++) k += (size_t)snprintf(buf + k, len - k, "%s%" PRId64, d ? "x" : "", t->dims[d]);
}

void ares_report_header(FILE *f, int with_match) {
  fprintf(f, "%-5s %-32s %-11s %-14s %11s %-16s %7s %9s%s\n", "layer", "name", "op", "output", "MACs", "tile", "L1 B",
          "DMA B", with_match ? "  match" : "");
}

void ares_report_row(FILE *f, const ares_graph *g, int step, const ares_node *n, const char *verdict) {
  char shape[64], tile[48];
  shape_str(g->tensors[n->out[0]], shape, sizeof shape);
  if (!n->tiled) snprintf(tile, sizeof tile, "L2 (orchestr.)");
  else if (n->tile_chunk)
    snprintf(tile, sizeof tile, "%lld %s x%lld", (long long)n->tile_chunk, n->op == ARES_OP_QROPE ? "rows" : "el",
             (long long)n->ntiles);
  else snprintf(tile, sizeof tile, "%dx%d x%lld", n->tile_h, n->tile_c, (long long)n->ntiles);
  fprintf(f, "%-5d %-32.32s %-11s %-14s %11" PRId64 " %-16s %7lld %9lld%s%s\n", step, n->name, ares_op_get(n->op)->name, shape,
          n->macs, tile, (long long)n->l1_bytes, (long long)n->dma_bytes, verdict ? "  " : "", verdict ? verdict : "");
}

int64_t ares_graph_macs(const ares_graph *g) {
  int64_t macs = 0;
  for (int i = 0; i < g->nnodes; i++) macs += g->nodes[i]->dead ? 0 : g->nodes[i]->macs;
  return macs;
}

void ares_report_footer(FILE *f, const ares_graph *g) {
  int64_t macs = ares_graph_macs(g), dma = 0, l1 = 0;
  for (int i = 0; i < g->nnodes; i++) {
    const ares_node *n = g->nodes[i];
    if (n->dead) continue;
    dma += n->dma_bytes;
    if (n->l1_bytes > l1) l1 = n->l1_bytes;
  }
  fprintf(f, "total: %" PRId64 " MACs, %" PRId64 " DMA bytes, %d cores; L1 %" PRId64 " of %" PRId64
             " bytes used at most; L2 arena %" PRId64 " bytes (lower bound %" PRId64 ")\n",
          macs, dma, g->ncores, l1, g->l1_budget, g->arena_bytes, g->arena_lower_bound);
  fprintf(f, "weights: %" PRId64 " bytes in L2 beside the arena (L2 %" PRId64 " bytes), %" PRId64
             " bytes in L3, fetched tile by tile\n",
          g->l2_weight_bytes, g->l2_budget, g->l3_weight_bytes);
}

void ares_report_l2_map(FILE *f, const ares_graph *g) {
  fprintf(f, "L2 map (activation arena, %" PRId64 " bytes):\n", g->arena_bytes);
  for (int i = 0; i < g->ntensors; i++) {
    const ares_tensor *t = g->tensors[i];
    if (t->offset < 0 || t->data) continue;
    fprintf(f, "  [%8" PRId64 ", %8" PRId64 ")  %s\n", t->offset, t->offset + (int64_t)ares_tensor_nbytes(t), t->name);
  }
}

void ares_report(FILE *f, ares_graph *g) {
  int *order, cnt = ares_graph_topo(g, &order);
  ares_report_header(f, 0);
  for (int s = 0; s < cnt; s++) ares_report_row(f, g, s, g->nodes[order[s]], NULL);
  ares_report_footer(f, g);
  ares_report_l2_map(f, g);
  free(order);
}
