/* .npy reader (format 1.0-3.0) and writer (1.0). Only C order, little-endian or
 * byte-order-free types. Every field of a file is validated before it is trusted: the
 * reader never allocates more than the data it has actually read. Plain C11 + stdio. */
#include "ares_npy.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAX_HEADER (1u << 20) /* numpy headers are tiny; anything larger is corrupt */
#define NPY_CHUNK ((size_t)1 << 16)

static const struct {
  const char *code;
  size_t size;
} npy_types[] = {
    {"f4", 4}, {"f8", 8}, {"i1", 1}, {"u1", 1}, {"i2", 2}, {"u2", 2},
    {"i4", 4}, {"u4", 4}, {"i8", 8}, {"u8", 8}, {"b1", 1},
};

size_t ares_npy_itemsize(const char *dtype) {
  if (!dtype) return 0;
  for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
    if (strcmp(dtype, npy_types[i].code) == 0) return npy_types[i].size;
  return 0;
}

void ares_npy_free(ares_npy *a) {
  if (!a) return;
  free(a->data);
  a->data = NULL;
  a->nbytes = 0;
}

static int npy_fail(char *err, size_t errlen, const char *path, const char *fmt, ...) {
  if (err && errlen) {
    int k = snprintf(err, errlen, "%s: ", path ? path : "(null)");
    if (k < 0) k = 0;
    if ((size_t)k < errlen) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
      va_end(ap);
    }
  }
  return -1;
}

/* ---- header dictionary parser: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } */

typedef struct {
  const char *p, *end;
} npy_lex;

static void npy_ws(npy_lex *l) {
  while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r'))
    l->p++;
}

static int npy_eat(npy_lex *l, char c) {
  npy_ws(l);
  if (l->p < l->end && *l->p == c) {
    l->p++;
    return 1;
  }
  return 0;
}

/* Python string literal in ' or " quotes, no escapes; copied into buf (NUL-terminated). */
static int npy_str(npy_lex *l, char *buf, size_t cap) {
  npy_ws(l);
  if (l->p >= l->end || (*l->p != '\'' && *l->p != '"')) return 0;
  char q = *l->p++;
  size_t n = 0;
  while (l->p < l->end && *l->p != q) {
    if (*l->p == '\\' || n + 1 >= cap) return 0;
    buf[n++] = *l->p++;
  }
  if (l->p >= l->end) return 0;
  l->p++;
  buf[n] = 0;
  return 1;
}

static int npy_word(npy_lex *l, const char *w) {
  size_t n = strlen(w);
  npy_ws(l);
  if ((size_t)(l->end - l->p) < n || memcmp(l->p, w, n) != 0) return 0;
  const char *after = l->p + n;
  if (after < l->end && ((*after >= 'a' && *after <= 'z') || (*after >= 'A' && *after <= 'Z') ||
                         (*after >= '0' && *after <= '9') || *after == '_'))
    return 0;
  l->p = after;
  return 1;
}

/* Non-negative decimal integer (optional Python 2 'L' suffix); 0 on overflow. */
static int npy_dim(npy_lex *l, int64_t *v) {
  npy_ws(l);
  if (l->p >= l->end || *l->p < '0' || *l->p > '9') return 0;
  int64_t x = 0;
  while (l->p < l->end && *l->p >= '0' && *l->p <= '9') {
    int d = *l->p++ - '0';
    if (x > (INT64_MAX - d) / 10) return 0;
    x = x * 10 + d;
  }
  if (l->p < l->end && (*l->p == 'L' || *l->p == 'l')) l->p++;
  *v = x;
  return 1;
}

