/* Unit tests for runtime/kernels: hand-worked cases, then randomized shapes against naive
 * implementations written here independently (plain nested loops with bounds checks,
 * int64 accumulation, round-half-even through long double / integer division). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ares_kernels.h"
#define CHECK_SEED 0x9E3779B97F4A7C15ull
#include "check.h"
#include "kernels/ares_rq_internal.h"


/* ---- deterministic random numbers (check.h) */

static void rnd_s8(int8_t *p, int64_t n) {
  for (int64_t i = 0; i < n; i++) p[i] = (int8_t)rnd(-128, 127);
}

/* ---- reference rounding: p / 2^s, ties to even, two independent ways */

static int64_t ref_rhe_div(int64_t p, int s) {
  int64_t d = (int64_t)1 << s, q = p / d, r = p % d; /* C division truncates */
  if (r < 0) {
    q -= 1;
    r += d;
  }
  int64_t half = d / 2;
  if (r > half || (r == half && q % 2 != 0)) q += 1;
  return q;
}

static int64_t ref_rhe(int64_t p, int s) {
#if LDBL_MANT_DIG >= 64
  /* exact: |p| < 2^63 fits the 64-bit significand, dividing by 2^s is exact */
  return (int64_t)nearbyintl((long double)p / ldexpl(1.0L, s));
#else
  return ref_rhe_div(p, s);
#endif
}

