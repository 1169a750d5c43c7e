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

/* Bytes mem_alloc_aligned(size) takes from the heap (the size rounded up, plus its header);
 * SIZE_MAX when that overflows. For cost estimates that must bound real allocations. */
size_t mem_aligned_footprint(size_t size);

/* The cache's cap in bytes (default 256 MiB; 0 disables it). Set once at start-up, before
 * other threads allocate. */
void mem_cache_set_limit(size_t bytes);
/* Bytes the cache holds now (freed blocks kept resident for reuse). */
size_t mem_cache_bytes(void);
/* Frees cached blocks, oldest first, until at most keep bytes remain. Returns bytes freed. */
size_t mem_cache_trim(size_t keep);

/* Page-granular anonymous memory that can grow in place or move without copying (mremap):
 * for buffers whose final size is unknown while they fill, e.g. a JSON array parsed as it
 * arrives. Pages cost memory only once written. Released mappings of 1 MiB or more are kept
 * in the cache (their pages already faulted in) and handed out again by mem_map, which may
 * therefore return more than asked: *size is in/out (asked, then got; always a multiple of
 * the page size). mem_map returns NULL on failure (or when the fault hook says so);
 * mem_remap returns the (possibly moved) block with *size updated, or NULL leaving the old
 * one intact. mem_unmap takes the size mem_map or mem_remap reported. */
void *mem_map(size_t *size);
void *mem_remap(void *ptr, size_t old_size, size_t *size);
void mem_unmap(void *ptr, size_t size);

/* Test hook: after `countdown` more successful allocations, every allocation fails until
 * mem_fail_reset(). countdown < 0 disables. Thread-safe (atomic). */
void mem_fail_after(long countdown);
void mem_fail_reset(void);
/* Number of allocations that succeeded since the last mem_fail_reset (for sweeping n). */
long mem_alloc_count(void);

/* Test hook: byte accounting. mem_track_start zeroes the counters and counts every live
 * byte allocated through this module from then on (malloc's usable size; an aligned block's
 * whole footprint, cached or not) until mem_track_stop; mem_track_peak is the highest live
 * total seen. Meant for one thread at a time (a fuzz target, a test); costs one relaxed
 * atomic load per call while off. */
void mem_track_start(void);
void mem_track_stop(void);
size_t mem_track_peak(void);

#endif
