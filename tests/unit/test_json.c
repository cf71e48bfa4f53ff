/* The strict JSON reader of `ares bench` (src/cli/json.c): values, escapes, and every kind
 * of malformed text it must refuse with a position. */
#include <stdlib.h>

#include "check.h"
#include "json.h"

/* Parses text; returns whether it failed with a message containing want. */
static int refused(const char *text, const char *want) {
  char err[256] = "";
  ares_json *j = ares_json_parse(text, err, sizeof err);
  int ok = !j && strstr(err, want) != NULL;
  if (!ok) fprintf(stderr, "  text %s: got '%s', wanted '%s'\n", text, j ? "(parsed)" : err, want);
  ares_json_free(j);
  return ok;
}

int main(void) {
  char err[256];
  ares_json *j = ares_json_parse(" {\"a\": [1, -2, 3.5, 1e3, true, false, null], \"big\": 9223372036854775807,\n"
                                 "  \"s\": \"q\\\"\\\\\\/\\n\\u00e9\\ud83d\\ude00\", \"o\": {}} ",
                                 err, sizeof err);
  CHECK(j != NULL);
  if (j) {
    CHECK_EQ(j->type, ARES_JSON_OBJECT);
    CHECK_EQ(j->n, 4);
    const ares_json *a = ares_json_get(j, "a");
    CHECK(a && a->type == ARES_JSON_ARRAY && a->n == 7);
    if (a && a->n == 7) {
      CHECK(a->item[0]->is_int && a->item[0]->i == 1);
      CHECK(a->item[1]->is_int && a->item[1]->i == -2);
      CHECK(!a->item[2]->is_int && a->item[2]->num == 3.5);
      CHECK(!a->item[3]->is_int && a->item[3]->num == 1000.0);
      CHECK(a->item[4]->type == ARES_JSON_BOOL && a->item[4]->num == 1);
      CHECK(a->item[5]->type == ARES_JSON_BOOL && a->item[5]->num == 0);
      CHECK_EQ(a->item[6]->type, ARES_JSON_NULL);
    }
    const ares_json *big = ares_json_get(j, "big");
    CHECK(big && big->is_int && big->i == INT64_MAX);
    const ares_json *s = ares_json_get(j, "s");
    CHECK(s && s->type == ARES_JSON_STRING && strcmp(s->str, "q\"\\/\n\xc3\xa9\xf0\x9f\x98\x80") == 0);
    CHECK(ares_json_get(j, "o") && ares_json_get(j, "o")->n == 0);
    CHECK(ares_json_get(j, "missing") == NULL);
  }
  ares_json_free(j);

  /* an integer beyond int64 is still a number, not an integer */
  j = ares_json_parse("[92233720368547758070]", err, sizeof err);
  CHECK(j && !j->item[0]->is_int && j->item[0]->num > 9e19);
  ares_json_free(j);

  /* the writer's strings read back as written */
  FILE *f = tmpfile();
  CHECK(f != NULL);
  if (f) {
    const char *text = "a \"b\" \\ c\n\t\x01 /z";
    ares_json_write_str(f, text);
    rewind(f);
    char buf[128] = "";
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = 0;
    fclose(f);
    j = ares_json_parse(buf, err, sizeof err);
    CHECK(j && j->type == ARES_JSON_STRING && strcmp(j->str, text) == 0);
    ares_json_free(j);
  }

  CHECK(refused("", "line 1, column 1: unexpected end of the text"));
  CHECK(refused("{\"a\": 1,}", "column 9: trailing comma"));
  CHECK(refused("[1, 2,]", "trailing comma"));
  CHECK(refused("{\"a\": 1, \"a\": 2}", "column 10: duplicate key"));
  CHECK(refused("{\"a\" 1}", "':' expected"));
  CHECK(refused("{1: 2}", "a key (string) expected"));
  CHECK(refused("[1 2]", "',' or ']' expected"));
  CHECK(refused("[1, 2", "unexpected end of the text"));
  CHECK(refused("01", "text after the value"));
  CHECK(refused("1.", "digits expected after '.'"));
  CHECK(refused("1e", "digits expected in the exponent"));
  CHECK(refused("-", "bad number"));
  CHECK(refused("+1", "a value expected"));
  CHECK(refused("tru", "a value expected"));
  CHECK(refused("\"abc", "unterminated string"));
  CHECK(refused("\"a\tb\"", "control character"));
  CHECK(refused("\"\\x\"", "bad escape"));
  CHECK(refused("\"\\u12g4\"", "bad \\u escape"));
  CHECK(refused("\"\\ud800\"", "unpaired surrogate"));
  CHECK(refused("\"\\udc00\"", "unpaired surrogate"));
  CHECK(refused("{} {}", "text after the value"));
  CHECK(refused("// comment\n{}", "a value expected"));
  CHECK(refused("{\n  \"a\": [1,\n  ]}", "line 3, column 3: trailing comma"));
  char deep[200];
  memset(deep, '[', 65);
  memset(deep + 65, ']', 65);
  deep[130] = 0;
  CHECK(refused(deep, "nesting deeper than 64"));
  deep[64] = ' ', deep[65] = ' ';                        /* 64 deep is fine */
  j = ares_json_parse(deep, err, sizeof err);
  CHECK(j != NULL);
  ares_json_free(j);
  return check_report();
}