static int8_t ref_sat(int64_t v, int32_t lo, int32_t hi) {
  return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* Requantize one accumulator of channel c as the header specifies. */
static void ref_store(const ares_rq *rq, void *y, int64_t i, int64_t acc, int32_t c) {
  int32_t k = rq->n == 1 ? 0 : c;
  if (rq->out_i32) {
    ((int32_t *)y)[i] = (int32_t)acc;
  } else if (rq->out_float) {
    float p = (float)acc * rq->fscale[k];
    ((float *)y)[i] = p + rq->fbias[k];
  } else {
    int64_t p = acc * rq->mult[k] + (rq->add ? rq->add[k] : 0);
    ((int8_t *)y)[i] = ref_sat(rq->zp + ref_rhe(p, rq->shift[k]), rq->qmin, rq->qmax);
  }
}

/* ================================================================ hand-worked cases */

static void test_rhe_hand(void) {
  static const struct {
    int64_t p;
    int s;
    int32_t want;
  } t[] = {
      {5, 1, 2},    {7, 1, 4},    {-5, 1, -2},  {-7, 1, -4},  {3, 2, 1},   {1, 1, 0},
      {3, 1, 2},    {-1, 1, 0},   {-3, 1, -2},  {2, 2, 0},    {6, 2, 2},   {-2, 2, 0},
      {-6, 2, -2},  {-3, 2, -1},  {5, 2, 1},    {-5, 2, -1},  {0, 5, 0},   {1023, 10, 1},
      {512, 10, 0}, {1536, 10, 2}, {-512, 10, 0}, {-1536, 10, -2}, {-513, 10, -1},
      {((int64_t)1 << 62) - 1, 62, 1}, {-((int64_t)1 << 62), 62, -1},
      {(int64_t)1 << 61, 62, 0}, {((int64_t)3) << 60, 61, 2}, {-(((int64_t)3) << 60), 61, -2},
      {(int64_t)INT32_MAX << 20, 20, INT32_MAX}, {(int64_t)INT32_MIN * 1048576, 20, INT32_MIN},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    CHECK_EQ(ares_rhe(t[i].p, t[i].s), t[i].want);
    CHECK_EQ(ref_rhe(t[i].p, t[i].s), t[i].want);
    CHECK_EQ(ref_rhe_div(t[i].p, t[i].s), t[i].want);
  }
}

/* ares_rhe (the header's, used by the kernels) and both references agree. */
static void test_rhe_random(void) {
  long bad = 0;
  for (int i = 0; i < 400000; i++) {
    int s = rnd(1, 62);
    int64_t p;
    int mode = rnd(0, 3);
    if (mode == 0) { /* an exact tie or its neighbours */
      int32_t qm = s >= 61 ? 1 : s > 44 ? (int32_t)1 << (61 - s) : 100000; /* |p| < 2^62 */
      p = (int64_t)rnd(-qm, qm - 1) * ((int64_t)1 << s) + ((int64_t)1 << (s - 1)) + rnd(-1, 1);
    } else { /* anything whose quotient fits int32, |p| < 2^62 */
      int bits = s + 30 < 62 ? s + 30 : 62;
      p = (int64_t)(rnd64() >> (64 - bits));
      if (rnd64() & 1) p = -p;
    }
    int64_t r1 = ref_rhe(p, s), r2 = ref_rhe_div(p, s);
    if (r1 != r2 || ares_rhe(p, s) != r1) {
      if (bad++ < 5)
        fprintf(stderr, "rhe(%lld, %d): ld %lld div %lld kernel %lld\n", (long long)p, s,
                (long long)r1, (long long)r2, (long long)ares_rhe(p, s));
    }
  }
  CHECK_EQ(bad, 0);
}

/* The kernels' prepared per-channel requantization (ares_rqc) against ref_rhe: every shift,
 * multipliers and adds of both signs, ties and their neighbours, products near the fast
 * path's limit, accumulators at the int32 extremes. */
static void test_rqc_random(void) {
  long bad = 0;
  for (int i = 0; i < 600000; i++) {
    ares_rq rq;
    memset(&rq, 0, sizeof rq);
    int32_t mult = (int32_t)(rnd64() >> (32 + rnd(0, 31)));
    if (rnd(0, 1)) mult = -mult;
    if (rnd(0, 50) == 0) mult = rnd(0, 1) ? INT32_MIN : INT32_MAX;
    int8_t shift = (int8_t)rnd(1, 62);
    int s = shift;
    int32_t acc = (int32_t)(rnd64() >> (32 + rnd(0, 31)));
    if (rnd(0, 1)) acc = -acc;
    if (rnd(0, 50) == 0) acc = rnd(0, 1) ? INT32_MIN : INT32_MAX;
    int64_t add = 0;
    int mode = rnd(0, 3);
    if (mode == 1) { /* an add that lands the product on a tie (or next to one) */
      int64_t qm = s >= 60 ? 2 : s > 40 ? (int64_t)1 << (61 - s) : 300;
      int64_t target = (int64_t)rnd((int32_t)-qm, (int32_t)qm - 1) * ((int64_t)1 << s) + ((int64_t)1 << (s - 1)) + rnd(-1, 1);
      if (__builtin_sub_overflow(target, (int64_t)acc * mult, &add)) add = 0;
    } else if (mode == 2) {
      add = (int64_t)(rnd64() >> rnd(1, 63));
      if (rnd(0, 1)) add = -add;
    }
    int64_t p = (int64_t)acc * mult;
    if ((add > 0 && p > INT64_MAX - add) || (add < 0 && p < INT64_MIN - add)) add = 0;
    rq.n = 1;
    rq.mult = &mult;
    rq.shift = &shift;
    rq.add = add ? &add : NULL;
    rq.zp = rnd(-128, 127);
    rq.qmin = rnd(0, 3) ? -128 : rnd(-128, 0);
    rq.qmax = rnd(0, 3) ? 127 : rnd(0, 127);
    ares_rqc r = ares_rqc_make(&rq, 0);
    int8_t got = ares_rqc_s8(&r, acc), want;
    ref_store(&rq, &want, 0, acc, 0);
    if (got != want && bad++ < 5)
      fprintf(stderr, "rqc acc %ld mult %ld add %lld shift %d zp %d: %d, want %d\n", (long)acc, (long)mult,
              (long long)add, s, rq.zp, got, want);
  }
  CHECK_EQ(bad, 0);
}

static void test_quant_hand(void) {
  const float x[] = {0.5f, 1.5f, 2.5f, -2.5f, -0.5f, -1.5f, 0.49999997f, 300.f, -300.f,
                     1e30f, -1e30f, INFINITY, -INFINITY, NAN, 127.5f, -128.5f, 0.0f, -0.0f};
  const int8_t want[] = {0, 2, 2, -2, 0, -2, 0, 127, -128, 127, -128, 127, -128, 0, 127, -128, 0, 0};
  int8_t y[sizeof x / sizeof x[0]];
  const int n = (int)(sizeof x / sizeof x[0]);
  ares_quantize_f32_s8(x, y, n, 1.0f, 0, -128, 127);
  for (int i = 0; i < n; i++) CHECK_EQ(y[i], want[i]);
  /* 126.5 -> 126 (even), + zp 1 = 127; 127.5 rounds to 128 -> clamps */
  const float x2[] = {126.5f, 127.5f, -129.5f, NAN, 0.5f, 2.5f};
  int8_t y2[6];
  ares_quantize_f32_s8(x2, y2, 6, 1.0f, 1, -128, 127);
  CHECK_EQ(y2[0], 127);
  CHECK_EQ(y2[1], 127);
  CHECK_EQ(y2[2], -128); /* -130 + 1 = -129 -> -128 */
  CHECK_EQ(y2[3], 1);    /* NaN -> 0 + zp */
  CHECK_EQ(y2[4], 1);
  CHECK_EQ(y2[5], 3);
  /* scale: 0.75 / 0.5 = 1.5 -> 2; 0.25 / 0.5 = 0.5 -> 0; narrow range (relu) */
  const float x3[] = {0.75f, 0.25f, -3.0f, 100.0f};
  int8_t y3[4];
  ares_quantize_f32_s8(x3, y3, 4, 0.5f, -10, -10, 50);
  CHECK_EQ(y3[0], -8);
  CHECK_EQ(y3[1], -10);
  CHECK_EQ(y3[2], -10); /* -6 - 10 = -16 -> -10 */
  CHECK_EQ(y3[3], 50);
  /* dequantize */
  const int8_t q[] = {-128, -1, 0, 5, 127};
  float f[5];
  ares_dequantize_s8_f32(q, f, 5, 0.25f, 5);
  CHECK(f[0] == -33.25f && f[1] == -1.5f && f[2] == -1.25f && f[3] == 0.0f && f[4] == 30.5f);
  ares_dequantize_s8_f32(q, f, 0, 0.25f, 5); /* n = 0 is a no-op */
}

static void test_conv_hand(void) {
  const int8_t x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  int8_t w[9];
  for (int i = 0; i < 9; i++) w[i] = 1;
  ares_conv_shape s = {.n = 1, .cin = 1, .h = 3, .w = 3, .cout = 1, .oh = 3, .ow = 3,
                       .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                       .pad_t = 1, .pad_l = 1, .group = 1, .x_zp = 0};
  /* raw accumulators through out_float with scale 1, bias 0 */
  const float one = 1.0f, zero = 0.0f;
  const int32_t m1 = 1;
  const int8_t s1 = 1;
  ares_rq rqf = {.n = 1, .mult = &m1, .shift = &s1, .zp = 0, .qmin = -128, .qmax = 127,
                 .out_float = 1, .fscale = &one, .fbias = &zero};
  float yf[9];
  ares_conv2d_s8(x, w, NULL, yf, &s, &rqf);
  const float want0[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
  CHECK_MEM(yf, want0, sizeof yf, "3x3 pad 1, zp 0");
  /* x_zp = 1: in-bounds taps contribute x - 1, padded taps nothing */
  s.x_zp = 1;
  ares_conv2d_s8(x, w, NULL, yf, &s, &rqf);
  const float want1[9] = {8, 15, 12, 21, 36, 27, 20, 33, 24};
  CHECK_MEM(yf, want1, sizeof yf, "3x3 pad 1, zp 1");
  /* int8: (acc + bias 1) / 2, ties to even */
  const int32_t bias = 1;
  ares_rq rq = {.n = 1, .mult = &m1, .shift = &s1, .zp = 0, .qmin = -128, .qmax = 127};
  int8_t y[9];
  ares_conv2d_s8(x, w, &bias, y, &s, &rq);
  const int8_t want2[9] = {4, 8, 6, 11, 18, 14, 10, 17, 12};
  CHECK_MEM(y, want2, sizeof y, "3x3 int8");
  /* stride 2 */
  s.x_zp = 0;
  s.sh = s.sw = 2;
  s.oh = s.ow = 2;
  ares_conv2d_s8(x, w, NULL, yf, &s, &rqf);
  const float want3[4] = {12, 16, 24, 28};
  CHECK_MEM(yf, want3, 4 * sizeof(float), "3x3 stride 2");
  /* dilation 2, pad 2: the output centre sees the corners and the centre... */
  s.sh = s.sw = 1;
  s.dh = s.dw = 2;
  s.pad_t = s.pad_l = 2;
  s.oh = s.ow = 3;
  ares_conv2d_s8(x, w, NULL, yf, &s, &rqf);
  /* out(oy,ox) sums x at rows {oy-2, oy, oy+2} x cols {ox-2, ox, ox+2} inside the input */
  float w4[9];
  for (int oy = 0; oy < 3; oy++)
    for (int ox = 0; ox < 3; ox++) {
      int acc = 0;
      for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++) {
          int iy = oy - 2 + 2 * ky, ix = ox - 2 + 2 * kx;
          if (iy >= 0 && iy < 3 && ix >= 0 && ix < 3) acc += x[iy * 3 + ix];
        }
      w4[oy * 3 + ox] = (float)acc;
    }
  /* by hand: corners 1+3+7+9, (0,1): 2+8, (1,0): 4+6, centre 5 */
  CHECK(w4[0] == 20 && w4[1] == 10 && w4[3] == 10 && w4[4] == 5 && w4[8] == 20);
  CHECK_MEM(yf, w4, sizeof w4, "dilated");
  /* depthwise 2 channels 1x1 kernel with per-channel requant and saturation */
  const int8_t x2[8] = {10, 20, 30, 40, -10, -20, -30, -40};
  const int8_t w2[2] = {3, -5};
  const int32_t b2[2] = {1, 2};
  const int32_t m2[2] = {3, 1};
  const int8_t sh2[2] = {1, 2};
  ares_conv_shape s2 = {.n = 1, .cin = 2, .h = 2, .w = 2, .cout = 2, .oh = 2, .ow = 2,
                        .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .group = 2,
                        .x_zp = -10};
  ares_rq rq2 = {.n = 2, .mult = m2, .shift = sh2, .zp = 5, .qmin = -20, .qmax = 100};
  int8_t y2[8];
  ares_conv2d_s8(x2, w2, b2, y2, &s2, &rq2);
  /* ch0: acc = 1 + 3*(x+10) = 61, 91, 121, 151; *3/2 = 91.5->92, 136.5->136, 181.5->182, 226.5->226; +5, clamp 100
   * ch1: acc = 2 - 5*(x+10) = 2, 52, 102, 152; /4 = 0.5->0, 13, 25.5->26, 38; +5 */
  const int8_t want5[8] = {97, 100, 100, 100, 5, 18, 31, 43};
  CHECK_MEM(y2, want5, sizeof y2, "depthwise per-channel");
}

static void test_linear_hand(void) {
  const int8_t x[6] = {1, 2, 3, -1, 0, 1};
  const int8_t w[6] = {1, 0, -1, 2, 2, 2};
  const int32_t bias[2] = {10, -10};
  const int32_t m = 1;
  const int8_t s = 1;
  const float fs[2] = {0.5f, 2.0f}, fb[2] = {0.25f, -1.0f};
  ares_rq rqf = {.n = 2, .mult = &m, .shift = &s, .out_float = 1, .fscale = fs, .fbias = fb};
  float y[4];
  ares_linear_s8(x, w, bias, y, 2, 3, 2, 0, &rqf);
  /* acc: row0 8, 2; row1 8, -10 */
  const float want[4] = {4.25f, 3.0f, 4.25f, -21.0f};
  CHECK_MEM(y, want, sizeof y, "linear float");
  ares_linear_s8(x, w, bias, y, 2, 3, 2, 1, &rqf);
  /* x_zp 1: row0 w.(0,1,2): 10-2=8, -10+6=-4; row1 (-2,-1,0): 10-2=8, -10-6=-16 */
  const float want2[4] = {4.25f, -9.0f, 4.25f, -33.0f};
  CHECK_MEM(y, want2, sizeof y, "linear float zp");
  ares_rq rq = {.n = 1, .mult = &m, .shift = &s, .zp = -3, .qmin = -128, .qmax = 127};
  int8_t y8[4];
  ares_linear_s8(x, w, bias, y8, 2, 3, 2, 1, &rq);
  const int8_t want3[4] = {1, -5, 1, -11}; /* 8/2=4, -4/2=-2, -16/2=-8; -3 */
  CHECK_MEM(y8, want3, sizeof y8, "linear int8");
  ares_rq rqi = {.n = 2, .out_i32 = 1};
  int32_t y32[4];
  ares_linear_s8(x, w, bias, y32, 2, 3, 2, 1, &rqi);
  const int32_t want4[4] = {8, -4, 8, -16}; /* the accumulators of want2 */
  CHECK_MEM(y32, want4, sizeof y32, "linear int32");
}

static void test_quant_axis_hand(void) {
  /* [2 outer][2 channels][3 inner]: channel 0 scale 0.5 zp 0, channel 1 scale 2 zp 10 */
  const float x[12] = {1.0f, 1.25f, -0.75f, 4.0f, 5.0f, -3.0f, 0.25f, 0.75f, 100.0f, 2.0f, 3.0f, 300.0f};
  const float s[2] = {0.5f, 2.0f};
  const int32_t z[2] = {0, 10};
  /* ch0: 2, 2.5->2, -1.5->-2 | ch1: 2+10, 2.5->2 +10, -1.5->-2 +10 | ch0: 0.5->0, 1.5->2, 200->127 | ch1: 11, 1.5->2 +10, 150+10->127 */
  const int8_t want[12] = {2, 2, -2, 12, 12, 8, 0, 2, 127, 11, 12, 127};
  int8_t y[12];
  ares_quantize_f32_s8_axis(x, y, 12, 3, 2, s, z, -128, 127);
  CHECK_MEM(y, want, sizeof y, "quantize per axis");
  float d[12];
  ares_dequantize_s8_f32_axis(want, d, 12, 3, 2, s, z);
  /* (2-0)*0.5 = 1, (12-10)*2 = 4, (8-10)*2 = -4, (127-0)*0.5 = 63.5, (127-10)*2 = 234 */
  const float dwant[12] = {1.0f, 1.0f, -1.0f, 4.0f, 4.0f, -4.0f, 0.0f, 1.0f, 63.5f, 2.0f, 4.0f, 234.0f};
  CHECK_MEM(d, dwant, sizeof d, "dequantize per axis");
}

static void test_cast_hand(void) {
  const uint8_t u[5] = {0, 1, 127, 128, 255};
  const int8_t s[5] = {-128, -127, -1, 0, 127}; /* u - 128 */
  int8_t ys[5];
  uint8_t yu[5];
  ares_cast_u8_s8(u, ys, 5);
  CHECK_MEM(ys, s, sizeof s, "cast u8 -> s8");
  ares_cast_u8_s8(s, yu, 5);
  CHECK_MEM(yu, u, sizeof u, "cast s8 -> u8");
}

static void test_eltwise_hand(void) {
  const int8_t a[4] = {10, 127, -128, 0}, b[4] = {-4, 127, -128, 1};
  ares_elt p = {.nin = 2, .zp_in = {2, 0}, .mult = {3, 5}, .shift = 2, .zp = 3, .qmin = -128, .qmax = 127};
  int8_t y[4];
  ares_add_s8(a, b, y, 4, &p);
  /* (8*3 - 20) = 4 -> 1 + 3 = 4;  (125*3 + 635)/4 = 252.5 -> 252 -> sat 127;
   * (-130*3 - 640)/4 = -257.5 -> -258 -> sat; (-6 + 5)/4 = -0.25 -> 0 + 3 */
  const int8_t want[4] = {4, 127, -128, 3};
  CHECK_MEM(y, want, 4, "add");
  ares_elt r = {.nin = 1, .zp_in = {-1, 0}, .mult = {1, 0}, .shift = 1, .zp = 0, .qmin = -5, .qmax = 5};
  const int8_t x[6] = {0, 1, 2, -2, 100, -100};
  int8_t yr[6];
  ares_requant_s8(x, yr, 6, &r);
  /* (x+1)/2: 0.5->0, 1, 1.5->2, -0.5->0, sat 5, sat -5 */
  const int8_t want2[6] = {0, 1, 2, 0, 5, -5};
  CHECK_MEM(yr, want2, 6, "requant");
}

static void test_concat_hand(void) {
  const int8_t a[4] = {1, 2, 3, 4};         /* [2][2] copied */
  const int8_t b[6] = {0, 10, 20, 30, 40, -128}; /* [2][3] rescaled: (x - 10) * 1 / 2 + 1 */
  const int8_t *xs[2] = {a, b};
  const int64_t inner[2] = {2, 3};
  const int32_t zp_in[2] = {0, 10}, mult[2] = {0, 1};
  const int8_t shift[2] = {0, 1};
  ares_concat p = {.nin = 2, .outer = 2, .inner = inner, .zp_in = zp_in, .mult = mult,
                   .shift = shift, .zp = 1, .qmin = -128, .qmax = 127};
  int8_t y[10];
  ares_concat_s8(xs, y, &p);
  /* b: -10/2=-5+1=-4, 0+1=1, 5+1=6, 10+1=11, 15+1=16, -138/2=-69+1=-68 */
  const int8_t want[10] = {1, 2, -4, 1, 6, 3, 4, 11, 16, -68};
  CHECK_MEM(y, want, 10, "concat");
}

static void test_pool_hand(void) {
  const int8_t x[16] = {1, 2, 3, 4, 5, 6, 7, 8, -9, -10, -11, -12, 13, -14, 15, -128};
  ares_pool_shape s = {.n = 1, .c = 1, .h = 4, .w = 4, .oh = 2, .ow = 2, .kh = 2, .kw = 2,
                       .sh = 2, .sw = 2, .dh = 1, .dw = 1};
  int8_t y[16];
  ares_maxpool_s8(x, y, &s);
  const int8_t want[4] = {6, 8, 13, 15};
  CHECK_MEM(y, want, 4, "maxpool 2x2/2");
  /* padded taps never win, even over negative values */
  const int8_t xn[4] = {-5, -6, -7, -8};
  ares_pool_shape s2 = {.n = 1, .c = 1, .h = 2, .w = 2, .oh = 2, .ow = 2, .kh = 2, .kw = 2,
                        .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pad_t = 1, .pad_l = 1, .x_zp = 0};
  ares_maxpool_s8(xn, y, &s2);
  const int8_t want2[4] = {-5, -5, -5, -5};
  CHECK_MEM(y, want2, 4, "maxpool padded");
  /* average 3x3 pad 1 over 1..9 with mult[c-1] = round(2^16 / c), shift 16 */
  const int8_t x3[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  int32_t mult[9];
  int8_t shift[9];
  for (int c = 1; c <= 9; c++) {
    mult[c - 1] = (65536 + c / 2) / c;
    shift[c - 1] = 16;
  }
  ares_rq rq = {.n = 9, .mult = mult, .shift = shift, .zp = 0, .qmin = -128, .qmax = 127};
  ares_pool_shape s3 = {.n = 1, .c = 1, .h = 3, .w = 3, .oh = 3, .ow = 3, .kh = 3, .kw = 3,
                        .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pad_t = 1, .pad_l = 1};
  ares_avgpool_s8(x3, y, &s3, &rq);
  /* 12/4=3, 21/6=3.5->4 (mult 10923: 21*10923/65536 = 3.5001 -> 4), 16/4=4,
   * 27/6=4.5->(27*10923/65536=4.5002)->5, 45/9=5, 33/6=5.5->6, 24/4=6, 39/6=6.5->7, 28/4=7 */
  const int8_t want3[9] = {3, 4, 4, 5, 5, 6, 6, 7, 7};
  CHECK_MEM(y, want3, 9, "avgpool exclude pad");
  s3.count_include_pad = 1;
  ares_avgpool_s8(x3, y, &s3, &rq);
  /* everything / 9: 12/9=1.33->1, 21/9=2.33->2, 16/9=1.78->2, 27/9=3, 5, 33/9=3.67->4,
   * 24/9=2.67->3, 39/9=4.33->4, 28/9=3.11->3 */
  const int8_t want4[9] = {1, 2, 2, 3, 5, 4, 3, 4, 3};
  CHECK_MEM(y, want4, 9, "avgpool include pad");
  /* x_zp = 1 and output zero point 2: the corner sums (x - 1) over 4 taps */
  s3.count_include_pad = 0;
  s3.x_zp = 1;
  rq.zp = 2;
  ares_avgpool_s8(x3, y, &s3, &rq);
  CHECK_EQ(y[0], 2 + 2); /* (0+1+3+4)/4 = 2 */
  CHECK_EQ(y[4], 2 + 4); /* 36/9 */
}

static void test_pad_transpose_hand(void) {
  const int8_t x[6] = {1, 2, 3, 4, 5, 6}; /* [2][3] */
  const int64_t d[2] = {2, 3};
  const int64_t pb[2] = {1, 0}, pe[2] = {0, 1};
  int8_t y[32];
  ares_pad_s8(x, y, 2, d, pb, pe, -1);
  const int8_t want[12] = {-1, -1, -1, -1, 1, 2, 3, -1, 4, 5, 6, -1}; /* [3][4] */
  CHECK_MEM(y, want, 12, "pad");
  const int64_t cb[2] = {-1, 1}, ce[2] = {0, -2};
  ares_pad_s8(x, y, 2, d, cb, ce, 9);
  const int8_t want2[2] = {9, 4}; /* [1][2]: row 1, columns: pad, x[1][0] */
  CHECK_MEM(y, want2, 2, "pad crop");
  const int32_t perm[2] = {1, 0};
  ares_transpose_s8(x, y, 2, d, perm);
  const int8_t want3[6] = {1, 4, 2, 5, 3, 6};
  CHECK_MEM(y, want3, 6, "transpose 2-D");
  /* NCHW [1][2][2][2] -> NHWC */
  const int8_t x4[8] = {0, 1, 2, 3, 10, 11, 12, 13};
  const int64_t d4[4] = {1, 2, 2, 2};
  const int32_t p4[4] = {0, 2, 3, 1};
  ares_transpose_s8(x4, y, 4, d4, p4);
  const int8_t want4[8] = {0, 10, 1, 11, 2, 12, 3, 13};
  CHECK_MEM(y, want4, 8, "transpose NCHW->NHWC");
}

/* ================================================================ randomized */

typedef struct {
  int32_t mult[64];
  int8_t shift[64];
  float fs[64], fb[64];
  int64_t add[64];
  ares_rq rq;
} rq_buf;

static int ilog2(int64_t v) {
  int l = 0;
  while (v > 1) {
    v >>= 1;
    l++;
  }
  return l;
}

/* Random requant parameters for nch channels whose accumulators are about accmag. */
static void rand_rq(rq_buf *b, int32_t nch, int64_t accmag, int allow_float) {
  memset(b, 0, sizeof *b);
  b->rq.n = rnd(0, 1) ? nch : 1;
  int ties = rnd(0, 4) == 0;
  for (int c = 0; c < b->rq.n; c++) {
    if (ties) { /* small multipliers and shifts: lots of exact halves */
      b->mult[c] = rnd(1, 3);
      b->shift[c] = (int8_t)rnd(1, 3);
    } else {
      b->mult[c] = rnd(1 << 16, (1 << 30) - 1);
      if (rnd(0, 7) == 0) b->mult[c] = -b->mult[c];
      int s = ilog2(b->mult[c] < 0 ? -(int64_t)b->mult[c] : b->mult[c]) + ilog2(accmag) - 5 + rnd(-2, 2);
      b->shift[c] = (int8_t)(s < 1 ? 1 : s > 62 ? 62 : s);
    }
    b->fs[c] = (float)rnd(1, 1000000) * 1e-7f;
    b->fb[c] = (float)rnd(-1000000, 1000000) * 1e-5f;
  }
  b->rq.mult = b->mult;
  b->rq.shift = b->shift;
  b->rq.fscale = b->fs;
  b->rq.fbias = b->fb;
  b->rq.zp = rnd(-128, 127);
  switch (rnd(0, 2)) {
  case 0: b->rq.qmin = -128, b->rq.qmax = 127; break;
  case 1: b->rq.qmin = b->rq.zp, b->rq.qmax = 127; break; /* fused ReLU */
  default: b->rq.qmin = rnd(-128, 0), b->rq.qmax = rnd(0, 127); break;
  }
  b->rq.out_float = allow_float && rnd(0, 3) == 0;
  b->rq.out_i32 = allow_float && !b->rq.out_float && rnd(0, 9) == 0;
  if (rnd(0, 3) == 0) { /* a bias carried at the product's precision */
    for (int c = 0; c < b->rq.n; c++) {
      int64_t m = b->mult[c] < 0 ? -(int64_t)b->mult[c] : b->mult[c];
      b->add[c] = (int64_t)rnd(-1000000, 1000000) * (m * 100 / 1000000 + 1);
    }
    b->rq.add = b->add;
  }
}

/* bytes per output element */
static size_t rq_esz(const ares_rq *rq) { return rq->out_float || rq->out_i32 ? 4 : 1; }

static int64_t sqrt_i(int64_t v) {
  int64_t r = 1;
  while (r * r < v) r++;
  return r;
}

static long n_inside, n_total; /* share of int8 outputs not clamped: the tests must bite */

static void count_inside(const ares_rq *rq, const int8_t *y, int64_t n) {
  if (rq->out_float || rq->out_i32) return;
  for (int64_t i = 0; i < n; i++) {
    n_total++;
    if (y[i] > rq->qmin && y[i] < rq->qmax) n_inside++;
  }
}

static void naive_conv(const int8_t *x, const int8_t *w, const int32_t *bias, void *y,
                       const ares_conv_shape *s, const ares_rq *rq) {
  int cin_g = s->cin / s->group, cout_g = s->cout / s->group;
  for (int n = 0; n < s->n; n++)
    for (int co = 0; co < s->cout; co++)
      for (int oy = 0; oy < s->oh; oy++)
        for (int ox = 0; ox < s->ow; ox++) {
          int64_t acc = bias ? bias[co] : 0;
          int g = co / cout_g;
          for (int ci = 0; ci < cin_g; ci++)
            for (int ky = 0; ky < s->kh; ky++)
              for (int kx = 0; kx < s->kw; kx++) {
                int iy = oy * s->sh - s->pad_t + ky * s->dh;
                int ix = ox * s->sw - s->pad_l + kx * s->dw;
                if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
                int64_t xv = x[((n * s->cin + g * cin_g + ci) * s->h + iy) * s->w + ix];
                int64_t wv = w[((co * cin_g + ci) * s->kh + ky) * s->kw + kx];
                acc += wv * (xv - s->x_zp);
              }
          ref_store(rq, y, ((n * s->cout + co) * s->oh + oy) * s->ow + ox, acc, co);
        }
}

static void test_conv_random(void) {
  /* every 8th shape is big enough for the blocked interior (4/2/1 channels x 2/4 pixels, the
   * last block overlapping) and its border columns and rows */
  for (int it = 0; it < 2500; it++) {
    ares_conv_shape s;
    memset(&s, 0, sizeof s);
    int big = it % 8 == 0;
    for (;;) {
      int mode = rnd(0, 2); /* plain, grouped, depthwise */
      s.group = mode == 0 ? 1 : mode == 1 ? rnd(2, 3) : rnd(1, 6);
      int cin_g = mode == 2 ? 1 : rnd(1, big ? 8 : 4);
      int cout_g = mode == 2 ? rnd(1, 2) : rnd(1, big ? 8 : 4);
      s.n = rnd(1, 2);
      s.cin = s.group * cin_g;
      s.cout = s.group * cout_g;
      s.h = rnd(1, big ? 20 : 9);
      s.w = rnd(1, big ? 20 : 9);
      s.kh = rnd(1, 4);
      s.kw = rnd(1, 4);
      if (rnd(0, 5) == 0) s.h = s.kh = 1; /* 1-D */
      s.sh = rnd(1, 3);
      s.sw = rnd(1, 3);
      s.dh = rnd(0, 2) ? 1 : rnd(2, 3);
      s.dw = rnd(0, 2) ? 1 : rnd(2, 3);
      s.pad_t = rnd(0, 3);
      s.pad_l = rnd(0, 3);
      int pb = rnd(-1, 3), pr = rnd(-1, 3);
      int nh = s.h + s.pad_t + pb - (s.dh * (s.kh - 1) + 1);
      int nw = s.w + s.pad_l + pr - (s.dw * (s.kw - 1) + 1);
      if (nh < 0 || nw < 0) continue;
      s.oh = nh / s.sh + 1;
      s.ow = nw / s.sw + 1;
      break;
    }
    s.x_zp = rnd(0, 3) ? rnd(-128, 127) : 0;
    int64_t K = (int64_t)(s.cin / s.group) * s.kh * s.kw;
    int64_t nx = (int64_t)s.n * s.cin * s.h * s.w, nw = s.cout * K;
    int64_t ny = (int64_t)s.n * s.cout * s.oh * s.ow;
    int8_t *x = malloc((size_t)nx), *w = malloc((size_t)nw);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)s.cout);
    rnd_s8(x, nx);
    rnd_s8(w, nw);
    for (int c = 0; c < s.cout; c++) bias[c] = rnd(-20000, 20000);
    rq_buf rb;
    rand_rq(&rb, s.cout, sqrt_i(K) * 128 * 100 + 1, 1);
    size_t ysz = (size_t)ny * rq_esz(&rb.rq);
    void *y = malloc(ysz), *yr = malloc(ysz);
    memset(y, 0x55, ysz);
    memset(yr, 0xaa, ysz);
    const int32_t *b = rnd(0, 9) ? bias : NULL;
    ares_conv2d_s8(x, w, b, y, &s, &rb.rq);
    naive_conv(x, w, b, yr, &s, &rb.rq);
    char what[256];
    snprintf(what, sizeof what,
             "conv it %d n%d cin%d %dx%d cout%d o%dx%d k%dx%d s%d,%d d%d,%d p%d,%d g%d zp%d rqn%d f%d",
             it, s.n, s.cin, s.h, s.w, s.cout, s.oh, s.ow, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw,
             s.pad_t, s.pad_l, s.group, s.x_zp, rb.rq.n, rb.rq.out_float);
    CHECK_MEM(y, yr, ysz, what);
    count_inside(&rb.rq, y, ny);
    free(x), free(w), free(bias), free(y), free(yr);
  }
}

