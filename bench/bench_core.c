/* bench_core: fused value+gradient throughput of core kernels against a read-2-write-1
 * memory bandwidth probe, measured in the same process run. Prints one TSV row per case:
 *   kind  loss  dtype  n  threads  median_seconds  G_elements_per_s
 * Usage: bench_core [--quick] [--loss NAME] [--threads T] [--n N]
 * Elements = prediction elements (rows*C for cross_entropy, rows*D for triplet). */
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kern.h"
#include "loss.h"
#include "mem.h"
#include "pool.h"

typedef struct {
    const char *loss;
    size_t inner;   /* C or D for row losses, 1 for elementwise */
    int n_float;    /* float inputs (N elements each, or N*inner) */
    int index_last; /* last input holds N/inner class indices */
    const char *tag;
} bench_case;

static const bench_case cases[] = {
    {"mse", 1, 2, 0, "mse"},
    {"mae", 1, 2, 0, "mae"},
    {"mbe", 1, 2, 0, "mbe"},
    {"huber", 1, 2, 0, "huber"},
    {"smooth_l1", 1, 2, 0, "smooth_l1"},
    {"hinge", 1, 2, 0, "hinge"},
    {"squared_hinge", 1, 2, 0, "squared_hinge"},
    {"bce", 1, 2, 0, "bce"},
    {"bce_with_logits", 1, 2, 0, "bce_with_logits"},
    {"focal", 1, 2, 0, "focal"},
    {"sigmoid_focal", 1, 2, 0, "sigmoid_focal"},
    {"log_cosh", 1, 2, 0, "log_cosh"},
    {"soft_margin", 1, 2, 0, "soft_margin"},
    {"cross_entropy", 10, 1, 1, "cross_entropy_C10"},
    {"cross_entropy", 1000, 1, 1, "cross_entropy_C1000"},
    {"triplet_margin", 128, 3, 0, "triplet_margin_D128"},
    {"cosine_embedding", 128, 2, 1, "cosine_embedding_D128"},
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Targets valid for every elementwise loss above: hinge-family losses need +-1, BCE-family
 * need [0,1]; predictions in (0,1) suit all of them. */
static void fill_inputs(const bench_case *bc, loss_call *call, size_t n, float *bufs[4])
{
    size_t rows = n / bc->inner;
    int needs_pm1 = strstr(bc->loss, "hinge") || strcmp(bc->loss, "soft_margin") == 0 ||
                    strcmp(bc->loss, "cosine_embedding") == 0;
    unsigned long s = 42;
    for (int k = 0; k < bc->n_float + bc->index_last; k++) {
        int is_index = k == bc->n_float;
        size_t count = is_index ? rows : n;
        if (k == 1 && bc->inner == 1 && bc->n_float == 2 && !needs_pm1)
            count = n;
        bufs[k] = mem_alloc_aligned(count * sizeof(float));
        for (size_t i = 0; i < count; i++) {
            s = s * 6364136223846793005UL + 1442695040888963407UL;
            double u = (double)(s >> 11) / 9007199254740992.0;
            float v = (float)(0.02 + 0.96 * u);
            if (is_index)
                v = strcmp(bc->loss, "cosine_embedding") == 0 ? (u < .5 ? -1.f : 1.f)
                                                               : (float)(s % bc->inner);
            else if (k == 1 && needs_pm1 && bc->inner == 1)
                v = u < 0.5 ? -1.f : 1.f;
            bufs[k][i] = v;
        }
        tensor *t = &call->input[k];
        t->type = TENSOR_F32;
        t->data = bufs[k];
        t->count = count;
        if (bc->inner == 1 || is_index) {
            t->rank = 1;
            t->shape[0] = count;
        } else {
            t->rank = 2;
            t->shape[0] = rows;
            t->shape[1] = bc->inner;
        }
        call->present[k] = 1;
    }
}

static double time_loss(const loss_call *call, pool *pl, int reps)
{
    double t[16];
    for (int r = 0; r < reps; r++) {
        loss_result res;
        loss_error err;
        double t0 = now();
        if (loss_compute(call, pl, &res, &err) != LOSS_OK) {
            fprintf(stderr, "%s: %s\n", call->desc->name, err.message);
            return NAN;
        }
        t[r] = now() - t0;
        loss_result_release(&res);
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    return t[reps / 2];
}

typedef struct {
    const float *p, *y;
    float *g;
    size_t n, per;
    double *sums;
} probe_job;

static void probe_chunk(void *arg, size_t c)
{
    const probe_job *j = arg;
    size_t b = c * j->per, e = b + j->per < j->n ? b + j->per : j->n;
    /* Plain AVX2 stream: the simplest code that reads two arrays, writes one and reduces. */
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t i = b;
    for (; i + 16 <= e; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_load_ps(j->p + i), _mm256_load_ps(j->y + i));
        __m256 d1 = _mm256_sub_ps(_mm256_load_ps(j->p + i + 8), _mm256_load_ps(j->y + i + 8));
        _mm256_store_ps(j->g + i, d0);
        _mm256_store_ps(j->g + i + 8, d1);
        a0 = _mm256_fmadd_ps(d0, d0, a0);
        a1 = _mm256_fmadd_ps(d1, d1, a1);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_add_ps(a0, a1));
    double s = 0;
    for (size_t k = 0; k < 8; k++)
        s += lanes[k];
    for (; i < e; i++) {
        float d = j->p[i] - j->y[i];
        j->g[i] = d;
        s += (double)d * d;
    }
    j->sums[c] = s;
}

/* The memory system's ceiling for a fused kernel: read two arrays, write one, reduce. */
static double time_probe(size_t n, pool *pl, int reps)
{
    float *p = mem_alloc_aligned(n * 4), *y = mem_alloc_aligned(n * 4), *g = mem_alloc_aligned(n * 4);
    size_t per = 1 << 16, chunks = (n + per - 1) / per;
    double *sums = mem_calloc(chunks, sizeof *sums);
    for (size_t i = 0; i < n; i++) {
        p[i] = (float)i;
        y[i] = 1.f;
        g[i] = 0.f;
    }
    probe_job j = {p, y, g, n, per, sums};
    double t[16];
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        pool_parallel_for(pl, chunks, probe_chunk, &j);
        t[r] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    mem_free_aligned(p);
    mem_free_aligned(y);
    mem_free_aligned(g);
    mem_free(sums);
    return t[reps / 2];
}

static void run_case(const bench_case *bc, size_t n, size_t threads, pool *pl, int reps)
{
    const loss_desc *d = loss_registry_find(bc->loss, strlen(bc->loss));
    if (d == NULL)
        return;
    loss_call call;
    float *bufs[4] = {0};
    loss_call_init(&call, d);
    call.dtype = LOSS_DTYPE_F32;
    call.want_gradient = 1;
    fill_inputs(bc, &call, n, bufs);
    double sec = time_loss(&call, pl, reps);
    printf("kernel\t%s\tfloat32\t%zu\t%zu\t%.6g\t%.4f\n", bc->tag, n, threads, sec,
           (double)n / sec / 1e9);
    for (int k = 0; k < 4; k++)
        mem_free_aligned(bufs[k]);
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    size_t only_threads = 0, only_n = 0;
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--loss") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            only_threads = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc)
            only_n = (size_t)strtod(argv[++i], NULL);
    }
    kern_init(getenv("LOSSD_ISA"));
    fprintf(stderr, "isa: %s\n", kern_isa_name(kern_get()->isa));
    size_t sizes[] = {1000, 100000, 1000000, 10000000, 50000000};
    size_t n_sizes = quick ? 4 : 5;
    for (size_t threads = 1; threads <= 2; threads++) {
        if (only_threads && threads != only_threads)
            continue;
        pool *pl = threads > 1 ? pool_create(threads - 1, 4) : NULL;
        for (size_t s = 0; s < n_sizes; s++) {
            size_t n = only_n ? only_n : sizes[s];
            int reps = n <= 1000000 ? 15 : 5;
            double sec = time_probe(n, pl, reps);
            printf("probe\tread2write1\tfloat32\t%zu\t%zu\t%.6g\t%.4f\n", n, threads, sec,
                   (double)n / sec / 1e9);
            for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
                if (only == NULL || strcmp(only, cases[c].tag) == 0 ||
                    strcmp(only, cases[c].loss) == 0)
                    run_case(&cases[c], n, threads, pl, reps);
            if (only_n)
                break;
        }
        pool_destroy(pl);
    }
    return 0;
}
