/* bench_core: fused value+gradient throughput of core kernels against a read-2-write-1
 * memory bandwidth probe, measured in the same process. Each kernel repetition is paired
 * with one probe repetition right before it, so a kernel row's ratio to its paired probe
 * median is taken under the same machine load (the machines are shared). One TSV row a case:
 *   kind  loss  dtype  n  threads  median_seconds  G_elements_per_s  paired_probe_G_elements_per_s
 * Elements = prediction elements (rows*C for cross_entropy, rows*D for row losses). */
#include <immintrin.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "kern.h"
#include "loss.h"
#include "mem.h"
#include "pool.h"

#define MAX_REPS 31

#define MAX_SIZES 16

/* Targets: in (0, 1), -1 or 1, class indices, or exactly 0 or 1 (the focal pair's hard
 * targets, which take their own fast path). */
typedef enum { TARGET_UNIT, TARGET_PM1, TARGET_CLASS, TARGET_BINARY } target_kind;

typedef struct {
    const char *loss;
    size_t inner;       /* C or D for row losses, 1 for elementwise */
    int n_float;        /* float inputs of n elements each (rows x inner) */
    int has_target;     /* one more input after the floats */
    int target_per_row; /* that input has n / inner elements, else n */
    target_kind target;
    const char *tag;
} bench_case;

static const bench_case cases[] = {
    {"mse", 1, 1, 1, 0, TARGET_UNIT, "mse"},
    {"mae", 1, 1, 1, 0, TARGET_UNIT, "mae"},
    {"mbe", 1, 1, 1, 0, TARGET_UNIT, "mbe"},
    {"huber", 1, 1, 1, 0, TARGET_UNIT, "huber"},
    {"smooth_l1", 1, 1, 1, 0, TARGET_UNIT, "smooth_l1"},
    {"hinge", 1, 1, 1, 0, TARGET_PM1, "hinge"},
    {"squared_hinge", 1, 1, 1, 0, TARGET_PM1, "squared_hinge"},
    {"bce", 1, 1, 1, 0, TARGET_UNIT, "bce"},
    {"bce_with_logits", 1, 1, 1, 0, TARGET_UNIT, "bce_with_logits"},
    {"focal", 1, 1, 1, 0, TARGET_UNIT, "focal"},
    {"sigmoid_focal", 1, 1, 1, 0, TARGET_UNIT, "sigmoid_focal"},
    {"focal", 1, 1, 1, 0, TARGET_BINARY, "focal_binary"},
    {"sigmoid_focal", 1, 1, 1, 0, TARGET_BINARY, "sigmoid_focal_binary"},
    {"log_cosh", 1, 1, 1, 0, TARGET_UNIT, "log_cosh"},
    {"soft_margin", 1, 1, 1, 0, TARGET_PM1, "soft_margin"},
    {"cross_entropy", 10, 1, 1, 1, TARGET_CLASS, "cross_entropy_C10"},
    {"cross_entropy", 1000, 1, 1, 1, TARGET_CLASS, "cross_entropy_C1000"},
    {"triplet_margin", 128, 3, 0, 0, TARGET_UNIT, "triplet_margin_D128"},
    {"cosine_embedding", 128, 2, 1, 1, TARGET_PM1, "cosine_embedding_D128"},
};

typedef struct {
    loss_dtype dtypes[2];
    size_t n_dtypes;
    size_t sizes[MAX_SIZES];
    size_t n_sizes;
    size_t threads[2];
    size_t n_threads;
    const char *only; /* comma-separated tags or loss names, NULL = all */
    int reps;         /* 0 = by size */
} bench_opts;

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

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static void store(void *data, loss_dtype dt, size_t i, double v)
{
    if (dt == LOSS_DTYPE_F32)
        ((float *)data)[i] = (float)v;
    else
        ((double *)data)[i] = v;
}

static const char *dtype_name(loss_dtype dt)
{
    return dt == LOSS_DTYPE_F64 ? "float64" : "float32";
}

/* ---- the probe: the simplest AVX2 code that reads two arrays, writes one and reduces ---- */

typedef struct {
    loss_dtype dtype;
    void *p, *y, *g;
    size_t n, per;
    double *sums;
} probe;