static void test_linear_random(void) {
  for (int it = 0; it < 800; it++) {
    int rows = rnd(1, 5), k = rnd(1, it % 20 == 0 ? 600 : 64), n = rnd(1, 16);
    int32_t zp = rnd(0, 3) ? rnd(-128, 127) : 0;
    int8_t *x = malloc((size_t)rows * k), *w = malloc((size_t)n * k);
    int32_t bias[16];
    rnd_s8(x, (int64_t)rows * k);
    rnd_s8(w, (int64_t)n * k);
    for (int j = 0; j < n; j++) bias[j] = rnd(-20000, 20000);
    rq_buf rb;
    rand_rq(&rb, n, sqrt_i(k) * 128 * 100 + 1, 1);
    size_t ysz = (size_t)rows * n * rq_esz(&rb.rq);
    void *y = malloc(ysz), *yr = malloc(ysz);
    memset(y, 0x55, ysz);
    memset(yr, 0xaa, ysz);
    const int32_t *b = rnd(0, 9) ? bias : NULL;
    ares_linear_s8(x, w, b, y, rows, k, n, zp, &rb.rq);
    /* the strided entry: the same rows into columns [0, n) of a wider y, the rest untouched */
    const int32_t ldy = n + rnd(1, 5);
    const size_t esz = rq_esz(&rb.rq);
    uint8_t *yw = malloc((size_t)rows * ldy * esz);
    memset(yw, 0x5a, (size_t)rows * ldy * esz);
    ares_linear_s8_ld(x, w, b, yw, rows, k, n, ldy, zp, &rb.rq);
    int wide_ok = 1;
    for (int r = 0; r < rows; r++)
      for (int j = 0; j < ldy * (int)esz; j++) {
        const uint8_t got = yw[((size_t)r * ldy) * esz + j];
        if (j < n * (int)esz ? got != ((uint8_t *)y)[((size_t)r * n) * esz + j] : got != 0x5a) wide_ok = 0;
      }
    CHECK(wide_ok);
    free(yw);
    for (int r = 0; r < rows; r++)
      for (int j = 0; j < n; j++) {
        int64_t acc = b ? b[j] : 0;
        for (int i = 0; i < k; i++) acc += (int64_t)w[j * k + i] * (x[r * k + i] - zp);
        ref_store(&rb.rq, yr, (int64_t)r * n + j, acc, j);
      }
    char what[128];
    snprintf(what, sizeof what, "linear it %d rows %d k %d n %d zp %d rqn %d f %d", it, rows, k, n,
             zp, rb.rq.n, rb.rq.out_float);
    CHECK_MEM(y, yr, ysz, what);
    count_inside(&rb.rq, y, (int64_t)rows * n);
    free(x), free(w), free(y), free(yr);
  }
}

