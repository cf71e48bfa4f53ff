/* L1 footprints of the tilings (see ares_tiled.h). Pure functions: the compiler links
 * this file too, so the tiler sizes tiles with exactly what the executors allocate. */
#include "ares_tile_geom.h"
#include "ares_tiled.h"
#include "ares_tiled_rows.h"

size_t ares_conv_tile_l1_bytes(const ares_conv_shape *s, int32_t th, int32_t tc, size_t w_per_channel, size_t out_esz) {
  int32_t ci0, cin_t;
  tile_in_channels(s, 0, tc, &ci0, &cin_t);
  size_t in = (size_t)cin_t * (size_t)max_in_rows(th, s->sh, s->dh, s->kh, s->h) * (size_t)s->w;
  size_t w = (size_t)tc * w_per_channel;
  size_t out = (size_t)tc * (size_t)th * (size_t)s->ow * out_esz;
  return 2 * (ALIGN8(in) + ALIGN8(w) + ALIGN8(out));
}

size_t ares_linear_tile_l1_bytes(int32_t k, int32_t tr, int32_t tn, size_t out_esz) {
  return 2 * (ALIGN8((size_t)tr * k) + ALIGN8((size_t)tn * k) + ALIGN8((size_t)tr * tn * out_esz));
}

size_t ares_elt_tile_l1_bytes(int32_t nin, int64_t chunk) { return 2 * (size_t)(nin + 1) * ALIGN8((size_t)chunk); }


#include "ares_tiled_matmul.h"

size_t ares_matmul_tile_l1_bytes(int32_t k, int32_t tm, int32_t tn, size_t out_esz) {
  return 2 * (ALIGN8((size_t)tm * k) + ALIGN8((size_t)k * tn) + ALIGN8((size_t)tm * tn * out_esz));
}

size_t ares_rope_tile_l1_bytes(int64_t npos, int32_t d, int64_t tile_rows) {
  return 2 * ALIGN8((size_t)npos * (size_t)d * sizeof(int32_t)) + 4 * ALIGN8((size_t)tile_rows * (size_t)d);
}

size_t ares_scan_tile_l1_bytes(int32_t n, int32_t tl, int32_t tc, int gated) {
  size_t state, md, io, bc;
  scan_sizes(n, tl, tc, &state, &md, &io, &bc);
  /* tables, h + 2 a, 2 m_d, 2 x (x dt y B C), gated: SiLU table + 2 z */
  return 2048 + 3 * state + 2 * md + 2 * (3 * io + 2 * bc) + (gated ? 1024 + 2 * io : 0);
}

size_t ares_rows_tile_l1_bytes(const ares_rows_shape *s, int32_t tile) {
  size_t elems = (size_t)s->n * (size_t)s->inner * (size_t)tile;
  return 2 * (ALIGN8(elems * (size_t)s->in_esz) + ALIGN8(elems * (size_t)s->out_esz)) + ALIGN8((size_t)s->side_bytes);
}

size_t ares_lut_tile_l1_bytes(int64_t chunk, size_t out_esz) {
  return ALIGN8(256 * out_esz) + 2 * (ALIGN8((size_t)chunk) + ALIGN8((size_t)chunk * out_esz));
}
