/* Frontend: model files -> ares_graph at the ONNX (source) level. */
#ifndef ARES_FRONTEND_H
#define ARES_FRONTEND_H

#include "ir/ir.h"

/* Reads an ONNX model. Returns NULL after reporting the reason (ares_fail). */
ares_graph *ares_onnx_import(const char *path);

#endif