static void test_eltwise_random(void) {
  for (int it = 0; it < 400; it++) {
    int64_t n = rnd(1, it % 4 == 0 ? 3000 : 300);
    ares_elt p;
    memset(&p, 0, sizeof p);
    p.nin = it % 2 ? 2 : 1;
    p.mul = p.nin == 2 && it % 4 == 3; /* every other two-input case is a product (qmul) */
    for (int i = 0; i < 2; i++) {
      p.zp_in[i] = rnd(-128, 127);
      p.mult[i] = it % 7 == 0 ? rnd(-3, 3) : rnd(-(1 << 24), 1 << 24);
    }
    int32_t mm = abs(p.mult[0]) > abs(p.mult[1]) ? abs(p.mult[0]) : abs(p.mult[1]);
    p.shift = it % 7 == 0 ? rnd(1, 3) : ilog2(mm + 1) + rnd(-1, 3);
    if (p.shift < 1) p.shift = 1;
    p.zp = rnd(-128, 127);
    p.qmin = rnd(-128, 0);
    p.qmax = rnd(0, 127);
    int8_t *a = malloc((size_t)n), *b = malloc((size_t)n), *y = malloc((size_t)n), *yr = malloc((size_t)n);
    rnd_s8(a, n);
    rnd_s8(b, n);
    if (p.mul) {
      p.mult[0] = rnd(-(1 << 30), 1 << 30);
      p.shift = rnd(1, 40);
    }
    if (p.mul) ares_mul_s8(a, b, y, n, &p);
    else if (p.nin == 2) ares_add_s8(a, b, y, n, &p);
    else ares_requant_s8(a, y, n, &p);
    for (int64_t i = 0; i < n; i++) {
      int64_t v = (int64_t)(a[i] - p.zp_in[0]) * p.mult[0];
      if (p.mul) v = (int64_t)(a[i] - p.zp_in[0]) * (b[i] - p.zp_in[1]) * p.mult[0];
      else if (p.nin == 2) v += (int64_t)(b[i] - p.zp_in[1]) * p.mult[1];
      yr[i] = ref_sat(p.zp + ref_rhe(v, p.shift), p.qmin, p.qmax);
    }
    char what[128];
    snprintf(what, sizeof what, "%s it %d n %lld mult %d,%d shift %d", p.mul ? "mul" : p.nin == 2 ? "add" : "requant",
             it, (long long)n, p.mult[0], p.mult[1], p.shift);
    CHECK_MEM(y, yr, n, what);
    free(a), free(b), free(y), free(yr);
  }
}

