/* mem: allocation wrapper with a fault-injection hook.
 * Invariant: when the hook is disabled, these are plain libc calls plus one relaxed atomic
 * load, so the hot path pays nothing measurable. */
#include "mem.h"

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

void *mem_alloc_aligned(size_t size)
{
    void *ptr = NULL;
    if (should_fail())
        return NULL;
    /* Round up so that SIMD tails may read a whole vector past the last element. */
    size_t rounded;
    if (__builtin_add_overflow(size, (size_t)63, &rounded))
        return NULL;
    rounded &= ~(size_t)63;
    if (posix_memalign(&ptr, 64, rounded ? rounded : 64) != 0)
        return NULL;
    return ptr;
}

void mem_free_aligned(void *ptr) { free(ptr); }