static double probe_run_f32(const float *p, const float *y, float *g, size_t b, size_t e)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t i = b;
    for (; i + 16 <= e; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_load_ps(p + i), _mm256_load_ps(y + i));
        __m256 d1 = _mm256_sub_ps(_mm256_load_ps(p + i + 8), _mm256_load_ps(y + i + 8));
        _mm256_store_ps(g + i, d0);
        _mm256_store_ps(g + i + 8, d1);
        a0 = _mm256_fmadd_ps(d0, d0, a0);
        a1 = _mm256_fmadd_ps(d1, d1, a1);
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, _mm256_add_ps(a0, a1));
    double s = 0;
    for (size_t k = 0; k < 8; k++)
        s += (double)lanes[k];
    for (; i < e; i++) {
        float d = p[i] - y[i];
        g[i] = d;
        s += (double)d * (double)d;
    }
    return s;
}

static double probe_run_f64(const double *p, const double *y, double *g, size_t b, size_t e)
{
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    size_t i = b;
    for (; i + 8 <= e; i += 8) {
        __m256d d0 = _mm256_sub_pd(_mm256_load_pd(p + i), _mm256_load_pd(y + i));
        __m256d d1 = _mm256_sub_pd(_mm256_load_pd(p + i + 4), _mm256_load_pd(y + i + 4));
        _mm256_store_pd(g + i, d0);
        _mm256_store_pd(g + i + 4, d1);
        a0 = _mm256_fmadd_pd(d0, d0, a0);
        a1 = _mm256_fmadd_pd(d1, d1, a1);
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, _mm256_add_pd(a0, a1));
    double s = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    for (; i < e; i++) {
        double d = p[i] - y[i];
        g[i] = d;
        s += d * d;
    }
    return s;
}

static void probe_chunk(void *arg, size_t c)
{
    const probe *pr = arg;
    size_t b = c * pr->per, e = b + pr->per < pr->n ? b + pr->per : pr->n;
    pr->sums[c] = pr->dtype == LOSS_DTYPE_F32 ? probe_run_f32(pr->p, pr->y, pr->g, b, e)
                                              : probe_run_f64(pr->p, pr->y, pr->g, b, e);
}

/* Allocates and fills the probe's three arrays (touched once, so no page faults are timed).
 * Returns 0, or -1 when out of memory (pr is then empty). Free with probe_free. */
static int probe_init(probe *pr, loss_dtype dt, size_t n)
{
    size_t el = dt == LOSS_DTYPE_F32 ? sizeof(float) : sizeof(double);
    memset(pr, 0, sizeof *pr);
    pr->dtype = dt;
    pr->n = n;
    pr->per = 1 << 16;
    pr->p = mem_alloc_aligned(n * el);
    pr->y = mem_alloc_aligned(n * el);
    pr->g = mem_alloc_aligned(n * el);
    pr->sums = mem_calloc((n + pr->per - 1) / pr->per, sizeof *pr->sums);
    if (!pr->p || !pr->y || !pr->g || !pr->sums)
        return -1;
    for (size_t i = 0; i < n; i++) {
        store(pr->p, dt, i, (double)(i % 1000));
        store(pr->y, dt, i, 1.0);
        store(pr->g, dt, i, 0.0);
    }
    return 0;
}

static void probe_free(probe *pr)
{
    mem_free_aligned(pr->p);
    mem_free_aligned(pr->y);
    mem_free_aligned(pr->g);
    mem_free(pr->sums);
    memset(pr, 0, sizeof *pr);
}

static double probe_time(probe *pr, pool *pl)
{
    double t0 = now();
    pool_parallel_for(pl, (pr->n + pr->per - 1) / pr->per, probe_chunk, pr);
    return now() - t0;
}

/* ---- kernel cases ---- */

static double case_value(const bench_case *bc, int is_target, unsigned long *s)
{
    *s = *s * 6364136223846793005UL + 1442695040888963407UL;
    double u = (double)(*s >> 11) / 9007199254740992.0;
    if (!is_target || bc->target == TARGET_UNIT)
        return 0.02 + 0.96 * u; /* in (0,1): valid for probability and logit inputs alike */
    if (bc->target == TARGET_PM1)
        return u < 0.5 ? -1.0 : 1.0;
    if (bc->target == TARGET_BINARY)
        return u < 0.5 ? 0.0 : 1.0;
    return (double)(*s % bc->inner);
}

