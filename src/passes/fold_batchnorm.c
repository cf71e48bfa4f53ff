/* fold-batchnorm: Conv -> BatchNormalization (inference mode) becomes one Conv.
 *
 * The quantized weights cannot absorb the BN factor without requantizing them (which would
 * change what the model computes), so the factor a = gamma / sqrt(var + eps) and the new
 * bias a * (b - mean) + beta are kept per channel as internal attributes on the Conv and
 * folded into its requantization multiplier and integer bias by lower-int. */
#include <math.h>

#include "ir/diag.h"
#include "passes.h"

static int const_vec(ares_graph *g, ares_node *bn, int k, int64_t c, const float **out) {
  if (k >= bn->nin || bn->in[k] < 0 || !ares_tensor_is_const(g, bn->in[k]))
    return ares_fail(bn, "unsupported: BatchNormalization input %d is not a constant", k);
  ares_tensor *t = g->tensors[bn->in[k]];
  if (t->dtype != ARES_DT_F32 || ares_tensor_numel(t) != c)
    return ares_fail(bn, "BatchNormalization input %d must be float32[%lld]", k, (long long)c);
  *out = t->data;
  return 0;
}

int ares_pass_fold_batchnorm(ares_graph *g) {
  for (int i = 0; i < g->nnodes; i++) {
    ares_node *bn = g->nodes[i];
    if (bn->dead || bn->op != ARES_OP_BATCHNORM) continue;
    if (bn->nout > 1 && ((bn->out[1] >= 0 && g->tensors[bn->out[1]]->nconsumers) ||
                         (bn->nout > 2 && bn->out[2] >= 0 && g->tensors[bn->out[2]]->nconsumers)))
      return ares_fail(bn, "unsupported: BatchNormalization in training mode");
    ares_node *conv = ares_producer(g, bn->in[0]);
    if (!conv || conv->op != ARES_OP_CONV || g->tensors[bn->in[0]]->nconsumers != 1)
      return ares_fail(bn, "unsupported: BatchNormalization that does not directly follow a Conv cannot be folded "
                           "(put it right after a convolution, or fuse it before export)");
    if (ares_attr_find(conv, "ares_bn_scale")) return ares_fail(bn, "unsupported: two BatchNormalizations after one Conv");
    ares_tensor *y = g->tensors[conv->out[0]];
    int64_t c = y->dims[1];
    const float *gamma, *beta, *mean, *var;
    if (const_vec(g, bn, 1, c, &gamma) < 0 || const_vec(g, bn, 2, c, &beta) < 0 || const_vec(g, bn, 3, c, &mean) < 0 ||
        const_vec(g, bn, 4, c, &var) < 0)
      return -1;
    double eps = ares_attr_float(bn, "epsilon", 1e-5f);
    const float *bias = NULL;
    if (conv->nin > 2 && conv->in[2] >= 0) {
      ares_tensor *b = g->tensors[conv->in[2]];
      if (!b->data || b->dtype != ARES_DT_F32 || b->q.nscale || ares_tensor_numel(b) != c)
        return ares_fail(bn, "unsupported: folding into a Conv whose bias is quantized");
      bias = b->data;
    }
    float *as = ares_attr_add_floats(g, conv, "ares_bn_scale", (int)c)->floats;
    float *ab = ares_attr_add_floats(g, conv, "ares_bn_bias", (int)c)->floats;
    for (int64_t k = 0; k < c; k++) {
      double a = gamma[k] / sqrt((double)var[k] + eps);
      if (!isfinite(a) || a == 0) return ares_fail(bn, "channel %lld has a zero or non-finite scale", (long long)k);
      as[k] = (float)a;
      ab[k] = (float)(a * ((bias ? bias[k] : 0.0) - mean[k]) + beta[k]);
    }
    if (conv->nin > 2) conv->in[2] = -1; /* the folded bias replaces it */
    bn->dead = 1;
    ares_graph_replace_uses(g, bn->out[0], conv->out[0]);
  }
  return 0;
}
