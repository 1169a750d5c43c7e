/* metrics: fixed arrays of atomic counters indexed by (loss, status) and latency bucket.
 * Invariant: the arrays are sized once at creation from the registry, so recording never
 * allocates, locks, or grows a label set. */
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "loss_registry.h"
#include "mem.h"

static const int statuses[] = {200, 204, 304, 400, 401, 404, 405, 411, 413, 415, 500, 503};
#define N_STATUS (sizeof statuses / sizeof statuses[0] + 1) /* + "other" */
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0] + 1) /* + "+Inf" */

struct metrics {
    const char *version, *isa;
    size_t n_losses;         /* registry size; index n_losses is "none" */
    atomic_ullong *requests; /* [(n_losses + 1) * N_STATUS] */
    atomic_ullong latency[N_BUCKETS];
    atomic_ullong latency_ns_sum;
    atomic_ullong bytes_in, bytes_out, elements;
};

metrics *metrics_create(const char *version, const char *isa)
{
    metrics *m = mem_calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->version = version;
    m->isa = isa;
    m->n_losses = loss_registry_count();
    m->requests = mem_calloc((m->n_losses + 1) * N_STATUS, sizeof *m->requests);
    if (m->requests == NULL) {
        mem_free(m);
        return NULL;
    }
    return m;
}

void metrics_destroy(metrics *m)
{
    if (m == NULL)
        return;
    mem_free(m->requests);
    mem_free(m);
}

static size_t loss_index(const metrics *m, const char *loss)
{
    const loss_desc *desc = loss ? loss_registry_find(loss, strlen(loss)) : NULL;
    for (size_t i = 0; desc && i < m->n_losses; i++)
        if (loss_registry_at(i) == desc)
            return i;
    return m->n_losses;
}

static size_t status_index(int status)
{
    for (size_t i = 0; i < N_STATUS - 1; i++)
        if (statuses[i] == status)
            return i;
    return N_STATUS - 1;
}

void metrics_record(metrics *m, const metrics_sample *s)
{
    size_t b = 0;
    size_t cell = loss_index(m, s->loss) * N_STATUS + status_index(s->status);
    atomic_fetch_add_explicit(&m->requests[cell], 1, memory_order_relaxed);
    while (b < N_BUCKETS - 1 && s->seconds > buckets[b])
        b++;
    atomic_fetch_add_explicit(&m->latency[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_ns_sum, (unsigned long long)(s->seconds * 1e9),
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&m->bytes_in, s->bytes_in, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->bytes_out, s->bytes_out, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->elements, s->elements, memory_order_relaxed);
}

typedef struct {
    char *buf;
    size_t len, cap;
    int failed;
} text;

static void emit(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(text *t, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (t->failed)
        return;
    va_start(ap, fmt);
    n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < t->cap - t->len) {
        t->len += (size_t)n;
        return;
    }
    size_t cap = t->cap * 2 + (size_t)(n > 0 ? n : 0);
    char *grown = n < 0 ? NULL : mem_realloc(t->buf, cap);
    if (grown == NULL) {
        t->failed = 1;
        return;
    }
    t->buf = grown;
    t->cap = cap;
    va_start(ap, fmt);
    t->len += (size_t)vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
}

static unsigned long long load(atomic_ullong *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

/* Every loss's 200 series is always present (initialised to 0); others once non-zero. */
static void render_requests(metrics *m, text *t)
{
    emit(t, "# HELP lossd_requests_total HTTP requests answered, by loss and status.\n"
            "# TYPE lossd_requests_total counter\n");
    for (size_t l = 0; l <= m->n_losses; l++) {
        const char *name = l < m->n_losses ? loss_registry_at(l)->name : "none";
        for (size_t s = 0; s < N_STATUS; s++) {
            unsigned long long v = load(&m->requests[l * N_STATUS + s]);
            char status[8];
            if (v == 0 && !(s == 0 && l < m->n_losses))
                continue;
            if (s < N_STATUS - 1)
                snprintf(status, sizeof status, "%d", statuses[s]);
            else
                strcpy(status, "other");
            emit(t, "lossd_requests_total{loss=\"%s\",status=\"%s\"} %llu\n", name, status, v);
        }
    }
}

static void render_latency(metrics *m, text *t)
{
    unsigned long long cumulative = 0;
    emit(t, "# HELP lossd_request_duration_seconds Request latency, first byte in to last "
            "byte out.\n# TYPE lossd_request_duration_seconds histogram\n");
    for (size_t b = 0; b < N_BUCKETS; b++) {
        cumulative += load(&m->latency[b]);
        if (b < N_BUCKETS - 1)
            emit(t, "lossd_request_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[b],
                 cumulative);
        else
            emit(t, "lossd_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cumulative);
    }
    emit(t, "lossd_request_duration_seconds_sum %.9f\n", (double)load(&m->latency_ns_sum) / 1e9);
    emit(t, "lossd_request_duration_seconds_count %llu\n", cumulative);
}

static void render_scalar(text *t, const char *name, const char *type, const char *help,
                          unsigned long long v)
{
    emit(t, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, v);
}

char *metrics_render(metrics *m, size_t queue_depth, size_t in_flight, size_t *len)
{
    text t = {.buf = mem_alloc(16384), .cap = 16384};
    if (t.buf == NULL)
        return NULL;
    render_requests(m, &t);
    render_latency(m, &t);
    render_scalar(&t, "lossd_request_bytes_total", "counter", "Request body bytes received.",
                  load(&m->bytes_in));
    render_scalar(&t, "lossd_response_bytes_total", "counter", "Response body bytes sent.",
                  load(&m->bytes_out));
    render_scalar(&t, "lossd_elements_total", "counter", "Tensor elements computed.",
                  load(&m->elements));
    render_scalar(&t, "lossd_queue_depth", "gauge", "Compute jobs waiting for a worker.",
                  queue_depth);
    render_scalar(&t, "lossd_in_flight", "gauge", "Requests being received or computed.",
                  in_flight);
    emit(&t,
         "# HELP lossd_build_info Build information.\n# TYPE lossd_build_info gauge\n"
         "lossd_build_info{version=\"%s\",isa=\"%s\"} 1\n",
         m->version, m->isa);
    if (t.failed) {
        mem_free(t.buf);
        return NULL;
    }
    *len = t.len;
    return t.buf;
}
