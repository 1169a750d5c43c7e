/* pool: the worker threads that run requests and split large computations.
 * Two kinds of work: jobs (one per request, from a bounded queue: a full queue is refused,
 * never grown) and parallel-for tasks (chunks of one computation). Idle workers help with
 * parallel-for chunks before they take a new job; the thread that starts a parallel-for runs
 * chunks too, so nested use from inside a job never deadlocks. */
#ifndef LOSSD_POOL_H
#define LOSSD_POOL_H

#include <stddef.h>

typedef struct pool pool;

typedef void (*pool_job_fn)(void *arg);
typedef void (*pool_chunk_fn)(void *arg, size_t index);

/* Starts n_threads workers (>= 1) with a job queue of queue_capacity (>= 1) entries.
 * Returns NULL on failure. Free with pool_destroy. */
pool *pool_create(size_t n_threads, size_t queue_capacity);

/* Runs every queued job, then stops and joins the workers. Accepts NULL. */
void pool_destroy(pool *p);

/* Queues fn(arg). Returns 0, or -1 if the queue is full (the caller answers 503). */
int pool_submit(pool *p, pool_job_fn fn, void *arg);

/* Calls fn(arg, i) for every i in [0, n), spread over the calling thread and idle workers,
 * and returns when all calls have returned. p may be NULL (all on the calling thread). */
void pool_parallel_for(pool *p, size_t n, pool_chunk_fn fn, void *arg);

size_t pool_threads(const pool *p);
size_t pool_queue_depth(pool *p);
size_t pool_queue_capacity(const pool *p);

#endif