static void test_concat_random(void) {
  for (int it = 0; it < 300; it++) {
    int32_t nin = rnd(1, 4);
    int64_t outer = rnd(1, 6), inner[4], total = 0;
    int32_t zp_in[4], mult[4];
    int8_t shift[4];
    const int8_t *xs[4];
    int8_t *bufs[4];
    for (int i = 0; i < nin; i++) {
      inner[i] = rnd(1, it % 3 == 0 ? 400 : 40);
      total += inner[i];
      zp_in[i] = rnd(-128, 127);
      mult[i] = rnd(0, 2) == 0 ? 0 : rnd(1, 1 << 20);
      shift[i] = (int8_t)(mult[i] ? ilog2(mult[i]) + rnd(-1, 2) : 0);
      if (mult[i] && shift[i] < 1) shift[i] = 1;
      bufs[i] = malloc((size_t)(outer * inner[i]));
      rnd_s8(bufs[i], outer * inner[i]);
      xs[i] = bufs[i];
    }
    ares_concat p = {.nin = nin, .outer = outer, .inner = inner, .zp_in = zp_in, .mult = mult,
                     .shift = shift, .zp = rnd(-128, 127), .qmin = rnd(-128, 0), .qmax = rnd(0, 127)};
    int8_t *y = malloc((size_t)(outer * total)), *yr = malloc((size_t)(outer * total));
    ares_concat_s8(xs, y, &p);
    for (int64_t o = 0; o < outer; o++) {
      int64_t col = 0;
      for (int i = 0; i < nin; i++)
        for (int64_t k = 0; k < inner[i]; k++, col++) {
          int8_t v = bufs[i][o * inner[i] + k];
          yr[o * total + col] =
              mult[i] == 0 ? v : ref_sat(p.zp + ref_rhe((int64_t)(v - zp_in[i]) * mult[i], shift[i]), p.qmin, p.qmax);
        }
    }
    char what[64];
    snprintf(what, sizeof what, "concat it %d nin %d outer %lld", it, nin, (long long)outer);
    CHECK_MEM(y, yr, outer * total, what);
    for (int i = 0; i < nin; i++) free(bufs[i]);
    free(y), free(yr);
  }
}

