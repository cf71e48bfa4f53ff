/* Unit tests of the selective scan: the reference (src/ref/ref_ssm.c) on hand-worked cases,
 * whose expected values are worked out in the comments, the kernel's 32-bit roundings
 * against the reference's RHE (ties built on purpose), and the runtime kernel
 * (runtime/kernels/ares_scan.c) against the reference on random data, fed in random chunks
 * and channel ranges as the tiled executor feeds it. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ares_kernels.h"
#include "kernels/ares_rq_internal.h"
#define CHECK_SEED 88172645463325252ull
#include "check.h"
#include "ir/ir.h"
#include "ref/ref.h"
#include "ref/ref_internal.h"

typedef struct {
  int64_t nb, len, d, n;
  const int8_t *x, *dt, *b, *c;
  const int32_t *a, *tab;
  const int64_t *md;
  const int8_t *z;     /* gated scans only */
  const int32_t *gt;
} scan_case;

static ares_tensor *tensor(ares_graph *g, ares_dtype dt, int rank, int64_t d0, int64_t d1, int64_t d2) {
  return ares_tensor_new_shaped(g, "t", dt, rank, (int64_t[]){d0, d1, d2});
}

/* An int8 input with a full int8 range and zero point zp. */
static ares_tensor *act(ares_graph *g, void **values, const scan_case *sc, int64_t feat, const int8_t *data, int32_t zp) {
  ares_tensor *t = tensor(g, ARES_DT_I8, 3, sc->nb, sc->len, feat);
  float one = 1.0f;
  ares_quant_set(g, t, 1, 0, &one, &zp, -128, 127);
  ares_graph_add_input(g, t->id);
  values[t->id] = (void *)data;
  return t;
}

static ares_tensor *constant(ares_graph *g, ares_dtype dt, int rank, int64_t d0, int64_t d1, const void *data) {
  ares_tensor *t = ares_tensor_new_const(g, "t", dt, rank, (int64_t[]){d0, d1});
  memcpy(t->data, data, ares_tensor_nbytes(t));
  return t;
}

/* Runs the reference qscan with parameters p; y receives the output. Returns its status. */
static int ref_scan(const scan_case *sc, const ares_scan_params *p, int8_t *y) {
  ares_graph *g = ares_graph_new();
  void **values = calloc(64, sizeof(void *));
  ares_tensor *ins[7] = {act(g, values, sc, sc->d, sc->x, p->zp_x), act(g, values, sc, sc->d, sc->dt, p->zp_d),
                         act(g, values, sc, sc->n, sc->b, p->zp_b), act(g, values, sc, sc->n, sc->c, p->zp_c),
                         constant(g, ARES_DT_I32, 2, sc->d, sc->n, sc->a), constant(g, ARES_DT_I64, 1, sc->d, 0, sc->md),
                         constant(g, ARES_DT_I32, 1, 512, 0, sc->tab)};
  ares_tensor *ty = tensor(g, ARES_DT_I8, 3, sc->nb, sc->len, sc->d);
  ares_node *n = ares_node_new(g, ARES_OP_QSCAN, "scan", p->gate ? 9 : 7, 1);
  for (int i = 0; i < 7; i++) n->in[i] = ins[i]->id;
  if (p->gate) {
    n->in[7] = act(g, values, sc, sc->d, sc->z, 0)->id;
    n->in[8] = constant(g, ARES_DT_I32, 1, 256, 0, sc->gt)->id;
  }
  n->out[0] = ty->id;
  n->p.scan = *p;
  ares_graph_add_output(g, ty->id);
  int rc = ares_ref_run(g, values);
  if (rc == 0) memcpy(y, values[ty->id], (size_t)(sc->nb * sc->len * sc->d));
  ares_ref_free(g, values);
  free(values);
  ares_graph_free(g);
  return rc;
}

