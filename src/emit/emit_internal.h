/* Shared between the project writer and the per-op emitters. */
#ifndef ARES_EMIT_INTERNAL_H
#define ARES_EMIT_INTERNAL_H

#include <stdio.h>

#include "ir/ir.h"

typedef struct {
  const ares_graph *g;
  FILE *f;
  char ref[8][96]; /* ring of buffers for ares_emit_ref results */
  int next;
} ares_emit_ctx;

/* The C expression for tensor tid's data (arena slice, weight array or I/O pointer). */
const char *ares_emit_ref(ares_emit_ctx *c, int tid);
int ares_emit_node(ares_emit_ctx *c, const ares_node *n);
int ares_emit_has(ares_op op);

#endif
