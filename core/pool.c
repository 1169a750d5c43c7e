/* pool: a mutex/condvar worker pool with a bounded job ring and a list of parallel-for tasks.
 * Invariant: a task lives on its caller's stack and stays linked until the caller unlinks it;
 * the caller returns only when no worker is attached to it (active == 0). */
#include "pool.h"

#include <pthread.h>
#include <stdatomic.h>

#include "mem.h"

typedef struct pfor_task {
    struct pfor_task *next_task;
    pool_chunk_fn fn;
    void *arg;
    size_t n;
    atomic_size_t next_index;
    size_t active; /* workers attached, guarded by the pool mutex */
} pfor_task;

typedef struct {
    pool_job_fn fn;
    void *arg;
} pool_job;

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* new job, new task, or stopping */
    pthread_cond_t done_cv; /* a worker detached from a task */
    pfor_task *tasks;
    pool_job *ring;
    size_t capacity, head, count;
    int stopping;
    size_t n_threads;
    pthread_t *threads;
};

static pfor_task *task_with_work(pool *p)
{
    for (pfor_task *t = p->tasks; t; t = t->next_task)
        if (atomic_load(&t->next_index) < t->n)
            return t;
    return NULL;
}

static void run_chunks(pfor_task *t)
{
    for (;;) {
        size_t i = atomic_fetch_add(&t->next_index, 1);
        if (i >= t->n)
            return;
        t->fn(t->arg, i);
    }
}

static void *worker_main(void *arg)
{
    pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        pfor_task *t = task_with_work(p);
        if (t) {
            t->active++;
            pthread_mutex_unlock(&p->mu);
            run_chunks(t);
            pthread_mutex_lock(&p->mu);
            if (--t->active == 0)
                pthread_cond_broadcast(&p->done_cv);
            continue;
        }
        if (p->count > 0) {
            pool_job job = p->ring[p->head];
            p->head = (p->head + 1) % p->capacity;
            p->count--;
            pthread_mutex_unlock(&p->mu);
            job.fn(job.arg);
            pthread_mutex_lock(&p->mu);
            continue;
        }
        if (p->stopping)
            break;
        pthread_cond_wait(&p->work_cv, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void pool_free(pool *p)
{
    pthread_cond_destroy(&p->done_cv);
    pthread_cond_destroy(&p->work_cv);
    pthread_mutex_destroy(&p->mu);
    mem_free(p->threads);
    mem_free(p->ring);
    mem_free(p);
}

pool *pool_create(size_t n_threads, size_t queue_capacity)
{
    if (n_threads == 0 || queue_capacity == 0)
        return NULL;
    pool *p = mem_calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    p->capacity = queue_capacity;
    p->ring = mem_alloc_array(queue_capacity, sizeof *p->ring);
    p->threads = mem_alloc_array(n_threads, sizeof *p->threads);
    if (p->ring == NULL || p->threads == NULL)
        goto fail;
    for (; p->n_threads < n_threads; p->n_threads++)
        if (pthread_create(&p->threads[p->n_threads], NULL, worker_main, p) != 0)
            goto fail;
    return p;
fail:
    pool_destroy(p);
    return NULL;
}

void pool_destroy(pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    pool_free(p);
}

int pool_submit(pool *p, pool_job_fn fn, void *arg)
{
    pthread_mutex_lock(&p->mu);
    if (p->count == p->capacity || p->stopping) {
        pthread_mutex_unlock(&p->mu);
        return -1;
    }
    p->ring[(p->head + p->count) % p->capacity] = (pool_job){fn, arg};
    p->count++;
    pthread_cond_signal(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

void pool_parallel_for(pool *p, size_t n, pool_chunk_fn fn, void *arg)
{
    if (p == NULL || n <= 1) {
        for (size_t i = 0; i < n; i++)
            fn(arg, i);
        return;
    }
    pfor_task t = {.fn = fn, .arg = arg, .n = n};
    atomic_init(&t.next_index, 0);
    pthread_mutex_lock(&p->mu);
    t.next_task = p->tasks;
    p->tasks = &t;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);

    run_chunks(&t);

    pthread_mutex_lock(&p->mu);
    for (pfor_task **link = &p->tasks; *link; link = &(*link)->next_task) {
        if (*link == &t) {
            *link = t.next_task;
            break;
        }
    }
    while (t.active > 0)
        pthread_cond_wait(&p->done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

size_t pool_threads(const pool *p)
{
    return p ? p->n_threads : 1;
}

size_t pool_queue_depth(pool *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->count;
    pthread_mutex_unlock(&p->mu);
    return n;
}

size_t pool_queue_capacity(const pool *p)
{
    return p->capacity;
}