/* Tables that are exact where the hand cases look: T_hi[0] = T_lo[0] = 2^30 (E = 1 for a
 * zero exponent) and T_hi[128] = rhe(2^-0.5 * 2^30) = rhe(759250124.991) = 759250125. */
static int32_t hand_tab[512];

static void hand_tables(void) {
  for (int i = 0; i < 512; i++) hand_tab[i] = 1 << 30;
  hand_tab[128] = 759250125;
}

static ares_scan_params params(int f, int32_t hmax, int64_t m_y, int shift) {
  ares_scan_params p = {0};
  p.f = f;
  p.hmax = hmax;
  p.m_y = m_y;
  p.shift = shift;
  p.qmin = -128;
  p.qmax = 127;
  return p;
}

static void test_hand(void) {
  hand_tables();
  int8_t y[4];
  /* No decay (a = 0: E = 1), m_y = 1, m_d = 2, shift 1: y = RHE(C*h + 2*x, 1).
   * t0: dd 1, x 2, B 1: h = 2; C 1: y = RHE(2 + 4, 1) = 3.
   * t1: dd 2, x -1, B 1: h = 2 - 2 = 0; y = RHE(0 - 2, 1) = -1.
   * t2: dd 0, x 3: h = 0; y = RHE(0 + 6, 1) = 3. */
  {
    const int8_t x[] = {2, -1, 3}, dt[] = {1, 2, 0}, b[] = {1, 1, 2}, c[] = {1, -1, 1};
    const int32_t a[] = {0};
    const int64_t md[] = {2};
    scan_case sc = {1, 3, 1, 1, x, dt, b, c, a, hand_tab, md, 0, 0};
    ares_scan_params p = params(0, 1000, 1, 1);
    CHECK_EQ(ref_scan(&sc, &p, y), 0);
    CHECK_EQ(y[0], 3);
    CHECK_EQ(y[1], -1);
    CHECK_EQ(y[2], 3);
  }
  /* Decay 1/2: a = 2^24, dd = 1: v = 2^24, k = 1, fraction 0: E = RHE(2^30, 1) = 2^29.
   * B 64, C 1, x = [1, 0, 0], y = RHE(h, 1):
   * t0: h = 64, y 32; t1: h = RHE(64 * 2^29, 30) = 32, y 16; t2: h = 16, y 8.
   * Reverse: the same sequence from the last token: y = [8, 16, 32]. */
  {
    const int8_t x[] = {1, 0, 0}, dt[] = {1, 1, 1}, b[] = {64, 64, 64}, c[] = {1, 1, 1};
    const int32_t a[] = {1 << 24};
    const int64_t md[] = {0};
    scan_case sc = {1, 3, 1, 1, x, dt, b, c, a, hand_tab, md, 0, 0};
    ares_scan_params p = params(0, 1000, 1, 1);
    CHECK_EQ(ref_scan(&sc, &p, y), 0);
    CHECK_EQ(y[0], 32);
    CHECK_EQ(y[1], 16);
    CHECK_EQ(y[2], 8);
    const int8_t xr[] = {0, 0, 1};
    sc.x = xr;
    p.direction = 1;
    CHECK_EQ(ref_scan(&sc, &p, y), 0);
    CHECK_EQ(y[0], 8);
    CHECK_EQ(y[1], 16);
    CHECK_EQ(y[2], 32);
  }
  /* Ties: x = [3, 0], B 1, decay 1/2: t0: h = 3, y = RHE(3, 1) = 2 (1.5 -> 2);
   * t1: h = RHE(3 * 2^29, 30) = RHE(1.5) = 2, y = RHE(2, 1) = 1. */
  {
    const int8_t x[] = {3, 0}, dt[] = {1, 1}, b[] = {1, 1}, c[] = {1, 1};
    const int32_t a[] = {1 << 24};
    const int64_t md[] = {0};
    scan_case sc = {1, 2, 1, 1, x, dt, b, c, a, hand_tab, md, 0, 0};
    ares_scan_params p = params(0, 1000, 1, 1);
    CHECK_EQ(ref_scan(&sc, &p, y), 0);
    CHECK_EQ(y[0], 2);
    CHECK_EQ(y[1], 1);
  }
  /* A fractional exponent: a = 2^23, dd 1: v = 2^23, k = 0, top fraction bits 0x8000:
   * T_hi[128] * T_lo[0] / 2^30 = 759250125 = E (2^-0.5). B 100, x = [1, 0]:
   * t0: h = 100, y = 50; t1: h = RHE(100 * 759250125 / 2^30) = RHE(70.71) = 71,
   * y = RHE(71, 1) = 36 (35.5 -> 36).
   * Saturation at hmax = 50: t0: h = 50, y 25; t1: h = RHE(35.36) = 35, y = RHE(17.5) = 18. */
  {
    const int8_t x[] = {1, 0}, dt[] = {1, 1}, b[] = {100, 100}, c[] = {1, 1};
    const int32_t a[] = {1 << 23};
    const int64_t md[] = {0};
    scan_case sc = {1, 2, 1, 1, x, dt, b, c, a, hand_tab, md, 0, 0};
    ares_scan_params p = params(0, 1000, 1, 1);
    CHECK_EQ(ref_scan(&sc, &p, y), 0);
    CHECK_EQ(y[0], 50);
    CHECK_EQ(y[1], 36);
    p.hmax = 50;
    CHECK_EQ(ref_scan(&sc, &p, y), 0);
    CHECK_EQ(y[0], 25);
    CHECK_EQ(y[1], 18);
  }
  /* State formats and zero points: x 7 (zp_x 0), dd = 3 - 2 = 1 (zp_d 2), B = 2 - 1 = 1
   * (zp_b 1), p = 7; C = 0 - (-1) = 1 (zp_c -1), no decay, output zp 10, m_y 1, shift 1.
   * f = -2: term = RHE(7, 2) = 2 (1.75); h = 2, 4: y = 10 + RHE(2, 1) = 11, 10 + RHE(4, 1) = 12.
   * f = 1: term 14: h = 14, 28: y = 17, 24. A negative delta (dt 0: dd = max(-2, 0) = 0)
   * adds nothing: third token x 7, dt 0: h stays 28, y = 24. */
  {
    const int8_t x[] = {7, 7, 7}, dt[] = {3, 3, 0}, b[] = {2, 2, 2}, c[] = {0, 0, 0};
    const int32_t a[] = {0};
    const int64_t md[] = {0};
    scan_case sc = {1, 3, 1, 1, x, dt, b, c, a, hand_tab, md, 0, 0};
    ares_scan_params p = params(-2, 1000, 1, 1);
    p.zp_d = 2;
    p.zp_b = 1;
    p.zp_c = -1;
    p.zp = 10;
    CHECK_EQ(ref_scan(&sc, &p, y), 0);
    CHECK_EQ(y[0], 11);
    CHECK_EQ(y[1], 12);
    CHECK_EQ(y[2], 12);
    p.f = 1;
    CHECK_EQ(ref_scan(&sc, &p, y), 0);
    CHECK_EQ(y[0], 17);
    CHECK_EQ(y[1], 24);
    CHECK_EQ(y[2], 24);
  }
  /* Two states, two channels: channel 0 with a = {0, 2^24} (E 1 and 1/2), channel 1 with
   * a = {2^31 - 1, 0}: dd = 1 gives k = 127 >= 31, E = 0 for its first state.
   * One token then a second; x = [[2, 4], [0, 0]], dd 1, B = [1, 2], C = [1, 1], m_y 1,
   * shift 1. t0: ch0 h = {2, 4}, y = RHE(6, 1) = 3; ch1 h = {4, 8}, y = RHE(12, 1) = 6.
   * t1 (x 0): ch0 h = {2, 2}, y = 2; ch1 h = {0, 8}, y = 4. */
  {
    const int8_t x[] = {2, 4, 0, 0}, dt[] = {1, 1, 1, 1}, b[] = {1, 2, 1, 2}, c[] = {1, 1, 1, 1};
    const int32_t a[] = {0, 1 << 24, INT32_MAX, 0};
    const int64_t md[] = {0, 0};
    scan_case sc = {1, 2, 2, 2, x, dt, b, c, a, hand_tab, md, 0, 0};
    ares_scan_params p = params(0, 1000, 1, 1);
    CHECK_EQ(ref_scan(&sc, &p, y), 0);
    CHECK_EQ(y[0], 3);
    CHECK_EQ(y[1], 6);
    CHECK_EQ(y[2], 2);
    CHECK_EQ(y[3], 4);
  }
  /* Gate: the first hand case's pre-gate values are 6, -2, 6 (units of 2^-shift of an output
   * LSB: RHE(., 1) gave 3, -1, 3). gate_pre 1: u = 3, -1, 3; the table G[z + 128] for z = 1, 2, 3
   * is 4, 3, 5 with gate_shift 2: y = RHE(12, 2) = 3, RHE(-3, 2) = -1 (-0.75), RHE(15, 2) = 4 (3.75). */
  {
    const int8_t x[] = {2, -1, 3}, dt[] = {1, 2, 0}, b[] = {1, 1, 2}, c[] = {1, -1, 1}, z[] = {1, 2, 3};
    const int32_t a[] = {0};
    const int64_t md[] = {2};
    int32_t gt[256] = {0};
    gt[129] = 4;
    gt[130] = 3;
    gt[131] = 5;
    scan_case sc = {1, 3, 1, 1, x, dt, b, c, a, hand_tab, md, z, gt};
    ares_scan_params p = params(0, 1000, 1, 1);
    p.gate = 1;
    p.gate_pre = 1;
    p.gate_shift = 2;
    CHECK_EQ(ref_scan(&sc, &p, y), 0);
    CHECK_EQ(y[0], 3);
    CHECK_EQ(y[1], -1);
    CHECK_EQ(y[2], 4);
  }
  /* Bad parameters are errors, not crashes. */
  {
    const int8_t x[] = {1}, dt[] = {1}, b[] = {1}, c[] = {1};
    const int32_t a[] = {-1};
    const int64_t md[] = {0};
    scan_case sc = {1, 1, 1, 1, x, dt, b, c, a, hand_tab, md, 0, 0};
    ares_scan_params p = params(0, 1000, 1, 1);
    CHECK(ref_scan(&sc, &p, y) < 0); /* negative decay exponent */
    const int32_t a0[] = {0};
    sc.a = a0;
    p.shift = 0;
    CHECK(ref_scan(&sc, &p, y) < 0);
    p = params(0, INT32_MAX, (int64_t)1 << 40, 20);
    CHECK(ref_scan(&sc, &p, y) < 0); /* 255 * (2^31 - 1) * 2^40 overflows 64 bits */
  }
}

