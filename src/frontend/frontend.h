/* Frontend: model files -> ares_graph at the ONNX (source) level. */
#ifndef ARES_FRONTEND_H
#define ARES_FRONTEND_H

#include "ir/ir.h"

/* Reads an ONNX model. Returns NULL after reporting the reason (ares_fail). */
ares_graph *ares_onnx_import(const char *path);

/* Import flags. KEEP_UNKNOWN: an operator ARES does not know is reported (ares_fail) but
 * does not stop the import; it stays in the graph as a dead node (ares check uses this to
 * classify every node of a model). */
enum { ARES_IMPORT_KEEP_UNKNOWN = 1 };
ares_graph *ares_onnx_import_ex(const char *path, int flags);
/* The same from a buffer; path only names it in messages. */
ares_graph *ares_onnx_import_mem(const uint8_t *buf, size_t len, const char *path, int flags);

/* Reads a serialized TensorProto (the ONNX backend tests' input_N.pb / output_N.pb) into t:
 * dtype, shape and data, validated like an initializer. Returns 0 or -1 (reported). */
int ares_onnx_read_tensor_file(ares_graph *g, const char *path, ares_tensor *t);

#endif