/* Fills the call's inputs with fresh buffers (bufs[k] owns input k; the caller frees them
 * with mem_free_aligned). Class targets are int64, as the API layer hands them to core.
 * Returns 0, or -1 when out of memory. */
static int case_fill(const bench_case *bc, loss_call *call, loss_dtype dt, size_t n, void **bufs)
{
    size_t rows = n / bc->inner;
    unsigned long s = 42;
    for (int k = 0; k < bc->n_float + bc->has_target; k++) {
        int is_target = k == bc->n_float;
        int is_class = is_target && bc->target == TARGET_CLASS;
        size_t count = is_target && bc->target_per_row ? rows : rows * bc->inner;
        tensor *t = &call->input[k];
        t->type = is_class ? TENSOR_I64 : dt == LOSS_DTYPE_F32 ? TENSOR_F32 : TENSOR_F64;
        bufs[k] = mem_alloc_aligned(count * tensor_type_size(t->type));
        if (bufs[k] == NULL)
            return -1;
        for (size_t i = 0; i < count; i++) {
            double v = case_value(bc, is_target, &s);
            if (is_class)
                ((int64_t *)bufs[k])[i] = (int64_t)v;
            else
                store(bufs[k], dt, i, v);
        }
        t->data = bufs[k];
        t->count = count;
        t->rank = bc->inner == 1 || count == rows ? 1 : 2;
        t->shape[0] = t->rank == 1 ? count : rows;
        t->shape[1] = bc->inner;
        call->present[k] = 1;
    }
    return 0;
}

static double kernel_time(const loss_call *call, pool *pl)
{
    loss_result res;
    loss_error err;
    double t0 = now();
    if (loss_compute(call, pl, &res, &err) != LOSS_OK) {
        fprintf(stderr, "%s: %s\n", call->desc->name, err.message);
        return (double)NAN;
    }
    double t = now() - t0;
    loss_result_release(&res);
    return t;
}

/* Times one case, each repetition paired with a probe repetition, and prints its row. */
static void case_run(const bench_case *bc, loss_dtype dt, size_t n, size_t threads, pool *pl,
                     probe *pr, int reps)
{
    const loss_desc *d = loss_registry_find(bc->loss, strlen(bc->loss));
    void *bufs[4] = {0};
    double tk[MAX_REPS], tp[MAX_REPS];
    loss_call call;
    if (d == NULL || n < bc->inner)
        return;
    loss_call_init(&call, d);
    call.dtype = dt;
    call.want_gradient = 1;
    if (case_fill(bc, &call, dt, n, bufs) != 0) {
        fprintf(stderr, "%s: out of memory at n=%zu\n", bc->tag, n);
        goto cleanup;
    }
    /* Warm-up (first touch of the result buffers); a slow kernel gets fewer repetitions so a
     * full run stays within minutes: about 2 s a case, never fewer than 3 repetitions. */
    double warm = kernel_time(&call, pl);
    if (isnan(warm))
        goto cleanup;
    if (warm * reps > 2.0)
        reps = warm > 2.0 / 3 ? 3 : (int)(2.0 / warm);
    for (int r = 0; r < reps; r++) {
        tp[r] = probe_time(pr, pl);
        tk[r] = kernel_time(&call, pl);
    }
    double sec = median(tk, reps), psec = median(tp, reps);
    printf("kernel\t%s\t%s\t%zu\t%zu\t%.6g\t%.4f\t%.4f\n", bc->tag, dtype_name(dt), n, threads, sec,
           (double)n / sec / 1e9, (double)n / psec / 1e9);
    fflush(stdout);
cleanup:
    for (int k = 0; k < 4; k++)
        mem_free_aligned(bufs[k]);
}

