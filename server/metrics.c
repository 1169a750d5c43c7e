/* metrics: fixed arrays of atomic counters indexed by (route, status), (route, latency
 * bucket), (loss, status) and rejection reason. Invariant: the arrays are sized once at
 * creation from the registry and the route list, so recording never allocates, locks, or
 * grows a label set. */
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "loss_registry.h"
#include "mem.h"
#include "procstat.h"

static const int statuses[] = {200, 204, 304, 400, 401, 404, 405, 411, 413, 415, 500, 503};
#define N_STATUS (sizeof statuses / sizeof statuses[0] + 1) /* + "other" */
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0] + 1) /* + "+Inf" */

/* The route label of each route pattern; anything else (the catalogue, no route) is
 * "other", the last label. */
static const char *const route_labels[] = {"/v1/loss", "/v1/evaluate", "/v1/batch", "/v2/infer",
                                           "/v2/meta", "/health",      "/metrics",  "other"};
#define N_ROUTES (sizeof route_labels / sizeof route_labels[0])
static const struct {
    const char *pattern;
    size_t label;
} route_map[] = {
    {"/v1/loss/{}", 0},
    {"/v1/evaluate", 1},
    {"/v1/batch", 2},
    {"/v2/models/{}/infer", 3},
    {"/v2/models/{}/versions/1/infer", 3},
    {"/v2", 4},
    {"/v2/models/{}", 4},
    {"/v2/models/{}/ready", 4},
    {"/v2/models/{}/versions/1", 4},
    {"/v2/models/{}/versions/1/ready", 4},
    {"/healthz", 5},
    {"/readyz", 5},
    {"/v2/health/live", 5},
    {"/v2/health/ready", 5},
    {"/metrics", 6},
};

static const char *const reject_labels[METRICS_REJECT_COUNT] = {"memory", "memory_limit",
                                                                "body_limit", "queue_full"};

typedef struct {
    atomic_ullong buckets[N_BUCKETS];
    atomic_ullong ns_sum;
} histogram;

struct metrics {
    const char *version, *isa;
    size_t n_losses;
    atomic_ullong requests[N_ROUTES][N_STATUS];
    histogram latency[N_ROUTES];
    atomic_ullong *computations; /* [n_losses * N_STATUS] */
    atomic_ullong rejected[METRICS_REJECT_COUNT];
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
    m->computations = mem_calloc(m->n_losses * N_STATUS, sizeof *m->computations);
    if (m->computations == NULL) {
        mem_free(m);
        return NULL;
    }
    return m;
}

void metrics_destroy(metrics *m)
{
    if (m == NULL)
        return;
    mem_free(m->computations);
    mem_free(m);
}

static size_t route_index(const char *pattern)
{
    for (size_t i = 0; pattern && i < sizeof route_map / sizeof route_map[0]; i++)
        if (strcmp(route_map[i].pattern, pattern) == 0)
            return route_map[i].label;
    return N_ROUTES - 1;
}

static size_t status_index(int status)
{
    for (size_t i = 0; i < N_STATUS - 1; i++)
        if (statuses[i] == status)
            return i;
    return N_STATUS - 1;
}

/* The registry index of desc, or n_losses when it is none of them. */
static size_t loss_index(const metrics *m, const struct loss_desc *desc)
{
    for (size_t i = 0; i < m->n_losses; i++)
        if (loss_registry_at(i) == desc)
            return i;
    return m->n_losses;
}

static void add(atomic_ullong *a, unsigned long long v)
{
    atomic_fetch_add_explicit(a, v, memory_order_relaxed);
}

void metrics_record(metrics *m, const metrics_sample *s)
{
    size_t route = route_index(s->route), b = 0;
    add(&m->requests[route][status_index(s->status)], 1);
    while (b < N_BUCKETS - 1 && s->seconds > buckets[b])
        b++;
    add(&m->latency[route].buckets[b], 1);
    add(&m->latency[route].ns_sum, (unsigned long long)(s->seconds * 1e9));
    add(&m->bytes_in, s->bytes_in);
    add(&m->bytes_out, s->bytes_out);
    add(&m->elements, s->elements);
    for (size_t i = 0; i < s->n_computed; i++) {
        size_t l = loss_index(m, s->computed[i].desc);
        if (l < m->n_losses)
            add(&m->computations[l * N_STATUS + status_index(s->computed[i].status)],
                s->computed[i].count);
    }
}

void metrics_reject(metrics *m, metrics_reject_reason reason)
{
    if ((unsigned)reason < METRICS_REJECT_COUNT)
        add(&m->rejected[reason], 1);
}

/* ---- rendering ---- */

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

static void status_label(size_t s, char *out, size_t len)
{
    if (s < N_STATUS - 1)
        snprintf(out, len, "%d", statuses[s]);
    else
        snprintf(out, len, "other");
}

