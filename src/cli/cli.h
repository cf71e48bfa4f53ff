/* Command-line plumbing shared by the subcommands. */
#ifndef ARES_CLI_H
#define ARES_CLI_H

#include "ir/ir.h"

typedef struct {
  const char *model;
  const char *out;        /* compile -o */
  const char *target;
  const char *input;      /* run --input */
  const char *keep;       /* run --keep */
  const char *project;    /* run --project */
  const char *output;     /* run --output */
  const char *dump_after;
  const char *dump_file;
  int help;
} ares_cli_opts;

/* Parses options after the subcommand; reports and returns -1 on a bad command line. */
int ares_cli_parse(int argc, char **argv, ares_cli_opts *o, const char *usage);
/* Imports MODEL and runs the pass pipeline (with --dump-after). NULL after reporting. */
ares_graph *ares_cli_load(const char *model, const char *dump_after, const char *dump_file);
/* ares fidelity ZOO_DIR: prints the fidelity table (Markdown). Returns the exit status. */
int ares_cli_fidelity(const char *zoo);
/* ares run. Returns the exit status. */
int ares_cli_run(const ares_cli_opts *o);

#endif
