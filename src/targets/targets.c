/* The target table. */
#include "target.h"

#include <string.h>

static const ares_target targets[] = {
    /* host and rv32 test GAP9's plan: its L1 (128 KiB, of which 8 KiB go to the cores'
     * stacks and the runtime), its L2 and its 8 workers */
    {"host", "portable C, pthreads as cores, strict DMA (validation platform)", 120 * 1024, 1536 * 1024, 8, 1},
    {"rv32", "32-bit RISC-V (rv32imac) on qemu-system-riscv32, harts as cores", 120 * 1024, 1536 * 1024, 8, 1},
    {"gap9", "GreenWaves GAP9: a GAP SDK (PMSIS) project", 120 * 1024, 1536 * 1024, 8, 1},
    {"siracusa", "PULP Siracusa: a PULP runtime project", 248 * 1024, 2048 * 1024, 8, 1},
};

const ares_target *ares_target_find(const char *name) {
  for (size_t i = 0; i < sizeof targets / sizeof *targets; i++)
    if (strcmp(targets[i].name, name) == 0) return &targets[i];
  return NULL;
}

void ares_target_apply(const ares_target *t, ares_graph *g) {
  g->l1_budget = t->l1_bytes;
  g->l2_budget = t->l2_bytes;
  g->ncores = t->cores;
}

const char *ares_target_names(void) { return "host, rv32, gap9, siracusa"; }
