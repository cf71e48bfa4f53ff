/* Unit tests for runtime/ares_npy.c: round trips, header variants numpy (or a hand) may
 * write, and a corpus of malformed files that must each be rejected with a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ares_npy.h"
#include "check.h"

static char tmpdir[512] = "build/unit";

static const char *tpath(const char *name) {
  static char buf[1024];
  snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
  return buf;
}

static void write_bytes(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(2);
  }
  if (n) fwrite(p, 1, n, f);
  fclose(f);
}

/* A .npy file with the given version, header text (padded to 64 like numpy unless
 * raw), and data bytes. */
static void write_npy(const char *path, int major, const char *hdr, const void *data, size_t n,
                      int raw) {
  unsigned char buf[4096];
  size_t pre = major == 1 ? 10 : 12, hl = strlen(hdr);
  size_t hlen = hl;
  if (!raw) hlen = ((pre + hl + 1 + 63) / 64 * 64) - pre;
  memcpy(buf, "\x93NUMPY", 6);
  buf[6] = (unsigned char)major;
  buf[7] = 0;
  buf[8] = (unsigned char)(hlen & 0xff);
  buf[9] = (unsigned char)(hlen >> 8);
  if (major != 1) {
    buf[10] = (unsigned char)(hlen >> 16);
    buf[11] = (unsigned char)(hlen >> 24);
  }
  memcpy(buf + pre, hdr, hl);
  if (!raw) {
    memset(buf + pre + hl, ' ', hlen - hl);
    buf[pre + hlen - 1] = '\n';
  }
  if (n) memcpy(buf + pre + hlen, data, n);
  write_bytes(path, buf, pre + hlen + n);
}

/* ---- round trips */

static void test_roundtrip(void) {
  static const char *types[] = {"f4", "i1", "u1", "i2", "i4", "i8", "f8", "u2", "u4", "u8", "b1"};
  static unsigned char src[65536];
  for (size_t i = 0; i < sizeof src; i++) src[i] = (unsigned char)(i * 37 + 11);
  for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
    for (int rank = 0; rank <= ARES_NPY_MAX_DIMS; rank++) {
      int64_t dims[ARES_NPY_MAX_DIMS];
      size_t n = ares_npy_itemsize(types[t]);
      for (int d = 0; d < rank; d++) {
        dims[d] = 1 + (d * 3 + (int)t) % 3;
        n *= (size_t)dims[d];
      }
      char what[64];
      snprintf(what, sizeof what, "%s rank %d", types[t], rank);
      const char *p = tpath("rt.npy");
      CHECK_EQ(ares_npy_save(p, types[t], rank, dims, src), 0);
      /* numpy's alignment: the data starts at a multiple of 64 */
      FILE *f = fopen(p, "rb");
      CHECK(f != NULL);
      if (f) {
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fclose(f);
        CHECK_EQ((sz - (long)n) % 64, 0);
      }
      ares_npy a;
      char err[256];
      int rc = ares_npy_load(p, &a, err, sizeof err);
      CHECK_EQ(rc, 0);
      if (rc) {
        fprintf(stderr, "  %s: %s\n", what, err);
        continue;
      }
      CHECK(strcmp(a.dtype, types[t]) == 0);
      CHECK_EQ(a.rank, rank);
      CHECK_EQ(a.nbytes, n);
      CHECK(a.data != NULL);
      CHECK_MEM(a.dims, dims, sizeof(int64_t) * (size_t)rank, what);
      CHECK_MEM(a.data, src, n, what);
      ares_npy_free(&a);
      CHECK(a.data == NULL);
    }
  }
  /* zero-element array */
  int64_t zd[3] = {2, 0, 5};
  CHECK_EQ(ares_npy_save(tpath("zero.npy"), "i4", 3, zd, NULL), 0);
  ares_npy a;
  char err[256];
  CHECK_EQ(ares_npy_load(tpath("zero.npy"), &a, err, sizeof err), 0);
  CHECK_EQ(a.rank, 3);
  CHECK_EQ(a.dims[1], 0);
  CHECK_EQ(a.nbytes, 0);
  CHECK(a.data != NULL);
  ares_npy_free(&a);
  ares_npy_free(&a); /* idempotent */

  /* a larger array exercises the chunked read */
  size_t big = 300000;
  unsigned char *b = malloc(big);
  for (size_t i = 0; i < big; i++) b[i] = (unsigned char)(i ^ (i >> 8));
  int64_t bd[2] = {300, 1000};
  CHECK_EQ(ares_npy_save(tpath("big.npy"), "i1", 2, bd, b), 0);
  CHECK_EQ(ares_npy_load(tpath("big.npy"), &a, err, sizeof err), 0);
  CHECK_EQ(a.nbytes, big);
  CHECK_MEM(a.data, b, big, "big");
  ares_npy_free(&a);
  free(b);
}

