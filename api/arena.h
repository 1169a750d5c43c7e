/* arena: request-scoped bump allocator. Everything a request decodes (DOM nodes, decoded
 * strings, packed tensor buffers) lives in one arena and is freed at once with
 * arena_release; nothing inside is freed piecemeal. Memory comes from core/include/mem.h. */
#ifndef LOSSD_API_ARENA_H
#define LOSSD_API_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block;
typedef struct arena_map arena_map;

typedef struct {
    arena_block *head; /* most recent block first */
    arena_map *maps;   /* adopted mappings (arena_adopt_map) */
    size_t used_bytes; /* bytes handed out plus block overhead, for the cap */
    size_t limit;      /* 0: no cap; else allocations beyond it fail */
} arena;

/* Starts an empty arena (no allocation yet). limit caps the total bytes (0: none). */
void arena_init(arena *a, size_t limit);

/* Returns size bytes aligned to `align` (a power of two <= 64), or NULL when out of memory,
 * over the limit, or on size overflow. The memory is owned by the arena. */
void *arena_alloc(arena *a, size_t size, size_t align);

/* Like arena_alloc for n elements of elem bytes; NULL on n*elem overflow. */
void *arena_alloc_array(arena *a, size_t n, size_t elem, size_t align);

/* A 64-byte aligned buffer of size bytes whose tail is padded to a multiple of 64 bytes, so
 * that SIMD kernels may read a whole vector past the last element (as mem_alloc_aligned). */
void *arena_alloc_simd(arena *a, size_t size);

/* Makes the arena own a mapping from mem_map/mem_remap of size bytes (unmapped by
 * arena_release). Counts it in used_bytes but not against the limit (the caller checked).
 * Returns 0, or -1 when no bookkeeping memory is left (the mapping is then still the
 * caller's). */
int arena_adopt_map(arena *a, void *ptr, size_t size);

/* Frees every block. The arena is empty and reusable afterwards. Accepts NULL. */
void arena_release(arena *a);

#endif