static int npy_parse_header(const char *h, size_t len, ares_npy *out, const char *path,
                            char *err, size_t errlen) {
  npy_lex l = {h, h + len};
  int have_descr = 0, have_fo = 0, have_shape = 0;
  char descr[32];
  if (!npy_eat(&l, '{')) return npy_fail(err, errlen, path, "header is not a dict");
  for (;;) {
    char key[32];
    if (npy_eat(&l, '}')) break;
    if (!npy_str(&l, key, sizeof key))
      return npy_fail(err, errlen, path, "header: expected a quoted key or '}'");
    if (!npy_eat(&l, ':')) return npy_fail(err, errlen, path, "header: expected ':' after '%s'", key);
    if (strcmp(key, "descr") == 0) {
      if (have_descr) return npy_fail(err, errlen, path, "header: duplicate key 'descr'");
      if (!npy_str(&l, descr, sizeof descr))
        return npy_fail(err, errlen, path, "header: 'descr' is not a simple type string "
                                           "(structured dtypes are not supported)");
      have_descr = 1;
    } else if (strcmp(key, "fortran_order") == 0) {
      if (have_fo) return npy_fail(err, errlen, path, "header: duplicate key 'fortran_order'");
      if (npy_word(&l, "True"))
        return npy_fail(err, errlen, path, "fortran_order arrays are not supported (C order only)");
      if (!npy_word(&l, "False"))
        return npy_fail(err, errlen, path, "header: 'fortran_order' must be True or False");
      have_fo = 1;
    } else if (strcmp(key, "shape") == 0) {
      if (have_shape) return npy_fail(err, errlen, path, "header: duplicate key 'shape'");
      if (!npy_eat(&l, '(')) return npy_fail(err, errlen, path, "header: 'shape' is not a tuple");
      out->rank = 0;
      for (;;) {
        int64_t d;
        if (npy_eat(&l, ')')) break;
        if (!npy_dim(&l, &d))
          return npy_fail(err, errlen, path, "header: bad dimension in 'shape' "
                                             "(must be a non-negative integer that fits int64)");
        if (out->rank >= ARES_NPY_MAX_DIMS)
          return npy_fail(err, errlen, path, "rank exceeds the maximum of %d", ARES_NPY_MAX_DIMS);
        out->dims[out->rank++] = d;
        if (npy_eat(&l, ',')) continue;
        if (npy_eat(&l, ')')) break;
        return npy_fail(err, errlen, path, "header: expected ',' or ')' in 'shape'");
      }
      have_shape = 1;
    } else {
      return npy_fail(err, errlen, path, "header: unexpected key '%s'", key);
    }
    if (npy_eat(&l, ',')) continue;
    if (npy_eat(&l, '}')) break;
    return npy_fail(err, errlen, path, "header: expected ',' or '}'");
  }
  npy_ws(&l);
  if (l.p != l.end) return npy_fail(err, errlen, path, "header: trailing characters after the dict");
  if (!have_descr || !have_fo || !have_shape)
    return npy_fail(err, errlen, path, "header: missing key '%s'",
                    !have_descr ? "descr" : !have_fo ? "fortran_order" : "shape");

  /* descr: byte order + type code */
  char bo = descr[0];
  const char *code = descr;
  if (bo == '<' || bo == '|' || bo == '=' || bo == '>') code = descr + 1;
  if (strchr(code, 'O'))
    return npy_fail(err, errlen, path, "object dtype '%s' is not supported", descr);
  size_t isz = ares_npy_itemsize(code);
  if (isz == 0) return npy_fail(err, errlen, path, "unsupported dtype '%s'", descr);
  if (bo == '>' && isz > 1)
    return npy_fail(err, errlen, path, "big-endian dtype '%s' is not supported", descr);
  if (code == descr && isz > 1)
    return npy_fail(err, errlen, path, "dtype '%s' has no byte order", descr);
  memcpy(out->dtype, code, 3);
  out->dtype[3] = 0;

  /* size = product(dims) * itemsize, without overflow of size_t or int64 */
  size_t n = isz;
  int zero = 0;
  for (int i = 0; i < out->rank; i++) {
    uint64_t d = (uint64_t)out->dims[i];
    if (d == 0) zero = 1;
    else if (!zero && n > (SIZE_MAX / 2) / d)
      return npy_fail(err, errlen, path, "shape is too large (byte count overflows)");
    else if (!zero) n *= (size_t)d;
  }
  out->nbytes = zero ? 0 : n;
  return 0;
}

/* ---- load */