/* check.h's generator, 32 bits at a time */
static uint32_t rnd32(void) { return (uint32_t)(rnd64() >> 16); }
static int32_t rrange(int32_t lo, int32_t hi) { return lo + (int32_t)(rnd32() % (uint32_t)(hi - lo + 1)); }

/* ares_rhe_i32 and ares_rhe30_i32 against the reference's RHE: random values, and values
 * exactly half way (both parities of the quotient) or one off. */
static void test_rhe32(void) {
  int bad = 0;
  for (int it = 0; it < 200000; it++) {
    int s = rrange(1, 30);
    int32_t v = (int32_t)rnd32() >> 1; /* |v| <= 2^30 */
    if (it & 1) { /* q * 2^s + 2^(s-1) + {-1, 0, 1} */
      int64_t q = (int64_t)v >> s;
      int64_t w = q * ((int64_t)1 << s) + ((int64_t)1 << (s - 1)) + rrange(-1, 1);
      if (w < -(1 << 30) || w > (1 << 30)) continue;
      v = (int32_t)w;
    }
    if (it % 1000 == 0) v = it % 2000 ? 1 << 30 : -(1 << 30);
    bad += ares_rhe_i32(v, s) != ares_ref_rhe(v, s);
  }
  CHECK_EQ(bad, 0);
  for (int it = 0; it < 200000; it++) {
    /* results within int32: |v| < 2^61 */
    int64_t q = (int32_t)rnd32(), v;
    if (it & 1) v = q * ((int64_t)1 << 30) + ((int64_t)1 << 29) + rrange(-1, 1);
    else v = (int64_t)(((uint64_t)rnd32() << 32 | rnd32()) >> 3) - ((int64_t)1 << 60);
    if (ares_ref_rhe(v, 30) < INT32_MIN || ares_ref_rhe(v, 30) > INT32_MAX) continue;
    bad += ares_rhe30_i32(v) != ares_ref_rhe(v, 30);
  }
  CHECK_EQ(bad, 0);
}