static int case_selected(const bench_case *bc, const char *only)
{
    if (only == NULL)
        return 1;
    const char *names[2] = {bc->tag, bc->loss};
    for (int k = 0; k < 2; k++) {
        size_t len = strlen(names[k]);
        for (const char *p = only; (p = strstr(p, names[k])) != NULL; p += len)
            if ((p == only || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
                return 1;
    }
    return 0;
}

static int reps_for(const bench_opts *o, size_t n)
{
    if (o->reps > 0)
        return o->reps < MAX_REPS ? o->reps : MAX_REPS;
    return n <= 100000 ? 31 : n <= 1000000 ? 15 : n <= 10000000 ? 7 : 5;
}

/* One size, one dtype, one thread count: the probe row, then every selected case. */
static void size_run(const bench_opts *o, loss_dtype dt, size_t n, size_t threads, pool *pl)
{
    probe pr;
    double tp[MAX_REPS];
    int reps = reps_for(o, n);
    /* Each size starts from an empty buffer cache (core/mem.c), so that no size's figures
     * depend on which blocks the sizes before it left behind. */
    mem_release_cache();
    if (probe_init(&pr, dt, n) != 0) {
        fprintf(stderr, "probe: out of memory at n=%zu\n", n);
        probe_free(&pr);
        return;
    }
    probe_time(&pr, pl);
    for (int r = 0; r < reps; r++)
        tp[r] = probe_time(&pr, pl);
    double sec = median(tp, reps);
    printf("probe\tread2write1\t%s\t%zu\t%zu\t%.6g\t%.4f\t%.4f\n", dtype_name(dt), n, threads, sec,
           (double)n / sec / 1e9, (double)n / sec / 1e9);
    fflush(stdout);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        if (case_selected(&cases[c], o->only))
            case_run(&cases[c], dt, n, threads, pl, &pr, reps);
    probe_free(&pr);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_core [--dtype float32|float64|both] [--sizes N,N,...]\n"
                    "                  [--threads 1|2|both] [--loss TAG,...] [--reps R]\n");
    exit(2);
}

static void parse_sizes(bench_opts *o, const char *s)
{
    o->n_sizes = 0;
    for (char *end; *s && o->n_sizes < MAX_SIZES; s = *end ? end + 1 : end) {
        double v = strtod(s, &end);
        if (end == s || v < 1 || v > 1e9 || (*end && *end != ','))
            usage();
        o->sizes[o->n_sizes++] = (size_t)v;
    }
}

static void parse_args(bench_opts *o, int argc, char **argv)
{
    *o = (bench_opts){.dtypes = {LOSS_DTYPE_F32}, .n_dtypes = 1, .threads = {1, 2}, .n_threads = 2};
    parse_sizes(o, "1e3,1e5,1e6,1e7,5e7");
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--dtype") == 0) {
            int both = strcmp(v, "both") == 0;
            o->dtypes[0] = strcmp(v, "float64") == 0 ? LOSS_DTYPE_F64 : LOSS_DTYPE_F32;
            o->dtypes[1] = LOSS_DTYPE_F64;
            o->n_dtypes = both ? 2 : 1;
        } else if (strcmp(k, "--threads") == 0) {
            o->n_threads = strcmp(v, "both") == 0 ? 2 : 1;
            o->threads[0] = o->n_threads == 2 ? 1 : strtoul(v, NULL, 10);
        } else if (strcmp(k, "--sizes") == 0 || strcmp(k, "--n") == 0) {
            parse_sizes(o, v);
        } else if (strcmp(k, "--loss") == 0) {
            o->only = v;
        } else if (strcmp(k, "--reps") == 0) {
            o->reps = atoi(v);
        } else {
            usage();
        }
    }
    if (argc % 2 == 0 || o->threads[0] < 1 || o->threads[0] > 2)
        usage();
}

int main(int argc, char **argv)
{
    bench_opts o;
    parse_args(&o, argc, argv);
    /* The process set-up of server/main.c, so kernels run as the daemon runs them: the core's
     * (OpenBLAS single-threaded; bench/run.sh also sets OPENBLAS_NUM_THREADS=1: in this
     * process the call alone left OpenBLAS's server thread spinning), and big buffers kept in
     * the heap. */
    core_init(getenv("LOSSD_ISA"));
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    fprintf(stderr, "bench_core: isa %s\n", kern_isa_name(kern_get()->isa));
    printf("# isa\t%s\n", kern_isa_name(kern_get()->isa));
    for (size_t ti = 0; ti < o.n_threads; ti++) {
        size_t threads = o.threads[ti];
        /* The calling thread runs chunks too: a pool of one worker makes two threads. */
        pool *pl = threads > 1 ? pool_create(threads - 1, 4) : NULL;
        for (size_t di = 0; di < o.n_dtypes; di++)
            for (size_t s = 0; s < o.n_sizes; s++)
                size_run(&o, o.dtypes[di], o.sizes[s], threads, pl);
        pool_destroy(pl);
    }
    return 0;
}
