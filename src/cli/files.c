/* File-system helpers of the subcommands. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "ir/diag.h"

int ares_cli_is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int ares_cli_is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int ares_cli_subdirs_with(const char *dir, const char *file, char ***names) {
  *names = NULL;
  DIR *d = opendir(dir);
  if (!d) return ares_fail(NULL, "cannot open '%s'", dir);
  char **v = NULL;
  int n = 0, cap = 0, oom = 0;
  for (struct dirent *e; !oom && (e = readdir(d));) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s/%s", dir, e->d_name, file);
    if (e->d_name[0] == '.' || !ares_cli_is_file(p)) continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      char **nv = realloc(v, sizeof *v * (size_t)cap);
      if (!(oom = !nv)) v = nv;
    }
    if (!oom && !(oom = !(v[n] = strdup(e->d_name)))) n++;
  }
  closedir(d);
  if (oom) {
    ares_cli_free_names(v, n);
    return ares_fail(NULL, "out of memory listing '%s'", dir);
  }
  if (n) qsort(v, (size_t)n, sizeof *v, name_cmp);
  *names = v;
  return n;
}

void ares_cli_free_names(char **names, int n) {
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
}
