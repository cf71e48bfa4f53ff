/* ares run: compile, build the generated project, run it, and compare every layer's
 * output with the reference interpreter, byte for byte. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ares_npy.h"
#include "cli.h"
#include "emit/emit.h"
#include "ir/diag.h"
#include "ref/ref.h"
#include "targets/target.h"

/* Paths go into shell commands inside single quotes. */
static int safe_path(const char *p) { return strchr(p, '\'') == NULL; }

/* Path of the k-th entry (0-based) of a comma-separated --input list into buf; NULL if the
 * list is shorter. */
static const char *list_entry(const char *list, int k, char *buf, size_t len) {
  for (const char *p = list; p; k--) {
    const char *e = strchr(p, ',');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (k == 0) {
      snprintf(buf, len, "%.*s", (int)l, p);
      return buf;
    }
    p = e ? e + 1 : NULL;
  }
  return NULL;
}

/* The input for graph input i, in the input's own type: entry i of --input (a
 * comma-separated list, one .npy per graph input), input.npy beside a single-input model, or
 * fixed pseudo-random data: floats in [-1, 1), int8/uint8 over their whole range, wider
 * integers (indices, token ids) in [0, 16). */
static int load_input(const ares_cli_opts *o, ares_graph *g, int i, void **data) {
  ares_tensor *t = g->tensors[g->inputs[i]];
  int64_t n = ares_tensor_numel(t);
  char beside[4096], entry[4096];
  const char *path = o->input ? list_entry(o->input, i, entry, sizeof entry) : NULL;
  if (o->input && i == g->ninputs - 1 && list_entry(o->input, i + 1, beside, sizeof beside))
    return ares_fail(NULL, "--input lists more files than the model's %d input(s)", g->ninputs);
  if (!path && !o->input && g->ninputs == 1) {
    const char *slash = strrchr(o->model, '/');
    int dl = slash ? (int)(slash - o->model) : 1;
    snprintf(beside, sizeof beside, "%.*s/input.npy", dl, slash ? o->model : ".");
    if (ares_cli_is_file(beside)) path = beside;
  }
  size_t esz = ares_dtype_size(t->dtype);
  if (!esz) return ares_fail(NULL, "graph input '%s' has no element type", t->name);
  *data = malloc(esz * (size_t)(n ? n : 1));
  if (!*data) return ares_fail(NULL, "out of memory");
  if (!path) {
    uint32_t s = 0x12345678u + (uint32_t)i;
    for (int64_t k = 0; k < n; k++) {
      s = s * 1664525u + 1013904223u;
      switch (t->dtype) {
      case ARES_DT_F32: ((float *)*data)[k] = (float)((double)(s >> 8) / (double)(1u << 24) * 2.0 - 1.0); break;
      case ARES_DT_I8: ((int8_t *)*data)[k] = (int8_t)((int32_t)(s >> 24) - 128); break;
      case ARES_DT_U8: ((uint8_t *)*data)[k] = (uint8_t)(s >> 24); break;
      case ARES_DT_I16: ((int16_t *)*data)[k] = (int16_t)(s >> 28); break;
      case ARES_DT_I32: ((int32_t *)*data)[k] = (int32_t)(s >> 28); break;
      default: ((int64_t *)*data)[k] = (int64_t)(s >> 28); break;
      }
    }
    fprintf(stderr, "ares: no input given for '%s': using fixed pseudo-random data\n", t->name);
    return 0;
  }
  ares_npy a;
  char err[256];
  if (ares_npy_load(path, &a, err, sizeof err) != 0) return ares_fail(NULL, "input '%s': %s", path, err);
  int rc = 0;
  if (strcmp(a.dtype, ares_dtype_npy(t->dtype)) != 0)
    rc = ares_fail(NULL, "input '%s': %s data expected for the model's input '%s' (%s), found %s", path,
                   ares_dtype_npy(t->dtype), t->name, ares_dtype_name(t->dtype), a.dtype);
  else if (a.nbytes != esz * (size_t)n)
    rc = ares_fail(NULL, "input '%s' has %zu elements, the model's input '%s' needs %" PRId64, path, a.nbytes / esz, t->name, n);
  if (rc == 0) memcpy(*data, a.data, a.nbytes);
  ares_npy_free(&a);
  return rc;
}

static int run_cmd(const char *cmd, const char *what) {
  int st = system(cmd);
  if (st != 0) return ares_fail(NULL, "%s failed (status %d): %s", what, st, cmd);
  return 0;
}

/* Runs the built network in proj with the given options (relative paths): natively, or on
 * qemu-system-riscv32 with `cores` harts (0: one hart with exact instruction counting). */
