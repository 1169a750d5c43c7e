/* bench_json: the api layer's JSON decode of a large /v1 body against cJSON's tree build and a
 * bare strtod loop on the same text, the whole /v1 handler (decode, mse with gradient, encode)
 * with no sockets, and number printing (snprintf %.17g against the api's shortest round-trip).
 * The body is {"predictions": [n], "targets": [n], "gradient": true} (and the same with
 * "reduction": "none", which prints the n terms back too), numbers printed as
 * Python's json.dumps prints float32 data. Times are thread CPU time (the machines are shared:
 * time spent preempted is not the parser's), medians over rounds that interleave the parsers
 * so a burst of load elsewhere hits them alike. Not a test: it asserts nothing about timing.
 * One TSV row a contestant:  json  name  numbers  bytes  median_seconds  ns_per_number  MB_per_s */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "core.h"
#include "jbuf.h"
#include "json_doc.h"
#include "mem.h"
#include "num.h"

#define ROUNDS 7

typedef struct {
    char *text;
    size_t len;
    size_t numbers;
    double *values; /* the numbers printed, for the printing contest */
    char *none;     /* the same request with "reduction": "none" (prints 2n numbers back) */
    size_t none_len;
} body;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Appends "name":[n numbers] to b (which has room: NUM_FORMAT_MAX + 1 bytes a number). */
static void append_array(body *b, const char *name, size_t n, unsigned long *s)
{
    b->len += (size_t)sprintf(b->text + b->len, "\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        *s = *s * 6364136223846793005UL + 1442695040888963407UL;
        double v = (double)(float)((double)(*s >> 11) / 9007199254740992.0);
        b->values[b->numbers++] = v;
        b->len += num_format_double(v, b->text + b->len);
        b->text[b->len++] = i + 1 < n ? ',' : ']';
    }
}

/* Builds the request body. Returns 0, or -1 when out of memory. Free with body_free. */
static int body_make(body *b, size_t n)
{
    size_t cap;
    memset(b, 0, sizeof *b);
    if (__builtin_mul_overflow(n, (size_t)2 * (NUM_FORMAT_MAX + 1), &cap) ||
        __builtin_add_overflow(cap, (size_t)128, &cap))
        return -1;
    b->text = mem_alloc(cap);
    b->values = mem_alloc_array(2 * n, sizeof *b->values);
    if (b->text == NULL || b->values == NULL)
        return -1;
    unsigned long s = 42;
    b->text[b->len++] = '{';
    append_array(b, "predictions", n, &s);
    b->text[b->len++] = ',';
    append_array(b, "targets", n, &s);
    b->len += (size_t)sprintf(b->text + b->len, ",\"gradient\":true}");
    static const char none[] = ",\"reduction\":\"none\"}";
    if ((b->none = mem_alloc(b->len + sizeof none)) == NULL)
        return -1;
    memcpy(b->none, b->text, b->len - 1); /* without the closing brace */
    memcpy(b->none + b->len - 1, none, sizeof none);
    b->none_len = b->len - 1 + sizeof none - 1;
    return 0;
}

static void body_free(body *b)
{
    mem_free(b->none);
    mem_free(b->text);
    mem_free(b->values);
}

/* The floor for any parser that converts every number: strtod over the text, no tree. */
static int run_strtod(const body *b)
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
    return sum > 0 ? 0 : -1;
}

static int run_cjson(const body *b)
{
    cJSON *root = cJSON_ParseWithLength(b->text, b->len);
    int ok =
        root != NULL && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "targets")) > 0;
    cJSON_Delete(root);
    return ok ? 0 : -1;
}

static int run_json_doc(const body *b)
{
    json_doc doc;
    json_error err;
    int ok = json_doc_parse(&doc, b->text, b->len, NULL, &err) == JSON_OK;
    json_doc_release(&doc);
    return ok ? 0 : -1;
}

