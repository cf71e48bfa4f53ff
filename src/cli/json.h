/* A small strict JSON reader (RFC 8259: objects, arrays, strings, numbers, true, false,
 * null; nothing more) and the one writer helper the figures need: a quoted string. Used by
 * `ares bench` for its baseline file. */
#ifndef ARES_JSON_H
#define ARES_JSON_H

#include <stdint.h>
#include <stdio.h>

typedef enum { ARES_JSON_NULL, ARES_JSON_BOOL, ARES_JSON_NUMBER, ARES_JSON_STRING, ARES_JSON_ARRAY, ARES_JSON_OBJECT } ares_json_type;

typedef struct ares_json ares_json;
struct ares_json {
  ares_json_type type;
  double num;       /* NUMBER (and BOOL: 0 or 1) */
  int is_int;       /* NUMBER written without fraction or exponent, exact in int64 */
  int64_t i;        /* NUMBER when is_int */
  char *str;        /* STRING */
  int n;            /* ARRAY / OBJECT: number of items */
  ares_json **item; /* ARRAY / OBJECT: the values, in file order */
  char **key;       /* OBJECT: the keys, in file order */
};

/* Parses the whole text (trailing blanks only). NULL on error, with "line L, column C: what"
 * in err. */
ares_json *ares_json_parse(const char *text, char *err, size_t errlen);
/* Reads and parses a file; the error names the file. */
ares_json *ares_json_load(const char *path, char *err, size_t errlen);
void ares_json_free(ares_json *j);
/* OBJECT member by key (the first one), or NULL. */
const ares_json *ares_json_get(const ares_json *obj, const char *key);
/* Writes s as a JSON string literal. */
void ares_json_write_str(FILE *f, const char *s);

#endif
