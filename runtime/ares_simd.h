/* SIMD dot products behind one macro layer. ares_dot_s8(a, b, n) returns
 * sum_{i<n} a[i] * b[i] for int8 vectors; the 4-lane step is ARES_SDOTP4(acc, a4, b4)
 * (four int8 lanes packed in a 32-bit word, signed x signed, accumulated into acc):
 *   - ARES_SIMD_PULP: the PULP/GAP Xpulp sum-of-dot-product (`pv.sdotsp.b`) through the
 *     vendor toolchain's builtin (GAP9 and Siracusa projects built with their SDKs);
 *   - ARES_SIMD_XPULP_INSN: the same instruction through `.insn` for an upstream GCC
 *     (QEMU cannot execute it: chip builds only);
 *   - otherwise the portable C below, which computes the identical integer result and is
 *     what host and rv32 run.
 * ARES_SIMD_4LANE tells the kernels to take their 4-lane loops; ARES_SIMD_EMULATE sets it
 * with the portable step, so the unit tests run those loops on the host. */
#ifndef ARES_SIMD_H
#define ARES_SIMD_H

#include <stdint.h>
#include <string.h>

static inline uint32_t ares_load4(const int8_t *p) {
  uint32_t w;
  memcpy(&w, p, 4); /* unaligned-safe; one lw where alignment is known */
  return w;
}

#if defined(ARES_SIMD_PULP) || defined(ARES_SIMD_XPULP_INSN) || defined(ARES_SIMD_EMULATE)
#define ARES_SIMD_4LANE 1
#else
#define ARES_SIMD_4LANE 0
#endif

#if defined(ARES_SIMD_PULP)
typedef signed char ares_v4s __attribute__((vector_size(4)));
#define ARES_SDOTP4(acc, a4, b4) \
  ((acc) = __builtin_pulp_sdotsp4((ares_v4s)(a4), (ares_v4s)(b4), (acc)))
#elif defined(ARES_SIMD_XPULP_INSN)
#define ARES_SDOTP4(acc, a4, b4) __asm__(".insn r 0x57, 1, 0x5C, %0, %1, %2" : "+r"(acc) : "r"(a4), "r"(b4))
#else
/* lane i of a packed word, as a signed byte */
static inline int32_t ares_lane(uint32_t w, int i) {
  int32_t v = (int32_t)((w >> (8 * i)) & 0xFF);
  return v >= 128 ? v - 256 : v;
}
#define ARES_SDOTP4(acc, a4, b4)                                                                  \
  ((acc) += ares_lane((a4), 0) * ares_lane((b4), 0) + ares_lane((a4), 1) * ares_lane((b4), 1) + \
            ares_lane((a4), 2) * ares_lane((b4), 2) + ares_lane((a4), 3) * ares_lane((b4), 3))
#endif

/* sum a[i] * b[i], i < n: four lanes at a time, the rest one by one. |result| <= n * 2^14. */
static inline int32_t ares_dot_s8(const int8_t *a, const int8_t *b, int32_t n) {
  int32_t acc = 0, i = 0;
#if ARES_SIMD_4LANE
  for (; i + 4 <= n; i += 4) {
    uint32_t a4 = ares_load4(a + i), b4 = ares_load4(b + i);
    ARES_SDOTP4(acc, a4, b4);
  }
#endif
  for (; i < n; i++) acc += a[i] * b[i];
  return acc;
}

#endif
