/* bench_json: our JSON decode of a large numeric request against cJSON's tree build on the
 * same text (the architecture decision's >= 4x target), plus number printing and one whole
 * /v1 mse request. Not a test: prints figures, asserts nothing about timing.
 * Usage: bench_json [numbers per tensor, default 1000000] */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "jbuf.h"
#include "json_doc.h"
#include "mem.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: the machines are shared */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;

static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

/* {"predictions": [...], "targets": [...]} with n %.17g numbers each (as perf-anchors). */
static char *make_body(size_t n, size_t *len)
{
    size_t cap = 2 * n * 26 + 64, k = 0;
    char *s = malloc(cap);
    const char *names[2] = {"predictions", "targets"};
    k += (size_t)snprintf(s + k, cap - k, "{");
    for (int t = 0; t < 2; t++) {
        k += (size_t)snprintf(s + k, cap - k, "%s\"%s\": [", t ? ", " : "", names[t]);
        for (size_t i = 0; i < n; i++)
            k += (size_t)snprintf(s + k, cap - k, "%s%.17g", i ? ", " : "", uniform());
        k += (size_t)snprintf(s + k, cap - k, "]");
    }
    k += (size_t)snprintf(s + k, cap - k, "}");
    *len = k;
    return s;
}

typedef double (*bench_fn)(const char *body, size_t len);

static double run_ours(const char *body, size_t len)
{
    json_doc d;
    json_error e;
    double t0 = now();
    if (json_doc_parse(&d, body, len, NULL, &e) != JSON_OK) {
        fprintf(stderr, "parse failed: %s\n", e.message);
        exit(1);
    }
    double t = now() - t0;
    json_doc_release(&d);
    return t;
}

static double run_cjson(const char *body, size_t len)
{
    double t0 = now();
    cJSON *j = cJSON_ParseWithLength(body, len);
    double t = now() - t0;
    if (j == NULL) {
        fprintf(stderr, "cJSON parse failed\n");
        exit(1);
    }
    cJSON_Delete(j);
    return t;
}

static double run_v1(const char *body, size_t len)
{
    api_env env = {NULL, 0};
    api_reply r;
    double t0 = now();
    api_v1_loss(&env, "mse", 3, body, len, &r);
    double t = now() - t0;
    if (r.status != 200) {
        fprintf(stderr, "v1 status %d\n", r.status);
        exit(1);
    }
    api_reply_release(&r);
    return t;
}

/* The same body with gradients of every element requested: parse, compute, print 2e6 numbers. */
static double run_v1_gradient(const char *body, size_t len)
{
    static const char extra[] = ", \"reduction\": \"none\", \"gradient\": true}";
    char *b = malloc(len + sizeof extra);
    memcpy(b, body, len - 1); /* drop the closing brace */
    memcpy(b + len - 1, extra, sizeof extra);
    double t = run_v1(b, len - 1 + sizeof extra - 1);
    free(b);
    return t;
}

static double best_of(bench_fn fn, const char *body, size_t len, int reps)
{
    double best = 1e30;
    for (int i = 0; i < reps; i++) {
        double t = fn(body, len);
        best = t < best ? t : best;
    }
    return best;
}

static void print_numbers(size_t n)
{
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = uniform();
    char *buf = malloc(n * 26 + 1);
    double t0 = now();
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(buf + k, 26, "%.17g,", v[i]);
    double t_printf = now() - t0;
    jbuf jb;
    jbuf_init(&jb, n * 26);
    t0 = now();
    for (size_t i = 0; i < n; i++) {
        jbuf_double(&jb, v[i]);
        jbuf_putc(&jb, ',');
    }
    double t_ours = now() - t0;
    printf("print %zu doubles: snprintf %%.17g %.1f ns/number, shortest round-trip %.1f ns/number "
           "(x%.1f)\n",
           n, 1e9 * t_printf / (double)n, 1e9 * t_ours / (double)n, t_printf / t_ours);
    jbuf_release(&jb);
    free(buf);
    free(v);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    size_t len;
    char *body = make_body(n, &len);
    double numbers = 2.0 * (double)n, mb = (double)len / 1e6;
    /* Interleaved rounds, best of each: the machines are shared, so the minimum is the
     * figure least disturbed by other work, and interleaving exposes both to the same load. */
    double ours = 1e30, cj = 1e30;
    for (int round = 0; round < 7; round++) {
        double a = best_of(run_ours, body, len, 1), b = best_of(run_cjson, body, len, 1);
        ours = a < ours ? a : ours;
        cj = b < cj ? b : cj;
    }
    double v1 = best_of(run_v1, body, len, 3);
    double v1g = best_of(run_v1_gradient, body, len, 3);
    printf("body: %.1f MB, %.0f numbers\n", mb, numbers);
    printf("json_doc_parse:       %6.1f ns/number %7.1f MB/s\n", 1e9 * ours / numbers, mb / ours);
    printf("cJSON_ParseWithLength: %6.1f ns/number %7.1f MB/s\n", 1e9 * cj / numbers, mb / cj);
    printf("ratio cJSON/ours: x%.2f\n", cj / ours);
    printf("whole /v1/loss/mse (parse, compute, encode %s): %.1f ms\n", "value only", 1e3 * v1);
    printf("whole /v1/loss/mse, reduction none + gradient (prints %.0f numbers): %.1f ms\n",
           numbers, 1e3 * v1g);
    print_numbers(n);
    free(body);
    return 0;
}
