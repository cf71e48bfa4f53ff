/* Diagnostics. */
#include "diag.h"

#include <stdarg.h>

static int nerrors;
static ares_diag_sink sink;
static void *sink_user;

void ares_diag_set_sink(ares_diag_sink fn, void *user) {
  sink = fn;
  sink_user = user;
}

static void report(const char *level, const ares_node *n, const char *fmt, va_list ap) {
  if (sink) {
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    sink(sink_user, level[0] == 'e', n, msg);
    return;
  }
  if (n)
    fprintf(stderr, "ares: %s: node '%s' (%s): ", level, n->name && n->name[0] ? n->name : "<unnamed>",
            n->op_type ? n->op_type : "?");
  else
    fprintf(stderr, "ares: %s: ", level);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

int ares_fail(const ares_node *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report("error", n, fmt, ap);
  va_end(ap);
  nerrors++;
  return -1;
}

int ares_warn(const ares_node *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report("warning", n, fmt, ap);
  va_end(ap);
  return 0;
}

int ares_error_count(void) { return nerrors; }