static void header(text *t, const char *name, const char *type, const char *help)
{
    emit(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Every route's 200 series is always present (initialised to 0); others once non-zero. */
static void render_requests(metrics *m, text *t)
{
    header(t, "lossd_requests_total", "counter", "HTTP requests answered, by route and status.");
    for (size_t r = 0; r < N_ROUTES; r++)
        for (size_t s = 0; s < N_STATUS; s++) {
            unsigned long long v = load(&m->requests[r][s]);
            char status[8];
            if (v == 0 && s != 0)
                continue;
            status_label(s, status, sizeof status);
            emit(t, "lossd_requests_total{route=\"%s\",status=\"%s\"} %llu\n", route_labels[r],
                 status, v);
        }
}

static void render_latency(metrics *m, text *t)
{
    header(t, "lossd_request_duration_seconds", "histogram",
           "Request latency, first byte in to last byte out, by route.");
    for (size_t r = 0; r < N_ROUTES; r++) {
        unsigned long long cumulative = 0;
        const char *route = route_labels[r];
        for (size_t b = 0; b < N_BUCKETS; b++) {
            cumulative += load(&m->latency[r].buckets[b]);
            if (b < N_BUCKETS - 1)
                emit(t, "lossd_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                     route, buckets[b], cumulative);
            else
                emit(t, "lossd_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                     route, cumulative);
        }
        emit(t, "lossd_request_duration_seconds_sum{route=\"%s\"} %.9f\n", route,
             (double)load(&m->latency[r].ns_sum) / 1e9);
        emit(t, "lossd_request_duration_seconds_count{route=\"%s\"} %llu\n", route, cumulative);
    }
}

/* Every loss's 200 series is always present; others once non-zero. */
static void render_computations(metrics *m, text *t)
{
    header(t, "lossd_loss_computations_total", "counter",
           "Losses computed (or refused once named), by loss and status; /v1/evaluate and "
           "/v1/batch count each entry.");
    for (size_t l = 0; l < m->n_losses; l++)
        for (size_t s = 0; s < N_STATUS; s++) {
            unsigned long long v = load(&m->computations[l * N_STATUS + s]);
            char status[8];
            if (v == 0 && s != 0)
                continue;
            status_label(s, status, sizeof status);
            emit(t, "lossd_loss_computations_total{loss=\"%s\",status=\"%s\"} %llu\n",
                 loss_registry_at(l)->name, status, v);
        }
}

static void render_scalar(text *t, const char *name, const char *type, const char *help,
                          unsigned long long v)
{
    header(t, name, type, help);
    emit(t, "%s %llu\n", name, v);
}

static void render_rejected(metrics *m, text *t)
{
    header(t, "lossd_rejected_total", "counter",
           "Requests turned away before any work, by reason (memory: budget full now; "
           "memory_limit: beyond the budget; body_limit: beyond --max-body; queue_full).");
    for (size_t r = 0; r < METRICS_REJECT_COUNT; r++)
        emit(t, "lossd_rejected_total{reason=\"%s\"} %llu\n", reject_labels[r],
             load(&m->rejected[r]));
}

static void render_gauges(text *t, const metrics_gauges *g)
{
    render_scalar(t, "lossd_queue_depth", "gauge", "Compute jobs waiting for a worker.",
                  g->queue_depth);
    render_scalar(t, "lossd_in_flight", "gauge", "Requests being received or computed.",
                  g->in_flight);
    render_scalar(t, "lossd_memory_budget_bytes", "gauge",
                  "The memory budget requests reserve from (--max-memory; 0: unlimited).",
                  g->memory_budget);
    render_scalar(t, "lossd_memory_reserved_bytes", "gauge",
                  "Bytes reserved by requests in flight.", g->memory_reserved);
    render_scalar(t, "lossd_memory_cache_bytes", "gauge",
                  "Freed tensor buffers kept resident for reuse (counted in the budget).",
                  g->memory_cache);
    render_scalar(t, "lossd_connections_open", "gauge", "Connections open on the main port.",
                  g->conns_open);
    render_scalar(t, "lossd_connections_refused_total", "counter",
                  "Connections answered 503 and closed past --max-connections or "
                  "--max-connections-per-ip.",
                  g->conns_refused);
    render_scalar(t, "lossd_connections_cut_total", "counter",
                  "Connections closed for missing --header-timeout or --min-body-rate.",
                  g->conns_cut);
}

static void render_process(text *t)
{
    procstat ps;
    if (procstat_read(&ps) != 0)
        return;
    header(t, "process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.");
    emit(t, "process_cpu_seconds_total %.2f\n", ps.cpu_seconds);
    render_scalar(t, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                  ps.resident_bytes);
    render_scalar(t, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
                  ps.virtual_bytes);
    render_scalar(t, "process_open_fds", "gauge", "Number of open file descriptors.", ps.open_fds);
    render_scalar(t, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
                  ps.max_fds);
    header(t, "process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.");
    emit(t, "process_start_time_seconds %.2f\n", ps.start_time);
}

char *metrics_render(metrics *m, const metrics_gauges *g, size_t *len)
{
    text t = {.buf = mem_alloc(32768), .cap = 32768};
    if (t.buf == NULL)
        return NULL;
    render_requests(m, &t);
    render_latency(m, &t);
    render_computations(m, &t);
    render_rejected(m, &t);
    render_scalar(&t, "lossd_request_bytes_total", "counter", "Request body bytes received.",
                  load(&m->bytes_in));
    render_scalar(&t, "lossd_response_bytes_total", "counter", "Response body bytes sent.",
                  load(&m->bytes_out));
    render_scalar(&t, "lossd_elements_total", "counter", "Tensor elements computed.",
                  load(&m->elements));
    render_gauges(&t, g);
    render_process(&t);
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
