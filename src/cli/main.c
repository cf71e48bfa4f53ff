/* ares: the command line. Reads top to bottom as the pipeline:
 * import -> passes -> (emit | reference run + validation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ares_npy.h"
#include "cli.h"
#include "emit/emit.h"
#include "frontend/frontend.h"
#include "ir/diag.h"
#include "passes/passes.h"
#include "targets/target.h"

static const char *usage_main =
    "usage: ares <command> [options]\n"
    "\n"
    "Compiles quantized ONNX models (Brevitas QCDQ or QONNX exports) into C for RISC-V\n"
    "cluster microcontrollers, and validates the generated code layer by layer against\n"
    "ARES' reference interpreter.\n"
    "\n"
    "commands:\n"
    "  check MODEL              per node: supported, unsupported (with advice) or warning\n"
    "  compile MODEL -o DIR     generate a C project for a target\n"
    "  run MODEL                compile, build, run and validate every layer bit for bit\n"
    "  conformance DIR          run the ONNX backend node tests on the reference interpreter\n"
    "  fidelity ZOO_DIR         table of output agreement with ONNX Runtime and Brevitas\n"
    "  bench [MODEL|ZOO_DIR]    performance figures on rv32 (validated), against a baseline\n"
    "  passes                   list the compiler passes (names for --dump-after)\n"
    "  ops [--markdown]         list the supported operators\n"
    "  help [COMMAND]           show help for a command\n"
    "\n"
    "exit status: 0 success, 1 validation mismatch, 2 bad input or unsupported model\n";

static const char *usage_compile =
    "usage: ares compile MODEL -o DIR [--target host] [--cores N] [--l1 BYTES] [--report]\n"
    "                    [--dump-after PASS] [--dump-file FILE]\n"
    "\n"
    "Compiles MODEL (.onnx) into a self-contained C project in DIR: network.c/.h,\n"
    "weights.c, main.c, the runtime kernels and a Makefile. DIR must not exist or be empty;\n"
    "nothing is left behind when compilation fails.\n"
    "\n"
    "  -o, --out DIR        output directory (required)\n"
    "  --target NAME        host (default) or rv32: a project with a main that reads .npy files\n"
    "                       (make: host binary; make ares_net.elf: qemu-system-riscv32);\n"
    "                       gap9: a GAP SDK (PMSIS) project; siracusa: a PULP runtime project\n"
    "  --cores N            cluster cores the layers are split over (default: the target's, 8)\n"
    "  --l1 BYTES           L1 bytes the tiles may use (default: the target's, 122880 for\n"
    "                       gap9 sizes); every conv, linear, pooling and elementwise layer is\n"
    "                       tiled through L1 with double-buffered DMA\n"
    "  --input X.npy        gap9/siracusa: the input the chip program runs on (default zeros)\n"
    "  --report             print the per-layer table (tile, L1 bytes, DMA bytes) and the L2 map\n"
    "  --dump-after PASS    write the IR after PASS (see 'ares passes') to stdout or --dump-file\n"
    "  --dump-file FILE     where --dump-after writes\n";

static const char *usage_run =
    "usage: ares run MODEL [--target host|rv32] [--cores N] [--l1 BYTES] [--input X.npy[,...]]\n"
    "                     [--keep DIR] [--project DIR] [--output Y.npy]\n"
    "\n"
    "Compiles MODEL, builds the generated project, runs it on an input, runs the reference\n"
    "interpreter on the same input, and compares every layer's output byte for byte. Prints\n"
    "a per-layer table (layer, op, output shape, MACs, tile, L1 and DMA bytes, match; on\n"
    "rv32 also instructions and MACs per instruction).\n"
    "Exit status 0 only when every layer matches; 1 names the first mismatching layer.\n"
    "\n"
    "  --target NAME     host (default): pthreads as the cluster's cores, L1 as an arena of\n"
    "                    exactly the budget, every DMA bounds-checked, deferred to its wait\n"
    "                    and poisoning its destination\n"
    "                    rv32: the same project cross-compiled (riscv64-unknown-elf-gcc,\n"
    "                    rv32imac, picolibc) and run on qemu-system-riscv32 with one hart\n"
    "                    per core; a second run on one hart under -icount counts each\n"
    "                    layer's instructions on the critical path over the cores\n"
    "  --cores N, --l1 BYTES   as for compile\n"
    "  --input X.npy[,Y.npy...]  one .npy per graph input, in the input's type (float32,\n"
    "                    int8/uint8, int64 token ids ...); default: input.npy beside a\n"
    "                    single-input MODEL, else fixed pseudo-random data\n"
    "  --keep DIR        generate the project into DIR and keep it (default: a temporary\n"
    "                    directory, removed afterwards)\n"
    "  --project DIR     do not generate: build and validate the existing project in DIR\n"
    "                    (e.g. one you edited after 'ares compile')\n"
    "  --output Y.npy    also write the network's first output to Y.npy\n"
    "  --dump-after PASS, --dump-file FILE   as for compile\n";

static int help(const char *cmd) {
  if (cmd && strcmp(cmd, "compile") == 0) fputs(usage_compile, stdout);
  else if (cmd && strcmp(cmd, "check") == 0) fputs(ares_cli_check_usage(), stdout);
  else if (cmd && strcmp(cmd, "conformance") == 0) fputs(ares_cli_conformance_usage(), stdout);
  else if (cmd && strcmp(cmd, "run") == 0) fputs(usage_run, stdout);
  else if (cmd && strcmp(cmd, "bench") == 0) fputs(ares_cli_bench_usage(), stdout);
  else if (cmd && strcmp(cmd, "fidelity") == 0)
    fputs("usage: ares fidelity ZOO_DIR\n\nFor every network directory in ZOO_DIR (model.onnx, model.qonnx.onnx, input.npy,\n"
          "ort_output.npy, brevitas_output.npy) prints a Markdown table comparing ARES' integer\n"
          "output with ONNX Runtime's and Brevitas': share of identical elements, max |delta| in\n"
          "output LSBs, top-1 agreement. docs/FIDELITY.md is this table.\n", stdout);
  else if (cmd && strcmp(cmd, "passes") == 0) fputs("usage: ares passes\n\nLists the passes in pipeline order.\n", stdout);
  else if (cmd && strcmp(cmd, "ops") == 0)
    fputs("usage: ares ops [--markdown]\n\nLists the operators of the op registry; --markdown writes "
          "docs/SUPPORTED_OPERATIONS.md's content.\n", stdout);
  else if (cmd && strcmp(cmd, "help") != 0) {
    fprintf(stderr, "ares: unknown command '%s'\n\n%s", cmd, usage_main);
    return 2;
  } else fputs(usage_main, stdout);
  return 0;
}

/* A positive integer option, or -1 after reporting. */
static int64_t int_option(const char *name, const char *v, int64_t lo, int64_t hi) {
  char *end;
  long long x = strtoll(v, &end, 10);
  if (*v == 0 || *end != 0 || x < lo || x > hi) {
    ares_fail(NULL, "%s must be an integer in %lld..%lld, not '%s'", name, (long long)lo, (long long)hi, v);
    return -1;
  }
  return x;
}

