/* libFuzzer harness: the ONNX reader and the whole pass pipeline on arbitrary bytes.
 *
 * Whatever the input, ARES must answer with a graph or a reported error: no crash, no
 * sanitizer report, no hang, no allocation beyond what the input justifies. Diagnostics
 * are dropped (counted, not printed) to keep the fuzzer fast. When the pipeline succeeds,
 * the reference interpreter runs the lowered graph on a zero input as well, unless the
 * graph is large (the fuzzer is after the reader and the passes, not arithmetic speed). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "frontend/frontend.h"
#include "ir/diag.h"
#include "passes/passes.h"
#include "ref/ref.h"
#include "targets/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drop(void *user, int is_error, const ares_node *n, const char *msg) {
  (void)user, (void)is_error, (void)n, (void)msg;
}

static void run_ref(ares_graph *g) {
  int64_t work = 0;
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead) work += g->nodes[i]->macs + 1;
  for (int i = 0; i < g->ntensors; i++) work += ares_tensor_numel(g->tensors[i]);
  if (work > 1 << 20) return;
  void **values = calloc((size_t)g->ntensors, sizeof(void *));
  if (!values) return;
  int ok = 1;
  for (int i = 0; i < g->ninputs && ok; i++) {
    ares_tensor *t = g->tensors[g->inputs[i]];
    values[t->id] = calloc((size_t)ares_tensor_numel(t) + 1, ares_dtype_size(t->dtype) + 1);
    ok = values[t->id] != NULL;
  }
  if (ok) ares_ref_run(g, values);
  ares_ref_free(g, values);
  for (int i = 0; i < g->ninputs; i++) {
    free(values[g->inputs[i]]);
    values[g->inputs[i]] = NULL;
  }
  free(values);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ares_diag_set_sink(drop, NULL);
  ares_graph *g = ares_onnx_import_mem(data, size, "fuzz input", 0);
  if (!g) return 0;
  const ares_target *t = ares_target_find("gap9"); /* the tiler plans for a real L1 */
  ares_target_apply(t, g);
  if (ares_run_passes(g, NULL, NULL) == 0) run_ref(g);
  ares_graph_free(g);
  return 0;
}
