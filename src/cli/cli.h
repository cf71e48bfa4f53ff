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
/* files.c: whether path is a regular file / a directory. */
int ares_cli_is_file(const char *path);
int ares_cli_is_dir(const char *path);
/* The sorted names NAME of the entries of dir holding a regular file dir/NAME/file (a zoo's
 * networks). Returns their count, or -1 after reporting; free with ares_cli_free_names. */
int ares_cli_subdirs_with(const char *dir, const char *file, char ***names);
void ares_cli_free_names(char **names, int n);
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
/* Total MACs of the live nodes. */
int64_t ares_graph_macs(const ares_graph *g);

/* One validation run (run.c): the compiled graph, its schedule, each layer's verdict
 * against the reference and, on rv32, each layer's instructions on the critical path. */
typedef struct {
  ares_graph *g;
  int *order, nsteps;   /* schedule (ares_graph_topo): layer s is node order[s] */
  char (*verdict)[96];  /* per step: "ok", "MISMATCH k/n", "MISSING (...)", "SIZE ..." */
  int64_t *instr;       /* rv32: per step, critical-path instructions over the cores; else NULL */
  int bad;              /* layers that differ from the reference */
  double compile_secs;  /* wall clock of import + passes + emit */
  char proj[4096];      /* the built project: ares_net[.elf], profile.txt */
  char tmpdir[64];      /* temporary parent of proj, removed by ares_validation_free */
} ares_validation;
/* Compiles o->model for o->target (host or rv32), builds the project, runs it on the
 * input, runs the reference interpreter and compares every layer byte for byte (on rv32
 * also counts instructions). 0 when everything ran (v->bad says whether all layers
 * matched); -1 after reporting. Always release v with ares_validation_free. */
int ares_validate(const ares_cli_opts *o, ares_validation *v);
void ares_validation_free(ares_validation *v);
/* Sum of v's per-layer critical-path instructions (0 without a profile). */
int64_t ares_validation_instructions(const ares_validation *v);
/* elf_size.c: bytes of function code in a 32-bit little-endian ELF program (each address
 * once), all of it and the generated network's own (layer_<s>, ares_net_run). -1 with a
 * message in err if the file is not such an ELF file or has no symbol table. */
int ares_elf_code_bytes(const char *path, int64_t *all, int64_t *network, char *err, size_t errlen);
/* ares bench (arguments after the subcommand). Returns the exit status. */
int ares_cli_bench(int argc, char **argv);
const char *ares_cli_bench_usage(void);
/* ares run. Returns the exit status. */
int ares_cli_run(const ares_cli_opts *o);

#endif
