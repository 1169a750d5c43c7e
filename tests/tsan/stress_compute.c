/* ThreadSanitizer stress of the concurrent core: jobs on the pool, each splitting its own
 * computation with parallel-for, all at once; results must equal the single-threaded ones.
 * Standalone (Criterion's runner cannot start under TSan). Exit 0 when clean. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "loss.h"
#include "mem.h"
#include "pool.h"

#define N 200003
#define JOBS 64

static double pred[N], targ[N];
static double expected;
static pool *workers;
static atomic_int mismatches, done;

static double run_mse(pool *p)
{
    loss_call c;
    loss_result r;
    loss_error e;
    loss_call_init(&c, loss_registry_find("mse", 3));
    c.input[0] = (tensor){.type = TENSOR_F64, .rank = 1, .shape = {N}, .count = N, .data = pred};
    c.input[1] = (tensor){.type = TENSOR_F64, .rank = 1, .shape = {N}, .count = N, .data = targ};
    c.present[0] = c.present[1] = 1;
    c.want_gradient = 1;
    if (loss_compute(&c, p, &r, &e) != LOSS_OK) {
        fprintf(stderr, "mse: %s\n", e.message);
        return -1;
    }
    double v = r.value;
    loss_result_release(&r);
    return v;
}

static void job(void *arg)
{
    (void)arg;
    double v = run_mse(workers);
    if (memcmp(&v, &expected, sizeof v) != 0)
        atomic_fetch_add(&mismatches, 1);
    atomic_fetch_add(&done, 1);
}

int main(void)
{
    core_init(NULL);
    for (size_t i = 0; i < N; i++) {
        pred[i] = (double)(i % 97) / 7.0;
        targ[i] = (double)(i % 13) / 3.0;
    }
    expected = run_mse(NULL);
    workers = pool_create(3, JOBS);
    int submitted = 0;
    for (int j = 0; j < JOBS; j++)
        submitted += pool_submit(workers, job, NULL) == 0;
    pool_destroy(workers); /* runs every queued job first */
    mem_release_cache();
    printf("stress_compute: %d jobs, %d done, %d mismatches\n", submitted, atomic_load(&done),
           atomic_load(&mismatches));
    return atomic_load(&mismatches) == 0 && atomic_load(&done) == submitted ? 0 : 1;
}
