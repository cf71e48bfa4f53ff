/* Emitter: a lowered graph -> a self-contained C project for a target. */
#ifndef ARES_EMIT_H
#define ARES_EMIT_H

#include "ir/ir.h"

/* Writes the project into dir (which must not exist, or be empty). The project is built
 * in a temporary sibling directory and renamed at the end, so a failure leaves nothing.
 * Returns 0, or -1 after reporting. */
int ares_emit_project(ares_graph *g, const char *target, const char *dir);
/* Same, with the input a chip project (gap9, siracusa) runs on, each in its graph input's
 * element type; NULL: zeros. */
int ares_emit_project_input(ares_graph *g, const char *target, const char *dir, const void *const *input);

/* Directory holding the runtime sources copied into projects: $ARES_RUNTIME_DIR, else
 * the repository's runtime/ (recorded at build time). */
const char *ares_runtime_dir(void);
/* rm -rf dir. Returns 0 or -1. */
int ares_remove_tree(const char *dir);

#endif
