/* The pass pipeline, in order: reading it top to bottom is reading the compiler. */
#include "passes.h"

#include <string.h>

#include "ir/diag.h"

static const ares_pass pipeline[] = {
    {"import", NULL, "ONNX file -> graph of ONNX operators (frontend/onnx_import.c)"},
    {"fold-constants", ares_pass_fold_constants, "Constant nodes -> tensors; drop Identity/Dropout; evaluate ops on constants"},
    {"canon-qop", ares_pass_canon_qop, "QOperator ops (QLinearConv, QLinearMatMul, ConvInteger, QGemm ...) -> QDQ form; integer graph inputs/outputs"},
    {"canon-quant", ares_pass_canon_quant, "Q->Clip->DQ and QONNX Quant -> integer tensors with quantization; quantized weights"},
    {"infer-shapes", ares_pass_infer_shapes, "static shape of every tensor"},
    {"fold-batchnorm", ares_pass_fold_batchnorm, "BatchNormalization after Conv -> per-channel weight scale and bias"},
    {"lower-embed", ares_pass_lower_embed, "Gather of a quantized constant table at run-time indices (token embedding) -> qembed"},
    {"sink-dequant", ares_pass_sink_dequant, "move DequantizeLinear past Relu/MaxPool/Reshape/Transpose/Pad/... (scale propagation)"},
    {"lower-matmul", ares_pass_lower_matmul, "MatMul of two quantized activations -> qmatmul (int8 out, or int32 for a float reader)"},
    {"lower-rope", ares_pass_lower_rope, "x*cos + rotate(x)*sin between quantizers (RoPE, half-split or interleaved) -> qrope"},
    {"lower-norm", ares_pass_lower_norm, "LayerNorm / RMSNorm / Softmax between a dequantize and a quantize -> integer row ops"},
    {"lower-lut", ares_pass_lower_lut, "elementwise float islands on one quantized tensor (GELU, SiLU, sigmoid, tanh ...) -> 256-entry tables"},
    {"lower-int", ares_pass_lower_int, "float compute between quantization points -> integer ops with requantization"},
    {"fuse-clamp", ares_pass_fuse_clamp, "fold clamps (Relu) into the producing integer op"},
    {"finalize", ares_pass_finalize, "drop dead nodes, check that only integer ops remain, schedule"},
    {"plan-tiles", ares_pass_plan_tiles, "per layer, the L1 tile (double-buffered) minimizing DMA traffic and core idling"},
    {"plan-memory", ares_pass_plan_memory, "lifetime-based offsets of the activations in one L2 arena"},
    {"place-levels", ares_pass_place_levels, "weights in L2 while they fit beside the arena, the rest in L3"},
};

const ares_pass *ares_passes(int *n) {
  *n = (int)(sizeof(pipeline) / sizeof(pipeline[0]));
  return pipeline;
}

int ares_run_passes(ares_graph *g, const char *dump_after, FILE *dump_file) {
  int n;
  const ares_pass *p = ares_passes(&n);
  int found = dump_after == NULL;
  for (int i = 0; i < n; i++) {
    if (p[i].run && p[i].run(g) < 0) return -1;
    if (dump_after && strcmp(dump_after, p[i].name) == 0) {
      ares_graph_dump(g, dump_file);
      found = 1;
    }
  }
  if (!found) return ares_fail(NULL, "--dump-after: no pass named '%s' (see 'ares passes')", dump_after);
  return 0;
}
