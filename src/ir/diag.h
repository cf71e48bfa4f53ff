/* Diagnostics: every user-facing failure names the node, its op and the reason. */
#ifndef ARES_DIAG_H
#define ARES_DIAG_H

#include "ir.h"

/* Prints "ares: error: node 'NAME' (OP): MESSAGE" (or without the node part when n is
 * NULL) to stderr and returns -1, so callers can write `return ares_fail(n, ...)`. */
int ares_fail(const ares_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, for warnings; returns 0. */
int ares_warn(const ares_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Number of errors reported so far. */
int ares_error_count(void);

/* A sink receives every diagnostic instead of stderr (ares check collects them per node;
 * the fuzz harness drops them). msg is the reason alone, without the node part; node is
 * NULL for model-level diagnostics. Pass fn = NULL to restore printing. */
typedef void (*ares_diag_sink)(void *user, int is_error, const ares_node *node, const char *msg);
void ares_diag_set_sink(ares_diag_sink fn, void *user);

#endif
