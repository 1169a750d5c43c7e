/* arena: a list of blocks, bump allocation from the newest. Large requests get a block of
 * their own so that a big tensor never wastes the tail of a small block. Each thread keeps
 * one released standard block for its next arena (a small request's whole document fits in
 * one), so that a server thread's requests do not allocate and free 64 KiB each.
 * Invariant: every block was allocated by mem_alloc and is freed by arena_release, or kept
 * as its thread's spare and freed when the thread exits. */
#include "arena.h"

#include <pthread.h>
#include <stdint.h>

#include "mem.h"

#define ARENA_BLOCK_SIZE ((size_t)64 * 1024)
#define ARENA_ALIGN_MAX 64

struct arena_block {
    arena_block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(ARENA_ALIGN_MAX) unsigned char data[];
};

/* A standard block's usable bytes (block_new's size plus the alignment slack). */
#define ARENA_STANDARD_SIZE (ARENA_BLOCK_SIZE + ARENA_ALIGN_MAX)

struct arena_map {
    arena_map *next;
    void *ptr;
    size_t size;
};

/* The per-thread spare: a key made once, at the first arena block any thread allocates. */
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static pthread_key_t spare_key;
static int spare_ok;

static void spare_free(void *block)
{
    mem_free_aligned(block);
}

static void spare_init(void)
{
    spare_ok = pthread_key_create(&spare_key, spare_free) == 0;
}

/* Takes the calling thread's spare standard block, or NULL. */
static arena_block *spare_take(void)
{
    pthread_once(&spare_once, spare_init);
    if (!spare_ok)
        return NULL;
    arena_block *b = pthread_getspecific(spare_key);
    if (b != NULL)
        (void)pthread_setspecific(spare_key, NULL);
    return b;
}

/* Keeps b as the calling thread's spare if it has none; returns 0 if kept. */
static int spare_put(arena_block *b)
{
    pthread_once(&spare_once, spare_init);
    if (!spare_ok || pthread_getspecific(spare_key) != NULL)
        return -1;
    return pthread_setspecific(spare_key, b) == 0 ? 0 : -1;
}

void arena_init(arena *a, size_t limit)
{
    a->head = NULL;
    a->maps = NULL;
    a->used_bytes = 0;
    a->limit = limit;
}

static arena_block *block_new(arena *a, size_t size)
{
    size_t total;
    if (__builtin_add_overflow(size, sizeof(arena_block) + ARENA_ALIGN_MAX, &total))
        return NULL;
    if (a->limit && (total > a->limit || a->used_bytes > a->limit - total))
        return NULL;
    /* posix_memalign-backed so that data[] really is 64-byte aligned. */
    arena_block *b = size == ARENA_BLOCK_SIZE ? spare_take() : NULL;
    if (b == NULL)
        b = mem_alloc_aligned(total);
    if (b == NULL)
        return NULL;
    b->size = total - sizeof(arena_block);
    b->used = 0;
    a->used_bytes += total;
    return b;
}

static void *bump(arena_block *b, size_t size, size_t align)
{
    size_t start = (b->used + align - 1) & ~(align - 1);
    if (start > b->size || b->size - start < size)
        return NULL;
    b->used = start + size;
    return b->data + start;
}

void *arena_alloc(arena *a, size_t size, size_t align)
{
    if (align == 0 || align > ARENA_ALIGN_MAX || (align & (align - 1)) != 0)
        return NULL;
    if (a->head != NULL) {
        void *p = bump(a->head, size, align);
        if (p != NULL)
            return p;
    }
    int big = size > ARENA_BLOCK_SIZE / 4;
    arena_block *b = block_new(a, big ? size : ARENA_BLOCK_SIZE);
    if (b == NULL)
        return NULL;
    if (big && a->head != NULL) {
        /* Keep the current small block as head: it still has room for small nodes. */
        b->next = a->head->next;
        a->head->next = b;
    } else {
        b->next = a->head;
        a->head = b;
    }
    return bump(b, size, align);
}

void *arena_alloc_array(arena *a, size_t n, size_t elem, size_t align)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, elem, &bytes))
        return NULL;
    return arena_alloc(a, bytes, align);
}

void *arena_alloc_simd(arena *a, size_t size)
{
    size_t padded;
    if (__builtin_add_overflow(size, (size_t)ARENA_ALIGN_MAX - 1, &padded))
        return NULL;
    padded &= ~(size_t)(ARENA_ALIGN_MAX - 1);
    return arena_alloc(a, padded ? padded : ARENA_ALIGN_MAX, ARENA_ALIGN_MAX);
}

int arena_adopt_map(arena *a, void *ptr, size_t size)
{
    size_t limit = a->limit;
    a->limit = 0; /* the record is tiny; the mapping itself was checked by the caller */
    arena_map *m = arena_alloc(a, sizeof *m, _Alignof(arena_map));
    a->limit = limit;
    if (m == NULL)
        return -1;
    *m = (arena_map){a->maps, ptr, size};
    a->maps = m;
    a->used_bytes = a->used_bytes > SIZE_MAX - size ? SIZE_MAX : a->used_bytes + size;
    return 0;
}

void arena_release(arena *a)
{
    if (a == NULL)
        return;
    for (arena_map *m = a->maps; m != NULL; m = m->next)
        mem_unmap(m->ptr, m->size); /* the records live in blocks freed below */
    a->maps = NULL;
    arena_block *b = a->head;
    while (b != NULL) {
        arena_block *next = b->next;
        if (b->size != ARENA_STANDARD_SIZE || spare_put(b) != 0)
            mem_free_aligned(b);
        b = next;
    }
    a->head = NULL;
    a->used_bytes = 0;
}
