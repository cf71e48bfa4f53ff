/* Reference QCAST: uint8 data at a graph input or output <-> ARES' int8 storage of uint8
 * tensors (SEMANTICS §2: stored value = ONNX value - 128). Runtime twin:
 * runtime/kernels/ares_cast.c (ares_cast_u8_s8). */
#include "ref_internal.h"

int ares_ref_qcast(const ares_graph *g, const ares_node *n, void **values) {
  const ares_tensor *tx, *ty;
  if (ares_ref_arity(n, 1, 1)) return -1;
  const void *x = ares_ref_in(g, n, values, 0, ARES_DT_UNDEF, &tx);
  void *y = x ? ares_ref_out(g, n, values, 0, ARES_DT_UNDEF, &ty) : NULL;
  if (!y) return -1;
  int to_s8 = tx->dtype == ARES_DT_U8 && ty->dtype == ARES_DT_I8;
  if (!to_s8 && !(tx->dtype == ARES_DT_I8 && ty->dtype == ARES_DT_U8))
    return ares_fail(n, "casts %s to %s (uint8 <-> int8 only)", ares_dtype_name(tx->dtype), ares_dtype_name(ty->dtype));
  if (ares_ref_check_numel(n, tx, ty)) return -1;
  int64_t count = ares_tensor_numel(tx);
  for (int64_t i = 0; i < count; i++) {
    if (to_s8) ((int8_t *)y)[i] = (int8_t)((int32_t)((const uint8_t *)x)[i] - 128);
    else ((uint8_t *)y)[i] = (uint8_t)((int32_t)((const int8_t *)x)[i] + 128);
  }
  return 0;
}
