/* bench_json: the api layer's JSON decode of a large /v1 body against cJSON's tree build and a
 * bare strtod loop on the same text, plus the whole /v1 handler (decode, mse with gradient,
 * encode) with no sockets. The body is {"predictions": [n], "targets": [n], "gradient": true}
 * with numbers printed shortest-round-trip, as Python's json.dumps prints them. One TSV row a
 * parser:  json  parser  numbers  bytes  median_seconds  ns_per_number  MB_per_s */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "json_doc.h"
#include "kern.h"
#include "mem.h"
#include "num.h"

#define REPS 7

typedef struct {
    char *text;
    size_t len;
    size_t numbers;
} body;

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

/* Appends "name":[n numbers] to b (which has room: 32 bytes a number plus the key). */
static void append_array(body *b, const char *name, size_t n, unsigned long *s)
{
    b->len += (size_t)sprintf(b->text + b->len, "\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        *s = *s * 6364136223846793005UL + 1442695040888963407UL;
        float v = (float)((double)(*s >> 11) / 9007199254740992.0);
        b->len += num_format_double((double)v, b->text + b->len);
        b->text[b->len++] = i + 1 < n ? ',' : ']';
    }
    b->numbers += n;
}

/* Builds the request body. Returns 0, or -1 when out of memory. Free with mem_free. */
static int body_make(body *b, size_t n)
{
    size_t cap;
    memset(b, 0, sizeof *b);
    if (__builtin_mul_overflow(n, (size_t)2 * (NUM_FORMAT_MAX + 1), &cap) ||
        __builtin_add_overflow(cap, (size_t)128, &cap) || (b->text = mem_alloc(cap)) == NULL)
        return -1;
    unsigned long s = 42;
    b->text[b->len++] = '{';
    append_array(b, "predictions", n, &s);
    b->text[b->len++] = ',';
    append_array(b, "targets", n, &s);
    b->len += (size_t)sprintf(b->text + b->len, ",\"gradient\":true}");
    return 0;
}

/* The floor for any parser that converts every number: strtod over the text, no tree. */
static double run_strtod(const body *b)
{
    double sum = 0;
    const char *p = b->text, *end = b->text + b->len;
    while (p < end) {
        if ((*p >= '0' && *p <= '9') || *p == '-') {
            char *q;
            sum += strtod(p, &q);
            p = q;
        } else {
            p++;
        }
    }
    return sum;
}

static double run_cjson(const body *b)
{
    cJSON *root = cJSON_ParseWithLength(b->text, b->len);
    double v = root ? cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "targets")) : -1;
    cJSON_Delete(root);
    return v;
}

static double run_json_doc(const body *b)
{
    json_doc doc;
    json_error err;
    double v = -1;
    if (json_doc_parse(&doc, b->text, b->len, NULL, &err) == JSON_OK)
        v = (double)doc.root.u.obj.count;
    json_doc_release(&doc);
    return v;
}

static double run_v1_loss(const body *b)
{
    api_env env = {NULL, 0};
    api_reply reply;
    double v = api_v1_loss(&env, "mse", 3, b->text, b->len, &reply) == API_OK ? (double)reply.len
                                                                              : -1;
    api_reply_release(&reply);
    return v;
}

typedef struct {
    const char *name;
    double (*run)(const body *b);
} parser;

static const parser parsers[] = {
    {"strtod", run_strtod},
    {"cjson_tree", run_cjson},
    {"api_json_doc", run_json_doc},
    {"api_v1_loss", run_v1_loss},
};

/* Times one parser (median of REPS after one warm-up) and prints its row. A parser that
 * fails on the body prints nothing and says so on stderr. */
static void time_parser(const parser *p, const body *b)
{
    double t[REPS];
    if (p->run(b) < 0) {
        fprintf(stderr, "bench_json: %s failed on the body\n", p->name);
        return;
    }
    for (int r = 0; r < REPS; r++) {
        double t0 = now();
        p->run(b);
        t[r] = now() - t0;
    }
    qsort(t, REPS, sizeof t[0], cmp_double);
    double sec = t[REPS / 2];
    printf("json\t%s\t%zu\t%zu\t%.6g\t%.2f\t%.1f\n", p->name, b->numbers, b->len, sec,
           sec * 1e9 / (double)b->numbers, (double)b->len / sec / 1e6);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    size_t n = 1000000;
    body b;
    for (int i = 1; i + 1 < argc; i += 2)
        if (strcmp(argv[i], "--n") == 0)
            n = (size_t)strtod(argv[i + 1], NULL);
    if (n < 1 || n > 100000000) {
        fprintf(stderr, "usage: bench_json [--n NUMBERS_PER_ARRAY]\n");
        return 2;
    }
    kern_init(getenv("LOSSD_ISA"));
    if (body_make(&b, n) != 0) {
        fprintf(stderr, "bench_json: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof parsers / sizeof parsers[0]; i++)
        time_parser(&parsers[i], &b);
    mem_free(b.text);
    return 0;
}