ares_graph *ares_cli_load(const char *model, const ares_cli_opts *o) {
  const char *tname = o ? o->target : "host";
  const ares_target *t = ares_target_find(tname);
  if (!t) {
    ares_fail(NULL, "unknown target '%s' (known: %s)", tname, ares_target_names());
    return NULL;
  }
  int64_t cores = o && o->cores ? int_option("--cores", o->cores, 1, 64) : t->cores;
  int64_t l1 = o && o->l1 ? int_option("--l1", o->l1, 64, (int64_t)1 << 30) : t->l1_bytes;
  if (cores < 0 || l1 < 0) return NULL;
  const char *dump_after = o ? o->dump_after : NULL, *dump_file = o ? o->dump_file : NULL;
  ares_graph *g = ares_onnx_import(model);
  if (!g) return NULL;
  ares_target_apply(t, g);
  g->ncores = (int)cores;
  g->l1_budget = l1;
  FILE *df = stdout;
  if (dump_after && dump_file && !(df = fopen(dump_file, "w"))) {
    ares_fail(NULL, "cannot write '%s'", dump_file);
    ares_graph_free(g);
    return NULL;
  }
  if (dump_after && strcmp(dump_after, "import") == 0) {
    ares_graph_dump(g, df);
    dump_after = NULL;
  }
  int rc = ares_run_passes(g, dump_after, df);
  if (df != stdout) fclose(df);
  if (rc < 0) {
    ares_graph_free(g);
    return NULL;
  }
  return g;
}

