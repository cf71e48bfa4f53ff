/* Code size of a built rv32 program, read from its ELF symbol table: the sizes of its
 * function symbols (constants such as weights sit in .text as well on picolibc's layout,
 * so section sizes would count them as code). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static uint32_t rd32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint32_t rd16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }

/* The generated network's own functions (network.c): layer_<s> and ares_net_run. */
static int network_symbol(const char *name) {
  return strcmp(name, "ares_net_run") == 0 || (strncmp(name, "layer_", 6) == 0 && name[6] >= '0' && name[6] <= '9');
}

typedef struct {
  uint32_t addr, size;
  int net;
} func;

static int func_cmp(const void *a, const void *b) {
  const func *x = a, *y = b;
  return x->addr < y->addr ? -1 : x->addr > y->addr;
}

int ares_elf_code_bytes(const char *path, int64_t *all, int64_t *network, char *err, size_t errlen) {
  *all = *network = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return snprintf(err, errlen, "cannot open '%s'", path), -1;
  unsigned char *b = NULL;
  long len = -1;
  if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)len)) &&
      fread(b, 1, (size_t)len, f) != (size_t)len)
    len = -1;
  fclose(f);
  const char *why = NULL;
  func *fs = NULL;
  int nf = 0;
  if (!b || len < 52) why = "too short or unreadable";
  else if (memcmp(b, "\177ELF", 4) != 0 || b[4] != 1 || b[5] != 1) why = "not a 32-bit little-endian ELF file";
  uint32_t shoff = why ? 0 : rd32(b + 32), shentsize = why ? 0 : rd16(b + 46), shnum = why ? 0 : rd16(b + 48);
  if (!why && (shentsize < 40 || (uint64_t)shoff + (uint64_t)shnum * shentsize > (uint64_t)len)) why = "bad section headers";
  for (uint32_t s = 0; !why && s < shnum; s++) {
    const unsigned char *sh = b + shoff + s * shentsize;
    if (rd32(sh + 4) != 2) continue; /* SHT_SYMTAB */
    uint32_t off = rd32(sh + 16), size = rd32(sh + 20), link = rd32(sh + 24), ent = rd32(sh + 36);
    if (link >= shnum || ent < 16 || (uint64_t)off + size > (uint64_t)len) {
      why = "bad symbol table";
      break;
    }
    const unsigned char *strh = b + shoff + link * shentsize;
    uint32_t stroff = rd32(strh + 16), strsize = rd32(strh + 20);
    if ((uint64_t)stroff + strsize > (uint64_t)len || strsize == 0 || b[stroff + strsize - 1] != 0) {
      why = "bad string table";
      break;
    }
    free(fs);
    fs = calloc(size / ent + 1, sizeof *fs);
    nf = 0;
    if (!fs) {
      why = "out of memory";
      break;
    }
    for (uint32_t k = 0; k + ent <= size; k += ent) {
      const unsigned char *sym = b + off + k;
      uint32_t name = rd32(sym), value = rd32(sym + 4), ssize = rd32(sym + 8);
      if ((sym[12] & 15) != 2 || rd16(sym + 14) == 0 || ssize == 0 || name >= strsize) continue; /* STT_FUNC, defined */
      fs[nf++] = (func){value, ssize, network_symbol((const char *)b + stroff + name)};
    }
  }
  if (!why && !fs) why = "no symbol table";
  if (!why) {
    /* aliases (vfprintf / __d_vfprintf) share an address: count each address once */
    qsort(fs, (size_t)nf, sizeof *fs, func_cmp);
    for (int k = 0; k < nf; k++) {
      if (k && fs[k].addr == fs[k - 1].addr) continue;
      *all += fs[k].size;
      if (fs[k].net) *network += fs[k].size;
    }
  }
  free(fs);
  free(b);
  if (why) snprintf(err, errlen, "'%s': %s", path, why);
  return why ? -1 : 0;
}