static int run_v1_loss(const body *b)
{
    api_env env = {.workers = NULL, .max_elements = 0};
    api_reply reply;
    int ok = api_v1_loss(&env, "mse", 3, b->text, b->len, &reply) == API_OK;
    api_reply_release(&reply);
    return ok ? 0 : -1;
}

static int run_v1_loss_none(const body *b)
{
    api_env env = {.workers = NULL, .max_elements = 0};
    api_reply reply;
    int ok = api_v1_loss(&env, "mse", 3, b->none, b->none_len, &reply) == API_OK;
    api_reply_release(&reply);
    return ok ? 0 : -1;
}

static int run_print_printf(const body *b)
{
    char *buf = mem_alloc(b->numbers * 26 + 1);
    size_t k = 0;
    if (buf == NULL)
        return -1;
    for (size_t i = 0; i < b->numbers; i++)
        k += (size_t)snprintf(buf + k, 26, "%.17g,", b->values[i]);
    mem_free(buf);
    return k > 0 ? 0 : -1;
}

static int run_print_shortest(const body *b)
{
    jbuf jb;
    jbuf_init(&jb, b->numbers * 26);
    for (size_t i = 0; i < b->numbers; i++) {
        jbuf_double(&jb, b->values[i]);
        jbuf_putc(&jb, ',');
    }
    char *data = NULL;
    size_t len = 0;
    int st = jbuf_take(&jb, &data, &len);
    mem_free(data);
    jbuf_release(&jb);
    return st == 0 && len > 0 ? 0 : -1;
}

typedef struct {
    const char *name;
    int (*run)(const body *b);
} contestant;

static const contestant contestants[] = {
    {"strtod", run_strtod},
    {"cjson_tree", run_cjson},
    {"api_json_doc", run_json_doc},
    {"api_v1_loss", run_v1_loss},
    {"api_v1_loss_none", run_v1_loss_none},
    {"print_printf17g", run_print_printf},
    {"print_shortest", run_print_shortest},
};
#define N_CONTESTANTS (sizeof contestants / sizeof contestants[0])

static void print_row(const char *name, const body *b, double *t, int n)
{
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    double sec = t[n / 2];
    printf("json\t%s\t%zu\t%zu\t%.6g\t%.2f\t%.1f\n", name, b->numbers, b->len, sec,
           sec * 1e9 / (double)b->numbers, (double)b->len / sec / 1e6);
}

int main(int argc, char **argv)
{
    size_t n = 1000000;
    double t[N_CONTESTANTS][ROUNDS];
    int failed[N_CONTESTANTS] = {0};
    body b;
    for (int i = 1; i + 1 < argc; i += 2)
        if (strcmp(argv[i], "--n") == 0)
            n = (size_t)strtod(argv[i + 1], NULL);
    if (n < 1 || n > 100000000) {
        fprintf(stderr, "usage: bench_json [--n NUMBERS_PER_ARRAY]\n");
        return 2;
    }
    core_init(getenv("LOSSD_ISA"));
    if (body_make(&b, n) != 0) {
        fprintf(stderr, "bench_json: out of memory\n");
        body_free(&b);
        return 1;
    }
    for (size_t c = 0; c < N_CONTESTANTS; c++)
        failed[c] = contestants[c].run(&b) != 0; /* warm-up, and a check that it works */
    for (int r = 0; r < ROUNDS; r++)
        for (size_t c = 0; c < N_CONTESTANTS; c++) {
            double t0 = cpu_now();
            if (!failed[c])
                contestants[c].run(&b);
            t[c][r] = cpu_now() - t0;
        }
    for (size_t c = 0; c < N_CONTESTANTS; c++) {
        if (failed[c])
            fprintf(stderr, "bench_json: %s failed on the body\n", contestants[c].name);
        else
            print_row(contestants[c].name, &b, t[c], ROUNDS);
    }
    body_free(&b);
    return 0;
}
