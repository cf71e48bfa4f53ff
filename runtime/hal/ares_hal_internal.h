/* Between the HAL backends and the shared strict DMA (ares_hal_dma.c). */
#ifndef ARES_HAL_INTERNAL_H
#define ARES_HAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Called by a backend's init: L1's base and size, poisoned. */
void ares_hal_dma_setup(int8_t *l1, size_t l1_bytes);
/* The backend brackets the DMA's own copying (profiling excludes it). */
void ares_hal_copy_begin(void);
void ares_hal_copy_end(void);

#endif