int ares_npy_load(const char *path, ares_npy *out, char *err, size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!out) return npy_fail(err, errlen, path, "no output");
  memset(out, 0, sizeof *out);
  if (!path) return npy_fail(err, errlen, path, "no path");
  FILE *f = fopen(path, "rb");
  if (!f) return npy_fail(err, errlen, path, "cannot open");

  unsigned char pre[12];
  char *hdr = NULL;
  unsigned char *data = NULL;
  size_t got = fread(pre, 1, 8, f);
  if (got == 0) {
    npy_fail(err, errlen, path, "empty file");
    goto fail;
  }
  if (got < 6 || memcmp(pre, "\x93NUMPY", 6) != 0) {
    npy_fail(err, errlen, path, "not a .npy file (bad magic)");
    goto fail;
  }
  if (got < 8) {
    npy_fail(err, errlen, path, "truncated header");
    goto fail;
  }
  int major = pre[6];
  size_t hlen;
  if (major == 1) {
    if (fread(pre + 8, 1, 2, f) != 2) {
      npy_fail(err, errlen, path, "truncated header");
      goto fail;
    }
    hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
  } else if (major == 2 || major == 3) {
    if (fread(pre + 8, 1, 4, f) != 4) {
      npy_fail(err, errlen, path, "truncated header");
      goto fail;
    }
    uint32_t h4 = (uint32_t)pre[8] | (uint32_t)pre[9] << 8 | (uint32_t)pre[10] << 16 |
                  (uint32_t)pre[11] << 24;
    if (h4 > NPY_MAX_HEADER) {
      npy_fail(err, errlen, path, "header length %lu is implausible", (unsigned long)h4);
      goto fail;
    }
    hlen = h4;
  } else {
    npy_fail(err, errlen, path, "unsupported format version %d.%d", major, pre[7]);
    goto fail;
  }
  if (hlen == 0) {
    npy_fail(err, errlen, path, "empty header");
    goto fail;
  }
  hdr = malloc(hlen);
  if (!hdr) {
    npy_fail(err, errlen, path, "out of memory");
    goto fail;
  }
  if (fread(hdr, 1, hlen, f) != hlen) {
    npy_fail(err, errlen, path, "truncated header");
    goto fail;
  }
  for (size_t i = 0; i < hlen; i++)
    if (hdr[i] == 0) {
      npy_fail(err, errlen, path, "header contains a NUL byte");
      goto fail;
    }
  if (npy_parse_header(hdr, hlen, out, path, err, errlen) != 0) goto fail;
  free(hdr);
  hdr = NULL;

  /* Read the data in growing chunks so a lying shape cannot make us allocate more than the
   * file holds. */
  size_t want = out->nbytes, have = 0, cap = 0;
  while (have < want) {
    if (have == cap) {
      size_t ncap = cap ? (cap > want / 2 ? want : cap * 2) : (want < NPY_CHUNK ? want : NPY_CHUNK);
      unsigned char *nd = realloc(data, ncap);
      if (!nd) {
        npy_fail(err, errlen, path, "out of memory");
        goto fail;
      }
      data = nd;
      cap = ncap;
    }
    size_t k = fread(data + have, 1, cap - have, f);
    if (k == 0) {
      npy_fail(err, errlen, path, "truncated data: %lu of %lu bytes", (unsigned long)have,
               (unsigned long)want);
      goto fail;
    }
    have += k;
  }
  {
    unsigned char extra;
    if (fread(&extra, 1, 1, f) == 1) {
      npy_fail(err, errlen, path, "trailing bytes after the %lu data bytes", (unsigned long)want);
      goto fail;
    }
  }
  if (!data) { /* zero-element array: still hand back a valid pointer */
    data = malloc(1);
    if (!data) {
      npy_fail(err, errlen, path, "out of memory");
      goto fail;
    }
  }
  fclose(f);
  out->data = data;
  return 0;

fail:
  free(hdr);
  free(data);
  fclose(f);
  memset(out, 0, sizeof *out);
  return -1;
}

/* ---- save (format 1.0) */

int ares_npy_save(const char *path, const char *dtype, int rank, const int64_t *dims,
                  const void *data) {
  size_t isz = ares_npy_itemsize(dtype);
  if (!path || isz == 0 || rank < 0 || rank > ARES_NPY_MAX_DIMS || (rank > 0 && !dims)) return -1;
  char hdr[512];
  int k = snprintf(hdr, sizeof hdr, "{'descr': '%c%s', 'fortran_order': False, 'shape': (",
                   isz == 1 ? '|' : '<', dtype);
  size_t n = isz;
  int zero = 0;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0) return -1;
    if (dims[i] == 0) zero = 1;
    else if (!zero && n > (SIZE_MAX / 2) / (uint64_t)dims[i]) return -1;
    else if (!zero) n *= (size_t)dims[i];
    char digits[24];
    int nd = 0;
    int64_t v = dims[i];
    do { /* by hand: small printf variants (picolibc) may lack %lld */
      digits[nd++] = (char)('0' + v % 10);
      v /= 10;
    } while (v);
    while (nd) hdr[k++] = digits[--nd];
    k += snprintf(hdr + k, sizeof hdr - (size_t)k, "%s", rank == 1 ? "," : i + 1 < rank ? ", " : "");
  }
  k += snprintf(hdr + k, sizeof hdr - (size_t)k, "), }");
  if (zero) n = 0;
  if (n && !data) return -1;
  /* pad with spaces so magic(6)+version(2)+len(2)+header is a multiple of 64, ending '\n' */
  size_t total = 10 + (size_t)k + 1;
  size_t padded = (total + 63) / 64 * 64;
  size_t hlen = padded - 10;
  if (hlen >= sizeof hdr) return -1;
  memset(hdr + k, ' ', hlen - (size_t)k);
  hdr[hlen - 1] = '\n';

  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                           (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, hlen, f) == hlen &&
           (n == 0 || fwrite(data, 1, n, f) == n);
  if (fclose(f) != 0) ok = 0;
  if (!ok) remove(path);
  return ok ? 0 : -1;
}
