/* ARES runtime kernels: the integer ops a compiled network calls.
 *
 * This directory is copied into every generated project. Each kernel's semantics is the
 * one defined by the reference interpreter (src/ref/ref_<op>.c) and written down in
 * docs/SEMANTICS.md; the two are independent implementations held bit-exact by tests.
 *
 * Conventions
 *  - Activations are int8 with an arbitrary zero point (uint8 models are shifted by -128
 *    at compile time), layout NCHW; 1-D ops use H = 1.
 *  - Weights are int8 with zero point 0; conv weights [Cout][Cin/group][KH][KW], linear
 *    weights [N][K] (row n = output feature n).
 *  - Accumulators are int32; requantization of an accumulator `acc` for channel c:
 *        p = (int64)acc * mult[c] + add[c]          (add == NULL: 0)
 *        y = clamp(zp + RHE(p, shift[c]), qmin, qmax)
 *    add carries the layer's bias at the precision of the product (2^-shift of an output
 *    LSB) instead of rounded to accumulator units.
 *    where RHE(p, s) = p / 2^s rounded to nearest, ties to even (s >= 1).
 *    With out_float set, the output is float: y = (float)acc * fscale[c] + fbias[c]
 *    (float32 multiply, then float32 add). With out_i32 set, y is int32: y = acc.
 */
#ifndef ARES_KERNELS_H
#define ARES_KERNELS_H

#include <stdint.h>

typedef struct {
  int32_t n;              /* channels in mult/shift (1 = per-tensor) */
  const int32_t *mult;
  const int8_t *shift;
  int32_t zp, qmin, qmax;
  int32_t out_float;      /* 1: output is float32, see above */
  const float *fscale;    /* [n] */
  const float *fbias;     /* [n] */
  const int64_t *add;     /* [n] or NULL: bias added to the product before rounding */
  int32_t out_i32;        /* 1: output is the int32 accumulator itself (y = acc) */
} ares_rq;

/* Round half to even of p / 2^s, s in 1..62. */
static inline int64_t ares_rhe(int64_t p, int s) {
  int64_t half = (int64_t)1 << (s - 1);
  int64_t q = p >> s;                         /* floor */
  int64_t r = (int64_t)((uint64_t)p & (((uint64_t)1 << s) - 1)); /* 0 <= r < 2^s */
  q += (r > half) | ((r == half) & (q & 1));
  return q;
}

