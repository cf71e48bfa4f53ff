/* Targets as data: memory levels, cores, and whether an emitter exists. One place
 * describes each chip; the memory planner and tiler (to come) read their sizes here. */
#ifndef ARES_TARGET_H
#define ARES_TARGET_H

#include <stdint.h>

#include "ir/ir.h"

typedef struct {
  const char *name;
  const char *doc;
  int64_t l1_bytes;  /* L1 the tiles may use: the chip's L1 less stacks and runtime data */
  int64_t l2_bytes;
  int cores;
  int can_emit; /* an emitter exists for it */
} ares_target;

const ares_target *ares_target_find(const char *name);
/* Sets what the passes plan for (L1 budget, L2 size, cores) on g from target t. */
void ares_target_apply(const ares_target *t, ares_graph *g);
/* Comma-separated list of target names, for messages. */
const char *ares_target_names(void);

#endif