static int cmd_compile(int argc, char **argv) {
  ares_cli_opts o;
  if (ares_cli_parse(argc, argv, &o, usage_compile) < 0) return 2;
  if (o.help) return help("compile");
  if (!o.out) {
    fprintf(stderr, "ares: error: compile needs -o DIR\n\n%s", usage_compile);
    return 2;
  }
  clock_t t0 = clock();
  ares_graph *g = ares_cli_load(o.model, &o);
  if (!g) return 2;
  /* a chip project runs on the input compiled into it */
  ares_npy in = {0};
  const void *inputs[1] = {NULL};
  if (o.input) {
    char err[256];
    const ares_tensor *t = g->tensors[g->inputs[0]];
    if (ares_npy_load(o.input, &in, err, sizeof err) != 0 || strcmp(in.dtype, ares_dtype_npy(t->dtype)) != 0 ||
        g->ninputs != 1 || in.nbytes != ares_tensor_nbytes(t)) {
      ares_fail(NULL, "--input '%s': %s", o.input, in.data ? "does not match the model's input" : err);
      ares_npy_free(&in);
      ares_graph_free(g);
      return 2;
    }
    inputs[0] = in.data;
  }
  int rc = ares_emit_project_input(g, o.target, o.out, inputs);
  ares_npy_free(&in);
  if (rc == 0 && o.report) ares_report(stdout, g);
  double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  if (rc == 0) fprintf(stderr, "ares: compiled %s for %s into %s in %.3f s\n", o.model, o.target, o.out, secs);
  ares_graph_free(g);
  return rc < 0 ? 2 : 0;
}

static int cmd_passes(void) {
  int n;
  const ares_pass *p = ares_passes(&n);
  for (int i = 0; i < n; i++) printf("%-16s %s\n", p[i].name, p[i].doc);
  return 0;
}

static int cmd_ops(int argc, char **argv) {
  if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) return help("ops");
  int md = argc > 0 && strcmp(argv[0], "--markdown") == 0;
  if (argc > 0 && !md) {
    fprintf(stderr, "ares: ops: unknown option '%s'\n", argv[0]);
    return 2;
  }
  if (md) {
    printf("# Supported operations\n\n"
           "Generated by `ares ops --markdown` from the op registry (`src/ir/ops.def`); do not edit.\n\n"
           "## ONNX operators accepted as input\n\n| Operator | Domain | Support |\n|---|---|---|\n");
  }
  for (int pass = 0; pass < 2; pass++) {
    if (md && pass == 1)
      printf("\n## Integer operators (after lowering; reference: `src/ref`, kernels: `runtime/kernels`)\n\n"
             "| Operator | Semantics |\n|---|---|\n");
    for (int i = 0; i < ARES_OP_COUNT; i++) {
      const ares_op_info *op = ares_op_get((ares_op)i);
      if ((int)op->kind != pass) continue;
      if (md && pass == 0) printf("| %s | %s | %s |\n", op->name, op->domain[0] ? op->domain : "ai.onnx", op->doc);
      else if (md) printf("| `%s` | %s |\n", op->name, op->doc);
      else printf("%-4s %-20s %s\n", pass ? "int" : "onnx", op->name, op->doc);
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage_main, stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) return help(NULL);
  if (strcmp(cmd, "help") == 0) return help(argc > 2 ? argv[2] : NULL);
  if (strcmp(cmd, "compile") == 0) return cmd_compile(argc - 2, argv + 2);
  if (strcmp(cmd, "check") == 0) return ares_cli_check(argc - 2, argv + 2);
  if (strcmp(cmd, "conformance") == 0) return ares_cli_conformance(argc - 2, argv + 2);
  if (strcmp(cmd, "run") == 0) {
    ares_cli_opts o;
    if (ares_cli_parse(argc - 2, argv + 2, &o, usage_run) < 0) return 2;
    if (o.help) return help("run");
    return ares_cli_run(&o);
  }
  if (strcmp(cmd, "bench") == 0) return ares_cli_bench(argc - 2, argv + 2);
  if (strcmp(cmd, "passes") == 0) return cmd_passes();
  if (strcmp(cmd, "fidelity") == 0) {
    if (argc != 3 || argv[2][0] == '-') return help("fidelity") ? 2 : (argc == 3 ? 0 : 2);
    return ares_cli_fidelity(argv[2]);
  }
  if (strcmp(cmd, "ops") == 0) return cmd_ops(argc - 2, argv + 2);
  fprintf(stderr, "ares: unknown command '%s'\n\n%s", cmd, usage_main);
  return 2;
}