static void test_pool_random(void) {
  for (int it = 0; it < 1000; it++) {
    ares_pool_shape s;
    memset(&s, 0, sizeof s);
    for (;;) {
      s.n = rnd(1, 2);
      s.c = rnd(1, 4);
      s.h = rnd(1, 9);
      s.w = rnd(1, 9);
      s.kh = rnd(1, 4);
      s.kw = rnd(1, 4);
      s.sh = rnd(1, 3);
      s.sw = rnd(1, 3);
      s.dh = rnd(0, 3) ? 1 : 2;
      s.dw = rnd(0, 3) ? 1 : 2;
      s.pad_t = rnd(0, s.kh - 1);
      s.pad_l = rnd(0, s.kw - 1);
      int pb = rnd(-1, s.kh - 1), pr = rnd(-1, s.kw - 1);
      int nh = s.h + s.pad_t + pb - (s.dh * (s.kh - 1) + 1);
      int nw = s.w + s.pad_l + pr - (s.dw * (s.kw - 1) + 1);
      if (nh < 0 || nw < 0) continue;
      s.oh = nh / s.sh + 1;
      s.ow = nw / s.sw + 1;
      break;
    }
    s.x_zp = rnd(-128, 127);
    s.count_include_pad = rnd(0, 1);
    int64_t nx = (int64_t)s.n * s.c * s.h * s.w, ny = (int64_t)s.n * s.c * s.oh * s.ow;
    int8_t *x = malloc((size_t)nx), *y = malloc((size_t)ny), *yr = malloc((size_t)ny);
    rnd_s8(x, nx);
    int is_max = it % 2;
    rq_buf rb;
    memset(&rb, 0, sizeof rb);
    int kk = s.kh * s.kw;
    rb.rq.n = kk;
    for (int c = 0; c < kk; c++) {
      rb.mult[c] = rnd(0, 3) ? (int32_t)(((1 << 24) + (c + 1) / 2) / (c + 1)) : rnd(1, 1 << 24);
      rb.shift[c] = (int8_t)(rnd(0, 3) ? 24 : rnd(20, 28));
    }
    rb.rq.mult = rb.mult;
    rb.rq.shift = rb.shift;
    rb.rq.zp = rnd(-128, 127);
    rb.rq.qmin = rnd(-128, 0);
    rb.rq.qmax = rnd(0, 127);
    if (is_max) ares_maxpool_s8(x, y, &s);
    else ares_avgpool_s8(x, y, &s, &rb.rq);
    for (int nc = 0; nc < s.n * s.c; nc++)
      for (int oy = 0; oy < s.oh; oy++)
        for (int ox = 0; ox < s.ow; ox++) {
          int m = -1000, cnt = 0;
          int64_t acc = 0;
          for (int ky = 0; ky < s.kh; ky++)
            for (int kx = 0; kx < s.kw; kx++) {
              int iy = oy * s.sh - s.pad_t + ky * s.dh, ix = ox * s.sw - s.pad_l + kx * s.dw;
              if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) continue;
              int v = x[((int64_t)nc * s.h + iy) * s.w + ix];
              if (v > m) m = v;
              acc += v - s.x_zp;
              cnt++;
            }
          int8_t out;
          if (is_max) out = (int8_t)(cnt ? m : -128);
          else {
            if (s.count_include_pad) cnt = kk;
            out = cnt == 0 ? ref_sat(rb.rq.zp, rb.rq.qmin, rb.rq.qmax)
                           : ref_sat(rb.rq.zp + ref_rhe(acc * rb.mult[cnt - 1], rb.shift[cnt - 1]),
                                     rb.rq.qmin, rb.rq.qmax);
          }
          yr[((int64_t)nc * s.oh + oy) * s.ow + ox] = out;
        }
    char what[160];
    snprintf(what, sizeof what, "%s it %d %dx%d o%dx%d k%dx%d s%d,%d d%d,%d p%d,%d cip%d",
             is_max ? "maxpool" : "avgpool", it, s.h, s.w, s.oh, s.ow, s.kh, s.kw, s.sh, s.sw,
             s.dh, s.dw, s.pad_t, s.pad_l, s.count_include_pad);
    CHECK_MEM(y, yr, ny, what);
    free(x), free(y), free(yr);
  }
}

