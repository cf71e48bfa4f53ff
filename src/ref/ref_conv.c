/* Reference QCONV. Runtime twin: runtime/kernels/ares_conv2d.c (ares_conv2d_s8). */
#include "ref_internal.h"

/* Input x [N][Cin][H][W] int8 (rank 3 [N][Cin][L]: H = 1), weight w [Cout][Cin/group][kh][kw]
 * int8 (rank 3: [Cout][Cin/group][kw]). For every output element
 *   acc = bias[co] + sum over ci in co's group, ky, kx of
 *         w[co][ci][ky][kx] * (x[n][g*Cin/group + ci][oy*sh - pad_t + ky*dh][ox*sw - pad_l + kx*dw] - x_zp)
 * skipping taps outside the input (padding with the real zero), then requantized for co. */
int ares_ref_qconv(const ares_graph *g, const ares_node *n, void **values) {
  const ares_conv_params *p = &n->p.conv;
  const ares_tensor *tx, *tw, *ty;
  const int8_t *x, *w;
  void *y;
  if (ares_ref_in2_s8(g, n, values, &x, &tx, &w, &tw, &y, &ty)) return -1;

  ares_ref_nchw xs, ys;
  if (ares_ref_get_nchw(n, tx, "input", &xs) || ares_ref_get_nchw(n, ty, "output", &ys)) return -1;
  int is1d = tx->rank == 3;
  if (ty->rank != tx->rank) return ares_fail(n, "output rank %d differs from input rank %d", ty->rank, tx->rank);
  if (tw->rank != tx->rank) return ares_fail(n, "weight rank %d differs from input rank %d", tw->rank, tx->rank);

  /* 1-D: H = 1 and the vertical geometry is the identity, whatever the params say. */
  int64_t kh = is1d ? 1 : p->kh, sh = is1d ? 1 : p->sh, dh = is1d ? 1 : p->dh;
  int64_t pad_t = is1d ? 0 : p->pad_t, pad_b = is1d ? 0 : p->pad_b;
  int64_t kw = p->kw, sw = p->sw, dw = p->dw, pad_l = p->pad_l, pad_r = p->pad_r;
  if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || dh < 1 || dw < 1)
    return ares_fail(n, "kernel %lldx%lld, stride %lldx%lld, dilation %lldx%lld: all must be >= 1", (long long)kh,
                     (long long)kw, (long long)sh, (long long)sw, (long long)dh, (long long)dw);
  if (pad_t < 0 || pad_l < 0 || pad_b < 0 || pad_r < 0) return ares_fail(n, "negative padding");

  int64_t group = p->group, cin = xs.c, cout = ys.c;
  if (group < 1 || cin % group != 0 || cout % group != 0)
    return ares_fail(n, "group %lld does not divide Cin %lld and Cout %lld", (long long)group, (long long)cin,
                     (long long)cout);
  int64_t cin_g = cin / group, cout_g = cout / group;
  int64_t wkh = is1d ? 1 : tw->dims[2], wkw = tw->dims[is1d ? 2 : 3];
  if (tw->dims[0] != cout || tw->dims[1] != cin_g || wkh != kh || wkw != kw)
    return ares_fail(n, "weight shape does not match [Cout=%lld, Cin/group=%lld, %lld, %lld]", (long long)cout,
                     (long long)cin_g, (long long)kh, (long long)kw);
  if (ys.n != xs.n) return ares_fail(n, "batch %lld in, %lld out", (long long)xs.n, (long long)ys.n);
  /* The output size is the output tensor's; it must be the one the geometry implies. */
  int64_t span_h = xs.h + pad_t + pad_b - dh * (kh - 1) - 1, span_w = xs.w + pad_l + pad_r - dw * (kw - 1) - 1;
  if (span_h < 0 || span_w < 0 || ys.h != span_h / sh + 1 || ys.w != span_w / sw + 1)
    return ares_fail(n, "output spatial size %lldx%lld does not follow from input %lldx%lld, kernel, stride, dilation and pads",
                     (long long)ys.h, (long long)ys.w, (long long)xs.h, (long long)xs.w);
  if (ares_ref_check_zp(n, p->x_zp, "x_zp")) return -1;
  if (ares_ref_check_rq(n, &p->rq, cout, ty->dtype)) return -1;

  for (int64_t b = 0; b < ys.n; b++)
    for (int64_t co = 0; co < cout; co++) {
      int64_t grp = co / cout_g;
      for (int64_t oy = 0; oy < ys.h; oy++)
        for (int64_t ox = 0; ox < ys.w; ox++) {
          int64_t acc = p->bias ? p->bias[co] : 0;
          for (int64_t ci = 0; ci < cin_g; ci++)
            for (int64_t ky = 0; ky < kh; ky++)
              for (int64_t kx = 0; kx < kw; kx++) {
                int64_t iy = oy * sh - pad_t + ky * dh;
                int64_t ix = ox * sw - pad_l + kx * dw;
                if (iy < 0 || iy >= xs.h || ix < 0 || ix >= xs.w) continue;
                int64_t xc = grp * cin_g + ci;
                int64_t xv = x[((b * cin + xc) * xs.h + iy) * xs.w + ix];
                int64_t wv = w[((co * cin_g + ci) * kh + ky) * kw + kx];
                acc += wv * (xv - p->x_zp);
              }
          if (ares_ref_check_acc(n, acc)) return -1;
          ares_ref_requant(&p->rq, co, acc, y, ((b * cout + co) * ys.h + oy) * ys.w + ox);
        }
    }
  return 0;
}