static int run_network(const char *proj, int rv32, int cores, const char *opts, const char *files) {
  char cmd[16384], args[8192];
  if (!rv32) {
    snprintf(cmd, sizeof cmd, "cd '%s' && ./ares_net %s%s", proj, opts, files);
    return run_cmd(cmd, "running the generated network");
  }
  /* semihosting argv: each word an arg= option */
  size_t k = 0;
  char words[8192];
  snprintf(words, sizeof words, "%s%s", opts, files);
  for (char *w = strtok(words, " "); w && k < sizeof args; w = strtok(NULL, " "))
    k += (size_t)snprintf(args + k, sizeof args - k, ",arg=%s", w);
  snprintf(cmd, sizeof cmd,
           "cd '%s' && timeout 3600 qemu-system-riscv32 -machine virt -m 256M -nographic -bios none -smp %d %s "
           "-semihosting-config enable=on,target=native%s -kernel ares_net.elf",
           proj, cores ? cores : 1, cores ? "" : "-icount shift=0,sleep=off", args);
  return run_cmd(cmd, cores ? "running the generated network on qemu-system-riscv32" : "counting instructions on qemu-system-riscv32");
}

/* profile.txt ("layer instructions" per line) -> v->instr, per schedule step. */
static int read_profile(ares_validation *v) {
  char path[4096];
  snprintf(path, sizeof path, "%s/profile.txt", v->proj);
  FILE *f = fopen(path, "r");
  if (!f) return ares_fail(NULL, "no instruction counts in '%s'", path);
  v->instr = calloc((size_t)v->nsteps + 1, sizeof(int64_t));
  int l;
  long long c;
  while (v->instr && fscanf(f, "%d %lld", &l, &c) == 2)
    if (l >= 0 && l < v->nsteps) v->instr[l] = c;
  fclose(f);
  return v->instr ? 0 : ares_fail(NULL, "out of memory");
}

/* Compares the dumped layers with the reference: v->verdict per step, v->bad. */
static int compare_layers(ares_validation *v, void **values) {
  v->verdict = calloc((size_t)v->nsteps + 1, sizeof *v->verdict);
  if (!v->verdict) return ares_fail(NULL, "out of memory");
  for (int s = 0; s < v->nsteps; s++) {
    ares_node *n = v->g->nodes[v->order[s]];
    ares_tensor *y = v->g->tensors[n->out[0]];
    char path[4096], err[256];
    char *verdict = v->verdict[s];
    size_t vl = sizeof v->verdict[s];
    snprintf(path, sizeof path, "%s/layers/layer_%03d.npy", v->proj, s);
    ares_npy a;
    if (ares_npy_load(path, &a, err, sizeof err) != 0) {
      snprintf(verdict, vl, "MISSING (%s)", err);
      v->bad++;
    } else if (a.nbytes != ares_tensor_nbytes(y)) {
      snprintf(verdict, vl, "SIZE %zu != %zu", a.nbytes, ares_tensor_nbytes(y));
      v->bad++;
      ares_npy_free(&a);
    } else {
      size_t esz = ares_dtype_size(y->dtype), ne = a.nbytes / (esz ? esz : 1), diff = 0;
      for (size_t e = 0; e < ne; e++)
        if (memcmp((char *)a.data + e * esz, (char *)values[y->id] + e * esz, esz)) diff++;
      if (diff) {
        snprintf(verdict, vl, "MISMATCH %zu/%zu", diff, ne);
        if (!v->bad) fprintf(stderr, "ares: first mismatching layer: %d '%s' (%s): %zu of %zu elements differ\n", s, n->name,
                             ares_op_get(n->op)->name, diff, ne);
        v->bad++;
      } else {
        snprintf(verdict, vl, "ok");
      }
      ares_npy_free(&a);
    }
  }
  return 0;
}

int64_t ares_validation_instructions(const ares_validation *v) {
  int64_t total = 0;
  for (int s = 0; v->instr && s < v->nsteps; s++) total += v->instr[s];
  return total;
}

