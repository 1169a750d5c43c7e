/* mem: the one allocation wrapper of lossd.
 * Every heap allocation in core/, api/ and server/ goes through these functions so that
 * tests can make the n-th allocation fail and prove each failure path ends in a clean
 * error with no leak. */
#ifndef LOSSD_MEM_H
#define LOSSD_MEM_H

#include <stddef.h>

/* Like malloc/calloc/realloc/free. mem_alloc_array returns NULL on overflow of n*size.
 * Memory from any of them is released with mem_free (NULL is accepted). */
void *mem_alloc(size_t size);
void *mem_calloc(size_t n, size_t size);
void *mem_alloc_array(size_t n, size_t size);
void *mem_realloc(void *ptr, size_t size);
void mem_free(void *ptr);
char *mem_strndup(const char *s, size_t len);

/* Aligned (64 bytes) allocation for tensor buffers; released with mem_free_aligned. Large
 * blocks are cached for reuse after free (see mem.c); mem_release_cache returns them. */
void *mem_alloc_aligned(size_t size);
void mem_free_aligned(void *ptr);
void mem_release_cache(void);

/* Test hook: after `countdown` more successful allocations, every allocation fails until
 * mem_fail_reset(). countdown < 0 disables. Thread-safe (atomic). */
void mem_fail_after(long countdown);
void mem_fail_reset(void);
/* Number of allocations that succeeded since the last mem_fail_reset (for sweeping n). */
long mem_alloc_count(void);

#endif