static void test_pad_random(void) {
  for (int it = 0; it < 500; it++) {
    int32_t rank = rnd(1, 5);
    int64_t d[5], pb[5], pe[5], od[5], nx = 1, ny = 1;
    for (int i = 0; i < rank; i++) {
      d[i] = rnd(1, 4);
      do {
        pb[i] = rnd(-2, 3);
        pe[i] = rnd(-2, 3);
        od[i] = pb[i] + d[i] + pe[i];
      } while (od[i] < 1);
      nx *= d[i];
      ny *= od[i];
    }
    int8_t *x = malloc((size_t)nx), *y = malloc((size_t)ny), *yr = malloc((size_t)ny);
    rnd_s8(x, nx);
    int8_t val = (int8_t)rnd(-128, 127);
    ares_pad_s8(x, y, rank, d, pb, pe, val);
    for (int64_t o = 0; o < ny; o++) {
      int64_t rem = o, ioff = 0, istride = 1;
      int inside = 1;
      for (int i = rank - 1; i >= 0; i--) {
        int64_t oi = rem % od[i];
        rem /= od[i];
        int64_t ii = oi - pb[i];
        if (ii < 0 || ii >= d[i]) inside = 0;
        ioff += ii * istride;
        istride *= d[i];
      }
      yr[o] = inside ? x[ioff] : val;
    }
    char what[64];
    snprintf(what, sizeof what, "pad it %d rank %d", it, rank);
    CHECK_MEM(y, yr, ny, what);
    free(x), free(y), free(yr);
  }
}