/* The kernel over random chunks of tokens and random channel ranges, with the state carried
 * in h, against the reference, for random shapes and parameters. */
static void test_kernel_random(void) {
  int32_t tab[512];
  for (int i = 0; i < 256; i++) {
    tab[i] = (int32_t)ares_round_half_even(ldexp(pow(2.0, -i / 256.0), 30));
    tab[256 + i] = (int32_t)ares_round_half_even(ldexp(pow(2.0, -i / 65536.0), 30));
  }
  for (int it = 0; it < 300; it++) {
    /* N up to 9 (8 sets of cached decays), and sometimes 17..70 (2, 1 or no set) */
    int64_t nb = rrange(1, 2), len = rrange(1, 40), d = rrange(1, 12), n = it % 10 == 3 ? rrange(17, 70) : rrange(1, 9);
    int8_t *x = malloc((size_t)(nb * len * d)), *dt = malloc((size_t)(nb * len * d)), *b = malloc((size_t)(nb * len * n)),
           *c = malloc((size_t)(nb * len * n)), *yr = malloc((size_t)(nb * len * d)), *yk = malloc((size_t)(nb * len * d));
    int32_t *a = malloc(sizeof(int32_t) * (size_t)(d * n)), *h = malloc(sizeof(int32_t) * (size_t)(d * n));
    int64_t *md = malloc(sizeof(int64_t) * (size_t)d);
    /* one case in three: delta takes few values, so the kernel reuses cached decays */
    int8_t few[3] = {(int8_t)rrange(-128, 127), (int8_t)rrange(-128, 127), (int8_t)rrange(-128, 127)};
    for (int64_t i = 0; i < nb * len * d; i++) {
      x[i] = (int8_t)rrange(-128, 127);
      dt[i] = it % 3 == 2 ? few[rrange(0, 2)] : (int8_t)rrange(-128, 127);
    }
    for (int64_t i = 0; i < nb * len * n; i++) {
      b[i] = (int8_t)rrange(-128, 127);
      c[i] = (int8_t)rrange(-128, 127);
    }
    /* exponents from no decay to none left, small ones most often (as trained A and dt give) */
    /* ... and, one case in five, around 31 * 2^24 / k, where dd = k reaches no decay left */
    for (int64_t i = 0; i < d * n; i++)
      a[i] = it % 5 == 0   ? (int32_t)(rnd32() & 0x7fffffff)
             : it % 5 == 1 ? (31 << 24) / rrange(1, 255) + rrange(-1, 1)
                           : rrange(0, 1 << rrange(0, 26));
    /* state formats from far below the input's precision (f < -25) to 30; hmax up to 2^31 - 1 */
    int f = it % 4 == 0 ? rrange(-62, 30) : rrange(-8, 12);
    int32_t hmax = it % 7 == 0 ? INT32_MAX - rrange(0, 1000) : rrange(0, 1 << rrange(0, 30));
    ares_scan_params p = params(f, hmax, rrange(-(1 << 15), 1 << 15), rrange(8, 40));
    p.direction = it & 1;
    p.zp_x = it % 6 == 0 ? -128 : rrange(-5, 5); /* extreme zero points: |dd * dx * (B - zp_B)| near 2^24 */
    p.zp_d = it % 3 ? -128 : rrange(-20, 20);
    p.zp_b = it % 6 == 0 ? 127 : rrange(-3, 3);
    p.zp_c = rrange(-3, 3);
    p.zp = rrange(-10, 10);
    p.qmin = rrange(-128, -100);
    p.qmax = rrange(100, 127);
    for (int64_t i = 0; i < d; i++) md[i] = rrange(-(1 << 20), 1 << 20) * (int64_t)rrange(0, 64);
    int8_t *z = malloc((size_t)(nb * len * d));
    int32_t gt[256];
    for (int64_t i = 0; i < nb * len * d; i++) z[i] = (int8_t)rrange(-128, 127);
    for (int i = 0; i < 256; i++) gt[i] = rrange(-(1 << 12), 1 << 16);
    /* gated: gate_pre large enough that |RHE(pre, gate_pre) * G| < 2^62 for these tables
     * (|G| <= 2^16), so the reference accepts the case */
    double pre_max = (double)n * 131 * p.hmax * fabs((double)p.m_y) + 133.0 * (1 << 20) * 64;
    int need = 1;
    while (ldexp(pre_max, -need) >= ldexp(1.0, 45)) need++;
    if (it % 2 && need <= p.shift) {
      p.gate = 1;
      p.gate_pre = rrange(need, p.shift);
      p.gate_shift = rrange(1, 40);
    }
    scan_case sc = {nb, len, d, n, x, dt, b, c, a, tab, md, z, gt};
    int rc = ref_scan(&sc, &p, yr);
    CHECK_EQ(rc, 0);
    if (rc) break;
    ares_scan kp = {p.direction, p.zp_x, p.zp_d, p.zp_b, p.zp_c, p.f, p.hmax, p.m_y, p.shift, p.zp, p.qmin, p.qmax, p.gate_pre, p.gate_shift};
    for (int64_t bi = 0; bi < nb; bi++) {
      int32_t c0 = 0;
      while (c0 < d) { /* a random channel range, the whole sequence in random chunks */
        int32_t cn = rrange(1, (int32_t)d - c0);
        memset(h, 0, sizeof(int32_t) * (size_t)(cn * n));
        int32_t done = 0;
        while (done < len) {
          int32_t steps = rrange(1, (int32_t)len - done);
          int32_t t0 = p.direction ? (int32_t)len - done - steps : done; /* reverse: chunks from the end */
          int64_t row = bi * len + t0;
          ares_scan_s8(x + row * d + c0, dt + row * d + c0, b + row * n, c + row * n, p.gate ? z + row * d + c0 : 0,
                       yk + row * d + c0, h, a + c0 * n, md + c0, tab, p.gate ? gt : 0, steps, cn, (int32_t)d, (int32_t)n, &kp);
          done += steps;
        }
        c0 += cn;
      }
    }
    char what[96];
    snprintf(what, sizeof what, "case %d: %lldx%lldx%lld, %lld states, f %d, gate %d", it, (long long)nb, (long long)len,
             (long long)d, (long long)n, p.f, p.gate);
    CHECK_MEM(yk, yr, nb * len * d, what);
    free(x), free(dt), free(b), free(c), free(z), free(yr), free(yk), free(a), free(h), free(md);
  }
}

int main(void) {
  test_hand();
  test_rhe32();
  test_kernel_random();
  return check_report();
}