static inline int8_t ares_sat(int64_t v, int32_t lo, int32_t hi) {
  return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* y = clamp(rint(x / scale) + zp, qmin, qmax), division and rint (ties to even) in
 * float32, exactly as ONNX QuantizeLinear. */
void ares_quantize_f32_s8(const float *x, int8_t *y, int64_t n, float scale, int32_t zp,
                          int32_t qmin, int32_t qmax);
/* The same without float arithmetic, from the compiler's table (src/ir/qdq_table.h): the
 * result is monotone in x, so y = qmin + #{j in 1..255 : below[j] < key(x)}, key the order
 * of float32 bit patterns as signed integers and below[j] the largest key quantized below
 * qmin + j; NaN gives nan_q. */
void ares_quantize_f32_s8_thr(const float *x, int8_t *y, int64_t n, const int32_t *below, int32_t qmin, int32_t nan_q);
/* y = (float)(x - zp) * scale (per tensor, the generated code uses ares_lut_s8_f32 with the
 * compiler's table instead) */
void ares_dequantize_s8_f32(const int8_t *x, float *y, int64_t n, float scale, int32_t zp);
/* The same per axis (graph edges): element i uses scale[c], zp[c], c = (i / inner) % nch. */
void ares_quantize_f32_s8_axis(const float *x, int8_t *y, int64_t n, int64_t inner, int32_t nch, const float *scale,
                               const int32_t *zp, int32_t qmin, int32_t qmax);
void ares_dequantize_s8_f32_axis(const int8_t *x, float *y, int64_t n, int64_t inner, int32_t nch, const float *scale,
                                 const int32_t *zp);

typedef struct {
  int32_t n, cin, h, w;          /* input NCHW */
  int32_t cout, oh, ow;          /* output */
  int32_t kh, kw, sh, sw, dh, dw;
  int32_t pad_t, pad_l;          /* bottom/right padding is implied by oh/ow */
  int32_t group;
  int32_t x_zp;                  /* input zero point: padded taps contribute 0 */
} ares_conv_shape;

/* acc[n][co][oy][ox] = bias[co] + sum over ci in co's group, ky, kx of
 *   w[co][ci][ky][kx] * (x[n][ci][oy*sh - pad_t + ky*dh][ox*sw - pad_l + kx*dw] - x_zp),
 * taps outside the input skipped; then requantized per co. y is int8 or float. */
void ares_conv2d_s8(const int8_t *x, const int8_t *w, const int32_t *bias, void *y,
                    const ares_conv_shape *s, const ares_rq *rq);

/* acc[r][j] = bias[j] + sum_k w[j][k] * (x[r][k] - x_zp); requantized per j. */
void ares_linear_s8(const int8_t *x, const int8_t *w, const int32_t *bias, void *y,
                    int32_t rows, int32_t k, int32_t n, int32_t x_zp, const ares_rq *rq);
/* The same with output row r at y + r * ldy elements (a block of columns of a wider y). */
void ares_linear_s8_ld(const int8_t *x, const int8_t *w, const int32_t *bias, void *y, int32_t rows, int32_t k,
                       int32_t n, int32_t ldy, int32_t x_zp, const ares_rq *rq);

/* y = clamp(zp + RHE((a - zp_a) * mult_a + (b - zp_b) * mult_b, shift), qmin, qmax)
 * With nin == 1 (requant), b is unused. Products and the sum are int64.
 * With mul set (qmul): y = clamp(zp + RHE((a - zp_a) * (b - zp_b) * mult_a, shift), qmin, qmax). */
typedef struct {
  int32_t nin;
  int32_t zp_in[2];
  int32_t mult[2];
  int32_t shift;
  int32_t zp, qmin, qmax;
  int32_t mul;
} ares_elt;
void ares_add_s8(const int8_t *a, const int8_t *b, int8_t *y, int64_t n, const ares_elt *p);
void ares_requant_s8(const int8_t *x, int8_t *y, int64_t n, const ares_elt *p);
/* qmul: the product form of ares_elt (p->mul set). */
void ares_mul_s8(const int8_t *a, const int8_t *b, int8_t *y, int64_t n, const ares_elt *p);

/* Concatenation along an axis: the tensors are viewed as [outer][inner_i] with inner_i the
 * product of the dims from the axis on. Input i is rescaled:
 *   y = clamp(zp + RHE((x - zp_in[i]) * mult[i], shift[i]), qmin, qmax)
 * or copied as is when mult[i] == 0 (same scale and zero point). */
typedef struct {
  int32_t nin;
  int64_t outer;
  const int64_t *inner;
  const int32_t *zp_in, *mult;
  const int8_t *shift;
  int32_t zp, qmin, qmax;
} ares_concat;
void ares_concat_s8(const int8_t *const *xs, int8_t *y, const ares_concat *p);

typedef struct {
  int32_t n, c, h, w, oh, ow;
  int32_t kh, kw, sh, sw, dh, dw;
  int32_t pad_t, pad_l;
  int32_t x_zp;
  int32_t count_include_pad;
} ares_pool_shape;

/* Max over the window's taps inside the input (padding never wins). */
void ares_maxpool_s8(const int8_t *x, int8_t *y, const ares_pool_shape *s);
/* acc = sum over in-bounds taps of (x - x_zp); cnt = number of in-bounds taps, or kh*kw
 * when count_include_pad; y = clamp(zp + RHE(acc * mult[cnt-1], shift[cnt-1]), qmin, qmax)
 * (rq->n == kh*kw entries). */
void ares_avgpool_s8(const int8_t *x, int8_t *y, const ares_pool_shape *s, const ares_rq *rq);

/* Constant padding: out dim d = pad_begin[d] + in dim d + pad_end[d] (pads may be negative
 * = crop). */
void ares_pad_s8(const int8_t *x, int8_t *y, int32_t rank, const int64_t *in_dims,
                 const int64_t *pad_begin, const int64_t *pad_end, int8_t value);

/* y[perm applied] : output dim i = input dim perm[i]. */
void ares_transpose_s8(const int8_t *x, int8_t *y, int32_t rank, const int64_t *in_dims,
                       const int32_t *perm);

/* Strided slice: output index (o_0 .. o_r-1), o_d < count[d], is input index
 * start[d] + o_d * step[d] (steps may be negative: reversal). */
void ares_slice_s8(const int8_t *x, int8_t *y, int32_t rank, const int64_t *in_dims, const int64_t *start,
                   const int64_t *step, const int64_t *count);

/* Gather along an axis with x viewed as [outer][dim][inner]: y[o][i][:] = x[o][idx[i]][:]. */
void ares_gather_s8(const int8_t *x, int8_t *y, int64_t outer, int64_t dim, int64_t inner, const int64_t *idx,
                    int64_t nidx);
/* Rotary position encoding. Rows of d elements (d even); row r is at position
 * (r / inner) % npos. Element i of a row has the partner j = i +- d/2 (HALF) or i ^ 1
 * (INTERLEAVED) and
 *   y_i = clamp(zp + RHE((x_i - zp_in) * mc[pos*d + i] + (x_j - zp_in) * ms[pos*d + i], shift),
 *               qmin, qmax)
 * in int64 (the rotation's sign is in ms). x and y point at row row0 of the tensor. */
enum { ARES_ROPE_LAYOUT_HALF = 0, ARES_ROPE_LAYOUT_INTERLEAVED = 1 };
typedef struct {
  int32_t layout;
  int32_t npos, inner, d;
  const int32_t *mc, *ms; /* [npos * d] */
  int32_t shift, zp_in, zp, qmin, qmax;
} ares_rope;
void ares_rope_s8(const int8_t *x, int8_t *y, int64_t row0, int64_t rows, const ares_rope *p);
/* Selective scan (docs/SEMANTICS.md, qscan), one chunk of `steps` tokens for `ch` channels:
 * x, dt and y are rows of `stride` bytes (channel j at column j), b and c rows of n states;
 * h [ch][n] is the running state (zeros before a sequence's first token) and is updated;
 * a [ch][n] the decay exponents, m_d [ch] the skip multipliers, tab the 512 exp2 entries.
 * Tokens run in memory order, or from the last row to the first when direction = 1. Per
 * token and channel d, with dx = x - zp_x, dd = max(dt - zp_d, 0), for each state s:
 *     E  = 2^(-dd * a[d][s] / 2^24) in Q30 (tables), h = clamp(RHE(h * E, 30) + term, +-hmax)
 *     term = dd * (b[s] - zp_b) * dx * 2^f   (f < 0: RHE(.., -f))
 * then pre = sum_s (c[s] - zp_c) * h[s] * m_y + dx * m_d[d] and y = clamp(zp + RHE(pre, shift),
 * qmin, qmax); gated (z and its SiLU table gt non-NULL, z rows like x's):
 * y = clamp(zp + RHE(RHE(pre, gate_pre) * gt[z + 128], gate_shift), qmin, qmax). */
typedef struct {
  int32_t direction;
  int32_t zp_x, zp_d, zp_b, zp_c;
  int32_t f, hmax;
  int64_t m_y;
  int32_t shift;
  int32_t zp, qmin, qmax;
  int32_t gate_pre, gate_shift;
} ares_scan;
void ares_scan_s8(const int8_t *x, const int8_t *dt, const int8_t *b, const int8_t *c, const int8_t *z, int8_t *y,
                  int32_t *h, const int32_t *a, const int64_t *m_d, const int32_t *tab, const int32_t *gt, int32_t steps,
                  int32_t ch, int32_t stride, int32_t n, const ares_scan *p);
/* Table lookup (qlut): y[i] = table[x[i] + 128]; the table is an elementwise function
 * evaluated by the compiler for all 256 int8 inputs (int8 or float32 results). */
void ares_lut_s8(const int8_t *x, int8_t *y, int64_t n, const int8_t *table);
void ares_lut_s8_f32(const int8_t *x, float *y, int64_t n, const float *table);

/* One m x n block of a product of two int8 matrices, a [m][k] (row stride lda) and
 * b [k][n] (row stride ldb):
 *   acc[r][c] = sum_j (a[r][j] - a_zp) * (b[j][c] - b_zp)
 * stored at y[r * ldy + c]: the int32 accumulator itself when out_i32, otherwise
 * requantized by rq (per-tensor: rq->n == 1; int8, or float with rq->out_float). */
void ares_matmul_s8(const int8_t *a, const int8_t *b, void *y, int32_t m, int32_t k, int32_t n, int32_t lda,
                    int32_t ldb, int32_t ldy, int32_t a_zp, int32_t b_zp, int32_t out_i32, const ares_rq *rq);
/* LayerNorm (center = 1) and RMSNorm (center = 0) of `rows` contiguous rows of n int8
 * elements, the first being row row0 of the tensor (docs/SEMANTICS.md, qlayernorm). Per
 * row r, with d = x - x_zp and k = (r % nsets) * n + i (the row's parameter set):
 *   S1 = center ? sum d : 0, S2 = sum d^2, Q = n * S2 - S1^2           (int64)
 *   Q == 0: y_i = clamp(zp + RHE(b_add[k], t_shift), qmin, qmax)
 *   else    s = floor(sqrt((Q << e2) + eps_fx)), b = bitlen(s), R = round(2^(b+29) / s),
 *           M_i = R * g_mult[k] / 2^(g_shift[k] + b)  (RHE; exact when the shift is <= 0)
 *           y_i = clamp(zp + RHE((n * d_i - S1) * M_i + b_add[k], t_shift), qmin, qmax) */
typedef struct {
  int32_t n, nsets, center, x_zp, e2;
  int64_t eps_fx;
  const int32_t *g_mult;
  const int8_t *g_shift;
  const int64_t *b_add;
  int32_t t_shift, zp, qmin, qmax;
} ares_norm;
void ares_norm_s8(const int8_t *x, int8_t *y, int64_t row0, int32_t rows, const ares_norm *p);

/* Softmax over rows of n elements at stride `inner` (docs/SEMANTICS.md, qsoftmax): rows
 * r0 .. r1-1 of a block [.][n][inner], row r starting at element (r / inner) * n * inner +
 * r % inner. Input int8 (in_i32 = 0: E = tab[max - x]) or int32 (E = 2^-((max - x) * c)
 * through the tables hi, lo); then with sum = sum E, k = max(bitlen(sum) - 31, 0),
 * sn = RHE(sum, k), R = round(2^61 / sn), K = R * y_mult / 2^(61 + k + y_shift - out_shift):
 *   y = clamp(zp + RHE(E * K, out_shift), qmin, qmax).
 * Masked (mask_rows > 0, inner 1): row r of the block is row g = row0 + r of the tensor,
 * i = g % mask_rows; element j is kept when causal ? j <= i + causal_off : mask[i * n + j];
 * a masked element takes no part in the maximum and the sum, and its E is 0. */
typedef struct {
  int32_t n, inner, in_i32;
  const int32_t *tab, *hi, *lo;
  int64_t c_mult, dmax;
  int32_t c_shift, y_mult, y_shift, out_shift;
  int32_t zp, qmin, qmax;
  int32_t mask_rows, causal, causal_off;
} ares_softmax;
void ares_softmax_s8(const void *x, int8_t *y, int64_t r0, int64_t r1, int64_t row0, const uint8_t *mask,
                     const ares_softmax *p);

/* uint8 data <-> ARES' int8 storage of it (value - 128), either direction: y = x ^ 0x80
 * bytewise (uint8 x -> int8 x - 128; int8 x -> uint8 x + 128). */
void ares_cast_u8_s8(const void *x, void *y, int64_t n);

/* Token embedding: y[t][:] = table[ids[t]][:] (rows of d) for 0 <= ids[t] < vocab, a row of
 * oob (the output's zero point) for any other index. */
void ares_embed_s8(const int8_t *table, const int64_t *ids, int8_t *y, int64_t n, int64_t vocab, int32_t d, int8_t oob);

#endif
