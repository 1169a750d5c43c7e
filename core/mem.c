/* mem: the allocation wrapper, with a fault-injection hook and an allocation count for tests,
 * and mem_alloc_aligned's cache of big blocks (reused instead of fresh pages; see below).
 * Invariant: with the hook off, mem_alloc and friends are libc calls plus two relaxed atomic
 * operations; only aligned blocks of CACHE_MIN bytes or more touch the cache's mutex. */
#include "mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_countdown = -1;
static atomic_long alloc_count = 0;

static int should_fail(void)
{
    long left = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    if (left < 0) {
        atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
        return 0;
    }
    if (left == 0)
        return 1;
    atomic_fetch_sub_explicit(&fail_countdown, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
    return 0;
}

void mem_fail_after(long countdown)
{
    atomic_store(&alloc_count, 0);
    atomic_store(&fail_countdown, countdown);
}

void mem_fail_reset(void)
{
    atomic_store(&fail_countdown, -1);
    atomic_store(&alloc_count, 0);
}

long mem_alloc_count(void) { return atomic_load(&alloc_count); }

void *mem_alloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *mem_calloc(size_t n, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *mem_alloc_array(size_t n, size_t size)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes))
        return NULL;
    return mem_alloc(bytes);
}

void *mem_realloc(void *ptr, size_t size)
{
    if (should_fail())
        return NULL;
    return realloc(ptr, size ? size : 1);
}

void mem_free(void *ptr) { free(ptr); }

char *mem_strndup(const char *s, size_t len)
{
    char *copy = mem_alloc(len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}

/* Large tensor buffers are kept for reuse instead of returned to the kernel: touching a
 * fresh page costs ~1.7 us per 4 KiB on these machines (~20x the cost of writing reused
 * memory), so a 40 MB gradient on fresh pages costs more than the loss itself. Blocks of at
 * least CACHE_MIN bytes go to a small cache on free (at most CACHE_SLOTS blocks and
 * CACHE_BYTES in all) and serve later requests up to twice smaller than the block. */
#define CACHE_MIN ((size_t)1 << 20)
#define CACHE_SLOTS 8
#define CACHE_BYTES ((size_t)1 << 30)
#define HEADER 64

typedef struct {
    void *base;
    size_t size;
    unsigned long stamp; /* when it was cached: the oldest block is evicted first */
} cached_block;

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static cached_block cache[CACHE_SLOTS];
static size_t cache_total;
static unsigned long cache_clock;

static void *cache_take(size_t size)
{
    void *found = NULL;
    pthread_mutex_lock(&cache_mu);
    size_t best = CACHE_SLOTS;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].base && cache[i].size >= size && cache[i].size / 2 <= size &&
            (best == CACHE_SLOTS || cache[i].size < cache[best].size))
            best = i;
    if (best < CACHE_SLOTS) {
        found = cache[best].base;
        cache_total -= cache[best].size;
        cache[best].base = NULL;
    }
    pthread_mutex_unlock(&cache_mu);
    return found;
}

/* Index of the oldest cached block, or CACHE_SLOTS if the cache is empty. */
static size_t cache_oldest(void)
{
    size_t oldest = CACHE_SLOTS;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].base && (oldest == CACHE_SLOTS || cache[i].stamp < cache[oldest].stamp))
            oldest = i;
    return oldest;
}

/* Keeps the block, evicting the oldest ones until it fits, so the cache follows the sizes
 * now in use instead of filling once with whatever came first. Returns 1 if kept. */
static int cache_put(void *base, size_t size)
{
    void *evicted[CACHE_SLOTS];
    size_t n_evicted = 0, slot = CACHE_SLOTS;
    if (size > CACHE_BYTES)
        return 0;
    pthread_mutex_lock(&cache_mu);
    for (;;) {
        for (slot = 0; slot < CACHE_SLOTS && cache[slot].base; slot++)
            ;
        if (slot < CACHE_SLOTS && cache_total + size <= CACHE_BYTES)
            break;
        size_t old = cache_oldest();
        evicted[n_evicted++] = cache[old].base;
        cache_total -= cache[old].size;
        cache[old].base = NULL;
    }
    cache[slot] = (cached_block){base, size, ++cache_clock};
    cache_total += size;
    pthread_mutex_unlock(&cache_mu);
    for (size_t i = 0; i < n_evicted; i++)
        free(evicted[i]);
    return 1;
}

void *mem_alloc_aligned(size_t size)
{
    size_t rounded, total;
    if (should_fail())
        return NULL;
    /* Round up so that SIMD tails may read a whole vector past the last element. */
    if (__builtin_add_overflow(size, (size_t)63, &rounded))
        return NULL;
    rounded &= ~(size_t)63;
    if (__builtin_add_overflow(rounded, (size_t)HEADER, &total))
        return NULL;
    char *base = total - HEADER >= CACHE_MIN ? cache_take(total) : NULL;
    if (base == NULL) {
        void *ptr = NULL;
        if (posix_memalign(&ptr, 64, total) != 0)
            return NULL;
        base = ptr;
        memcpy(base, &total, sizeof total);
    }
    return base + HEADER;
}

void mem_free_aligned(void *ptr)
{
    if (ptr == NULL)
        return;
    char *base = (char *)ptr - HEADER;
    size_t total;
    memcpy(&total, base, sizeof total);
    if (total - HEADER >= CACHE_MIN && cache_put(base, total))
        return;
    free(base);
}

void mem_release_cache(void)
{
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        free(cache[i].base);
        cache[i].base = NULL;
    }
    cache_total = 0;
    pthread_mutex_unlock(&cache_mu);
}