/* The per-layer table of a validation run, with instructions on rv32. */
static void print_layers(const ares_validation *v) {
  const ares_graph *g = v->g;
  ares_report_header(stdout, 1);
  if (v->instr) printf("%112s  %-14s %12s  %6s\n", "", "", "rv32 instr", "MAC/in");
  for (int s = 0; s < v->nsteps; s++) {
    const ares_node *n = g->nodes[v->order[s]];
    char v2[160];
    if (v->instr)
      snprintf(v2, sizeof v2, "%-14s %12lld  %6.3f", v->verdict[s], (long long)v->instr[s],
               v->instr[s] ? (double)n->macs / (double)v->instr[s] : 0.0);
    else
      snprintf(v2, sizeof v2, "%s", v->verdict[s]);
    ares_report_row(stdout, g, s, n, v2);
  }
  ares_report_footer(stdout, g);
  if (v->instr) {
    int64_t total = ares_validation_instructions(v), macs = ares_graph_macs(g);
    printf("rv32: %lld instructions on the critical path over %d cores, %.3f MACs per instruction\n", (long long)total,
           g->ncores, total ? (double)macs / (double)total : 0.0);
  }
}

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int ares_validate(const ares_cli_opts *o, ares_validation *v) {
  memset(v, 0, sizeof *v);
  const ares_target *tg = ares_target_find(o->target);
  if (!tg) return ares_fail(NULL, "unknown target '%s' (known: %s)", o->target, ares_target_names());
  int rv32 = strcmp(tg->name, "rv32") == 0;
  if (strcmp(tg->name, "host") != 0 && !rv32)
    return ares_fail(NULL, "unsupported: 'ares run' on target '%s' (it runs host and rv32; compile for %s and run on the chip)",
                     tg->name, tg->name);
  double t0 = seconds_now();
  ares_graph *g = v->g = ares_cli_load(o->model, o);
  if (!g) return -1;
  v->nsteps = ares_graph_topo(g, &v->order);
  void **values = calloc((size_t)g->ntensors + 1, sizeof(void *));
  void **inputs = calloc((size_t)g->ninputs + 1, sizeof(void *));
  char cmd[16384], path[4096];
  char *proj = v->proj;
  size_t plen = sizeof v->proj;
  int rc = -1;
  if (!values || !inputs || v->nsteps < 0) goto done;
  v->compile_secs = seconds_now() - t0;
  for (int i = 0; i < g->ninputs; i++) {
    if (load_input(o, g, i, &inputs[i]) < 0) goto done;
    values[g->inputs[i]] = inputs[i];
  }
  if (ares_ref_run(g, values) < 0) goto done;
  if (o->output) {
    ares_tensor *y = g->tensors[g->outputs[0]];
    if (ares_npy_save(o->output, ares_dtype_npy(y->dtype), y->rank, y->dims, values[y->id]) != 0) {
      ares_fail(NULL, "cannot write '%s'", o->output);
      goto done;
    }
  }
  t0 = seconds_now();
  if (o->project) {
    snprintf(proj, plen, "%s", o->project);
  } else if (o->keep) {
    snprintf(proj, plen, "%s", o->keep);
    if (ares_emit_project(g, o->target, proj) < 0) goto done;
  } else {
    snprintf(v->tmpdir, sizeof v->tmpdir, "/tmp/ares-run-XXXXXX");
    if (!mkdtemp(v->tmpdir)) {
      v->tmpdir[0] = 0;
      ares_fail(NULL, "cannot create a temporary directory: %s", strerror(errno));
      goto done;
    }
    snprintf(proj, plen, "%s/project", v->tmpdir);
    if (ares_emit_project(g, o->target, proj) < 0) goto done;
  }
  v->compile_secs += seconds_now() - t0;
  if (!safe_path(proj)) {
    ares_fail(NULL, "project path '%s' contains a quote", proj);
    goto done;
  }
  /* one job per online CPU: the project's sources compile as separate objects */
  long jobs = sysconf(_SC_NPROCESSORS_ONLN);
  snprintf(cmd, sizeof cmd, "make -s -j%ld -C '%s' %s >&2", jobs > 0 ? jobs : 1, proj, rv32 ? "ares_net.elf" : "ares_net");
  if (run_cmd(cmd, "building the generated project") < 0) goto done;
  snprintf(path, sizeof path, "%s/layers", proj);
  if (ares_remove_tree(path) != 0 && errno != ENOENT) {
    ares_fail(NULL, "cannot clear '%s'", path);
    goto done;
  }
  if (mkdir(path, 0755) != 0) {
    ares_fail(NULL, "cannot create '%s': %s", path, strerror(errno));
    goto done;
  }
  /* inputs and outputs as files in the project; the program gets them relative to it */
  char files[4096];
  size_t k = 0;
  files[0] = 0;
  for (int i = 0; i < g->ninputs; i++) {
    ares_tensor *t = g->tensors[g->inputs[i]];
    snprintf(path, sizeof path, "%s/input_%d.npy", proj, i);
    if (ares_npy_save(path, ares_dtype_npy(t->dtype), t->rank, t->dims, inputs[i]) != 0) {
      ares_fail(NULL, "cannot write '%s'", path);
      goto done;
    }
    k += (size_t)snprintf(files + k, sizeof files - k, " input_%d.npy", i);
  }
  for (int i = 0; i < g->noutputs && k < sizeof files; i++)
    k += (size_t)snprintf(files + k, sizeof files - k, " output_%d.npy", i);
  if (k >= sizeof files || run_network(proj, rv32, g->ncores, "--dump layers", files) < 0) goto done;
  /* rv32: a second run on one hart under -icount counts each layer's instructions */
  if (rv32 && (run_network(proj, rv32, 0, "--profile profile.txt", files) < 0 || read_profile(v) < 0)) goto done;
  rc = compare_layers(v, values);
done:
  if (values) ares_ref_free(g, values);
  for (int i = 0; inputs && i < g->ninputs; i++) free(inputs[i]);
  free(inputs);
  free(values);
  return rc;
}

void ares_validation_free(ares_validation *v) {
  if (v->tmpdir[0]) ares_remove_tree(v->tmpdir);
  free(v->instr);
  free(v->verdict);
  free(v->order);
  ares_graph_free(v->g);
  memset(v, 0, sizeof *v);
}

int ares_cli_run(const ares_cli_opts *o) {
  ares_validation v;
  int status = 2;
  if (ares_validate(o, &v) == 0) {
    print_layers(&v);
    if (v.bad == 0) printf("ares: all layers match the reference bit for bit\n");
    else printf("ares: %d layer(s) differ from the reference\n", v.bad);
    status = v.bad ? 1 : 0;
  }
  ares_validation_free(&v);
  return status;
}
