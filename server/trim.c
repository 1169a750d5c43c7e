/* trim: one thread that wakes every second, and trims once per idle period: when no request
 * has been in flight for idle_s seconds and some request ended since the last trim. */
#include "trim.h"

#include <malloc.h>
#include <pthread.h>
#include <time.h>

#include "mem.h"

/* Allocations from this size up are mapped, and unmapped on free, instead of staying in
 * malloc's heap (where a burst's peak would otherwise be kept until a trim). Fixed: glibc
 * otherwise raises it after each free of a large block. */
#define MMAP_THRESHOLD (256 * 1024)

struct trimmer {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int stop;
    size_t idle_s;
    atomic_size_t *in_flight;
    atomic_ulong activity; /* requests ended, ever */
};

size_t trim_now(void)
{
    size_t cached = mem_cache_trim(0);
    malloc_trim(0);
    return cached;
}

static void *run(void *arg)
{
    trimmer *t = arg;
    unsigned long trimmed_at = 0;
    size_t quiet = 0;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&t->cond, &t->mu, &until);
        unsigned long act = atomic_load_explicit(&t->activity, memory_order_relaxed);
        quiet = atomic_load(t->in_flight) == 0 ? quiet + 1 : 0;
        if (!t->stop && quiet >= t->idle_s && act != trimmed_at) {
            trimmed_at = act;
            pthread_mutex_unlock(&t->mu);
            trim_now();
            pthread_mutex_lock(&t->mu);
        }
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

trimmer *trimmer_start(size_t idle_s, atomic_size_t *in_flight)
{
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    if (idle_s == 0)
        return NULL;
    trimmer *t = mem_calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->idle_s = idle_s;
    t->in_flight = in_flight;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cond, NULL);
    if (pthread_create(&t->thread, NULL, run, t) != 0) {
        pthread_cond_destroy(&t->cond);
        pthread_mutex_destroy(&t->mu);
        mem_free(t);
        return NULL;
    }
    return t;
}

void trimmer_touch(trimmer *t)
{
    if (t != NULL)
        atomic_fetch_add_explicit(&t->activity, 1, memory_order_relaxed);
}

void trimmer_stop(trimmer *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->mu);
    mem_free(t);
}
