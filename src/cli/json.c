/* Strict JSON: a recursive-descent reader over a NUL-terminated text, and the string writer.
 * Strict means: no comments, no trailing commas, no duplicate keys, no leading zeros, no
 * control characters in strings, nesting at most 64 deep; errors say line and column. */
#include "json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct {
  const char *s, *p;
  char *err;
  size_t errlen;
  int failed;
} reader;

static void *fail(reader *r, const char *fmt, ...) {
  if (r->failed) return NULL;
  r->failed = 1;
  int line = 1, col = 1;
  for (const char *q = r->s; q < r->p; q++) {
    if (*q == '\n') line++, col = 1;
    else col++;
  }
  int k = snprintf(r->err, r->errlen, "line %d, column %d: ", line, col);
  va_list ap;
  va_start(ap, fmt);
  if (k >= 0 && (size_t)k < r->errlen) vsnprintf(r->err + k, r->errlen - (size_t)k, fmt, ap);
  va_end(ap);
  return NULL;
}

static void skip_ws(reader *r) {
  while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r') r->p++;
}

static ares_json *new_value(reader *r, ares_json_type t) {
  ares_json *j = calloc(1, sizeof *j);
  if (!j) return fail(r, "out of memory");
  j->type = t;
  return j;
}

static int hex4(const char *p, unsigned *v) {
  *v = 0;
  for (int k = 0; k < 4; k++) {
    char c = p[k];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    *v = *v * 16 + (unsigned)d;
  }
  return 0;
}

/* A string literal at r->p (the opening quote) -> malloc'd UTF-8. */
static char *read_string(reader *r) {
  const char *start = ++r->p;
  /* the decoded text is never longer than the literal */
  while (*r->p && *r->p != '"') r->p += *r->p == '\\' && r->p[1] ? 2 : 1;
  char *out = malloc((size_t)(r->p - start) + 1);
  if (!out) return fail(r, "out of memory");
  r->p = start;
  char *o = out;
  for (;;) {
    unsigned char c = (unsigned char)*r->p;
    if (c == 0) return free(out), fail(r, "unterminated string");
    if (c == '"') break;
    if (c < 0x20) return free(out), fail(r, "control character in a string");
    if (c != '\\') {
      *o++ = (char)c;
      r->p++;
      continue;
    }
    char e = r->p[1];
    r->p += 2;
    const char *simple = strchr("\"\\/bfnrt", e);
    if (e && simple) {
      *o++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
      continue;
    }
    if (e != 'u') return r->p -= 2, free(out), fail(r, "bad escape in a string");
    unsigned cp, lo;
    if (hex4(r->p, &cp) < 0) return free(out), fail(r, "bad \\u escape");
    r->p += 4;
    if (cp >= 0xD800 && cp < 0xDC00) { /* a surrogate pair */
      if (r->p[0] != '\\' || r->p[1] != 'u' || hex4(r->p + 2, &lo) < 0 || lo < 0xDC00 || lo >= 0xE000)
        return free(out), fail(r, "unpaired surrogate in a \\u escape");
      r->p += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp < 0xE000) {
      return free(out), fail(r, "unpaired surrogate in a \\u escape");
    }
    if (cp < 0x80) *o++ = (char)cp;
    else if (cp < 0x800) *o++ = (char)(0xC0 | cp >> 6), *o++ = (char)(0x80 | (cp & 63));
    else if (cp < 0x10000) *o++ = (char)(0xE0 | cp >> 12), *o++ = (char)(0x80 | ((cp >> 6) & 63)), *o++ = (char)(0x80 | (cp & 63));
    else
      *o++ = (char)(0xF0 | cp >> 18), *o++ = (char)(0x80 | ((cp >> 12) & 63)), *o++ = (char)(0x80 | ((cp >> 6) & 63)),
      *o++ = (char)(0x80 | (cp & 63));
  }
  r->p++;
  *o = 0;
  return out;
}

static ares_json *read_number(reader *r) {
  const char *start = r->p, *q = r->p;
  int integral = 1;
  if (*q == '-') q++;
  if (*q == '0') q++;
  else if (*q >= '1' && *q <= '9') while (*q >= '0' && *q <= '9') q++;
  else return fail(r, "bad number");
  if (*q == '.') {
    integral = 0;
    if (!(*++q >= '0' && *q <= '9')) return r->p = q, fail(r, "bad number: digits expected after '.'");
    while (*q >= '0' && *q <= '9') q++;
  }
  if (*q == 'e' || *q == 'E') {
    integral = 0;
    if (*++q == '+' || *q == '-') q++;
    if (!(*q >= '0' && *q <= '9')) return r->p = q, fail(r, "bad number: digits expected in the exponent");
    while (*q >= '0' && *q <= '9') q++;
  }
  ares_json *j = new_value(r, ARES_JSON_NUMBER);
  if (!j) return NULL;
  j->num = strtod(start, NULL);
  if (integral) {
    errno = 0;
    long long v = strtoll(start, NULL, 10);
    if (errno == 0) j->is_int = 1, j->i = v;
  }
  r->p = q;
  return j;
}

static ares_json *read_value(reader *r, int depth);

