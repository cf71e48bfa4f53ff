/* Minimal unit-test framework: CHECK macros count passes and failures and print each
 * failing expression with file:line. Include in exactly one translation unit per test
 * binary; finish main with `return check_report();`. */
#ifndef ARES_CHECK_H
#define ARES_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static long check_passed, check_failed;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (cond) check_passed++;                                                    \
    else {                                                                       \
      check_failed++;                                                            \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
    }                                                                            \
  } while (0)

/* Integer equality, printing both values on failure. */
#define CHECK_EQ(a, b)                                                           \
  do {                                                                           \
    long long check_a_ = (long long)(a), check_b_ = (long long)(b);              \
    if (check_a_ == check_b_) check_passed++;                                    \
    else {                                                                       \
      check_failed++;                                                            \
      fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n",       \
              __FILE__, __LINE__, #a, #b, check_a_, check_b_);                   \
    }                                                                            \
  } while (0)

/* Byte-wise equality of two buffers; reports the first differing byte. `what` names the
 * case (a string, e.g. built with snprintf for randomized cases). */
#define CHECK_MEM(a, b, nbytes, what)                                            \
  check_mem_((const void *)(a), (const void *)(b), (size_t)(nbytes), (what),     \
             __FILE__, __LINE__, #a, #b)

static inline void check_mem_(const void *a, const void *b, size_t n, const char *what,
                              const char *file, int line, const char *ea, const char *eb) {
  const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) {
      check_failed++;
      fprintf(stderr, "%s:%d: CHECK_MEM failed: %s vs %s [%s]: byte %zu of %zu: 0x%02x vs 0x%02x\n",
              file, line, ea, eb, what ? what : "", i, n, x[i], y[i]);
      return;
    }
  check_passed++;
}

/* Random cases: xorshift64 from CHECK_SEED (defined before the include to pick another
 * sequence), the same numbers on every run. */
#ifndef CHECK_SEED
#define CHECK_SEED 0x2545F4914F6CDD1Dull
#endif
static uint64_t check_rng = CHECK_SEED;
static inline uint64_t rnd64(void) {
  check_rng ^= check_rng << 13;
  check_rng ^= check_rng >> 7;
  check_rng ^= check_rng << 17;
  return check_rng;
}
/* uniform in [lo, hi] */
static inline int64_t rnd(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd64() % (uint64_t)(hi - lo + 1)); }

static inline int check_report(void) {
  printf("%ld passed, %ld failed\n", check_passed, check_failed);
  return check_failed ? 1 : 0;
}

#endif
