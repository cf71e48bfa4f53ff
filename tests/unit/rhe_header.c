/* Exposes ares_rhe() from ares_kernels.h to test_kernels.c. Compiled without UBSan's shift
 * check: ares_rhe() left-shifts a negative quotient (undefined in C; GCC does the two's
 * complement thing), which the kernels avoid through ares_rq_rhe(). */
#include "ares_kernels.h"

int32_t unit_header_rhe(int64_t p, int s);
int32_t unit_header_rhe(int64_t p, int s) { return ares_rhe(p, s); }
