/* mem: the allocation wrapper, with a fault-injection hook and an allocation count for tests,
 * and mem_alloc_aligned's cache of big blocks (reused instead of fresh pages; see below).
 * Invariant: with the hook off, mem_alloc and friends are libc calls plus two relaxed atomic
 * operations; only aligned blocks of CACHE_MIN bytes or more touch the cache's mutex. */
#include "mem.h"

#define _GNU_SOURCE /* mremap */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

long mem_alloc_count(void)
{
    return atomic_load(&alloc_count);
}

/* ---- byte accounting (test hook) ---- */

static atomic_int track_on;
/* Signed: freeing a block allocated before mem_track_start takes live below zero. */
static atomic_llong track_live, track_peak;

static void track(size_t add, size_t sub)
{
    if (!atomic_load_explicit(&track_on, memory_order_relaxed))
        return;
    long long live = atomic_fetch_add(&track_live, (long long)add) + (long long)add;
    atomic_fetch_sub(&track_live, (long long)sub);
    long long peak = atomic_load(&track_peak);
    while (live > peak && !atomic_compare_exchange_weak(&track_peak, &peak, live))
        ;
}

static void *tracked(void *ptr)
{
    if (ptr != NULL)
        track(malloc_usable_size(ptr), 0);
    return ptr;
}

void mem_track_start(void)
{
    atomic_store(&track_live, 0);
    atomic_store(&track_peak, 0);
    atomic_store(&track_on, 1);
}

void mem_track_stop(void)
{
    atomic_store(&track_on, 0);
}

size_t mem_track_peak(void)
{
    return (size_t)atomic_load(&track_peak);
}

void *mem_alloc(size_t size)
{
    if (should_fail())
        return NULL;
    return tracked(malloc(size ? size : 1));
}

void *mem_calloc(size_t n, size_t size)
{
    if (should_fail())
        return NULL;
    return tracked(calloc(n ? n : 1, size ? size : 1));
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
    size_t old =
        ptr && atomic_load_explicit(&track_on, memory_order_relaxed) ? malloc_usable_size(ptr) : 0;
    void *grown = realloc(ptr, size ? size : 1);
    if (grown != NULL)
        track(malloc_usable_size(grown), old);
    return grown;
}

void mem_free(void *ptr)
{
    if (ptr != NULL && atomic_load_explicit(&track_on, memory_order_relaxed))
        track(0, malloc_usable_size(ptr));
    free(ptr);
}

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
 * cache_limit bytes in all) and serve later requests up to twice smaller than the block.
 * The cache is resident memory no request owns: the daemon counts it against its memory
 * budget and trims it (mem_cache_trim) when requests need the room or the server idles. */
#define CACHE_MIN ((size_t)1 << 20)
#define CACHE_SLOTS 8
#define CACHE_DEFAULT ((size_t)256 << 20)
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
/* Written once at start-up (mem_cache_set_limit) before other threads run; read under the
 * mutex afterwards. */
static size_t cache_limit = CACHE_DEFAULT;

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

static cached_block map_cache[CACHE_SLOTS];

/* The oldest cached mapping, or CACHE_SLOTS. */
static size_t map_oldest(void)
{
    size_t oldest = CACHE_SLOTS;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        if (map_cache[i].base &&
            (oldest == CACHE_SLOTS || map_cache[i].stamp < map_cache[oldest].stamp))
            oldest = i;
    return oldest;
}

/* Removes the oldest cached block or mapping (under cache_mu) into *out, setting
 * out->stamp to 1 for a mapping and 0 for a block. Returns 0 when the cache is empty. */
static int evict_oldest(cached_block *out)
{
    size_t b = cache_oldest(), m = map_oldest();
    if (b == CACHE_SLOTS && m == CACHE_SLOTS)
        return 0;
    int use_map = m < CACHE_SLOTS && (b == CACHE_SLOTS || map_cache[m].stamp < cache[b].stamp);
    cached_block *victim = use_map ? &map_cache[m] : &cache[b];
    *out = *victim;
    out->stamp = (unsigned long)use_map;
    cache_total -= victim->size;
    victim->base = NULL;
    return 1;
}

static void release_evicted(const cached_block *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (e[i].stamp)
            munmap(e[i].base, e[i].size);
        else
            free(e[i].base);
    }
}

/* Keeps the block, evicting the oldest ones until it fits, so the cache follows the sizes
 * now in use instead of filling once with whatever came first. Returns 1 if kept. */
static int cache_put(void *base, size_t size)
{
    cached_block evicted[2 * CACHE_SLOTS];
    size_t n_evicted = 0, slot = CACHE_SLOTS;
    pthread_mutex_lock(&cache_mu);
    if (size > cache_limit) {
        pthread_mutex_unlock(&cache_mu);
        return 0;
    }
    for (;;) {
        for (slot = 0; slot < CACHE_SLOTS && cache[slot].base; slot++)
            ;
        if (slot < CACHE_SLOTS && cache_total + size <= cache_limit)
            break;
        if (!evict_oldest(&evicted[n_evicted]))
            break; /* not reached: size <= limit, so evicting everything makes room */
        n_evicted++;
    }
    cache[slot] = (cached_block){base, size, ++cache_clock};
    cache_total += size;
    pthread_mutex_unlock(&cache_mu);
    release_evicted(evicted, n_evicted);
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
    track(total, 0);
    return base + HEADER;
}