/* Appends v (and key k, for an object) to the container j. */
static int append(reader *r, ares_json *j, char *k, ares_json *v) {
  ares_json **items = realloc(j->item, sizeof *items * (size_t)(j->n + 1));
  if (items) j->item = items;
  char **keys = j->type == ARES_JSON_OBJECT ? realloc(j->key, sizeof *keys * (size_t)(j->n + 1)) : NULL;
  if (keys) j->key = keys;
  if (!items || (j->type == ARES_JSON_OBJECT && !keys)) {
    free(k);
    ares_json_free(v);
    fail(r, "out of memory");
    return -1;
  }
  j->item[j->n] = v;
  if (keys) j->key[j->n] = k;
  j->n++;
  return 0;
}

static ares_json *read_container(reader *r, int depth, int object) {
  if (depth >= MAX_DEPTH) return fail(r, "nesting deeper than %d", MAX_DEPTH);
  char close = object ? '}' : ']';
  ares_json *j = new_value(r, object ? ARES_JSON_OBJECT : ARES_JSON_ARRAY);
  if (!j) return NULL;
  r->p++;
  skip_ws(r);
  if (*r->p == close) {
    r->p++;
    return j;
  }
  for (;;) {
    char *k = NULL;
    skip_ws(r);
    if (!*r->p) return ares_json_free(j), fail(r, "unexpected end of the text");
    if (object) {
      if (*r->p != '"') return ares_json_free(j), fail(r, "a key (string) expected");
      const char *at = r->p;
      if (!(k = read_string(r))) return ares_json_free(j), NULL;
      if (ares_json_get(j, k)) {
        r->p = at;
        free(k);
        return ares_json_free(j), fail(r, "duplicate key");
      }
      skip_ws(r);
      if (*r->p != ':') return free(k), ares_json_free(j), fail(r, "':' expected after a key");
      r->p++;
    }
    ares_json *v = read_value(r, depth + 1);
    if (!v) free(k);
    if (!v || append(r, j, k, v) < 0) return ares_json_free(j), NULL;
    skip_ws(r);
    if (*r->p == ',') {
      r->p++;
      skip_ws(r);
      if (*r->p == close) return ares_json_free(j), fail(r, "trailing comma");
      continue;
    }
    if (*r->p == close) {
      r->p++;
      return j;
    }
    return ares_json_free(j), fail(r, *r->p ? "',' or '%c' expected" : "unexpected end of the text", close);
  }
}

static ares_json *read_value(reader *r, int depth) {
  skip_ws(r);
  char c = *r->p;
  if (c == '{' || c == '[') return read_container(r, depth, c == '{');
  if (c == '"') {
    char *s = read_string(r);
    ares_json *j = s ? new_value(r, ARES_JSON_STRING) : NULL;
    if (!j) return free(s), NULL;
    j->str = s;
    return j;
  }
  if (c == '-' || (c >= '0' && c <= '9')) return read_number(r);
  static const struct {
    const char *word;
    ares_json_type t;
    int v;
  } words[] = {{"true", ARES_JSON_BOOL, 1}, {"false", ARES_JSON_BOOL, 0}, {"null", ARES_JSON_NULL, 0}};
  for (size_t k = 0; k < sizeof words / sizeof *words; k++) {
    size_t l = strlen(words[k].word);
    if (strncmp(r->p, words[k].word, l) == 0) {
      ares_json *j = new_value(r, words[k].t);
      if (j) j->num = words[k].v;
      r->p += l;
      return j;
    }
  }
  return fail(r, c ? "a value expected" : "unexpected end of the text");
}

ares_json *ares_json_parse(const char *text, char *err, size_t errlen) {
  reader r = {text, text, err, errlen, 0};
  ares_json *j = read_value(&r, 0);
  if (!j) return NULL;
  skip_ws(&r);
  if (*r.p) {
    ares_json_free(j);
    return fail(&r, "text after the value");
  }
  return j;
}

ares_json *ares_json_load(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "cannot open '%s'", path);
    return NULL;
  }
  char *buf = NULL;
  size_t len = 0, cap = 0, got;
  do {
    if (len + 4096 + 1 > cap) {
      cap = 2 * cap + 8192;
      char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        snprintf(err, errlen, "'%s': out of memory", path);
        return NULL;
      }
      buf = nb;
    }
    got = fread(buf + len, 1, 4096, f);
    len += got;
  } while (got == 4096);
  int bad = ferror(f);
  fclose(f);
  buf[len] = 0;
  char e[256];
  ares_json *j = NULL;
  if (bad) snprintf(e, sizeof e, "read error");
  else if (strlen(buf) != len) snprintf(e, sizeof e, "NUL byte in the text");
  else j = ares_json_parse(buf, e, sizeof e);
  free(buf);
  if (!j) snprintf(err, errlen, "'%s': %s", path, e);
  return j;
}

void ares_json_free(ares_json *j) {
  if (!j) return;
  for (int k = 0; k < j->n; k++) {
    ares_json_free(j->item[k]);
    if (j->key) free(j->key[k]);
  }
  free(j->item);
  free(j->key);
  free(j->str);
  free(j);
}

const ares_json *ares_json_get(const ares_json *obj, const char *key) {
  if (!obj || obj->type != ARES_JSON_OBJECT) return NULL;
  for (int k = 0; k < obj->n; k++)
    if (strcmp(obj->key[k], key) == 0) return obj->item[k];
  return NULL;
}

void ares_json_write_str(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if (*p == '\n') fputs("\\n", f);
    else if (*p == '\t') fputs("\\t", f);
    else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
    else fputc(*p, f);
  }
  fputc('"', f);
}