static void test_transpose_random(void) {
  for (int it = 0; it < 500; it++) {
    int32_t rank = rnd(1, 5), perm[5];
    int64_t d[5], od[5], n = 1;
    for (int i = 0; i < rank; i++) {
      d[i] = rnd(1, 5);
      n *= d[i];
      perm[i] = i;
    }
    for (int i = rank - 1; i > 0; i--) { /* Fisher-Yates */
      int j = rnd(0, i), t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    for (int i = 0; i < rank; i++) od[i] = d[perm[i]];
    int8_t *x = malloc((size_t)n), *y = malloc((size_t)n), *yr = malloc((size_t)n);
    rnd_s8(x, n);
    ares_transpose_s8(x, y, rank, d, perm);
    for (int64_t i = 0; i < n; i++) {
      int64_t idx[5], rem = i;
      for (int k = rank - 1; k >= 0; k--) {
        idx[k] = rem % d[k];
        rem /= d[k];
      }
      int64_t o = 0;
      for (int k = 0; k < rank; k++) o = o * od[k] + idx[perm[k]];
      yr[o] = x[i];
    }
    char what[64];
    snprintf(what, sizeof what, "transpose it %d rank %d", it, rank);
    CHECK_MEM(y, yr, n, what);
    free(x), free(y), free(yr);
  }
}

/* quantize against a reference that rounds the float quotient by floor + comparison */
static void test_quant_random(void) {
  long bad = 0;
  for (int it = 0; it < 200; it++) {
    float scale = (float)rnd(1, 100000) * 1e-4f;
    int32_t zp = rnd(-128, 127), lo = rnd(-128, 0), hi = rnd(0, 127);
    float x[256];
    int8_t y[256];
    for (int i = 0; i < 256; i++) {
      if (i % 4 == 0) x[i] = ((float)rnd(-400, 400) + 0.5f) * scale; /* near ties */
      else x[i] = (float)rnd(-4000000, 4000000) * 1e-4f;
    }
    ares_quantize_f32_s8(x, y, 256, scale, zp, lo, hi);
    for (int i = 0; i < 256; i++) {
      float v = x[i] / scale;
      double fl = floor((double)v), fr = (double)v - fl, r;
      if (fr > 0.5) r = fl + 1;
      else if (fr < 0.5) r = fl;
      else r = fmod(fl, 2.0) == 0 ? fl : fl + 1;
      double q = r + zp;
      int8_t want = (int8_t)(q < lo ? lo : q > hi ? hi : q);
      if (y[i] != want && bad++ < 5)
        fprintf(stderr, "quantize(%.9g / %.9g, zp %d): %d, want %d\n", x[i], scale, zp, y[i], want);
    }
  }
  CHECK_EQ(bad, 0);
}

/* slice with random starts and (negative too) steps, gather with random indices, against
 * index arithmetic written out here */
static void test_slice_gather_random(void) {
  for (int it = 0; it < 500; it++) {
    int32_t rank = rnd(1, 5);
    int64_t d[5], start[5], step[5], cnt[5], n = 1, ny = 1;
    for (int i = 0; i < rank; i++) {
      d[i] = rnd(1, 6);
      n *= d[i];
      step[i] = rnd(0, 1) ? rnd(1, 3) : -rnd(1, 3);
      start[i] = rnd(0, (int)d[i] - 1);
      int64_t room = step[i] > 0 ? (d[i] - 1 - start[i]) / step[i] : start[i] / -step[i];
      cnt[i] = rnd(1, (int)room + 1);
      ny *= cnt[i];
    }
    int8_t *x = malloc((size_t)n), *y = malloc((size_t)ny), *yr = malloc((size_t)ny);
    rnd_s8(x, n);
    ares_slice_s8(x, y, rank, d, start, step, cnt);
    for (int64_t o = 0; o < ny; o++) {
      int64_t rem = o, src = 0, mul = 1, idx[5];
      for (int k = rank - 1; k >= 0; k--) {
        idx[k] = rem % cnt[k];
        rem /= cnt[k];
      }
      for (int k = rank - 1; k >= 0; k--) {
        src += (start[k] + idx[k] * step[k]) * mul;
        mul *= d[k];
      }
      yr[o] = x[src];
    }
    char what[64];
    snprintf(what, sizeof what, "slice it %d rank %d", it, rank);
    CHECK_MEM(y, yr, ny, what);
    free(x), free(y), free(yr);
  }
  for (int it = 0; it < 200; it++) {
    int64_t outer = rnd(1, 4), dim = rnd(1, 6), inner = rnd(1, 5), nidx = rnd(1, 7), idx[7];
    for (int i = 0; i < nidx; i++) idx[i] = rnd(0, (int)dim - 1);
    int8_t x[4 * 6 * 5], y[4 * 7 * 5], yr[4 * 7 * 5];
    rnd_s8(x, outer * dim * inner);
    ares_gather_s8(x, y, outer, dim, inner, idx, nidx);
    for (int64_t o = 0; o < outer; o++)
      for (int64_t i = 0; i < nidx; i++)
        for (int64_t r = 0; r < inner; r++) yr[(o * nidx + i) * inner + r] = x[(o * dim + idx[i]) * inner + r];
    CHECK_MEM(y, yr, outer * nidx * inner, "gather");
  }
}

/* matmul blocks with strides, zero points on both sides, int8 / int32 / float outputs,
 * against a naive triple loop */
static void test_matmul_random(void) {
  for (int it = 0; it < 300; it++) {
    int32_t m = rnd(1, 9), k = rnd(0, 70), n = rnd(1, 70), lda = k + rnd(0, 3), ldb = n + rnd(0, 3), ldy = n + rnd(0, 3);
    int32_t za = rnd(-128, 127), zb = rnd(-128, 127), kind = rnd(0, 2);
    int8_t *a = malloc((size_t)(m * lda + 1)), *b = malloc((size_t)(k * ldb + 1));
    int32_t *y = calloc((size_t)(m * ldy), 4), *yr = calloc((size_t)(m * ldy), 4);
    rnd_s8(a, m * lda + 1);
    rnd_s8(b, k * ldb + 1);
    int32_t mult[1] = {rnd(1 << 30, 0x7fffffff)};
    int8_t shift[1] = {(int8_t)rnd(20, 30)};
    float fscale[1] = {0.001f * (float)rnd(1, 1000)}, fbias[1] = {0};
    ares_rq rq = {1, mult, shift, rnd(-20, 20), -128, 127, kind == 2, fscale, fbias, 0, 0};
    ares_matmul_s8(a, b, y, m, k, n, lda, ldb, ldy, za, zb, kind == 1, &rq);
    for (int32_t r = 0; r < m; r++)
      for (int32_t c = 0; c < n; c++) {
        int64_t acc = 0;
        for (int32_t j = 0; j < k; j++) acc += ((int64_t)a[r * lda + j] - za) * ((int64_t)b[j * ldb + c] - zb);
        int64_t o = (int64_t)r * ldy + c;
        if (kind == 1) yr[o] = (int32_t)acc;
        else if (kind == 2) ((float *)yr)[o] = (float)acc * fscale[0];
        else {
          int64_t q = (int64_t)rq.zp + ref_rhe(acc * mult[0], shift[0]);
          ((int8_t *)yr)[o] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
        }
      }
    char what[64];
    snprintf(what, sizeof what, "matmul it %d kind %d", it, kind);
    for (int32_t r = 0; r < m; r++) {
      size_t es = kind ? 4 : 1;
      CHECK_MEM((char *)y + (size_t)r * ldy * es, (char *)yr + (size_t)r * ldy * es, (size_t)n * es, what);
    }
    free(a), free(b), free(y), free(yr);
  }
}

/* ---- rotary position encoding */

static void test_rope_hand(void) {
  /* the reference's hand case (tests/unit/test_ref.c test_rope), both layouts */
  static const int8_t x[] = {5, -3, 1, 127, 3, 0, -5, 2};
  static const int32_t mc[] = {4, 4, 4, 4, 2, 0, -2, 1}, ms[] = {0, 0, 0, 0, -3, 4, 1, 2};
  static const int8_t eh[] = {4, -4, 0, 100, 6, 1, 4, 0}, ei[] = {4, -4, 0, 100, 2, 2, 3, -3};
  for (int32_t layout = 0; layout < 2; layout++) {
    ares_rope p = {layout, 2, 1, 4, mc, ms, 2, 1, 0, -128, 100};
    int8_t y[8];
    ares_rope_s8(x, y, 0, 2, &p);
    CHECK_MEM(y, layout == ARES_ROPE_LAYOUT_HALF ? eh : ei, sizeof y, "rope hand");
    /* row 1 alone, addressed by its row index */
    memset(y, 0, sizeof y);
    ares_rope_s8(x + 4, y, 1, 1, &p);
    CHECK_MEM(y, (layout == ARES_ROPE_LAYOUT_HALF ? eh : ei) + 4, 4, "rope hand, row 1 alone");
  }
}

static void test_rope_random(void) {
  for (int it = 0; it < 300; it++) {
    int32_t d = 2 * rnd(1, 12), npos = rnd(1, 9), inner = rnd(1, 4), outer = rnd(1, 3);
    int64_t rows = (int64_t)outer * npos * inner, n = rows * d;
    int32_t *mc = malloc(sizeof(int32_t) * (size_t)(npos * d)), *ms = malloc(sizeof(int32_t) * (size_t)(npos * d));
    int32_t big = it % 5 == 0 ? 8 : 1 << 30;
    for (int32_t k = 0; k < npos * d; k++) {
      mc[k] = rnd(-big, big);
      ms[k] = rnd(-big, big);
    }
    ares_rope p = {it % 2, npos, inner, d, mc, ms, it % 5 == 0 ? rnd(1, 4) : rnd(28, 34), rnd(-128, 127), rnd(-128, 127),
                   rnd(-128, 0), rnd(0, 127)};
    int8_t *x = malloc((size_t)n), *y = malloc((size_t)n), *yr = malloc((size_t)n);
    rnd_s8(x, n);
    /* a random split of the rows, as the tiles and cores do */
    int64_t r0 = rnd(0, (int32_t)rows);
    ares_rope_s8(x, y, 0, r0, &p);
    ares_rope_s8(x + r0 * d, y + r0 * d, r0, rows - r0, &p);
    for (int64_t o = 0; o < outer; o++)
      for (int64_t q = 0; q < npos; q++)
        for (int64_t in = 0; in < inner; in++)
          for (int64_t i = 0; i < d; i++) {
            int64_t row = (o * npos + q) * inner + in;
            int64_t j = p.layout == ARES_ROPE_LAYOUT_HALF ? (i + d / 2) % d : (i % 2 ? i - 1 : i + 1);
            int64_t v = (int64_t)(x[row * d + i] - p.zp_in) * mc[q * d + i] + (int64_t)(x[row * d + j] - p.zp_in) * ms[q * d + i];
            yr[row * d + i] = ref_sat(p.zp + ref_rhe(v, p.shift), p.qmin, p.qmax);
          }
    char what[128];
    snprintf(what, sizeof what, "rope it %d layout %d d %d npos %d inner %d outer %d", it, p.layout, d, npos, inner, outer);
    CHECK_MEM(y, yr, n, what);
    free(mc), free(ms), free(x), free(y), free(yr);
  }
}

/* ---- token embedding */

static void test_embed_hand(void) {
  static const int8_t w[] = {1, 2, 3, -4, -5, -6, 7, 8, 9};
  static const int64_t ids[] = {2, 0, 3, -1, 2, INT64_MIN};
  static const int8_t ey[] = {7, 8, 9, 1, 2, 3, -7, -7, -7, -7, -7, -7, 7, 8, 9, -7, -7, -7};
  int8_t y[18];
  ares_embed_s8(w, ids, y, 6, 3, 3, -7);
  CHECK_MEM(y, ey, sizeof y, "embed hand");
}

int main(void) {
  test_rhe_hand();
  test_rhe_random();
  test_rqc_random();
  test_quant_hand();
  test_quant_random();
  test_conv_hand();
  test_linear_hand();
  test_cast_hand();
  test_quant_axis_hand();
  test_eltwise_hand();
  test_concat_hand();
  test_pool_hand();
  test_pad_transpose_hand();
  test_conv_random();
  test_linear_random();
  test_eltwise_random();
  test_concat_random();
  test_pool_random();
  test_pad_random();
  test_transpose_random();
  test_slice_gather_random();
  test_matmul_random();
  test_rope_hand();
  test_rope_random();
  test_embed_hand();
  /* the random requant parameters must produce mostly unclamped outputs to mean anything */
  CHECK(n_total > 0 && n_inside * 10 > n_total * 4);
  fprintf(stderr, "conv/linear int8 outputs strictly inside [qmin, qmax]: %ld of %ld\n", n_inside,
          n_total);
  return check_report();
}