size_t mem_aligned_footprint(size_t size)
{
    size_t rounded, total;
    if (__builtin_add_overflow(size, (size_t)63, &rounded))
        return SIZE_MAX;
    rounded &= ~(size_t)63;
    return __builtin_add_overflow(rounded, (size_t)HEADER, &total) ? SIZE_MAX : total;
}

void mem_free_aligned(void *ptr)
{
    if (ptr == NULL)
        return;
    char *base = (char *)ptr - HEADER;
    size_t total;
    memcpy(&total, base, sizeof total);
    track(0, total);
    if (total - HEADER >= CACHE_MIN && cache_put(base, total))
        return;
    free(base);
}

void mem_release_cache(void)
{
    (void)mem_cache_trim(0);
}

void mem_cache_set_limit(size_t bytes)
{
    pthread_mutex_lock(&cache_mu);
    cache_limit = bytes;
    pthread_mutex_unlock(&cache_mu);
    (void)mem_cache_trim(bytes);
}

size_t mem_cache_bytes(void)
{
    pthread_mutex_lock(&cache_mu);
    size_t n = cache_total;
    pthread_mutex_unlock(&cache_mu);
    return n;
}

size_t mem_cache_trim(size_t keep)
{
    cached_block evicted[2 * CACHE_SLOTS];
    size_t n_evicted = 0, freed = 0;
    pthread_mutex_lock(&cache_mu);
    while (cache_total > keep && evict_oldest(&evicted[n_evicted]))
        freed += evicted[n_evicted++].size;
    pthread_mutex_unlock(&cache_mu);
    release_evicted(evicted, n_evicted);
    return freed;
}

/* ---- growable mappings ---- */

static size_t page_round(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (size == 0 || size > SIZE_MAX - page)
        return size == 0 ? page : 0;
    return (size + page - 1) & ~(page - 1);
}

/* Large mappings ask for transparent huge pages: a fault per 2 MiB instead of per 4 KiB
 * (faults on these virtual machines cost far more than the zeroing). Advice only. */
static void *advise(void *p, size_t bytes)
{
    if (p != MAP_FAILED && bytes >= ((size_t)2 << 20))
        (void)madvise(p, bytes, MADV_HUGEPAGE);
    return p == MAP_FAILED ? NULL : p;
}

/* Cached mappings (map_cache, above) share the block cache's limit, total and clock. */

/* Takes the smallest cached mapping of at least bytes, else the largest one (the caller
 * grows it), or NULL. */
static void *map_cache_take(size_t bytes, size_t *got)
{
    size_t best = CACHE_SLOTS, big = CACHE_SLOTS;
    void *p = NULL;
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        if (map_cache[i].base == NULL)
            continue;
        if (map_cache[i].size >= bytes &&
            (best == CACHE_SLOTS || map_cache[i].size < map_cache[best].size))
            best = i;
        if (big == CACHE_SLOTS || map_cache[i].size > map_cache[big].size)
            big = i;
    }
    if (best == CACHE_SLOTS)
        best = big;
    if (best < CACHE_SLOTS) {
        p = map_cache[best].base;
        *got = map_cache[best].size;
        cache_total -= *got;
        map_cache[best].base = NULL;
    }
    pthread_mutex_unlock(&cache_mu);
    return p;
}

/* Keeps a released mapping, evicting the oldest cached memory to make room. Returns 1 if
 * kept. */
static int map_cache_put(void *p, size_t bytes)
{
    cached_block evicted[2 * CACHE_SLOTS];
    size_t n_evicted = 0, slot = CACHE_SLOTS;
    pthread_mutex_lock(&cache_mu);
    if (bytes >= CACHE_MIN && bytes <= cache_limit) {
        for (;;) {
            for (slot = 0; slot < CACHE_SLOTS && map_cache[slot].base; slot++)
                ;
            if (slot < CACHE_SLOTS && cache_total + bytes <= cache_limit)
                break;
            if (!evict_oldest(&evicted[n_evicted])) {
                slot = CACHE_SLOTS;
                break;
            }
            n_evicted++;
        }
    }
    if (slot < CACHE_SLOTS) {
        map_cache[slot] = (cached_block){p, bytes, ++cache_clock};
        cache_total += bytes;
    }
    pthread_mutex_unlock(&cache_mu);
    release_evicted(evicted, n_evicted);
    return slot < CACHE_SLOTS;
}

void *mem_map(size_t *size)
{
    size_t bytes = page_round(*size), got = 0;
    if (bytes == 0 || should_fail())
        return NULL;
    void *p = map_cache_take(bytes, &got);
    if (p != NULL && got < bytes) {
        void *moved = mremap(p, got, bytes, MREMAP_MAYMOVE);
        if (moved == MAP_FAILED)
            munmap(p, got);
        p = moved == MAP_FAILED ? NULL : advise(moved, bytes);
        got = bytes;
    }
    if (p == NULL) {
        p = advise(mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                   bytes);
        got = bytes;
    }
    if (p != NULL)
        *size = got;
    return p;
}

void *mem_remap(void *ptr, size_t old_size, size_t *size)
{
    size_t to = page_round(*size);
    if (to == 0 || should_fail())
        return NULL;
    if (to == old_size)
        return ptr;
    void *p = mremap(ptr, old_size, to, MREMAP_MAYMOVE);
    if (p == MAP_FAILED)
        return NULL;
    *size = to;
    return to > old_size ? advise(p, to) : p;
}

void mem_unmap(void *ptr, size_t size)
{
    if (ptr != NULL && !map_cache_put(ptr, size))
        munmap(ptr, size);
}
