/* Minimal .npy reader/writer (format versions 1.0-3.0, C order, little-endian), used by
 * generated programs to read inputs and write outputs, and by the ares CLI. */
#ifndef ARES_NPY_H
#define ARES_NPY_H

#include <stddef.h>
#include <stdint.h>

#define ARES_NPY_MAX_DIMS 8

typedef struct {
  char dtype[4];   /* numpy type code without byte order: "f4", "i1", "u1", "i2", "i4", "i8" */
  int rank;
  int64_t dims[ARES_NPY_MAX_DIMS];
  size_t nbytes;
  void *data;      /* malloc'd; release with ares_npy_free */
} ares_npy;

/* Returns 0, or -1 with a message in err (never crashes on malformed files). */
int ares_npy_load(const char *path, ares_npy *out, char *err, size_t errlen);
/* Writes data (nbytes implied by dtype and dims). Returns 0 or -1. */
int ares_npy_save(const char *path, const char *dtype, int rank, const int64_t *dims, const void *data);
void ares_npy_free(ares_npy *a);
/* Element size of a type code, 0 if unknown. */
size_t ares_npy_itemsize(const char *dtype);

#endif
