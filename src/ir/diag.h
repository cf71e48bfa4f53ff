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

#endif
