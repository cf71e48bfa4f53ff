/* Command-line plumbing shared by the subcommands. */
#ifndef ARES_CLI_H
#define ARES_CLI_H

#include <stdio.h>

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
  const char *cores;      /* --cores N: cluster cores (default: the target's) */
  const char *l1;         /* --l1 BYTES: L1 budget for tiles (default: the target's) */
  int help;
  int report;             /* compile --report */
} ares_cli_opts;

/* Parses options after the subcommand; reports and returns -1 on a bad command line. */
int ares_cli_parse(int argc, char **argv, ares_cli_opts *o, const char *usage);
/* Imports MODEL and runs the pass pipeline for o's target, cores, L1 and --dump-after
 * (o == NULL: host defaults). NULL after reporting. */
ares_graph *ares_cli_load(const char *model, const ares_cli_opts *o);
/* ares fidelity ZOO_DIR: prints the fidelity table (Markdown). Returns the exit status. */
int ares_cli_fidelity(const char *zoo);
/* ares check MODEL (arguments after the subcommand). Returns the exit status. */
int ares_cli_check(int argc, char **argv);
const char *ares_cli_check_usage(void);
/* ares conformance DIR: the ONNX backend node tests. Returns the exit status. */
int ares_cli_conformance(int argc, char **argv);
const char *ares_cli_conformance_usage(void);
/* report.c: the per-layer table (layer, op, shape, MACs, tile, L1, DMA[, match]). */
void ares_report_header(FILE *f, int with_match);
void ares_report_row(FILE *f, const ares_graph *g, int step, const ares_node *n, const char *verdict);
void ares_report_footer(FILE *f, const ares_graph *g);
void ares_report_l2_map(FILE *f, const ares_graph *g);
/* The whole report of a compiled graph: table, totals, L2 map. */
void ares_report(FILE *f, ares_graph *g);
/* ares run. Returns the exit status. */
int ares_cli_run(const ares_cli_opts *o);

#endif
