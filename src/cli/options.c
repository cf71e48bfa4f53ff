/* Option parsing for the subcommands. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int ares_cli_parse(int argc, char **argv, ares_cli_opts *o, const char *usage) {
  memset(o, 0, sizeof *o);
  o->target = "host";
  static const struct {
    const char *flag, *alias;
    size_t off;
  } opts[] = {
      {"--out", "-o", offsetof(ares_cli_opts, out)},
      {"--target", NULL, offsetof(ares_cli_opts, target)},
      {"--input", NULL, offsetof(ares_cli_opts, input)},
      {"--keep", NULL, offsetof(ares_cli_opts, keep)},
      {"--project", NULL, offsetof(ares_cli_opts, project)},
      {"--output", NULL, offsetof(ares_cli_opts, output)},
      {"--dump-after", NULL, offsetof(ares_cli_opts, dump_after)},
      {"--dump-file", NULL, offsetof(ares_cli_opts, dump_file)},
      {"--cores", NULL, offsetof(ares_cli_opts, cores)},
      {"--l1", NULL, offsetof(ares_cli_opts, l1)},
  };
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      o->help = 1;
      return 0;
    }
    if (strcmp(a, "--report") == 0) {
      o->report = 1;
      continue;
    }
    size_t k, n = sizeof opts / sizeof *opts;
    for (k = 0; k < n; k++)
      if (strcmp(a, opts[k].flag) == 0 || (opts[k].alias && strcmp(a, opts[k].alias) == 0)) break;
    if (k < n) {
      if (i + 1 >= argc) {
        fprintf(stderr, "ares: error: %s needs a value\n\n%s", a, usage);
        return -1;
      }
      *(const char **)((char *)o + opts[k].off) = argv[++i];
    } else if (a[0] == '-') {
      fprintf(stderr, "ares: error: unknown option '%s'\n\n%s", a, usage);
      return -1;
    } else if (!o->model) {
      o->model = a;
    } else {
      fprintf(stderr, "ares: error: unexpected argument '%s'\n\n%s", a, usage);
      return -1;
    }
  }
  if (!o->model) {
    fprintf(stderr, "ares: error: no MODEL given\n\n%s", usage);
    return -1;
  }
  return 0;
}