/* ---- headers as numpy and other writers produce them */

static void load_ok(const char *name, const char *dtype, int rank, const int64_t *dims) {
  ares_npy a;
  char err[256];
  int rc = ares_npy_load(tpath(name), &a, err, sizeof err);
  CHECK_EQ(rc, 0);
  if (rc) {
    fprintf(stderr, "  %s: %s\n", name, err);
    return;
  }
  CHECK(strcmp(a.dtype, dtype) == 0);
  CHECK_EQ(a.rank, rank);
  CHECK_MEM(a.dims, dims, sizeof(int64_t) * (size_t)rank, name);
  ares_npy_free(&a);
}

static void test_variants(void) {
  int32_t d4[4] = {1, -2, 3, -4};
  int64_t s4[] = {4}, s22[] = {2, 2}, s2[] = {2};
  float one = 1.5f;
  write_npy(tpath("v1.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", d4, 16, 0);
  load_ok("v1.npy", "i4", 1, s4);
  write_npy(tpath("v2.npy"), 2, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", d4, 16, 0);
  load_ok("v2.npy", "i4", 2, s22);
  write_npy(tpath("v3.npy"), 3, "{'descr': '<i2', 'fortran_order': False, 'shape': (4,), }", d4, 8, 0);
  load_ok("v3.npy", "i2", 1, s4);
  write_npy(tpath("scalar.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", &one, 4, 0);
  load_ok("scalar.npy", "f4", 0, NULL);
  /* other key order, double quotes, no trailing comma, odd spacing, no padding */
  write_npy(tpath("loose.npy"), 1, "{ \"shape\" :( 2 , 2 ) ,\"fortran_order\":False,'descr':\"<i4\"}", d4, 16, 1);
  load_ok("loose.npy", "i4", 2, s22);
  write_npy(tpath("long.npy"), 1, "{'descr':'<i4','fortran_order':False,'shape':(2L,2L),}", d4, 16, 0);
  load_ok("long.npy", "i4", 2, s22);
  write_npy(tpath("u1.npy"), 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", d4, 2, 0);
  load_ok("u1.npy", "u1", 1, s2);
  write_npy(tpath("lti1.npy"), 1, "{'descr': '<i1', 'fortran_order': False, 'shape': (2,), }", d4, 2, 0);
  load_ok("lti1.npy", "i1", 1, s2);
  write_npy(tpath("bei1.npy"), 1, "{'descr': '>i1', 'fortran_order': False, 'shape': (2,), }", d4, 2, 0);
  load_ok("bei1.npy", "i1", 1, s2); /* byte order is irrelevant for one byte */
  /* data must come back intact */
  ares_npy a;
  char err[256];
  CHECK_EQ(ares_npy_load(tpath("v1.npy"), &a, err, sizeof err), 0);
  CHECK_MEM(a.data, d4, 16, "v1 data");
  ares_npy_free(&a);
  CHECK_EQ(ares_npy_load(tpath("scalar.npy"), &a, err, sizeof err), 0);
  CHECK_EQ(a.nbytes, 4);
  CHECK_MEM(a.data, &one, 4, "scalar data");
  ares_npy_free(&a);
}

/* ---- malformed files */

static void load_bad(const char *name, const char *expect) {
  ares_npy a;
  char err[256];
  memset(&a, 0x5a, sizeof a);
  memset(err, 0, sizeof err);
  int rc = ares_npy_load(tpath(name), &a, err, sizeof err);
  CHECK_EQ(rc, -1);
  CHECK(a.data == NULL);
  CHECK(err[0] != 0);
  if (!strstr(err, expect)) {
    check_failed++;
    fprintf(stderr, "%s: expected message containing '%s', got '%s'\n", name, expect, err);
  } else check_passed++;
  ares_npy_free(&a); /* safe after failure */
}

static void test_malformed(void) {
  unsigned char junk[64];
  memset(junk, 0, sizeof junk);
  int32_t d4[4] = {1, 2, 3, 4};

  load_bad("does-not-exist.npy", "cannot open");
  write_bytes(tpath("empty.npy"), "", 0);
  load_bad("empty.npy", "empty");
  write_bytes(tpath("magic.npy"), "\x93NUMPZ\x01\x00\x10\x00", 10);
  load_bad("magic.npy", "magic");
  write_bytes(tpath("short.npy"), "\x93NU", 3);
  load_bad("short.npy", "magic");
  write_bytes(tpath("magiconly.npy"), "\x93NUMPY", 6);
  load_bad("magiconly.npy", "truncated");
  write_bytes(tpath("nolen.npy"), "\x93NUMPY\x01\x00\x40", 9);
  load_bad("nolen.npy", "truncated");
  write_bytes(tpath("v9.npy"), "\x93NUMPY\x09\x00\x10\x00", 10);
  load_bad("v9.npy", "version");
  write_bytes(tpath("hdrtrunc.npy"), "\x93NUMPY\x01\x00\x76\x00{'descr': '<i4'", 25);
  load_bad("hdrtrunc.npy", "truncated header");
  write_bytes(tpath("hdr0.npy"), "\x93NUMPY\x01\x00\x00\x00", 10);
  load_bad("hdr0.npy", "empty header");
  write_bytes(tpath("hdrhuge.npy"), "\x93NUMPY\x02\x00\xff\xff\xff\xff{", 13);
  load_bad("hdrhuge.npy", "implausible");
  write_npy(tpath("nul.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", d4, 16, 0);
  {
    FILE *f = fopen(tpath("nul.npy"), "r+b");
    fseek(f, 20, SEEK_SET);
    fputc(0, f);
    fclose(f);
  }
  load_bad("nul.npy", "NUL");
  write_npy(tpath("notdict.npy"), 1, "['descr', '<i4']", d4, 16, 0);
  load_bad("notdict.npy", "not a dict");
  write_npy(tpath("unterm.npy"), 1, "{'descr: '<i4', 'fortran_order': False, 'shape': (4,), }", d4, 16, 0);
  load_bad("unterm.npy", "header");
  write_npy(tpath("nokey.npy"), 1, "{'descr': '<i4', 'shape': (4,), }", d4, 16, 0);
  load_bad("nokey.npy", "missing key 'fortran_order'");
  write_npy(tpath("extrakey.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), 'x': 1}", d4, 16, 0);
  load_bad("extrakey.npy", "unexpected key 'x'");
  write_npy(tpath("dupkey.npy"), 1, "{'descr': '<i4', 'descr': '<i4', 'fortran_order': False, 'shape': (4,)}", d4, 16, 0);
  load_bad("dupkey.npy", "duplicate");
  write_npy(tpath("trail.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), } x", d4, 16, 0);
  load_bad("trail.npy", "trailing characters");
  write_npy(tpath("nocomma.npy"), 1, "{'descr': '<i4' 'fortran_order': False, 'shape': (4,)}", d4, 16, 0);
  load_bad("nocomma.npy", "expected ',' or '}'");
  write_npy(tpath("be.npy"), 1, "{'descr': '>i4', 'fortran_order': False, 'shape': (4,), }", d4, 16, 0);
  load_bad("be.npy", "big-endian");
  write_npy(tpath("fo.npy"), 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", d4, 16, 0);
  load_bad("fo.npy", "fortran_order");
  write_npy(tpath("fo2.npy"), 1, "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (2, 2), }", d4, 16, 0);
  load_bad("fo2.npy", "True or False");
  write_npy(tpath("obj.npy"), 1, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", junk, 64, 0);
  load_bad("obj.npy", "object");
  write_npy(tpath("c8.npy"), 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", d4, 16, 0);
  load_bad("c8.npy", "unsupported dtype");
  write_npy(tpath("nobo.npy"), 1, "{'descr': 'i4', 'fortran_order': False, 'shape': (4,), }", d4, 16, 0);
  load_bad("nobo.npy", "byte order");
  write_npy(tpath("struct.npy"), 1, "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (4,), }", d4, 16, 0);
  load_bad("struct.npy", "structured");
  write_npy(tpath("longdescr.npy"), 1, "{'descr': '<i4xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'fortran_order': False, 'shape': (4,), }", d4, 16, 0);
  load_bad("longdescr.npy", "descr");
  write_npy(tpath("neg.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (-4,), }", d4, 16, 0);
  load_bad("neg.npy", "dimension");
  write_npy(tpath("notuple.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': 4, }", d4, 16, 0);
  load_bad("notuple.npy", "tuple");
  write_npy(tpath("badtuple.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (4 4), }", d4, 16, 0);
  load_bad("badtuple.npy", "shape");
  write_npy(tpath("bigdim.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (99999999999999999999,), }", d4, 16, 0);
  load_bad("bigdim.npy", "dimension");
  write_npy(tpath("overflow.npy"), 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", d4, 16, 0);
  load_bad("overflow.npy", "too large");
  write_npy(tpath("overflow2.npy"), 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (9223372036854775807,), }", d4, 16, 0);
  load_bad("overflow2.npy", "too large");
  /* absurd but representable: must fail on the data, not by allocating a terabyte */
  write_npy(tpath("absurd.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (1000000, 1000000), }", d4, 16, 0);
  load_bad("absurd.npy", "truncated data");
  write_npy(tpath("rank9.npy"), 1, "{'descr': '<i1', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", d4, 1, 0);
  load_bad("rank9.npy", "rank");
  write_npy(tpath("datatrunc.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", d4, 15, 0);
  load_bad("datatrunc.npy", "truncated data");
  write_npy(tpath("nodata.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", d4, 0, 0);
  load_bad("nodata.npy", "truncated data");
  write_npy(tpath("extra.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", d4, 16, 0);
  load_bad("extra.npy", "trailing bytes");

  /* the error buffer is optional and may be tiny */
  ares_npy a;
  CHECK_EQ(ares_npy_load(tpath("be.npy"), &a, NULL, 0), -1);
  char tiny[4];
  CHECK_EQ(ares_npy_load(tpath("be.npy"), &a, tiny, sizeof tiny), -1);
  CHECK(strlen(tiny) == 3);

  /* writer rejects what it cannot describe */
  int64_t dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, negd[1] = {-1};
  CHECK_EQ(ares_npy_save(tpath("w.npy"), "c8", 1, dims, d4), -1);
  CHECK_EQ(ares_npy_save(tpath("w.npy"), "i4", 9, dims, d4), -1);
  CHECK_EQ(ares_npy_save(tpath("w.npy"), "i4", 1, negd, d4), -1);
  CHECK_EQ(ares_npy_save(tpath("no-such-dir/w.npy"), "i4", 1, dims, d4), -1);
  CHECK_EQ(ares_npy_itemsize("i4"), 4);
  CHECK_EQ(ares_npy_itemsize("x"), 0);
  CHECK_EQ(ares_npy_itemsize(NULL), 0);
}

/* Every strict prefix of a valid file must be rejected, as must any single corrupted
 * header byte — without crashing (ASan/UBSan watch). */
static void test_fuzz(void) {
  unsigned char buf[256];
  int32_t d4[4] = {1, 2, 3, 4};
  write_npy(tpath("base.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", d4, 16, 0);
  FILE *f = fopen(tpath("base.npy"), "rb");
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  int all_rejected = 1;
  for (size_t k = 0; k < n; k++) {
    write_bytes(tpath("prefix.npy"), buf, k);
    ares_npy a;
    char err[128];
    if (ares_npy_load(tpath("prefix.npy"), &a, err, sizeof err) == 0 || !err[0]) all_rejected = 0;
    ares_npy_free(&a);
  }
  CHECK(all_rejected);
  unsigned seed = 1;
  for (int it = 0; it < 3000; it++) {
    unsigned char m[256];
    memcpy(m, buf, n);
    int nflip = 1 + it % 3;
    for (int j = 0; j < nflip; j++) {
      seed = seed * 1103515245u + 12345u;
      size_t pos = (seed >> 8) % 74;
      seed = seed * 1103515245u + 12345u;
      static const char alphabet[] = "{}()[],:' \"<>|=0123456789LTFiufO\n\x00\xff";
      m[pos] = (unsigned char)alphabet[(seed >> 8) % (sizeof alphabet - 1)];
    }
    write_bytes(tpath("fuzz.npy"), m, n);
    ares_npy a;
    char err[128];
    if (ares_npy_load(tpath("fuzz.npy"), &a, err, sizeof err) == 0) {
      /* accepted: then it must be self-consistent */
      size_t want = ares_npy_itemsize(a.dtype);
      for (int d = 0; d < a.rank; d++) want *= (size_t)a.dims[d];
      if (want != a.nbytes || !a.data) all_rejected = 0;
      ares_npy_free(&a);
    } else if (!err[0]) all_rejected = 0;
  }
  CHECK(all_rejected);
}

int main(int argc, char **argv) {
  if (argc > 1) snprintf(tmpdir, sizeof tmpdir, "%s", argv[1]);
  test_roundtrip();
  test_variants();
  test_malformed();
  test_fuzz();
  return check_report();
}
